import { createServer } from 'node:net';
import { createChatClient, ModelRequestError } from '../../lib/generate/client';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-test-secret-4242';
let server: OpenAITestServer;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const fastRetries = { retryBaseDelayMs: 20 };
const client = (overrides: Partial<Parameters<typeof createChatClient>[0]> = {}) =>
	createChatClient({ baseURL: server.url, apiKey: API_KEY, model: 'test-chat', timeoutMs: 5_000, ...fastRetries, ...overrides });
const ask = (chat = client(), signal?: AbortSignal) => chat.complete({ messages: [{ role: 'user', content: 'Hello' }], maxTokens: 50 }, signal);
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => {
			throw new Error('expected a failure');
		},
		(error: unknown) => error as ModelRequestError,
	);

describe('createChatClient', () => {
	it('sends the chat request with the key and returns text, usage, model and finish reason', async () => {
		server.queueChatReplies({ content: 'Hi there', usage: { prompt_tokens: 7, completion_tokens: 2 } });
		const result = await client({ baseURL: `${server.url}/` }).complete({ messages: [{ role: 'user', content: 'Hello' }], maxTokens: 50, temperature: 0.2 });
		expect(result).toEqual({
			text: 'Hi there',
			finishReason: 'stop',
			model: 'test-chat',
			usage: { promptTokens: 7, completionTokens: 2, totalTokens: 9 },
			attempts: 1,
			responseFormat: undefined,
		});
		const [request] = server.requestsTo('/chat/completions');
		expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
		expect(request.body).toEqual({ model: 'test-chat', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 50, temperature: 0.2 });
	});

	it('sends no Authorization header when no key is configured (Ollama, vLLM)', async () => {
		const open = await startOpenAITestServer();
		try {
			const result = await createChatClient({ baseURL: open.url, model: 'llama3.1' }).complete({ messages: [{ role: 'user', content: 'Hi' }] });
			expect(result.text).toBe('Echo: Hi');
			expect(open.requests[0].headers.authorization).toBeUndefined();
		} finally {
			await open.close();
		}
	});

	it('waits as long as Retry-After says on 429, then succeeds', async () => {
		server.failNext(1, { status: 429, retryAfter: 1 });
		const result = await ask();
		const [first, second] = server.requestsTo('/chat/completions');
		expect(result.attempts).toBe(2);
		expect([first.status, second.status]).toEqual([429, 200]);
		expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(950);
	});

	it('caps a Retry-After longer than allowed instead of stalling the run', async () => {
		server.failNext(1, { status: 429, retryAfter: 120 });
		const result = await ask(client({ maxRetryAfterMs: 300 }));
		const [first, second] = server.requestsTo('/chat/completions');
		expect(result.attempts).toBe(2);
		expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(250);
		expect(second.receivedAt - first.receivedAt).toBeLessThan(2_000);
	});

	it('reports rate limiting that outlasts the retries', async () => {
		server.failNext(3, { status: 429, retryAfterMs: 10, message: 'slow down' });
		const error = await failure(ask(client({ maxRetries: 2 })));
		expect(error.kind).toBe('rate_limited');
		expect(error.message).toBe(`The model server at ${server.url} is rate limiting requests (HTTP 429 after 3 attempts: slow down). Try again later or lower the request rate.`);
	});

	it('retries a 500 and a dropped connection, then succeeds', async () => {
		server.failNext(1, { status: 500 });
		server.failNext(1, { reset: true });
		const result = await ask();
		expect(result.attempts).toBe(3);
		expect(server.requestsTo('/chat/completions').map((r) => r.status)).toEqual([500, undefined, 200]);
	});

	it('stops after maxRetries with the status and the attempt count', async () => {
		server.failNext(5, { status: 503, message: 'overloaded' });
		const error = await failure(ask(client({ maxRetries: 2 })));
		expect(error.kind).toBe('server');
		expect(error.message).toBe(`The model server at ${server.url} failed with HTTP 503 after 3 attempts: overloaded`);
		expect(server.count('/chat/completions')).toBe(3);
	});

	it('turns a slow answer into a clear timeout error, and retries timeouts', async () => {
		server.delayNext(1, 1_000);
		const error = await failure(ask(client({ timeoutMs: 200, maxRetries: 0 })));
		expect(error.kind).toBe('timeout');
		expect(error.message).toMatch(/did not answer within 200 ms\. Raise the timeout/);

		server.delayNext(1, 1_000);
		const result = await ask(client({ timeoutMs: 300, maxRetries: 1 }));
		expect(result.attempts).toBe(2);
	});

	describe('against a model that does not answer', () => {
		const TIMEOUT_MS = 300;
		const BACKOFF_MS = 50;
		const hanging = () => client({ timeoutMs: TIMEOUT_MS, maxRetries: 3, retryBaseDelayMs: BACKOFF_MS });
		/** A reply that comes far too late; unref'd, so it cannot hold the test run open. */
		const late = () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 10_000).unref());

		it('retries a timeout once, then fails: at most twice the timeout and one backoff step', async () => {
			server.delayNext(10, 10_000);
			const started = Date.now();
			const error = await failure(ask(hanging()));
			const elapsed = Date.now() - started;
			expect(error.kind).toBe('timeout');
			expect(error.message).toBe(
				`The model server at ${server.url} did not answer within ${TIMEOUT_MS} ms after 2 attempts. Raise the timeout, use a smaller model, or check that the server is not overloaded.`,
			);
			expect(server.count('/chat/completions')).toBe(2);
			expect(elapsed).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
			expect(elapsed).toBeLessThan(2 * TIMEOUT_MS + BACKOFF_MS + 250);
		});

		it('keeps the full retry budget for other failures after a timeout', async () => {
			server.delayNext(1, 10_000);
			server.failNext(2, { status: 503 });
			const result = await ask(hanging());
			expect(result.attempts).toBe(4);
			expect(server.requestsTo('/chat/completions').map((request) => request.status)).toEqual([undefined, 503, 503, 200]);
		});

		it('counts timeouts across the parameter fallbacks of one request', async () => {
			// Timeout, then a 400 that switches to max_completion_tokens, then a timeout again: the request is over.
			server.delayNext(1, 10_000);
			server.failNext(1, { status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." });
			server.setChatResponder(late);
			const error = await failure(ask(hanging()));
			expect(error.kind).toBe('timeout');
			expect(error.attempts).toBe(3);
			expect(server.requestsTo('/chat/completions').map((request) => request.body.max_completion_tokens)).toEqual([undefined, undefined, 50]);
		});
	});

	it('does not retry a refused key and never shows the key', async () => {
		server.failNext(1, { status: 401, message: `Incorrect API key provided: ${API_KEY}` });
		const error = await failure(ask());
		expect(error.kind).toBe('auth');
		expect(error.message).toBe(`The model server at ${server.url} refused the API key (HTTP 401). Check the API key in the Symbiotic Model credential.`);
		expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(API_KEY);
		expect(server.count('/chat/completions')).toBe(1);

		const wrongKey = await failure(ask(client({ apiKey: 'sk-wrong' })));
		expect(wrongKey.kind).toBe('auth');
		expect(server.count('/chat/completions')).toBe(2);
	});

	it('names the model and base URL on 404 and does not retry', async () => {
		server.failNext(1, { status: 404, message: "The model 'mistral-huge' does not exist" });
		const error = await failure(ask(client({ model: 'mistral-huge' })));
		expect(error.kind).toBe('not_found');
		expect(error.message).toContain(`Model "mistral-huge" was not found at ${server.url}`);
		expect(server.count('/chat/completions')).toBe(1);
	});

	it('does not retry a 400', async () => {
		server.failNext(1, { status: 400, message: 'messages too long' });
		const error = await failure(ask());
		expect(error.kind).toBe('bad_request');
		expect(error.message).toMatch(/rejected the request \(HTTP 400\): messages too long/);
		expect(server.count('/chat/completions')).toBe(1);
	});

	it('switches to max_completion_tokens and to json_object when the server rejects the others', async () => {
		server.failNext(1, { status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." });
		server.failNext(1, { status: 400, message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model." });
		const result = await client().complete({
			messages: [{ role: 'user', content: 'JSON please' }],
			maxTokens: 30,
			responseFormat: { type: 'json_schema', json_schema: { name: 'reply', schema: { type: 'object' }, strict: false } },
		});
		expect(result.responseFormat).toBe('json_object');
		const bodies = server.requestsTo('/chat/completions').map((r) => r.body);
		expect(bodies.map((b) => [b.max_tokens, b.max_completion_tokens, b.response_format.type])).toEqual([
			[30, undefined, 'json_schema'],
			[undefined, 30, 'json_schema'],
			[undefined, 30, 'json_object'],
		]);
	});

	it('reports an unreachable server without hanging', async () => {
		const closed = createServer();
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const { port } = closed.address() as { port: number };
		await new Promise((resolve) => closed.close(resolve));
		const error = await failure(ask(createChatClient({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', maxRetries: 1, ...fastRetries })));
		expect(error.kind).toBe('connection');
		expect(error.message).toMatch(new RegExp(`Could not connect to the model server at http://127.0.0.1:${port}/v1 after 2 attempts: .+Check the base URL`));
	});

	it('stops waiting when the execution is cancelled', async () => {
		server.failNext(1, { status: 429, retryAfter: 3 });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 200);
		const startedAt = Date.now();
		const error = await failure(ask(client(), controller.signal));
		expect(Date.now() - startedAt).toBeLessThan(1_500);
		expect(server.count('/chat/completions')).toBe(1);
		expect(error.kind).toBe('aborted');
	});

	it('rejects a base URL that is not http(s) and an empty model', () => {
		expect(() => createChatClient({ baseURL: 'localhost:11434', model: 'm' })).toThrow(/Base URL "localhost:11434" is not an http\(s\) URL/);
		expect(() => createChatClient({ baseURL: 'http://localhost:11434/v1', model: ' ' })).toThrow(/Chat model is empty/);
	});
});
