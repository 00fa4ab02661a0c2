/**
 * A real local HTTP reranking server: the `/rerank` endpoint as Cohere, Jina, vLLM and Infinity speak it
 * (`{model, query, documents, top_n}` → `{results: [{index, relevance_score}]}`), as Voyage does (`data`), and as
 * Hugging Face TEI does (`{query, texts}` → `[{index, score}]`), with request recording and fault injection.
 * Listens on 127.0.0.1, port 0.
 *
 * Relevance is deterministic: the share of the query's words (lower-cased, 3+ letters) found in the document,
 * so a test knows which passage a real cross-encoder would put first.
 *
 * - `server.url` — base URL without `/rerank` (clients append it); the endpoint answers on any path ending
 *   in `/rerank` (`/rerank`, `/v1/rerank`, `/v2/rerank`).
 * - `server.style` — answer shape: `cohere` (default), `voyage` or `tei`. With `tei` a request without `texts`
 *   is a 422 naming the missing field, as TEI answers.
 * - `server.respondWith(fn)` — replaces the answer (status and raw body) for the next requests.
 * - `server.delayMs` — waits before answering (timeouts).
 * - `server.topN` — answers only the best N (servers honouring `top_n`).
 * - With `apiKey`, a request without `Authorization: Bearer <apiKey>` is a 401.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRerankRequest {
	path: string;
	headers: IncomingMessage['headers'];
	body: any;
}

export type RerankStyle = 'cohere' | 'voyage' | 'tei';

export interface CannedAnswer {
	status?: number;
	/** Sent as it is when a string, as JSON otherwise. */
	body: unknown;
}

export class RerankTestServer {
	readonly requests: RecordedRerankRequest[] = [];
	style: RerankStyle = 'cohere';
	delayMs = 0;
	topN?: number;
	private responder?: (request: RecordedRerankRequest) => CannedAnswer;
	private readonly timers = new Set<NodeJS.Timeout>();
	private baseUrl = '';

	constructor(
		private readonly server: Server,
		private readonly apiKey?: string,
	) {}

	get url(): string {
		return this.baseUrl;
	}

	/** @internal */
	async listen(): Promise<void> {
		this.server.on('request', (req, res) => void this.handle(req, res));
		await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
		this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
	}

	respondWith(responder: ((request: RecordedRerankRequest) => CannedAnswer) | undefined): void {
		this.responder = responder;
	}

	reset(): void {
		this.requests.length = 0;
		this.style = 'cohere';
		this.delayMs = 0;
		this.topN = undefined;
		this.responder = undefined;
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const raw = Buffer.concat(chunks).toString('utf8');
		let body: any;
		try {
			body = raw ? JSON.parse(raw) : undefined;
		} catch {
			body = raw;
		}
		const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
		const request = { path, headers: req.headers, body };
		this.requests.push(request);
		if (this.delayMs > 0) {
			await new Promise<void>((resolve) => {
				const timer = setTimeout(() => {
					this.timers.delete(timer);
					resolve();
				}, this.delayMs);
				this.timers.add(timer);
			});
			if (res.destroyed) return;
		}
		const answer = this.answer(req, request);
		if (res.destroyed) return;
		const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
		res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
		res.end(payload);
	}

	private answer(req: IncomingMessage, request: RecordedRerankRequest): CannedAnswer {
		if (this.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.apiKey}`) {
			return { status: 401, body: { message: 'invalid api token' } };
		}
		if (req.method !== 'POST' || !request.path.endsWith('/rerank')) {
			return { status: 404, body: { message: `no route ${req.method} ${request.path}` } };
		}
		if (this.responder) return this.responder(request);
		const { query } = request.body ?? {};
		const documents: unknown = this.style === 'tei' ? request.body?.texts : request.body?.documents;
		if (typeof query !== 'string' || !Array.isArray(documents)) {
			const missing = this.style === 'tei' ? 'texts' : 'documents';
			return { status: 422, body: this.style === 'tei' ? { error: `Failed to deserialize the JSON body into the target type: missing field \`${missing}\``, error_type: 'Validation' } : { message: `missing field ${missing}` } };
		}
		const scored = documents
			.map((document, index) => ({ index, score: relevance(query, String(document)) }))
			.sort((a, b) => b.score - a.score)
			.slice(0, this.topN ?? request.body?.top_n ?? documents.length);
		if (this.style === 'tei') return { body: scored };
		const results = scored.map(({ index, score }) => ({ index, relevance_score: score }));
		return { body: this.style === 'voyage' ? { object: 'list', data: results, model: request.body.model } : { id: 'rerank-test', results, meta: {} } };
	}
}

/** Share of the query's words (3+ letters) present in the document, 0..1. */
export function relevance(query: string, document: string): number {
	const words = (text: string) => text.toLowerCase().match(/\p{L}{3,}/gu) ?? [];
	const wanted = [...new Set(words(query))];
	if (wanted.length === 0) return 0;
	const present = new Set(words(document));
	return wanted.filter((word) => present.has(word)).length / wanted.length;
}

export async function startRerankTestServer(options: { apiKey?: string } = {}): Promise<RerankTestServer> {
	const server = new RerankTestServer(createServer(), options.apiKey);
	await server.listen();
	return server;
}
