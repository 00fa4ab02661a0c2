/**
 * Reranking through a `/rerank` endpoint: a cross-encoder reads the query with each candidate passage and
 * scores how well the passage answers it, which orders the best few dozen candidates far better than vector or
 * keyword scores. Speaks the shapes the common servers use:
 *
 * - Cohere, Jina, Voyage, vLLM, Infinity, LocalAI (format `documents`):
 *   POST {model, query, documents, top_n} → {results: [{index, relevance_score}]} (Voyage: `data`, `top_k`)
 * - Hugging Face Text Embeddings Inference (format `texts`):
 *   POST {query, texts} → [{index, score}]
 *
 * Any of the answer shapes is accepted whatever format was sent. Reranking only ever improves an order that is
 * already there, so a reranker that fails, is slow or answers nonsense must not fail the search: `rerankItems`
 * then reports why and leaves the order alone. Only a cancelled execution stops it.
 */
import { displayURL } from './redact';

export type RerankFormat = 'documents' | 'texts';

export interface HttpRerankerOptions {
	/** e.g. `https://api.cohere.com/v2`, `https://api.jina.ai/v1`, `http://tei:8080`; `/rerank` is appended. */
	baseUrl: string;
	apiKey?: string;
	/** Required by most hosted APIs; TEI serves one model and ignores it. */
	model?: string;
	/** Request body shape; default `documents`. */
	format?: RerankFormat;
	/** Whole request, answer included. Default 15 s. */
	timeoutMs?: number;
}

/** One candidate's relevance, by its position in the documents sent. */
export interface RerankScore {
	index: number;
	score: number;
}

export interface Reranker {
	readonly model: string;
	/** Scores for (some or all of) the documents, best first. Throws RerankError when it cannot. */
	rerank(query: string, documents: string[], signal?: AbortSignal): Promise<RerankScore[]>;
}

export const DEFAULT_RERANK_TIMEOUT_MS = 15_000;
/** Candidates sent to the reranker by default: enough to reorder a top 10, cheap enough to stay fast. */
export const DEFAULT_RERANK_CANDIDATES = 50;
export const MAX_RERANK_CANDIDATES = 1000;

/** A reranker that could not give a usable answer; the message says why, without any secret. */
export class RerankError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'RerankError';
	}
}

