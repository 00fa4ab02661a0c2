/**
 * A real local HTTP server speaking enough of the OpenAI REST API for the official `openai` SDK (and any
 * OpenAI-compatible client) to talk to it: deterministic embeddings, scripted chat replies, request recording
 * and fault injection. It listens on 127.0.0.1, port 0 (a free port), so tests can run in parallel.
 *
 * Usage:
 *
 *   import OpenAI from 'openai';
 *   import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';
 *
 *   let server: OpenAITestServer;
 *   beforeAll(async () => { server = await startOpenAITestServer({ apiKey: 'sk-test' }); });
 *   afterAll(() => server.close());
 *   beforeEach(() => server.reset());
 *
 *   const client = new OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
 *
 * Endpoints (all under `server.url`, which ends in `/v1`):
 * - `GET /models`, `GET /models/:id` — lists `options.models`.
 * - `POST /embeddings` — hashed bag-of-words vectors (see `embedText`): texts sharing words are similar, the
 *   same text always gives the same vector. Honors `dimensions` (default `options.embeddingDimensions`, 64)
 *   and `encoding_format` `float` | `base64` (the SDK asks for base64 when the caller does not say). An empty
 *   string input is a 400, like OpenAI. Models not in `options.embeddingModels` (when given) are a 404.
 * - `POST /chat/completions` — replies from `queueChatReplies(...)` first, then `setChatResponder(fn)`, then
 *   the default `Echo: <last user message>`. `stream: true` is answered as SSE. `response_format` and every
 *   other field are recorded untouched in `server.requests` for assertions.
 *
 * Authorization: with `options.apiKey`, every endpoint answers 401 unless `Authorization: Bearer <apiKey>`.
 *
 * Recording: `server.requests` (method, path without `/v1`, headers, parsed body, receivedAt, status once
 * answered); `server.count('/embeddings')`, `server.requestsTo('/chat/completions')`; `server.maxInFlight`
 * (highest number of requests being handled at once, for concurrency bounds); `reset()` clears records,
 * queued replies, responder, pending faults and size limits.
 *
 * Fault injection (each applies to the next n requests; `path` limits it to one endpoint, e.g. '/embeddings'):
 * - `failNext(n, { status: 429, retryAfter: 2 })` — error status with OpenAI's error JSON; `retryAfter` is sent
 *   as the Retry-After header verbatim (seconds or an HTTP date); `retryAfterMs` as `retry-after-ms`.
 * - `failNext(n, { reset: true })` — destroys the socket without answering (a connection error).
 * - `failNext(n, { malformed: true })` — answers 200 with truncated JSON.
 * - `delayNext(n, ms)` — holds the answer for ms (for client timeouts; the request is still recorded).
 * Delays apply before failures, so a delayed request can also fail.
 *
 * Response time: `server.embeddingLatencyMs = 150` answers every embedding request 150 ms after it arrived,
 * the server's own work included (as a remote endpoint with a steady response time would; `delayNext` adds its
 * delay before the work instead). `options.embeddingLatencyMs` sets the value `reset()` returns to.
 *
 * Request size limits, like real servers (until changed; `reset()` removes them):
 * - `setEmbeddingLimits({ maxInputs: 32 })` — more inputs in one request are refused with 413 and TEI's
 *   message (`batch size 64 > maximum allowed batch size 32`); `{ maxInputs: 16, status: 400 }` answers like
 *   Azure OpenAI (`Too many inputs. The max number of inputs is 16.`).
 * - `setEmbeddingLimits({ maxTokens: 1000 })` — more tokens (cl100k_base) in one request are a 400 with OpenAI's
 *   message (`Requested 1200 tokens, max 1000 tokens per request`).
 *
 * Beware: under jest, the SDK reports its own `timeout` as a plain `APIConnectionError`, not the subclass
 * `APIConnectionTimeoutError` (fetch's AbortError comes from another realm, so the SDK cannot recognise it).
 * Code that must tell a timeout apart should run its own timer and AbortSignal.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { countTokens } from '../../lib/tokens';

export interface OpenAITestServerOptions {
	/** When set, requests must carry `Authorization: Bearer <apiKey>`. */
	apiKey?: string;
	/** Embedding dimension when the request has no `dimensions` (default 64). */
	embeddingDimensions?: number;
	/** When set, embedding requests for other models get a 404 `model_not_found`. */
	embeddingModels?: string[];
	/** Model ids returned by `GET /models` (default `['test-chat', 'test-embedding']`). */
	models?: string[];
	/** Answer each embedding request this many ms after it arrived (default 0: at once). */
	embeddingLatencyMs?: number;
}

