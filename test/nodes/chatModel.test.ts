/**
 * The Symbiotic Chat Model through n8n's real engine: a test root node (standing in for the AI Agent) takes the
 * model from its ai_languageModel input, so n8n-core calls supplyData, n8n's AI SDK wraps the model for
 * LangChain, and every call goes to the real OpenAI-compatible test server.
 */
import { z } from 'zod';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeParameters, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { SymbioticChatModel } from '../../nodes/SymbioticChatModel/SymbioticChatModel.node';
import { HARNESS_TRIGGER_NAME, HARNESS_TRIGGER_TYPE, runWorkflow, type HarnessWorkflow } from '../support/n8nHarness';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-node-chat-model-secret-9876';
const MODEL_TYPE = 'n8n-nodes-symbiotic.symbioticChatModel';
const ROOT_TYPE = 'symbiotic-test.modelUser';
const MODEL_NODE = 'Symbiotic Chat Model';
const ROOT_NODE = 'Model User';

let server: OpenAITestServer;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** The LangChain surface n8n's agents use; typed loosely, as the agent itself duck-types it. */
interface LangChainModel {
	invoke(input: unknown, options?: object): Promise<{ text: string; content: unknown; tool_calls?: Array<{ id: string; name: string; args: object }> }>;
	stream(input: unknown): Promise<AsyncIterable<{ text: string; tool_call_chunks?: Array<{ id?: string; name?: string; args?: string }> }>>;
	bindTools(tools: unknown[]): LangChainModel;
	lc_namespace: string[];
}

const weatherFunction = {
	type: 'function',
	function: {
		name: 'get_weather',
		description: 'Weather of a city',
		parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
	},
};

/** Stands in for the AI Agent: `mode` says what to do with the connected model. */
class ModelUser implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Model User',
		name: 'modelUser',
		group: ['transform'],
		version: 1,
		description: 'Calls the connected chat model',
		defaults: { name: ROOT_NODE },
		inputs: [NodeConnectionTypes.Main, { type: NodeConnectionTypes.AiLanguageModel, displayName: 'Model', required: true, maxConnections: 1 }],
		outputs: [NodeConnectionTypes.Main],
		properties: [{ displayName: 'Mode', name: 'mode', type: 'string', default: 'plain' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const model = (await this.getInputConnectionData(NodeConnectionTypes.AiLanguageModel, 0)) as LangChainModel;
		const mode = this.getNodeParameter('mode', 0) as string;
		const out: IDataObject = { isChatModel: model.lc_namespace.includes('chat_models'), hasBindTools: typeof model.bindTools === 'function' };
		const question = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Paris?' }];
		if (mode === 'plain') {
			out.text = (await model.invoke('Hello there')).text;
		} else if (mode === 'tools') {
			// A zod tool, as n8n's own tools are (DynamicStructuredTool), and a plain OpenAI-format one.
			const zodTool = { name: 'lookup', description: 'Looks up a fact', schema: z.object({ topic: z.string() }), invoke: async () => '' };
			const withTools = model.bindTools([weatherFunction, zodTool]);
			const first = await withTools.invoke(question);
			const call = first.tool_calls?.[0];
			out.toolCalls = first.tool_calls as unknown as IDataObject[];
			const second = await withTools.invoke([...question, first, { role: 'tool', content: 'sunny, 24°C', tool_call_id: call?.id }]);
			out.text = second.text;
		} else if (mode === 'stream') {
			let text = '';
			const calls: IDataObject[] = [];
			for await (const chunk of await model.bindTools([weatherFunction]).stream(question)) {
				text += chunk.text;
				for (const call of chunk.tool_call_chunks ?? []) calls.push({ id: call.id, name: call.name, args: call.args });
			}
			out.text = text;
			out.toolCallChunks = calls;
		}
		return [[{ json: out }]];
	}
}

function workflow(modelParameters: IDataObject, mode: string): HarnessWorkflow {
	const node = (name: string, type: string, parameters: IDataObject, x: number) => ({ id: name, name, type, typeVersion: 1, position: [x, 0] as [number, number], parameters: parameters as INodeParameters });
	return {
		nodes: [node(HARNESS_TRIGGER_NAME, HARNESS_TRIGGER_TYPE, {}, 0), node(ROOT_NODE, ROOT_TYPE, { mode }, 220), node(MODEL_NODE, MODEL_TYPE, modelParameters, 220)],
		connections: {
			[HARNESS_TRIGGER_NAME]: { main: [[{ node: ROOT_NODE, type: NodeConnectionTypes.Main, index: 0 }]] },
			[MODEL_NODE]: { ai_languageModel: [[{ node: ROOT_NODE, type: NodeConnectionTypes.AiLanguageModel, index: 0 }]] },
		},
	};
}

