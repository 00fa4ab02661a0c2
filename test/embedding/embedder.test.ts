import { createOpenAIEmbedder, ModelRequestError, tooLargeKind, type OpenAIEmbedderConfig } from '../../lib/embedding';
import { countTokens } from '../../lib/tokens';
import { InputError } from '../../lib/types';
import { embedText, startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-embedder-test-secret';

describe('OpenAI-compatible embedder against a real local server', () => {
	let server: OpenAITestServer;

	beforeAll(async () => {
		server = await startOpenAITestServer({ apiKey: API_KEY, embeddingModels: ['test-embedding'] });
	});
	afterAll(() => server.close());
	beforeEach(() => server.reset());

	const embedder = (overrides: Partial<OpenAIEmbedderConfig> = {}) =>
		createOpenAIEmbedder({ baseURL: server.url, apiKey: API_KEY, model: 'test-embedding', retryBaseDelayMs: 10, ...overrides });
	const texts = (count: number, words = 3) =>
		Array.from({ length: count }, (_, i) => `text ${i} ` + Array.from({ length: words }, (_, w) => `word${(i * 7 + w) % 50}`).join(' '));
	const failure = (promise: Promise<unknown>) =>
		promise.then(
			() => {
				throw new Error('expected a failure');
			},
			(error: unknown) => error as ModelRequestError,
		);

	it('batches up to 256 texts by default, asks for floats, and returns vectors in input order', async () => {
		const inputs = texts(300);
		const vectors = await embedder().embed(inputs);
		const requests = server.requestsTo('/embeddings');
		expect(requests.map((request) => request.body.input.length)).toEqual([256, 44]);
		expect(requests.every((request) => request.body.encoding_format === 'float')).toBe(true);
		expect(vectors).toHaveLength(300);
		vectors.forEach((vector, i) => expect(vector).toEqual(embedText(inputs[i], 64)));
	});

	it('fills requests up to the default token budget of 65,536', async () => {
		// 200 texts of about 400 tokens (a default-sized chunk): 162 fit in one request.
		const inputs = texts(200, 200);
		const perText = countTokens(inputs[0]);
		expect(perText).toBe(403);
		await embedder().embed(inputs);
		const requests = server.requestsTo('/embeddings');
		const tokensPerRequest = requests.map((request) => (request.body.input as string[]).reduce((sum, text) => sum + countTokens(text), 0));
		expect(requests.map((request) => request.body.input.length)).toEqual([162, 38]);
		expect(Math.max(...tokensPerRequest)).toBeLessThanOrEqual(65_536);
	});

	it('sends each distinct text once per call and gives repeats their own copy, in order', async () => {
		const vectors = await embedder().embed(['alpha', 'beta', 'alpha', 'gamma', 'beta']);
		expect(server.requestsTo('/embeddings').map((request) => request.body.input)).toEqual([['alpha', 'beta', 'gamma']]);
		expect(vectors).toEqual(['alpha', 'beta', 'alpha', 'gamma', 'beta'].map((text) => embedText(text, 64)));
		expect(vectors[2]).not.toBe(vectors[0]);
	});

	it('returns nothing and sends nothing for no texts', async () => {
		expect(await embedder().embed([])).toEqual([]);
		expect(server.count()).toBe(0);
	});

	it('splits batches by tokens so no request exceeds maxBatchTokens', async () => {
		const inputs = texts(10, 150);
		const perText = countTokens(inputs[0]);
		expect(perText).toBeGreaterThan(250);
		await embedder({ maxBatchTokens: 1000 }).embed(inputs);
		const requests = server.requestsTo('/embeddings');
		const tokensPerRequest = requests.map((request) => (request.body.input as string[]).reduce((sum, text) => sum + countTokens(text), 0));
		expect(Math.max(...tokensPerRequest)).toBeLessThanOrEqual(1000);
		expect(requests.length).toBe(Math.ceil(10 / Math.floor(1000 / perText)));
	});

	it('keeps at most `concurrency` requests in flight', async () => {
		server.delayNext(100, 80, { path: '/embeddings' });
		await embedder({ batchSize: 5, concurrency: 3 }).embed(texts(40));
		expect(server.count('/embeddings')).toBe(8);
		expect(server.maxInFlight).toBe(3);

		server.reset();
		server.delayNext(100, 30, { path: '/embeddings' });
		await embedder({ batchSize: 5, concurrency: 1 }).embed(texts(20));
		expect(server.maxInFlight).toBe(1);
	});

	it('shares the request limit between calls of one embedder running at once', async () => {
		server.delayNext(100, 60, { path: '/embeddings' });
		const shared = embedder({ batchSize: 5, concurrency: 2 });
		const [first, second] = await Promise.all([shared.embed(texts(20)), shared.embed(texts(20).map((text) => `${text} again`))]);
		expect(first).toHaveLength(20);
		expect(second[0]).toEqual(embedText(`${texts(1)[0]} again`, 64));
		expect(server.count('/embeddings')).toBe(8);
		expect(server.maxInFlight).toBe(2);
	});

	it('defaults to 4 requests in flight', async () => {
		server.embeddingLatencyMs = 60; // every answer leaves 60 ms after its request arrived
		const started = Date.now();
		await embedder({ batchSize: 10 }).embed(texts(100));
		expect(server.count('/embeddings')).toBe(10);
		expect(server.maxInFlight).toBe(4);
		// 10 requests, 4 at a time: three rounds of 60 ms.
		expect(Date.now() - started).toBeGreaterThanOrEqual(180);
	});

	it('splits a batch refused with 413 (TEI), retries the halves and keeps the smaller size for later calls', async () => {
		server.setEmbeddingLimits({ maxInputs: 32 });
		const instance = embedder();
		const inputs = texts(256);
		const vectors = await instance.embed(inputs);
		vectors.forEach((vector, i) => expect(vector).toEqual(embedText(inputs[i], 64)));
		const sizes = (status: number) =>
			server
				.requestsTo('/embeddings')
				.filter((request) => request.status === status)
				.map((request) => request.body.input.length)
				.sort((a, b) => b - a);
		expect(sizes(413)).toEqual([256, 128, 128, 64, 64, 64, 64]);
		expect(sizes(200)).toEqual(Array(8).fill(32));
		expect(server.maxInFlight).toBeLessThanOrEqual(4);
		expect(instance.batchLimits).toEqual({ inputs: 32, tokens: 65_536 });

		server.reset();
		server.setEmbeddingLimits({ maxInputs: 32 });
		await instance.embed(texts(100).map((text) => `${text} later`));
		expect(server.requestsTo('/embeddings').map((request) => [request.status, request.body.input.length])).toEqual([
			[200, 32],
			[200, 32],
			[200, 32],
			[200, 4],
		]);
	});

	it('splits on a 400 that says too many inputs (Azure) or tokens (OpenAI), and remembers which', async () => {
		server.setEmbeddingLimits({ maxInputs: 16, status: 400 });
		const byInputs = embedder({ concurrency: 1 });
		const inputs = texts(40);
		expect(await byInputs.embed(inputs)).toEqual(inputs.map((text) => embedText(text, 64)));
		expect(byInputs.batchLimits).toEqual({ inputs: 10, tokens: 65_536 });
		expect(server.requestsTo('/embeddings').filter((request) => request.status === 400).map((request) => request.body.input.length)).toEqual([40, 20]);

		server.reset();
		server.setEmbeddingLimits({ maxTokens: 2000 });
		const byTokens = embedder({ concurrency: 1 });
		const long = texts(40, 60);
		expect(await byTokens.embed(long)).toEqual(long.map((text) => embedText(text, 64)));
		const { inputs: learntInputs, tokens: learntTokens } = byTokens.batchLimits;
		expect(learntInputs).toBe(256);
		expect(learntTokens).toBeLessThanOrEqual(2000);
		server.reset();
		server.setEmbeddingLimits({ maxTokens: 2000 });
		await byTokens.embed(long.map((text) => `${text} again`));
		expect(server.requestsTo('/embeddings').every((request) => request.status === 200)).toBe(true);
	});

	it('fails a single text the server finds too large, saying to lower the chunk size, and keeps its limits', async () => {
		server.setEmbeddingLimits({ maxTokens: 50 });
		const instance = embedder();
		const error = await failure(instance.embed(['short text', 'word '.repeat(100)]));
		expect(error.kind).toBe('bad_request');
		expect(error.message).toMatch(/max 50 tokens per request.*The text alone \(10\d tokens\) is more than this server accepts: lower the chunk size/);
		expect(instance.batchLimits).toEqual({ inputs: 256, tokens: 65_536 });
	});

	it('sends a large batch that timed out again in halves, not whole, and keeps the smaller token budget', async () => {
		const inputs = texts(100, 100); // about 20,000 tokens: well over the 8,192 below which timeouts are only retried
		server.delayNext(1, 2000, { path: '/embeddings' });
		const instance = embedder({ timeoutMs: 500 });
		const vectors = await instance.embed(inputs);
		vectors.forEach((vector, i) => expect(vector).toEqual(embedText(inputs[i], 64)));
		expect(server.requestsTo('/embeddings').map((request) => request.body.input.length)).toEqual([100, 50, 50]);
		const half = inputs.slice(0, 50).reduce((sum, text) => sum + countTokens(text), 0);
		expect(instance.batchLimits).toEqual({ inputs: 256, tokens: half });

		// A small batch that times out is retried whole, as before.
		server.reset();
		server.delayNext(1, 2000, { path: '/embeddings' });
		await embedder({ timeoutMs: 500 }).embed(texts(10));
		expect(server.requestsTo('/embeddings').map((request) => request.body.input.length)).toEqual([10, 10]);
	});

	it('tells size refusals from other bad requests', () => {
		expect(tooLargeKind(413, 'batch size 64 > maximum allowed batch size 32')).toBe('inputs');
		expect(tooLargeKind(413, 'Payload Too Large')).toBe('both');
		expect(tooLargeKind(400, 'Too many inputs. The max number of inputs is 16.')).toBe('inputs');
		expect(tooLargeKind(400, 'Requested 320000 tokens, max 300000 tokens per request')).toBe('tokens');
		expect(tooLargeKind(400, 'Too many tokens overall, split into more batches.')).toBe('tokens');
		expect(tooLargeKind(400, "This model's maximum context length is 512 tokens.")).toBe('tokens');
		expect(tooLargeKind(400, "Invalid 'input': maximum length of array is 2048, but got an array with length 3000.")).toBe('inputs');
		expect(tooLargeKind(400, 'at most 100 requests can be in one batch')).toBe('inputs');
		expect(tooLargeKind(400, 'input too long')).toBeUndefined();
		expect(tooLargeKind(400, "'dimensions' must be a positive integer.")).toBeUndefined();
		expect(tooLargeKind(429, 'Too many requests')).toBeUndefined();
	});

	it('waits as long as Retry-After says on 429, in seconds and as an HTTP date', async () => {
		server.failNext(1, { status: 429, retryAfter: 1, path: '/embeddings' });
		await embedder().embed(['hello']);
		let [first, second] = server.requestsTo('/embeddings');
		expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
		expect(second.receivedAt - first.receivedAt).toBeLessThan(1500);

		server.reset();
		// HTTP dates have one-second resolution: two seconds ahead means a wait of more than one second.
		server.failNext(1, { status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString(), path: '/embeddings' });
		await embedder().embed(['hello']);
		[first, second] = server.requestsTo('/embeddings');
		expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
		expect(second.receivedAt - first.receivedAt).toBeLessThan(2600);
	});

	it('retries 500s and dropped connections, then succeeds; onRequest sees every attempt', async () => {
		const attempts: number[] = [];
		server.failNext(2, { status: 500, path: '/embeddings' });
		server.failNext(1, { reset: true, path: '/embeddings' });
		const vectors = await embedder({ onRequest: ({ attempt }) => attempts.push(attempt) }).embed(['retry me']);
		expect(vectors[0]).toEqual(embedText('retry me', 64));
		expect(server.count('/embeddings')).toBe(4);
		expect(attempts).toEqual([1, 2, 3, 4]);
	});

	it('backs off exponentially between retries', async () => {
		server.failNext(3, { status: 503, path: '/embeddings' });
		await embedder({ retryBaseDelayMs: 100 }).embed(['x']);
		const times = server.requestsTo('/embeddings').map((request) => request.receivedAt);
		const gaps = times.slice(1).map((time, i) => time - times[i]);
		// Equal jitter: retry n waits between half and all of 100 ms * 2^n.
		expect(gaps[0]).toBeGreaterThanOrEqual(50);
		expect(gaps[1]).toBeGreaterThanOrEqual(100);
		expect(gaps[2]).toBeGreaterThanOrEqual(200);
		expect(gaps[2]).toBeLessThan(600);
	});

	it('gives up after maxRetries with a clear error', async () => {
		server.failNext(10, { status: 503, message: 'model is loading', path: '/embeddings' });
		const error = await failure(embedder({ maxRetries: 2 }).embed(['x']));
		expect(error).toBeInstanceOf(ModelRequestError);
		expect(error.kind).toBe('server');
		expect(error.attempts).toBe(3);
		expect(error.message).toContain('after 3 attempts');
		expect(error.message).toContain('model is loading');
		expect(error.message).toContain(server.url);
		expect(server.count('/embeddings')).toBe(3);
	});

	it('does not retry a refused API key and never shows the key', async () => {
		const error = await failure(embedder({ apiKey: 'sk-wrong-secret-key' }).embed(['x']));
		expect(error.kind).toBe('auth');
		expect(error.message).toMatch(/API key was refused/);
		expect(error.message).not.toContain('sk-wrong-secret-key');
		expect(server.count('/embeddings')).toBe(1);
	});

	it('does not retry an unknown model and names it', async () => {
		const error = await failure(embedder({ model: 'no-such-model' }).embed(['x']));
		expect(error.kind).toBe('not_found');
		expect(error.message).toContain(`the embedding model 'no-such-model' was not found at ${server.url}`.replace(/^t/, 'T'));
		expect(server.count('/embeddings')).toBe(1);
	});

	it('times out a slow attempt, retries it once, and reports a timeout naming the credential fields when the server hangs', async () => {
		server.delayNext(1, 2000, { path: '/embeddings' });
		let started = Date.now();
		await embedder({ timeoutMs: 300 }).embed(['slow']);
		expect(Date.now() - started).toBeLessThan(1500);
		expect(server.count('/embeddings')).toBe(2);

		// Five retries allowed, but a server that does not answer costs two timeouts (and one backoff), not six.
		server.reset();
		server.delayNext(10, 3000, { path: '/embeddings' });
		started = Date.now();
		const error = await failure(embedder({ timeoutMs: 300, maxRetries: 5 }).embed(['slow']));
		expect(Date.now() - started).toBeLessThan(2000);
		expect(error.kind).toBe('timeout');
		expect(error.message).toMatch(/timed out after 2 attempts/);
		expect(error.message).toContain('Embedding Timeout (Seconds)');
		expect(server.count('/embeddings')).toBe(2);
	});

	it('stops at once when the signal aborts, in flight or during a backoff', async () => {
		server.delayNext(1, 3000, { path: '/embeddings' });
		let started = Date.now();
		let error = await failure(embedder().embed(['x'], AbortSignal.timeout(100)));
		expect(error.kind).toBe('aborted');
		expect(Date.now() - started).toBeLessThan(1000);

		server.reset();
		server.failNext(1, { status: 429, retryAfter: 10, path: '/embeddings' });
		started = Date.now();
		error = await failure(embedder().embed(['x'], AbortSignal.timeout(200)));
		expect(error.kind).toBe('aborted');
		expect(Date.now() - started).toBeLessThan(1000);
		expect(server.count('/embeddings')).toBe(1);
	});

	it('stops sending batches after a fatal error in one of them', async () => {
		server.failNext(1, { status: 400, message: 'input too long', path: '/embeddings' });
		const error = await failure(embedder({ batchSize: 2, concurrency: 1 }).embed(texts(10)));
		expect(error.kind).toBe('bad_request');
		expect(error.message).toContain('input too long');
		expect(server.count('/embeddings')).toBe(1);
	});

	it('requests the configured dimensions and rejects vectors of another size', async () => {
		const vectors = await embedder({ dimensions: 32 }).embed(['short vectors']);
		expect(vectors[0]).toHaveLength(32);
		expect(server.requestsTo('/embeddings')[0].body.dimensions).toBe(32);

		server.honorDimensionsParam = false; // like Ollama, which ignores "dimensions"
		const error = await failure(embedder({ dimensions: 32 }).embed(['short vectors']));
		expect(error.kind).toBe('dimension_mismatch');
		expect(error.message).toContain('dimension 64, not the configured dimensions 32');
	});

	it('rejects a dimension change between calls of the same embedder', async () => {
		const instance = embedder();
		await instance.embed(['first']);
		expect(instance.dimensions).toBe(64);
		server.embeddingDimensions = 48;
		const error = await failure(instance.embed(['second']));
		expect(error.kind).toBe('dimension_mismatch');
	});

	it('refuses empty and oversized texts before sending anything', async () => {
		await expect(embedder().embed(['ok', '  '])).rejects.toThrow(new InputError('Text 2 of 2 is empty; embedding APIs cannot embed empty text.'));
		await expect(embedder({ maxBatchTokens: 50 }).embed(['word '.repeat(100)])).rejects.toThrow(/Text 1 of 1 has 10\d tokens, more than the 50 allowed/);
		expect(server.count()).toBe(0);
	});

	it('validates its configuration', () => {
		expect(() => embedder({ concurrency: 0 })).toThrow(/"concurrency" must be a whole number of at least 1/);
		expect(() => embedder({ baseURL: 'not a url' })).toThrow(/not a valid URL/);
		expect(() => embedder({ model: ' ' })).toThrow(InputError);
	});
});
