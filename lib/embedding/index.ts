/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, Azure-style proxies, Ollama, vLLM, LM Studio, TEI…)
 * through the official `openai` SDK: large batches bounded by inputs and tokens, a bounded number of requests in
 * flight shared by every call of one embedder, each distinct text sent once per call, batches the server finds
 * too large split in two (and the smaller size remembered), order preserved, our own retry policy (see
 * modelRetry.ts), and vectors checked before anyone stores them.
 */
import OpenAI from 'openai';
import { InputError, type Embedder } from '../types';
import { countTokens } from '../tokens';
import { ModelRequestError, withRetries, type AttemptFailure } from '../modelRetry';
import { displayURL, redactSecrets, urlSecrets } from '../redact';

export { ModelRequestError, withRetries, describeFailure, parseRetryAfter, backoffDelay } from '../modelRetry';
export type { AttemptFailure, ModelFailureKind, RetryOptions } from '../modelRetry';

export interface OpenAIEmbedderConfig {
	/** API root, usually ending in `/v1` (e.g. `http://localhost:11434/v1` for Ollama). */
	baseURL: string;
	/** Optional: self-hosted servers often need none. */
	apiKey?: string;
	model: string;
	/** Requested vector size (text-embedding-3 models can shorten vectors); also checked on every answer. */
	dimensions?: number;
	/**
	 * Most texts per request (default 256). OpenAI and Azure (text-embedding-3) accept 2,048, vLLM, Ollama and
	 * LM Studio have no count limit; stricter servers (TEI's default 32, older Azure deployments' 16, Cohere-style
	 * 96) answer "too large", and the embedder then halves the batch and keeps the smaller size (see below).
	 */
	batchSize?: number;
	/**
	 * Most tokens per request, counted with cl100k_base (default 65,536). OpenAI allows 300,000; n8n's own
	 * OpenAI embeddings send 200 chunks of up to 1,000 characters, about 50,000 tokens, so any server n8n's
	 * built-in ingest works with takes requests of this size. On self-hosted servers the limit is time, not
	 * size: 64k tokens is 160 default-sized (400-token) chunks, a few seconds on a GPU; raise `timeoutMs` or lower
	 * this for a CPU-only server. A server that refuses a request as too large gets it again in halves.
	 */
	maxBatchTokens?: number;
	/**
	 * Requests in flight at once, over all calls of this embedder (default 4): with a 150 ms answer, 4 × 256
	 * texts in flight embed about 7,000 texts a second; rate limits (429) are honoured by the retry policy.
	 */
	concurrency?: number;
	/** Retries per request after the first attempt (default 5). */
	maxRetries?: number;
	/** Limit for one request attempt in ms (default 60,000). */
	timeoutMs?: number;
	/** First backoff step in ms (default 500); doubled per retry, with jitter. */
	retryBaseDelayMs?: number;
	/** Called before every HTTP attempt (retries included): lets callers count requests and tokens. */
	onRequest?: (request: { inputs: number; tokens: number; attempt: number }) => void;
}

export interface OpenAIEmbedder extends Embedder {
	/**
	 * `tokenCounts`, when given (one per text, as chunks carry them), replaces counting each text's tokens again for
	 * the per-request token budget.
	 */
	embed(texts: string[], signal?: AbortSignal, tokenCounts?: number[]): Promise<number[][]>;
	readonly baseURL: string;
	/** Vector size seen so far (or configured); undefined before the first answer. */
	readonly dimensions: number | undefined;
	/**
	 * Texts and tokens per request in use now: the configured ones, lowered for the rest of this embedder's life
	 * when the server refused a batch as too large and its halves went through.
	 */
	readonly batchLimits: { inputs: number; tokens: number };
}

export const DEFAULT_EMBEDDING_BATCH_SIZE = 256;
export const DEFAULT_EMBEDDING_MAX_BATCH_TOKENS = 65_536;
export const DEFAULT_EMBEDDING_CONCURRENCY = 4;
export const DEFAULT_EMBEDDING_MAX_RETRIES = 5;
export const DEFAULT_EMBEDDING_TIMEOUT_MS = 60_000;
/** A batch of more tokens that times out is split in two instead of being retried whole. */
const TIMEOUT_SPLIT_MIN_TOKENS = 8192;