const run = (mode: string, modelParameters: IDataObject = {}, credential: IDataObject = {}, modelNode: INodeType = new SymbioticChatModel()) =>
	runWorkflow(workflow(modelParameters, mode), {
		nodeTypes: { [ROOT_TYPE]: new ModelUser(), [MODEL_TYPE]: modelNode },
		credentials: { symbioticModelApi: { baseUrl: server.url, apiKey: API_KEY, chatModel: 'test-chat', ...credential } },
	});

/** Everything n8n keeps of a run (run data, error, stack, description), as the UI or a log could show it. */
const everything = (result: Awaited<ReturnType<typeof run>>) =>
	JSON.stringify(result.run) + String(result.error?.message) + String(result.error?.description) + String(result.error?.stack);

describe('Symbiotic Chat Model node', () => {
	it('is an AI language-model sub-node with the chat-model codex', () => {
		const { description } = new SymbioticChatModel();
		expect(description).toMatchObject({
			name: 'symbioticChatModel',
			displayName: 'Symbiotic Chat Model',
			inputs: [],
			outputs: [NodeConnectionTypes.AiLanguageModel],
			outputNames: ['Model'],
			credentials: [{ name: 'symbioticModelApi', required: true }],
			codex: { subcategories: { AI: ['Language Models', 'Root Nodes'], 'Language Models': ['Chat Models (Recommended)'] } },
		});
		expect(description.usableAsTool).toBeUndefined();
	});

	it("answers through n8n's engine with the credential's model, and n8n traces the call on the model node", async () => {
		server.queueChatReplies({ content: 'Hi!', usage: { prompt_tokens: 9, completion_tokens: 2 } });
		const result = await run('plain');
		expect(result.error).toBeUndefined();
		expect(result.outputs[ROOT_NODE][0][0].json).toEqual({ isChatModel: true, hasBindTools: true, text: 'Hi!' });
		const [request] = server.requestsTo('/chat/completions');
		expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
		expect(request.body).toEqual({ model: 'test-chat', messages: [{ role: 'user', content: 'Hello there' }] });
		// N8nLlmTracing (from the SDK) records the call as the model node's run, with the token usage.
		const modelRuns = result.runData[MODEL_NODE];
		expect(modelRuns?.length).toBe(1);
		expect(JSON.stringify(modelRuns[0].data)).toContain('"promptTokens":9');
	});

	it('sends the node options: model, temperature, max tokens, top P', async () => {
		const result = await run('plain', { model: 'llama3.1', options: { temperature: 0, maxOutputTokens: 77, topP: 0.5 } });
		expect(result.error).toBeUndefined();
		expect(server.requestsTo('/chat/completions')[0].body).toMatchObject({ model: 'llama3.1', temperature: 0, max_tokens: 77, top_p: 0.5 });
	});

	it('calls tools: bindTools sends them, a scripted tool call comes back, the tool result goes to the model', async () => {
		server.queueChatReplies({ toolCalls: [{ id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' }] }, 'Sunny, 24°C in Paris.');
		const result = await run('tools');
		expect(result.error).toBeUndefined();
		expect(result.outputs[ROOT_NODE][0][0].json).toMatchObject({
			toolCalls: [{ id: 'call_paris', name: 'get_weather', args: { city: 'Paris' } }],
			text: 'Sunny, 24°C in Paris.',
		});
		const [first, second] = server.requestsTo('/chat/completions');
		expect(first.body.tools).toEqual([
			weatherFunction,
			{
				type: 'function',
				function: {
					name: 'lookup',
					description: 'Looks up a fact',
					parameters: expect.objectContaining({ type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] }),
				},
			},
		]);
		expect(second.body.messages).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'Weather in Paris?' },
			{ role: 'assistant', content: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
			{ role: 'tool', tool_call_id: 'call_paris', content: 'sunny, 24°C' },
		]);
	});

	it('streams: text and parallel tool calls arrive whole and stay apart', async () => {
		server.queueChatReplies({
			content: 'Checking both.',
			toolCalls: [
				{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
				{ id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
			],
		});
		const result = await run('stream');
		expect(result.error).toBeUndefined();
		expect(result.outputs[ROOT_NODE][0][0].json).toMatchObject({
			text: 'Checking both.',
			toolCallChunks: [
				{ id: 'call_1', name: 'get_weather', args: '{"city":"Paris"}' },
				{ id: 'call_2', name: 'get_weather', args: '{"city":"Rome"}' },
			],
		});
		expect(server.requestsTo('/chat/completions')[0].body.stream).toBeUndefined();
	});

	it('retries like Generate: a 500 and a dropped connection, then the answer', async () => {
		server.failNext(1, { status: 500 });
		server.failNext(1, { reset: true });
		const result = await run('plain');
		expect(result.error).toBeUndefined();
		expect(server.requestsTo('/chat/completions').map((request) => request.status)).toEqual([500, undefined, 200]);
	});

	describe('errors never contain the API key', () => {
		const expectNoSecrets = (result: Awaited<ReturnType<typeof run>>) => {
			expect(result.error).toBeDefined();
			const text = everything(result);
			expect(text.includes(API_KEY)).toBe(false);
			expect(text.includes('pa55word-secret')).toBe(false);
		};

		it('a wrong key (401 quoting it, as OpenAI does): a clear message on the model node, not retried', async () => {
			server.failNext(1, { status: 401, message: `Incorrect API key provided: ${API_KEY}` });
			const result = await run('plain');
			expectNoSecrets(result);
			expect(result.error?.message).toBe(`The model server at ${server.url} refused the API key (HTTP 401). Check the API key in the Symbiotic Model credential.`);
			expect((result.error as { node?: { name: string } } | undefined)?.node?.name).toBe(MODEL_NODE);
			expect(server.count('/chat/completions')).toBe(1);

			const wrong = await run('plain', {}, { apiKey: 'sk-wrong-key-000' });
			expect(wrong.error?.message).toMatch(/refused the API key \(HTTP 401\)/);
			expect(everything(wrong)).not.toContain('sk-wrong-key-000');
		});

		it('a 500 quoting the key and the URL with its password, after the retries', async () => {
			const withUserInfo = server.url.replace('http://', 'http://admin:pa55word-secret@');
			server.failNext(5, { status: 500, message: `upstream failed for key ${API_KEY} at ${withUserInfo}` });
			const result = await run('tools', { options: { maxRetries: 1 } });
			expectNoSecrets(result);
			expect(result.error?.message).toBe(`The model server at ${server.url} failed with HTTP 500 after 2 attempts: upstream failed for key *** at ${server.url}`);
			expect(server.count('/chat/completions')).toBe(2);
		});

		it('a base URL with user-info and a model that never answers', async () => {
			const withUserInfo = server.url.replace('http://', 'http://admin:pa55word-secret@');
			const unreachable = await run('plain', { options: { maxRetries: 0 } }, { baseUrl: withUserInfo });
			expectNoSecrets(unreachable);
			expect(unreachable.error?.message).toMatch(/^Could not connect to the model server at http:\/\/127\.0\.0\.1:\d+\/v1: /);

			server.delayNext(5, 3_000);
			const started = Date.now();
			const slow = await run('plain', { options: { timeoutSeconds: 1 } });
			expectNoSecrets(slow);
			expect(slow.error?.message).toBe(
				`The model server at ${server.url} did not answer within 1000 ms after 2 attempts. Raise the timeout, use a smaller model, or check that the server is not overloaded.`,
			);
			expect(Date.now() - started).toBeLessThan(3_000);
		});

		it('a base URL that is no URL', async () => {
			const result = await run('plain', {}, { baseUrl: `localhost:11434?key=${API_KEY}` });
			expectNoSecrets(result);
			// n8n reports a failed supplyData as "Error in sub-node …" with our message as the description.
			expect(result.error?.message).toBe(`Error in sub-node ${MODEL_NODE}`);
			expect(result.error?.description).toMatch(/Base URL "localhost:11434" is not an http\(s\) URL/);
		});
	});

	it('says which n8n it needs when the AI node SDK is missing (n8n before 2.16)', async () => {
		let NodeWithoutSdk: typeof SymbioticChatModel | undefined;
		jest.isolateModules(() => {
			jest.doMock('@n8n/ai-node-sdk', () => {
				throw new Error("Cannot find module '@n8n/ai-node-sdk'");
			});
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			NodeWithoutSdk = (require('../../nodes/SymbioticChatModel/SymbioticChatModel.node') as { SymbioticChatModel: typeof SymbioticChatModel }).SymbioticChatModel;
		});
		const result = await run('plain', {}, {}, new NodeWithoutSdk!());
		jest.dontMock('@n8n/ai-node-sdk');
		expect(result.error?.message).toBe(`Error in sub-node ${MODEL_NODE}`);
		expect(result.error?.description).toBe('The Symbiotic Chat Model needs n8n 2.16.0 or later, which brings the AI node SDK (@n8n/ai-node-sdk)');
		expect(server.count('/chat/completions')).toBe(0);
	});
});