export interface RecordedRequest {
	method: string;
	/** Path below the `/v1` prefix, without query: `/embeddings`, `/chat/completions`, `/models`. */
	path: string;
	headers: IncomingHttpHeaders;
	/** Parsed JSON body (undefined for GET). */
	body: any;
	/** `Date.now()` when the request arrived. */
	receivedAt: number;
	/** HTTP status sent back; undefined while pending or when the socket was reset. */
	status?: number;
}

export interface ChatMessage {
	role: string;
	content: string | null | Array<{ type: string; text?: string }>;
	[key: string]: unknown;
}

export interface ChatCompletionRequest {
	model: string;
	messages: ChatMessage[];
	response_format?: { type: string; json_schema?: unknown };
	stream?: boolean;
	[key: string]: unknown;
}

export interface ChatReplyObject {
	content?: string | null;
	finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
	toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
	/** Overrides the computed usage. */
	usage?: { prompt_tokens: number; completion_tokens: number };
	/** Overrides the echoed request model. */
	model?: string;
}

/** A plain string is the assistant's content with finish reason `stop`. */
export type ChatReply = string | ChatReplyObject;

export type ChatResponder = (
	request: ChatCompletionRequest,
	context: { callIndex: number },
) => ChatReply | Promise<ChatReply>;

/** Per-request limits of the embeddings endpoint (see `setEmbeddingLimits`). */
export interface EmbeddingLimits {
	maxInputs?: number;
	maxTokens?: number;
	/** Status for too many inputs: 413 (TEI, default) or 400 (Azure OpenAI). Too many tokens is always 400. */
	status?: 413 | 400;
}

export interface FailureSpec {
	/** HTTP status to answer with (default 500). */
	status?: number;
	/** Retry-After header value: seconds (number) or an HTTP date (string). */
	retryAfter?: number | string;
	/** `retry-after-ms` header, an OpenAI extension the SDK honors. */
	retryAfterMs?: number;
	/** Error message in the JSON body. */
	message?: string;
	/** Destroy the socket instead of answering (connection error on the client). */
	reset?: boolean;
	/** Answer 200 with a body that is not JSON (a proxy's HTML page, a truncated answer). */
	malformed?: boolean;
	/** Only requests to this path (e.g. '/embeddings') consume the failure. */
	path?: string;
}

interface PendingFault<T> {
	remaining: number;
	path?: string;
	spec: T;
}

/**
 * Deterministic embedding: each word (lowercased letters/digits; CJK characters count as words) is hashed to
 * two signed coordinates, the counts are summed and the vector L2-normalised. Cosine similarity therefore
 * grows with shared vocabulary, which is all semantic search tests need. Exported so tests can compute
 * expected vectors and similarities without the server.
 */
export function embedText(text: string, dimensions: number): number[] {
	const vector = new Array<number>(dimensions).fill(0);
	const words = text.toLowerCase().match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+/gu) ?? [];
	for (const word of words) {
		const features = wordFeatures(word);
		for (let feature = 0; feature < 2; feature++) {
			vector[features[2 * feature] % dimensions] += features[2 * feature + 1];
		}
	}
	const norm = Math.hypot(...vector);
	if (norm === 0) {
		// Text without words (punctuation only): still a valid unit vector, as a real model would return.
		vector[0] = 1;
		return vector;
	}
	return vector.map((value) => value / norm);
}

/**
 * Each word's two (hash, sign) pairs, remembered: words repeat, and one sha256 per word made the server's CPU,
 * not the configured latency, the limit of throughput benchmarks. Same values as hashing every time.
 */
const featuresOfWord = new Map<string, [number, number, number, number]>();

function wordFeatures(word: string): [number, number, number, number] {
	let features = featuresOfWord.get(word);
	if (!features) {
		const digest = createHash('sha256').update(normaliseWord(word)).digest();
		features = [digest.readUInt32BE(0), digest[4] & 1 ? 1 : -1, digest.readUInt32BE(8), digest[12] & 1 ? 1 : -1];
		if (featuresOfWord.size >= 200_000) featuresOfWord.clear();
		featuresOfWord.set(word, features);
	}
	return features;
}

