import OpenAI from 'openai';
import { embedText, startOpenAITestServer, type OpenAITestServer } from './openaiServer';

const API_KEY = 'sk-test-server-key';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let dot = 0;
	for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
	return dot;
}

describe('OpenAI-compatible test server', () => {
	let server: OpenAITestServer;
	let client: OpenAI;

	beforeAll(async () => {
		server = await startOpenAITestServer({ apiKey: API_KEY });
		client = new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0, timeout: 5000 });
	});
	afterAll(() => server.close());
	beforeEach(() => server.reset());

	it('listens on 127.0.0.1 with a /v1 base URL and lists models', async () => {
		expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
		const page = await client.models.list();
		expect(page.data.map((model) => model.id)).toEqual(['test-chat', 'test-embedding']);
		expect(server.count('/models')).toBe(1);
		expect(server.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
	});

	it('refuses a wrong API key with 401', async () => {
		const wrong = new OpenAI({ baseURL: server.url, apiKey: 'sk-wrong', maxRetries: 0 });
		await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
		expect(server.requests[0].status).toBe(401);
	});

	it('returns deterministic, normalised, meaningful embeddings as floats and as base64', async () => {
		const texts = ['our spring prices for hotels', 'hotel prices in spring', 'quantum chromodynamics lecture'];
		const asFloat = await client.embeddings.create({ model: 'test-embedding', input: texts, encoding_format: 'float' });
		// No encoding_format: the SDK asks for base64 and decodes it itself.
		const asBase64 = await client.embeddings.create({ model: 'test-embedding', input: texts });
		expect(server.requestsTo('/embeddings')[1].body.encoding_format).toBe('base64');

		const floats = asFloat.data.map((item) => item.embedding);
		expect(floats[0]).toHaveLength(64);
		expect(Math.hypot(...floats[0])).toBeCloseTo(1, 6);
		expect(floats[0]).toEqual(embedText(texts[0], 64));
		Array.from(asBase64.data[2].embedding).forEach((value, i) => expect(value).toBeCloseTo(floats[2][i], 6));
		expect(cosine(floats[0], floats[1])).toBeGreaterThan(cosine(floats[0], floats[2]) + 0.3);
		expect(asFloat.usage.prompt_tokens).toBeGreaterThan(10);
	});

	it('honors the dimensions parameter and rejects empty input', async () => {
		const result = await client.embeddings.create({ model: 'm', input: 'hello', dimensions: 16, encoding_format: 'float' });
		expect(result.data[0].embedding).toHaveLength(16);
		await expect(client.embeddings.create({ model: 'm', input: [''], encoding_format: 'float' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
	});

	it('answers chat from the queue, then the responder, then echo; records response_format', async () => {
		server.queueChatReplies('first scripted', { content: 'cut short', finishReason: 'length' });
		server.setChatResponder((request, { callIndex }) => `responder #${callIndex} saw ${request.messages.length} messages`);
		const ask = (content: string) =>
			client.chat.completions.create({
				model: 'test-chat',
				messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }],
				response_format: { type: 'json_object' },
			});
		const first = await ask('a');
		const second = await ask('b');
		const third = await ask('c');
		expect(first.choices[0].message.content).toBe('first scripted');
		expect(first.choices[0].finish_reason).toBe('stop');
		expect(first.model).toBe('test-chat');
		expect(first.usage?.prompt_tokens).toBeGreaterThan(0);
		expect(second.choices[0].finish_reason).toBe('length');
		expect(third.choices[0].message.content).toBe('responder #2 saw 2 messages');
		expect(server.requestsTo('/chat/completions')[0].body.response_format).toEqual({ type: 'json_object' });

		server.setChatResponder(undefined);
		expect((await ask('hello there')).choices[0].message.content).toBe('Echo: hello there');
	});

	it('streams chat completions as server-sent events', async () => {
		server.queueChatReplies('streamed text');
		const stream = await client.chat.completions.create({ model: 'test-chat', messages: [{ role: 'user', content: 'x' }], stream: true });
		let text = '';
		for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
		expect(text).toBe('streamed text');
	});

	it('injects failures per path with Retry-After, and connection resets', async () => {
		server.failNext(1, { status: 429, retryAfter: 3, path: '/embeddings' });
		await client.models.list(); // not consumed by another path
		const error = await client.embeddings.create({ model: 'm', input: 'x', encoding_format: 'float' }).catch((caught) => caught);
		expect(error).toBeInstanceOf(OpenAI.RateLimitError);
		expect(error.headers.get('retry-after')).toBe('3');
		await expect(client.embeddings.create({ model: 'm', input: 'x', encoding_format: 'float' })).resolves.toBeDefined();

		server.failNext(1, { reset: true });
		await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
		await expect(client.models.list()).resolves.toBeDefined();
	});

	it('delays answers so clients time out, and measures concurrency', async () => {
		server.delayNext(1, 1000);
		const started = Date.now();
		// Under jest the SDK reports its own timeout as a plain APIConnectionError (the fetch AbortError comes from
		// another realm); outside jest it is the subclass APIConnectionTimeoutError.
		await expect(client.models.list({ timeout: 200 })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
		expect(Date.now() - started).toBeLessThan(900);

		server.reset();
		server.delayNext(3, 100);
		await Promise.all([1, 2, 3].map(() => client.models.list()));
		expect(server.maxInFlight).toBe(3);
	});
});