interface Batch {
	/** Position of the first text in the list being embedded. */
	offset: number;
	texts: string[];
	/** Tokens of each text. */
	counts: number[];
	tokens: number;
}

/** Consecutive batches limited by count and by tokens; a text over the token limit is an input error. */
export function makeBatches(texts: string[], batchSize: number, maxBatchTokens: number): Batch[] {
	const counts = texts.map((text, index) => checkedTokens(text, index, texts.length, maxBatchTokens));
	return packBatches({ offset: 0, texts, counts, tokens: 0 }, batchSize, maxBatchTokens);
}

/** Tokens of text `index + 1` of `total`; an empty text or one over the limit per request is an input error. */
function checkedTokens(text: string, index: number, total: number, maxBatchTokens: number, known?: number): number {
	if (text.trim() === '') {
		throw new InputError(`Text ${index + 1} of ${total} is empty; embedding APIs cannot embed empty text.`, 'texts');
	}
	const tokens = known ?? countTokens(text);
	if (tokens > maxBatchTokens) {
		throw new InputError(
			`Text ${index + 1} of ${total} has ${tokens} tokens, more than the ${maxBatchTokens} allowed per embedding request. ` +
				'Lower the chunk size.',
			'texts',
		);
	}
	return tokens;
}

/** Cuts a run of texts into consecutive batches of at most `inputs` texts and `tokens` tokens (a longer text alone). */
function packBatches(run: Batch, inputs: number, tokens: number): Batch[] {
	const batches: Batch[] = [];
	let current: Batch | undefined;
	run.texts.forEach((text, index) => {
		const count = run.counts[index];
		if (!current || current.texts.length >= inputs || (current.texts.length > 0 && current.tokens + count > tokens)) {
			current = { offset: run.offset + index, texts: [], counts: [], tokens: 0 };
			batches.push(current);
		}
		current.texts.push(text);
		current.counts.push(count);
		current.tokens += count;
	});
	return batches;
}

/**
 * Request slots shared by every call of one embedder, so that concurrent calls (an ingest embeds several
 * groups of documents at once) together keep at most `size` requests in flight. Waiters are served in order;
 * a waiter whose signal aborts leaves the queue.
 */
class RequestSlots {
	private free: number;
	private readonly waiting: Array<() => void> = [];

	constructor(size: number) {
		this.free = size;
	}

	/** Resolves with the function that gives the slot back (idempotent); rejects when `signal` aborts first. */
	acquire(signal: AbortSignal): Promise<() => void> {
		if (signal.aborted) return Promise.reject(signal.reason);
		if (this.free > 0) {
			this.free--;
			return Promise.resolve(this.releaser());
		}
		return new Promise((resolve, reject) => {
			const grant = () => {
				signal.removeEventListener('abort', onAbort);
				resolve(this.releaser());
			};
			const onAbort = () => {
				const position = this.waiting.indexOf(grant);
				if (position >= 0) this.waiting.splice(position, 1);
				reject(signal.reason);
			};
			signal.addEventListener('abort', onAbort, { once: true });
			this.waiting.push(grant);
		});
	}

	private releaser(): () => void {
		let released = false;
		return () => {
			if (released) return;
			released = true;
			const next = this.waiting.shift();
			if (next) next();
			else this.free++;
		};
	}
}

/**
 * Whether a refused request was refused for its size, and which size: HTTP 413, or a 400 whose message speaks
 * of too many inputs, tokens, a batch or the context (OpenAI: "max 300000 tokens per request"; Azure: "Too many
 * inputs"; TEI: "batch size 64 > maximum allowed batch size 32"; Mistral: "Too many tokens overall"; vLLM:
 * "maximum context length"). Undefined for every other failure.
 */
export function tooLargeKind(status: number | undefined, message: string): 'inputs' | 'tokens' | 'both' | undefined {
	const speaksOfSize =
		/too (many|large|big)|exceed|maximum|max(imum)? (number|length|size)|at most|limit|batch|context|per request|payload/i.test(message);
	if (status !== 413 && !(status === 400 && speaksOfSize && /input|token|batch|context|array|item|text|request/i.test(message))) return undefined;
	if (/token|context/i.test(message)) return 'tokens';
	if (/input|batch|array|item|text/i.test(message)) return 'inputs';
	return 'both';
}