/** Crude stemming so that "price" and "prices" land on the same coordinates. */
function normaliseWord(word: string): string {
	return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

function normalisePath(path: string): string {
	const withSlash = path.startsWith('/') ? path : `/${path}`;
	return withSlash.startsWith('/v1/') ? withSlash.slice(3) : withSlash;
}

function messageText(message: ChatMessage | undefined): string {
	if (!message || message.content === null) return '';
	if (typeof message.content === 'string') return message.content;
	return message.content.map((part) => part.text ?? '').join('');
}

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly code: string | null = null,
		readonly type = 'invalid_request_error',
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}
}

export class OpenAITestServer {
	readonly requests: RecordedRequest[] = [];
	/** Highest number of requests handled at the same time since the last reset. */
	maxInFlight = 0;
	/** Current embedding dimension when a request gives none; tests may change it between calls. */
	embeddingDimensions: number;
	/** When false, the `dimensions` request field is ignored (like Ollama), to provoke dimension mismatches. */
	honorDimensionsParam = true;
	/** Embedding answers leave this many ms after the request arrived, the server's work included. */
	embeddingLatencyMs: number;

	private inFlight = 0;
	private chatReplies: ChatReply[] = [];
	private chatResponder?: ChatResponder;
	private chatCalls = 0;
	private failures: Array<PendingFault<FailureSpec>> = [];
	private embeddingLimits: EmbeddingLimits = {};
	private delays: Array<PendingFault<number>> = [];
	private readonly timers = new Set<NodeJS.Timeout>();
	private baseUrl = '';

	constructor(
		private readonly server: Server,
		private readonly options: OpenAITestServerOptions,
	) {
		this.embeddingDimensions = options.embeddingDimensions ?? 64;
		this.embeddingLatencyMs = options.embeddingLatencyMs ?? 0;
	}

	/** Base URL for clients, ending in `/v1` (e.g. `http://127.0.0.1:41234/v1`). */
	get url(): string {
		return this.baseUrl;
	}

	/** @internal */
	async listen(): Promise<void> {
		this.server.on('request', (req, res) => void this.handle(req, res));
		await new Promise<void>((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(0, '127.0.0.1', () => resolve());
		});
		const { port } = this.server.address() as AddressInfo;
		this.baseUrl = `http://127.0.0.1:${port}/v1`;
	}

	/** Number of recorded requests, optionally to one path ('/embeddings' or '/v1/embeddings'). */
	count(path?: string): number {
		return path === undefined ? this.requests.length : this.requestsTo(path).length;
	}

	requestsTo(path: string): RecordedRequest[] {
		const wanted = normalisePath(path);
		return this.requests.filter((request) => request.path === wanted);
	}

	/** Replies used, in order, by the next chat completions (before any responder). */
	queueChatReplies(...replies: ChatReply[]): void {
		this.chatReplies.push(...replies);
	}

	/** Computes replies once the queue is empty; `undefined` restores the echo reply. */
	setChatResponder(responder: ChatResponder | undefined): void {
		this.chatResponder = responder;
	}

	failNext(count: number, spec: FailureSpec = {}): void {
		this.failures.push({ remaining: count, path: spec.path && normalisePath(spec.path), spec });
	}

	delayNext(count: number, ms: number, options: { path?: string } = {}): void {
		this.delays.push({ remaining: count, path: options.path && normalisePath(options.path), spec: ms });
	}

	/** Refuses embedding requests over these sizes from now on, as real servers do (see the header). */
	setEmbeddingLimits(limits: EmbeddingLimits): void {
		this.embeddingLimits = { ...limits };
	}

