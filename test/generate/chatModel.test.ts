import {
	createToolChatClient,
	fromOpenAICompletion,
	ModelRequestError,
	toOpenAIMessages,
	toOpenAITools,
	toStreamChunks,
	toolResultText,
	type ChatModelContent,
	type ChatModelMessage,
	type ToolChatRequest,
} from '../../lib/generate/chatModel';
import { createChatClient, type ChatClientOptions } from '../../lib/generate/client';
import { startOpenAITestServer, type FailureSpec, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-chat-model-secret-4242';
let server: OpenAITestServer;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const options = (overrides: Partial<ChatClientOptions> = {}): ChatClientOptions => ({
	baseURL: server.url,
	apiKey: API_KEY,
	model: 'test-chat',
	timeoutMs: 5_000,
	retryBaseDelayMs: 20,
	...overrides,
});
/** A text part; the lib type names only `type`, as it reads the other fields one by one. */
const text = (value: string): ChatModelContent => ({ type: 'text', text: value }) as ChatModelContent;
const hello: ToolChatRequest = { messages: [{ role: 'user', content: [text('Hello')] }], maxTokens: 50 };
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => {
			throw new Error('expected a failure');
		},
		(error: unknown) => error as ModelRequestError,
	);
/** Everything an error carries, as a log or n8n's error view would show it. */
const everything = (error: Error) => JSON.stringify({ ...error, message: error.message, stack: error.stack, cause: String(error.cause ?? '') });

const weatherTool = {
	name: 'get_weather',
	description: 'Weather of a city',
	parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('toOpenAIMessages', () => {
	it('maps system, user, assistant tool calls and tool results, dropping what OpenAI cannot take', () => {
		const messages: ChatModelMessage[] = [
			{ role: 'system', content: [text('Be brief.')] },
			{ role: 'user', content: [text('Weather in Paris'), text('and Rome?')], name: 'ann' },
			{
				role: 'assistant',
				content: [
					{ type: 'reasoning', text: 'thinking' } as { type: string },
					{ type: 'tool-call', toolCallId: 'call_a', toolName: 'get_weather', input: '{"city":"Paris"}' } as { type: string },
					{ type: 'tool-call', toolName: 'get_weather', input: '{"city":"Rome"}' } as { type: string },
				],
			},
			{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_a', result: 'sunny' } as { type: string }] },
			{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_0', result: { temp: 21 } } as { type: string }] },
			{ role: 'assistant', content: [text('Sunny, 21°C.')] },
		];
		expect(toOpenAIMessages(messages)).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'Weather in Paris\nand Rome?', name: 'ann' },
			{
				role: 'assistant',
				content: null,
				tool_calls: [
					{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
					{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
				],
			},
			{ role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
			{ role: 'tool', tool_call_id: 'call_0', content: '{"temp":21}' },
			{ role: 'assistant', content: 'Sunny, 21°C.' },
		]);
	});

	it('sends images as image_url parts and refuses other files', () => {
		const image = { type: 'file', mediaType: 'image/png', data: 'iVBORw0' } as { type: string };
		const byUrl = { type: 'file', mediaType: 'image/jpeg', data: '', providerMetadata: { url: 'https://x.test/a.jpg' } } as { type: string };
		expect(toOpenAIMessages([{ role: 'user', content: [{ type: 'text', text: 'What is this?' } as { type: string }, image, byUrl] }])).toEqual([
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'What is this?' },
					{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0' } },
					{ type: 'image_url', image_url: { url: 'https://x.test/a.jpg' } },
				],
			},
		]);
		const pdf = { type: 'file', mediaType: 'application/pdf', data: 'JVBER' } as { type: string };
		expect(() => toOpenAIMessages([{ role: 'user', content: [pdf] }])).toThrow(/text and images only, not a file of type "application\/pdf"/);
	});

	it('turns tool results into text: strings as is, content lists as their text, anything else as JSON', () => {
		expect(toolResultText('plain')).toBe('plain');
		expect(toolResultText([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }])).toBe('a\nb');
		expect(toolResultText({ hits: [1, 2] })).toBe('{"hits":[1,2]}');
		expect(toolResultText(undefined)).toBe('null');
	});
});