function positiveInteger(value: number | undefined, fallback: number, field: string, minimum = 1): number {
	const resolved = value ?? fallback;
	if (!Number.isInteger(resolved) || resolved < minimum) {
		throw new InputError(`Embedding option "${field}" must be a whole number of at least ${minimum}, got ${value}.`, field);
	}
	return resolved;
}

export function createOpenAIEmbedder(config: OpenAIEmbedderConfig): OpenAIEmbedder {
	if (!config.model?.trim()) throw new InputError('Choose an embedding model (e.g. text-embedding-3-small or nomic-embed-text).', 'model');
	try {
		new URL(config.baseURL);
	} catch {
		throw new InputError(`The base URL "${displayURL(config.baseURL)}" is not a valid URL; use e.g. https://api.openai.com/v1.`, 'baseURL');
	}
	const batchSize = positiveInteger(config.batchSize, DEFAULT_EMBEDDING_BATCH_SIZE, 'batchSize');
	const maxBatchTokens = positiveInteger(config.maxBatchTokens, DEFAULT_EMBEDDING_MAX_BATCH_TOKENS, 'maxBatchTokens');
	const concurrency = positiveInteger(config.concurrency, DEFAULT_EMBEDDING_CONCURRENCY, 'concurrency');
	const maxRetries = positiveInteger(config.maxRetries, DEFAULT_EMBEDDING_MAX_RETRIES, 'maxRetries', 0);
	const timeoutMs = positiveInteger(config.timeoutMs, DEFAULT_EMBEDDING_TIMEOUT_MS, 'timeoutMs');
	if (config.dimensions !== undefined) positiveInteger(config.dimensions, 0, 'dimensions');

	const { model, apiKey } = config;
	const where = displayURL(config.baseURL);
	const client = new OpenAI({
		baseURL: config.baseURL,
		// The SDK refuses to start without a key; keyless self-hosted servers ignore the header.
		apiKey: apiKey || 'no-key',
		maxRetries: 0,
		// Our own per-attempt timer decides; the SDK's is only a backstop.
		timeout: timeoutMs + 1000,
	});
	let knownDimension = config.dimensions;
	const slots = new RequestSlots(concurrency);
	/** Lowered, for the rest of this embedder's life, when the server refuses batches as too large. */
	const limits = { inputs: batchSize, tokens: maxBatchTokens };
	/** Errors of requests refused for their size, with what was too large. */
	const refusedAsTooLarge = new WeakMap<Error, 'inputs' | 'tokens' | 'both'>();

	const secrets = [...(apiKey ? [apiKey] : []), ...urlSecrets(config.baseURL)];
	const redact = (text: string) => redactSecrets(text, secrets);

	const toError = (failure: AttemptFailure, attempts: number): Error => {
		const status = failure.status !== undefined ? `HTTP ${failure.status}: ` : '';
		const detail = redact(`${status}${failure.detail}`);
		const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
		switch (failure.kind) {
			case 'aborted':
				return new ModelRequestError('Embedding was cancelled before it finished.', 'aborted', undefined, attempts);
			case 'auth':
				// The server's own text is left out: some echo part of the key.
				return new ModelRequestError(
					`The API key was refused by ${where} (HTTP ${failure.status}). Check the API key in the model credential.`,
					'auth',
					failure.status,
					attempts,
				);
			case 'not_found':
				return new ModelRequestError(
					`The embedding model '${model}' was not found at ${where} (${detail}). Check the model name ` +
						'(on Ollama, pull it first) and that the base URL is the API root, usually ending in /v1.',
					'not_found',
					failure.status,
					attempts,
				);
			case 'bad_request': {
				const error = new ModelRequestError(`${where} rejected the embedding request for model '${model}' (${detail}).`, 'bad_request', failure.status, attempts);
				const size = tooLargeKind(failure.status, failure.detail);
				if (size) refusedAsTooLarge.set(error, size);
				return error;
			}
			case 'timeout':
				return new ModelRequestError(
					`The embedding request to ${where} timed out${tries} (${detail}). Check that the server is up; if it is only slow, raise Embedding Timeout (Seconds) or lower Embedding Tokens per Request in the Model credential.`,
					'timeout',
					undefined,
					attempts,
				);
			default:
				return new ModelRequestError(
					`Embedding with model '${model}' at ${where} failed${tries} (${detail}). ` +
						(failure.kind === 'rate_limited' ? 'The server is rate limiting: lower the concurrency or try later.' : 'Check that the server is running and reachable.'),
					failure.kind,
					failure.status,
					attempts,
				);
		}
	};

	const checkVectors = (vectors: unknown[], expectedCount: number): number[][] => {
		if (vectors.length !== expectedCount) {
			throw new ModelRequestError(`${where} returned ${vectors.length} embeddings for ${expectedCount} texts (model '${model}').`, 'invalid_response');
		}
		return vectors.map((vector) => {
			if (!Array.isArray(vector) || vector.length === 0 || !vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
				throw new ModelRequestError(`${where} returned an embedding that is not a list of numbers (model '${model}').`, 'invalid_response');
			}
			if (knownDimension === undefined) knownDimension = vector.length;
			if (vector.length !== knownDimension) {
				const expected = config.dimensions !== undefined ? `the configured dimensions ${config.dimensions}` : `the ${knownDimension} it returned before`;
				throw new ModelRequestError(
					`The embedding model '${model}' at ${where} returned a vector of dimension ${vector.length}, not ${expected}. ` +
						(config.dimensions !== undefined
							? 'This server or model may ignore the "dimensions" option: remove it, or choose a model that supports it.'
							: 'Check that the base URL always serves the same model.'),
					'dimension_mismatch',
				);
			}
			return vector as number[];
		});
	};

	const embedBatch = async (batch: Batch, signal: AbortSignal): Promise<number[][]> => {
		let timeouts = 0;
		return withRetries(
			async (attemptSignal, attempt) => {
				config.onRequest?.({ inputs: batch.texts.length, tokens: batch.tokens, attempt });
				const response = await client.embeddings.create(
					{
						model,
						input: batch.texts,
						// Float, not the SDK's base64 default: several self-hosted servers do not implement base64.
						encoding_format: 'float',
						...(config.dimensions !== undefined ? { dimensions: config.dimensions } : {}),
					},
					{ signal: attemptSignal },
				);
				if (!Array.isArray(response?.data)) {
					throw new ModelRequestError(`${where} answered the embedding request without a "data" list (model '${model}').`, 'invalid_response');
				}
				const ordered = [...response.data].sort((a, b) => a.index - b.index);
				return checkVectors(
					ordered.map((item) => item.embedding),
					batch.texts.length,
				);
			},
			{
				maxRetries,
				timeoutMs,
				signal,
				baseDelayMs: config.retryBaseDelayMs,
				// A batch of many texts that timed out goes again in halves (see embedWithinLimits), not whole; a small
				// one goes again once: a server that does not answer must not hold a document for maxRetries timeouts.
				giveUp: (failure) => failure.kind === 'timeout' && (splitsOnTimeout(batch) || ++timeouts > 1),
			},
			toError,
		);
	};

	// Down to the 8,192 tokens per request that were this embedder's default: below, a timeout is retried as it is
	// (a server that does not answer at all must not cost a split per level).
	const splitsOnTimeout = (batch: Batch) => batch.texts.length > 1 && batch.tokens > TIMEOUT_SPLIT_MIN_TOKENS;
	const exceedsLimits = (batch: Batch) => batch.texts.length > limits.inputs || (batch.texts.length > 1 && batch.tokens > limits.tokens);

	/**
	 * One batch through a request slot. A batch larger than the limits learnt meanwhile is cut to them first; a
	 * batch the server refuses as too large, or that times out (a slow, CPU-only server: what takes too long is
	 * too large), is sent again in two halves, and the half's size becomes the limit for every later batch of this
	 * embedder. A single text refused as too large is an error: no split can help it (and its size must not
	 * become the limit); a single text that times out is retried as usual.
	 */
	const embedWithinLimits = async (batch: Batch, signal: AbortSignal): Promise<number[][]> => {
		if (exceedsLimits(batch)) return embedParts(packBatches(batch, limits.inputs, limits.tokens), signal);
		let release: () => void;
		try {
			release = await slots.acquire(signal);
		} catch {
			throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, 0);
		}
		let refused: ModelRequestError;
		try {
			// The limits may have been lowered while this batch waited for its slot.
			if (exceedsLimits(batch)) return embedParts(packBatches(batch, limits.inputs, limits.tokens), signal);
			return await embedBatch(batch, signal);
		} catch (error) {
			// A timeout of a batch of several texts counts as "too many tokens" for this server's speed.
			const timedOut = error instanceof ModelRequestError && error.kind === 'timeout' && splitsOnTimeout(batch);
			if (timedOut) refusedAsTooLarge.set(error, 'tokens');
			if (!(error instanceof ModelRequestError) || !refusedAsTooLarge.has(error)) throw error;
			refused = error;
		} finally {
			release();
		}
		if (batch.texts.length === 1) {
			throw new ModelRequestError(
				`${refused.message} The text alone (${batch.tokens} tokens) is more than this server accepts: lower the chunk size.`,
				refused.kind,
				refused.status,
				refused.attempts,
			);
		}
		const middle = Math.ceil(batch.texts.length / 2);
		const size = refusedAsTooLarge.get(refused);
		// A limit on the number of texts holds for every batch: the batches still waiting are cut at once. A limit on
		// tokens may be one text's context length, so it is only learnt from halves that went through.
		if (size !== 'tokens') limits.inputs = Math.min(limits.inputs, middle);
		const halves = [0, middle].map((from): Batch => {
			const counts = batch.counts.slice(from, from === 0 ? middle : undefined);
			return { offset: batch.offset + from, texts: batch.texts.slice(from, from + counts.length), counts, tokens: counts.reduce((sum, count) => sum + count, 0) };
		});
		const vectors = await embedParts(halves, signal);
		if (size !== 'inputs') limits.tokens = Math.min(limits.tokens, Math.max(...halves.map((half) => half.tokens)));
		return vectors;
	};

	const embedParts = async (parts: Batch[], signal: AbortSignal): Promise<number[][]> =>
		(await Promise.all(parts.map((part) => embedWithinLimits(part, signal)))).flat();

	return {
		model,
		baseURL: where,
		get dimensions() {
			return knownDimension;
		},
		get batchLimits() {
			return { ...limits };
		},
		async embed(texts: string[], signal?: AbortSignal, tokenCounts?: number[]): Promise<number[][]> {
			const known = tokenCounts?.length === texts.length ? tokenCounts : undefined;
			if (signal?.aborted) throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, 0);
			// Each distinct text is sent once; repeats get a copy of its vector.
			const firstIndex = new Map<string, number>();
			const distinct: string[] = [];
			const counts: number[] = [];
			const positions = texts.map((text, index) => {
				let position = firstIndex.get(text);
				if (position === undefined) {
					position = distinct.push(text) - 1;
					counts.push(checkedTokens(text, index, texts.length, maxBatchTokens, known?.[index]));
					firstIndex.set(text, position);
				}
				return position;
			});
			const batches = packBatches({ offset: 0, texts: distinct, counts, tokens: 0 }, limits.inputs, limits.tokens);
			// On the first failure the batches still waiting give up and those in flight are aborted; the error is
			// thrown once all have settled, so no request of this call is left running.
			const stop = new AbortController();
			const callSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
			const vectors = new Array<number[]>(distinct.length);
			let firstError: unknown;
			await Promise.all(
				batches.map((batch) =>
					embedWithinLimits(batch, callSignal).then(
						(batchVectors) => batchVectors.forEach((vector, index) => (vectors[batch.offset + index] = vector)),
						(error: unknown) => {
							if (firstError === undefined) firstError = error;
							stop.abort();
						},
					),
				),
			);
			if (signal?.aborted) throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, 0);
			if (firstError !== undefined) throw firstError;
			const used = new Set<number>();
			return positions.map((position) => {
				if (!used.has(position)) {
					used.add(position);
					return vectors[position];
				}
				return [...vectors[position]];
			});
		},
	};
}