	/** Forgets requests, queued replies, the responder, pending faults, size limits and the in-flight maximum. */
	reset(): void {
		this.requests.length = 0;
		this.chatReplies = [];
		this.chatResponder = undefined;
		this.chatCalls = 0;
		this.failures = [];
		this.delays = [];
		this.maxInFlight = this.inFlight;
		this.embeddingDimensions = this.options.embeddingDimensions ?? 64;
		this.honorDimensionsParam = true;
		this.embeddingLimits = {};
		this.embeddingLatencyMs = this.options.embeddingLatencyMs ?? 0;
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private takeFault<T>(faults: Array<PendingFault<T>>, path: string): T | undefined {
		const fault = faults.find((candidate) => candidate.remaining > 0 && (!candidate.path || candidate.path === path));
		if (!fault) return undefined;
		fault.remaining--;
		return fault.spec;
	}

	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const record: RecordedRequest = {
			method: req.method ?? 'GET',
			path: normalisePath(url.pathname),
			headers: req.headers,
			body: undefined,
			receivedAt: Date.now(),
		};
		this.requests.push(record);
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		let finished = false;
		const finish = () => {
			if (!finished) {
				finished = true;
				this.inFlight--;
			}
		};
		res.on('close', finish);

		try {
			const raw = await readBody(req);
			if (raw.length > 0) {
				try {
					record.body = JSON.parse(raw);
				} catch {
					throw new HttpError(400, 'We could not parse the JSON body of your request.');
				}
			}
			const delay = this.takeFault(this.delays, record.path);
			if (delay !== undefined) await this.sleep(delay);
			if (res.destroyed) return;

			const failure = this.takeFault(this.failures, record.path);
			if (failure?.reset) {
				req.socket.destroy();
				return;
			}
			if (failure?.malformed) {
				record.status = 200;
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end('{"object": "list", "data": [{"embedding": [0.1, 0.2');
				return;
			}
			if (failure) {
				const headers: Record<string, string> = {};
				if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
				if (failure.retryAfterMs !== undefined) headers['retry-after-ms'] = String(failure.retryAfterMs);
				const status = failure.status ?? 500;
				const type = status === 429 ? 'rate_limit_exceeded' : 'server_error';
				throw new HttpError(status, failure.message ?? `Injected failure (HTTP ${status}).`, null, type, headers);
			}
			this.authorize(req);
			await this.route(record, res);
		} catch (error) {
			const httpError = error instanceof HttpError ? error : new HttpError(500, String(error), null, 'server_error');
			const body = { error: { message: httpError.message, type: httpError.type, param: null, code: httpError.code } };
			send(res, record, httpError.status, body, httpError.headers);
		} finally {
			if (res.writableEnded) finish();
		}
	}