describe('tools and completions', () => {
	it('maps tools to OpenAI function tools', () => {
		expect(toOpenAITools([weatherTool, { name: 'noop', parameters: { type: 'object' }, strict: true }])).toEqual([
			{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: weatherTool.parameters } },
			{ type: 'function', function: { name: 'noop', parameters: { type: 'object' }, strict: true } },
		]);
	});

	it('reads text, tool calls, usage and finish reasons', () => {
		const completion = (message: object, finish_reason: string) =>
			({
				id: 'c1',
				model: 'served-model',
				choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason, logprobs: null }],
				usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
			}) as never;
		expect(fromOpenAICompletion(completion({ content: 'Hi' }, 'stop'), 'm')).toEqual({
			id: 'c1',
			finishReason: 'stop',
			usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8 },
			message: { role: 'assistant', content: [{ type: 'text', text: 'Hi' }] },
			model: 'served-model',
			attempts: 1,
		});
		// Some servers say `stop` next to tool calls; the agent must still see tool calls.
		const withCalls = fromOpenAICompletion(
			completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, 'stop'),
			'm',
		);
		expect(withCalls.finishReason).toBe('tool-calls');
		expect(withCalls.message.content).toEqual([{ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: '{}' }]);
		expect(fromOpenAICompletion(completion({ content: 'x' }, 'length'), 'm').finishReason).toBe('length');
		expect(fromOpenAICompletion(completion({ content: 'x' }, 'content_filter'), 'm').finishReason).toBe('content-filter');
		expect(fromOpenAICompletion(completion({ content: null, refusal: 'No.' }, 'stop'), 'm').message.content).toEqual([{ type: 'text', text: 'No.' }]);
	});

	it('replays a result as stream chunks, each tool call whole with its own id', () => {
		const result = fromOpenAICompletion(
			{
				id: 'c2',
				model: 'm',
				choices: [
					{
						index: 0,
						finish_reason: 'tool_calls',
						logprobs: null,
						message: {
							role: 'assistant',
							content: 'Checking.',
							refusal: null,
							tool_calls: [
								{ id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
								{ id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
							],
						},
					},
				],
			} as never,
			'm',
		);
		expect(toStreamChunks(result)).toEqual([
			{ type: 'text-delta', delta: 'Checking.' },
			{ type: 'tool-call-delta', id: 'a', name: 'f', argumentsDelta: '{"x":1}' },
			{ type: 'tool-call-delta', id: 'b', name: 'g', argumentsDelta: '{}' },
			{ type: 'finish', finishReason: 'tool-calls', usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } },
		]);
	});
});