/** The endpoint for a base URL: `/rerank` appended unless the address already ends with it. */
export function rerankUrl(baseUrl: string): string {
	let url: URL;
	try {
		url = new URL(String(baseUrl ?? '').trim());
	} catch {
		throw new RerankError(`the reranker's base URL "${displayURL(String(baseUrl ?? ''))}" is not a valid URL`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new RerankError(`the reranker's base URL must start with http:// or https:// (got ${url.protocol})`);
	}
	if (url.username || url.password) {
		throw new RerankError('the reranker\'s base URL holds a user name or password: put the key in the credential\'s API Key instead');
	}
	const path = url.pathname.replace(/\/+$/, '');
	url.pathname = path.endsWith('/rerank') ? path : `${path}/rerank`;
	return url.toString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads any of the common answer shapes into scores, best first: `{results: [...]}` (Cohere, Jina, vLLM,
 * Infinity), `{data: [...]}` (Voyage) or a bare array (TEI), each entry `{index, relevance_score | score}`.
 * Refuses an answer with an index outside the documents sent, a repeated index or a score that is not a number.
 */
export function parseRerankResponse(body: unknown, documentCount: number): RerankScore[] {
	const list = Array.isArray(body)
		? body
		: isRecord(body) && Array.isArray(body.results)
			? body.results
			: isRecord(body) && Array.isArray(body.data)
				? body.data
				: undefined;
	if (!list) throw new RerankError('malformed answer: expected a "results" list of {index, relevance_score}');
	const seen = new Set<number>();
	const scores = list.map((entry: unknown, position: number) => {
		if (!isRecord(entry)) throw new RerankError(`malformed answer: result ${position + 1} is not an object`);
		const index = entry.index;
		const score = entry.relevance_score ?? entry.score;
		if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= documentCount) {
			throw new RerankError(`malformed answer: result ${position + 1} has index ${JSON.stringify(index)}, outside the ${documentCount} documents sent`);
		}
		if (seen.has(index)) throw new RerankError(`malformed answer: index ${index} appears twice`);
		seen.add(index);
		if (typeof score !== 'number' || !Number.isFinite(score)) {
			throw new RerankError(`malformed answer: result ${position + 1} has no numeric relevance_score`);
		}
		return { index, score };
	});
	if (scores.length === 0 && documentCount > 0) throw new RerankError('malformed answer: no results');
	// Stable: equal scores keep the order the server gave.
	return scores.sort((a, b) => b.score - a.score);
}

/** The server's own error text, short: `{error: {message}}`, `{message}`, `{detail}`, `{error}` or the raw body. */
function serverMessage(text: string): string {
	let message = text;
	try {
		const body = JSON.parse(text) as unknown;
		if (isRecord(body)) {
			const error = body.error;
			const candidate = isRecord(error) ? error.message : (error ?? body.message ?? body.detail);
			message = typeof candidate === 'string' ? candidate : JSON.stringify(candidate ?? body);
		}
	} catch {
		// Not JSON: the text as it is.
	}
	message = message.replace(/\s+/g, ' ').trim();
	return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

export function createHttpReranker(options: HttpRerankerOptions): Reranker {
	const format = options.format ?? 'documents';
	const model = (options.model ?? '').trim();
	const timeoutMs = options.timeoutMs ?? DEFAULT_RERANK_TIMEOUT_MS;
	const apiKey = (options.apiKey ?? '').trim();
	return {
		model,
		async rerank(query, documents, signal) {
			if (documents.length === 0) return [];
			const url = rerankUrl(options.baseUrl);
			const body =
				format === 'texts'
					? { query, texts: documents, ...(model ? { model } : {}) }
					: { ...(model ? { model } : {}), query, documents, top_n: documents.length };
			const timeout = new AbortController();
			const timer = setTimeout(() => timeout.abort(), timeoutMs);
			const onAbort = () => timeout.abort();
			signal?.addEventListener('abort', onAbort, { once: true });
			try {
				const response = await fetch(url, {
					method: 'POST',
					headers: {
						'content-type': 'application/json',
						accept: 'application/json',
						...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
					},
					body: JSON.stringify(body),
					signal: timeout.signal,
				});
				const text = await response.text();
				if (!response.ok) {
					const message = serverMessage(text);
					const hint =
						format === 'documents' && /\btexts\b/.test(message)
							? ' — this looks like Hugging Face TEI: set the credential\'s API Format to "Hugging Face TEI"'
							: response.status === 401 || response.status === 403
								? ' — check the API key of the Symbiotic Rerank API credential'
								: '';
					throw new RerankError(`the reranker answered HTTP ${response.status}${message ? `: ${message}` : ''}${hint}`);
				}
				let parsed: unknown;
				try {
					parsed = JSON.parse(text);
				} catch {
					throw new RerankError('malformed answer: not JSON');
				}
				return parseRerankResponse(parsed, documents.length);
			} catch (error) {
				if (signal?.aborted) throw signal.reason ?? error;
				if (error instanceof RerankError) throw error;
				if (timeout.signal.aborted) throw new RerankError(`the reranker did not answer within ${formatSeconds(timeoutMs)}`);
				const cause = (error as { cause?: { code?: string; message?: string } }).cause;
				// Messages of fetch may quote the address, query string included: never let them carry it.
				const detail = String(cause?.code ?? cause?.message ?? (error as Error).message).split(url).join(displayURL(url));
				throw new RerankError(`could not reach the reranker at ${displayURL(url)}: ${detail}`);
			} finally {
				clearTimeout(timer);
				signal?.removeEventListener('abort', onAbort);
			}
		},
	};
}

function formatSeconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(1))} s`;
}

/** What reranking did: `reranked: false` comes with the reason the original order was kept. */
export interface RerankOutcome {
	reranked: boolean;
	reason?: string;
	/** Candidates sent to the reranker. */
	candidates: number;
}

/**
 * Reorders `items` (best first) by the reranker's relevance. Candidates the answer leaves out (a server that
 * returns only its top N) follow in their original order, scored as the lowest returned. On any failure but a
 * cancelled execution the items come back in their original order and unscored, with the reason.
 */
export async function rerankItems<T>(
	reranker: Reranker,
	query: string,
	items: T[],
	text: (item: T) => string,
	signal?: AbortSignal,
): Promise<{ ranking: Array<{ item: T; score?: number }>; outcome: RerankOutcome }> {
	const unchanged = items.map((item) => ({ item }));
	if (items.length === 0) return { ranking: unchanged, outcome: { reranked: false, reason: 'no candidates to rerank', candidates: 0 } };
	try {
		const scores = await reranker.rerank(query, items.map(text), signal);
		const lowest = scores.length > 0 ? scores[scores.length - 1].score : 0;
		const returned = new Set(scores.map((score) => score.index));
		const ranking = [
			...scores.map(({ index, score }) => ({ item: items[index], score })),
			...items.flatMap((item, index) => (returned.has(index) ? [] : [{ item, score: lowest }])),
		];
		return { ranking, outcome: { reranked: true, candidates: items.length } };
	} catch (error) {
		if (signal?.aborted) throw error;
		const reason = error instanceof RerankError ? error.message : `reranking failed: ${(error as Error).message}`;
		return { ranking: unchanged, outcome: { reranked: false, reason, candidates: items.length } };
	}
}