	private authorize(req: IncomingMessage): void {
		if (this.options.apiKey === undefined) return;
		if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
			throw new HttpError(401, 'Incorrect API key provided.', 'invalid_api_key');
		}
	}

	private async route(record: RecordedRequest, res: ServerResponse): Promise<void> {
		const models = this.options.models ?? ['test-chat', 'test-embedding'];
		if (record.method === 'GET' && record.path === '/models') {
			send(res, record, 200, { object: 'list', data: models.map(modelObject) });
		} else if (record.method === 'GET' && record.path.startsWith('/models/')) {
			const id = decodeURIComponent(record.path.slice('/models/'.length));
			if (!models.includes(id)) throw new HttpError(404, `The model '${id}' does not exist`, 'model_not_found');
			send(res, record, 200, modelObject(id));
		} else if (record.method === 'POST' && record.path === '/embeddings') {
			const answer = this.embeddings(record.body);
			const wait = record.receivedAt + this.embeddingLatencyMs - Date.now();
			if (wait > 0) await this.sleep(wait);
			send(res, record, 200, answer);
		} else if (record.method === 'POST' && record.path === '/chat/completions') {
			await this.chatCompletion(record, res);
		} else {
			throw new HttpError(404, `Unknown request URL: ${record.method} /v1${record.path}.`, 'unknown_url');
		}
	}

	private embeddings(body: any): unknown {
		const model = body?.model;
		if (typeof model !== 'string' || model === '') throw new HttpError(400, "'model' is required.");
		if (this.options.embeddingModels && !this.options.embeddingModels.includes(model)) {
			throw new HttpError(404, `The model '${model}' does not exist`, 'model_not_found');
		}
		const inputs: unknown[] = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
		if (inputs.length === 0) throw new HttpError(400, "'$.input' is invalid: it must not be empty.");
		const texts = inputs.map((input, index) => {
			if (typeof input === 'string' && input !== '') return input;
			if (Array.isArray(input) && input.length > 0) return input.join(' ');
			throw new HttpError(400, `'$.input[${index}]' is invalid: expected a non-empty string or token array.`);
		});
		const { maxInputs, maxTokens, status = 413 } = this.embeddingLimits;
		if (maxInputs !== undefined && texts.length > maxInputs) {
			throw status === 413
				? new HttpError(413, `batch size ${texts.length} > maximum allowed batch size ${maxInputs}`, null, 'validation')
				: new HttpError(400, `Too many inputs. The max number of inputs is ${maxInputs}.`);
		}
		if (maxTokens !== undefined) {
			const tokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
			if (tokens > maxTokens) {
				throw new HttpError(400, `Requested ${tokens} tokens, max ${maxTokens} tokens per request`, 'max_tokens_per_request');
			}
		}
		const requested = this.honorDimensionsParam ? body.dimensions : undefined;
		if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
			throw new HttpError(400, "'dimensions' must be a positive integer.");
		}
		const dimensions = requested ?? this.embeddingDimensions;
		const base64 = body.encoding_format === 'base64';
		const data = texts.map((text, index) => {
			const vector = embedText(text, dimensions);
			const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
			return { object: 'embedding', index, embedding };
		});
		const promptTokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
		return { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
	}

	private async chatCompletion(record: RecordedRequest, res: ServerResponse): Promise<void> {
		const request = record.body as ChatCompletionRequest;
		if (typeof request?.model !== 'string' || !Array.isArray(request.messages) || request.messages.length === 0) {
			throw new HttpError(400, "'model' and a non-empty 'messages' array are required.");
		}
		const callIndex = this.chatCalls++;
		const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
		const scripted = this.chatReplies.length > 0 ? this.chatReplies.shift() : undefined;
		const reply = scripted ?? (this.chatResponder ? await this.chatResponder(request, { callIndex }) : `Echo: ${messageText(lastUser)}`);
		const replyObject: ChatReplyObject = typeof reply === 'string' ? { content: reply } : reply;

		const content = replyObject.content ?? null;
		const toolCalls = replyObject.toolCalls?.map((call, index) => ({
			id: call.id ?? `call_${callIndex}_${index}`,
			type: 'function',
			function: { name: call.name, arguments: call.arguments },
		}));
		const finishReason = replyObject.finishReason ?? (toolCalls ? 'tool_calls' : 'stop');
		const promptTokens = request.messages.reduce((sum, message) => sum + countTokens(messageText(message)) + 4, 3);
		const completionTokens = countTokens(content ?? '') + (toolCalls ? countTokens(JSON.stringify(toolCalls)) : 0);
		const usage = replyObject.usage ?? { prompt_tokens: promptTokens, completion_tokens: completionTokens };
		const envelope = {
			id: `chatcmpl-test-${callIndex}`,
			created: Math.floor(record.receivedAt / 1000),
			model: replyObject.model ?? request.model,
			system_fingerprint: 'fp_openai_test_server',
		};
		const fullUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };

		if (request.stream) {
			record.status = 200;
			res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
			const chunk = (delta: unknown, finish: string | null, withUsage = false) =>
				`data: ${JSON.stringify({
					...envelope,
					object: 'chat.completion.chunk',
					choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
					...(withUsage ? { usage: fullUsage } : {}),
				})}\n\n`;
			res.write(chunk({ role: 'assistant', content: content ?? '', ...(toolCalls ? { tool_calls: toolCalls.map((call, index) => ({ index, ...call })) } : {}) }, null));
			const includeUsage = (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
			res.write(chunk({}, finishReason, includeUsage));
			res.end('data: [DONE]\n\n');
			return;
		}
		send(res, record, 200, {
			...envelope,
			object: 'chat.completion',
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
					finish_reason: finishReason,
					logprobs: null,
				},
			],
			usage: fullUsage,
		});
	}
}

function modelObject(id: string) {
	return { id, object: 'model', created: 1700000000, owned_by: 'openai-test-server' };
}

function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
	if (res.destroyed || res.headersSent) return;
	record.status = status;
	const payload = JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
	res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const parts: Buffer[] = [];
		req.on('data', (part: Buffer) => parts.push(part));
		req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
		req.on('error', reject);
	});
}

/** Starts a server on 127.0.0.1 with a free port. Always `await server.close()` in `afterAll`. */
export async function startOpenAITestServer(options: OpenAITestServerOptions = {}): Promise<OpenAITestServer> {
	const server = new OpenAITestServer(createServer(), options);
	await server.listen();
	return server;
}