describe('createToolChatClient against an OpenAI-compatible server', () => {
	it('sends tools, gets a scripted tool call, and sends the call and its result back', async () => {
		const client = createToolChatClient(options());
		server.queueChatReplies({ toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' }] }, 'Sunny in Paris.');
		const first = await client.chat({ ...hello, tools: [weatherTool], temperature: 0.2, topP: 0.9, stop: ['END'] });
		expect(first.finishReason).toBe('tool-calls');
		expect(first.message.content).toEqual([{ type: 'tool-call', toolCallId: 'call_w', toolName: 'get_weather', input: '{"city":"Paris"}' }]);

		const second = await client.chat({
			messages: [
				...hello.messages,
				first.message,
				{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_w', result: 'sunny, 24°C' } as { type: string }] },
			],
			tools: [weatherTool],
		});
		expect(second.message.content).toEqual([{ type: 'text', text: 'Sunny in Paris.' }]);
		const [request1, request2] = server.requestsTo('/chat/completions');
		expect(request1.headers.authorization).toBe(`Bearer ${API_KEY}`);
		expect(request1.body).toEqual({
			model: 'test-chat',
			messages: [{ role: 'user', content: 'Hello' }],
			tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: weatherTool.parameters } }],
			max_tokens: 50,
			temperature: 0.2,
			top_p: 0.9,
			stop: ['END'],
		});
		expect(request2.body.messages.slice(1)).toEqual([
			{ role: 'assistant', content: null, tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
			{ role: 'tool', tool_call_id: 'call_w', content: 'sunny, 24°C' },
		]);
	});

	it('sends no Authorization header when no key is configured (Ollama, vLLM)', async () => {
		const open = await startOpenAITestServer();
		try {
			const result = await createToolChatClient({ baseURL: open.url, model: 'llama3.1' }).chat(hello);
			expect(result.message.content).toEqual([{ type: 'text', text: 'Echo: Hello' }]);
			expect(open.requests[0].headers.authorization).toBeUndefined();
		} finally {
			await open.close();
		}
	});

	/**
	 * The same faults against Generate's client and this one: same attempts, same error kinds and messages.
	 * That is the retry/time-out policy (retries, Retry-After, one retry after a timeout, max_tokens fallback).
	 */
	const scenarios: Array<{ name: string; setup: () => void; overrides?: Partial<ChatClientOptions> }> = [
		{ name: '429 with Retry-After, then success', setup: () => server.failNext(1, { status: 429, retryAfterMs: 50 }) },
		{ name: '500 and a dropped connection, then success', setup: () => (server.failNext(1, { status: 500 }), server.failNext(1, { reset: true })) },
		{ name: '503 beyond the retries', setup: () => server.failNext(5, { status: 503, message: 'overloaded' }), overrides: { maxRetries: 2 } },
		{ name: 'a refused key', setup: () => server.failNext(1, { status: 401, message: `Incorrect API key provided: ${API_KEY}` }) },
		{ name: 'an unknown model', setup: () => server.failNext(1, { status: 404, message: "The model 'x' does not exist" }) },
		{ name: 'a 400', setup: () => server.failNext(1, { status: 400, message: 'messages too long' }) },
		{
			name: 'max_tokens rejected',
			setup: () => server.failNext(1, { status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." }),
		},
		{ name: 'a model that never answers', setup: () => server.delayNext(10, 3_000), overrides: { timeoutMs: 250, maxRetries: 3 } },
		{ name: 'one slow answer, then a fast one', setup: () => server.delayNext(1, 3_000), overrides: { timeoutMs: 250, maxRetries: 3 } },
	];
	it.each(scenarios)('follows Generate’s policy exactly: $name', async ({ setup, overrides }) => {
		const outcome = async (run: () => Promise<unknown>) => {
			server.reset();
			setup();
			const started = Date.now();
			const result = await run().then(
				(value) => ({ ok: true, attempts: (value as { attempts: number }).attempts }),
				(error: ModelRequestError) => ({ ok: false, kind: error.kind, status: error.status, attempts: error.attempts, message: error.message }),
			);
			const requests = server.requestsTo('/chat/completions').map((request) => [request.status, request.body.max_tokens, request.body.max_completion_tokens]);
			return { result, requests, elapsed: Date.now() - started };
		};
		const generate = await outcome(() => createChatClient(options(overrides)).complete({ messages: [{ role: 'user', content: 'Hello' }], maxTokens: 50 }));
		const chatModel = await outcome(() => createToolChatClient(options(overrides)).chat(hello));
		expect(chatModel.result).toEqual(generate.result);
		expect(chatModel.requests).toEqual(generate.requests);
		expect(Math.abs(chatModel.elapsed - generate.elapsed)).toBeLessThan(400);
	});

	it('never puts the key or the URL user-info into an error, whatever the server says', async () => {
		const withUserInfo = server.url.replace('http://', 'http://admin:pa55word-secret@');
		const echo: FailureSpec = { status: 500, message: `bad key ${API_KEY} from ${withUserInfo}?token=${API_KEY}` };
		const cases: Array<[string, () => void, Partial<ChatClientOptions>]> = [
			['401 quoting the key', () => server.failNext(1, { status: 401, message: `Incorrect API key provided: ${API_KEY}` }), {}],
			['500 quoting key and URL', () => server.failNext(5, echo), { maxRetries: 1 }],
			['400 quoting the key', () => server.failNext(1, { ...echo, status: 400 }), {}],
			['URL with user-info (fetch refuses it)', () => undefined, { baseURL: withUserInfo, maxRetries: 0 }],
			['timeout', () => server.delayNext(5, 2_000), { timeoutMs: 200, maxRetries: 0 }],
		];
		for (const [name, setup, overrides] of cases) {
			server.reset();
			setup();
			const error = await failure(createToolChatClient(options(overrides)).chat(hello));
			expect(error).toBeInstanceOf(ModelRequestError);
			const text = everything(error);
			expect({ name, leaksKey: text.includes(API_KEY), leaksPassword: text.includes('pa55word-secret') }).toEqual({ name, leaksKey: false, leaksPassword: false });
		}
	});

	it('stops waiting when the execution is cancelled', async () => {
		server.failNext(1, { status: 429, retryAfter: 3 });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 200);
		const started = Date.now();
		const error = await failure(createToolChatClient(options()).chat(hello, controller.signal));
		expect(Date.now() - started).toBeLessThan(1_500);
		expect(error.kind).toBe('aborted');
	});

	it('rejects a base URL that is not http(s) and an empty model, without quoting user-info', () => {
		expect(() => createToolChatClient({ baseURL: 'localhost:11434', model: 'm' })).toThrow(/Base URL "localhost:11434" is not an http\(s\) URL/);
		expect(() => createToolChatClient({ baseURL: 'http://localhost:11434/v1', model: ' ' })).toThrow(/Chat model is empty/);
	});
});
