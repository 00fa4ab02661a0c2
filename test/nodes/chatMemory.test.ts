/**
 * The Symbiotic Chat Memory as n8n's engine runs it (test/support/n8nHarness): a test root node standing in for
 * the AI Agent takes the memory from its `ai_memory` input (`getInputConnectionData`, which calls the node's
 * `supplyData`) and uses the LangChain memory the SDK returns exactly as n8n's agent does
 * (utils/agent-execution/memoryManagement.js: `loadMemoryVariables`, `saveContext`, and
 * `chatHistory.addMessages` for a turn with tool calls). Memory Store, run the same way, reads and writes the
 * same conversation. Redis: 127.0.0.1:6379 under a key prefix unique to this run, deleted afterwards.
 */
import path from 'node:path';

import { Redis } from 'ioredis';
import { NodeConnectionTypes } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeParameters, INodeType } from 'n8n-workflow';

import { MemoryStore } from '../../nodes/MemoryStore/MemoryStore.node';
import { SymbioticChatMemory } from '../../nodes/SymbioticChatMemory/SymbioticChatMemory.node';
import { connectionCounts, startRedisServer, useLocalRedisPrefix } from '../memory/redisServer';
import { linearWorkflow, runWorkflow } from '../support/n8nHarness';
import type { HarnessWorkflow } from '../support/n8nHarness';

// The @langchain/core the SDK adapters use (in n8n: n8n's own, shared with its AI Agent).
type LcMessages = typeof import('@langchain/core/messages');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lc = require(
	require.resolve('@langchain/core/messages', { paths: [path.dirname(require.resolve('@n8n/ai-utilities'))] }),
) as LcMessages;

type LcMessage = InstanceType<LcMessages['BaseMessage']> & { tool_calls?: Array<{ id?: string; name: string; args: unknown }>; tool_call_id?: string };
interface LcMemory {
	loadMemoryVariables(values: IDataObject): Promise<{ chat_history: LcMessage[] }>;
	saveContext(input: IDataObject, output: IDataObject): Promise<void>;
	chatHistory: { addMessages(messages: LcMessage[]): Promise<void>; getMessages(): Promise<LcMessage[]>; clear(): Promise<void> };
}

const AGENT_TYPE = 'symbiotic-test.memoryAgent';
const MEMORY_TYPE = 'n8n-nodes-symbiotic.symbioticChatMemory';
const STORE_TYPE = 'n8n-nodes-symbiotic.memoryStore';

function messageText(message: LcMessage): string {
	const content = message.content as unknown;
	if (typeof content === 'string') return content;
	return (content as Array<{ type: string; text?: string }>).map((block) => block.text ?? '').join('');
}

/**
 * Stands in for n8n's AI Agent: per item, loads the memory, then saves the turn (`chatInput` → `echo: …`),
 * with a tool call in between when the item asks for one.
 */
class MemoryUsingAgent implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Memory Agent',
		name: 'memoryAgent',
		group: ['transform'],
		version: 1,
		description: 'Uses an AI memory like the AI Agent',
		defaults: { name: 'Agent' },
		inputs: [
			NodeConnectionTypes.Main,
			{ type: NodeConnectionTypes.AiMemory, displayName: 'Memory', required: true, maxConnections: 1 },
		],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const output: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const memory = (await this.getInputConnectionData(NodeConnectionTypes.AiMemory, itemIndex)) as LcMemory;
			const { chat_history } = await memory.loadMemoryVariables({});
			const input = String(items[itemIndex].json.chatInput);
			const reply = `echo: ${input}`;
			if (items[itemIndex].json.useTool) {
				// memoryManagement.saveToMemory with intermediate steps.
				await memory.chatHistory.addMessages([
					new lc.HumanMessage(input),
					new lc.AIMessage({ content: '', tool_calls: [{ id: 'call_7', name: 'order_status', args: { order: 42 }, type: 'tool_call' }] }),
					new lc.ToolMessage({ content: '{"status":"shipped"}', tool_call_id: 'call_7', name: 'order_status' }),
					new lc.AIMessage(reply),
				]);
			} else {
				await memory.saveContext({ input }, { output: reply });
			}
			output.push({
				json: {
					history: chat_history.map((message) => ({
						type: message.getType(),
						text: messageText(message),
						...(message.tool_calls?.length && { toolCalls: message.tool_calls.map(({ id, name, args }) => ({ id, name, args })) }),
						...(message.tool_call_id && { toolCallId: message.tool_call_id }),
					})),
				} as IDataObject,
			});
		}
		return [output];
	}
}

const nodeTypes = {
	[AGENT_TYPE]: new MemoryUsingAgent(),
	[MEMORY_TYPE]: new SymbioticChatMemory(),
	[STORE_TYPE]: new MemoryStore(),
};
const { prefix: keyPrefix, admin } = useLocalRedisPrefix('chatmem-test');
const redisCredential = { connection: 'host', host: '127.0.0.1', port: 6379, connectTimeout: 1000 };

/** `trigger -> Agent`, with the chat memory on the agent's Memory input. */
function agentWorkflow(memoryParameters: INodeParameters): HarnessWorkflow {
	const workflow = linearWorkflow({ name: 'Agent', type: AGENT_TYPE });
	workflow.nodes.push({ id: 'memory', name: 'Chat Memory', type: MEMORY_TYPE, typeVersion: 1, position: [220, 200], parameters: memoryParameters });
	workflow.connections['Chat Memory'] = {
		[NodeConnectionTypes.AiMemory]: [[{ node: 'Agent', type: NodeConnectionTypes.AiMemory, index: 0 }]],
	};
	return workflow;
}

const redisMemory = (extra: INodeParameters = {}): INodeParameters => ({
	backend: 'redis',
	namespace: 'acme',
	storageOptions: { keyPrefix, forgetAfterDays: 2 },
	...extra,
});

async function chat(parameters: INodeParameters, items: IDataObject[], credential = redisCredential) {
	const result = await runWorkflow(agentWorkflow(parameters), {
		nodeTypes,
		credentials: { symbioticRedisApi: credential },
		inputItems: items.map((json) => ({ json })),
	});
	return { ...result, items: (result.outputs.Agent?.[0] ?? []).map((item) => item.json) };
}

async function store(parameters: INodeParameters) {
	const result = await runWorkflow(
		linearWorkflow({ name: 'Memory', type: STORE_TYPE, parameters: { backend: 'redis', namespace: 'acme', storageOptions: { keyPrefix }, ...parameters } }),
		{ nodeTypes, credentials: { symbioticRedisApi: redisCredential } },
	);
	expect(result.error).toBeUndefined();
	return result.outputs.Memory[0][0].json;
}

describe('Symbiotic Chat Memory node through the engine (Redis)', () => {
	it('shares one conversation with Memory Store, both ways, with the facts first', async () => {
		const first = await chat(redisMemory(), [{ sessionId: 'Ada@Example.com', chatInput: 'Do you ship to Oslo?' }]);
		expect(first.error).toBeUndefined();
		expect(first.items).toEqual([{ history: [] }]);

		// The default Session ID is the Chat Trigger's sessionId, normalised as Memory Store does.
		const read = await store({ operation: 'getHistory', sessionId: 'ada@example.com', window: 'all' });
		expect(read.transcript).toBe('User: Do you ship to Oslo?\nAssistant: echo: Do you ship to Oslo?');
		const pttl = await admin.pttl(`${keyPrefix}:{acme:ada@example.com}:messages`);
		expect(pttl).toBeGreaterThan(2 * 24 * 3600 * 1000 - 60_000);
		expect(pttl).toBeLessThanOrEqual(2 * 24 * 3600 * 1000);

		await store({ operation: 'appendMessages', sessionId: 'ada@example.com', messagesInput: 'turn', userMessage: 'Called about invoices', assistantMessage: 'Sent invoice 7' });
		await store({ operation: 'setFacts', sessionId: 'ada@example.com', factsInput: 'json', factsJson: '{ "company": "Acme", "plan": "pro" }' });

		const second = await chat(redisMemory(), [{ sessionId: 'ada@example.com', chatInput: 'And express?' }]);
		expect(second.error).toBeUndefined();
		const [facts, ...conversation] = second.items[0].history as IDataObject[];
		expect(facts.type).toBe('human');
		expect(facts.text).toContain('<contact_facts>');
		expect(facts.text).toContain('"company": "Acme"');
		expect(conversation).toEqual([
			{ type: 'human', text: 'Do you ship to Oslo?' },
			{ type: 'ai', text: 'echo: Do you ship to Oslo?' },
			{ type: 'human', text: 'Called about invoices' },
			{ type: 'ai', text: 'Sent invoice 7' },
		]);
	});

	it('keeps a turn with tool calls for the next run, readable in Memory Store', async () => {
		const session = { sessionId: 'tools-1' };
		const withTool = await chat(redisMemory({ includeFacts: false }), [{ ...session, chatInput: 'Where is order 42?', useTool: true }]);
		expect(withTool.error).toBeUndefined();
		const next = await chat(redisMemory({ includeFacts: false }), [{ ...session, chatInput: 'Thanks' }]);
		expect(next.items[0].history).toEqual([
			{ type: 'human', text: 'Where is order 42?' },
			{ type: 'ai', text: '', toolCalls: [{ id: 'call_7', name: 'order_status', args: { order: 42 } }] },
			{ type: 'tool', text: '{"status":"shipped"}', toolCallId: 'call_7' },
			{ type: 'ai', text: 'echo: Where is order 42?' },
		]);
		const read = await store({ operation: 'getHistory', sessionId: 'tools-1', window: 'all' });
		expect(read.transcript).toBe(
			[
				'User: Where is order 42?',
				'Assistant: [tool call: order_status {"order":42}]',
				'Tool: {"status":"shipped"}',
				'Assistant: echo: Where is order 42?',
				'User: Thanks',
				'Assistant: echo: Thanks',
			].join('\n'),
		);

		// A window may start on the tool call with its result, never on a result whose call it cut off.
		const windowed = await chat(redisMemory({ includeFacts: false, contextWindow: 'lastN', lastN: 5 }), [{ ...session, chatInput: 'Bye' }]);
		expect((windowed.items[0].history as IDataObject[]).map((message) => message.type)).toEqual(['ai', 'tool', 'ai', 'human', 'ai']);
		const tight = await chat(redisMemory({ includeFacts: false, contextWindow: 'lastN', lastN: 6 }), [{ ...session, chatInput: 'Again' }]);
		expect((tight.items[0].history as IDataObject[]).map((message) => message.type)).toEqual(['ai', 'human', 'ai', 'human', 'ai']);
	});

	it('refuses $fromAI for whose memory it is, and asks for a session ID when there is none', async () => {
		for (const [parameters, label] of [
			[{ sessionId: "={{ $fromAI('session') }}" }, 'Session ID'],
			[{ namespace: "={{ $fromAi('ns') }}" }, 'Namespace'],
			[{ storageOptions: { keyPrefix: "={{ $FROMAI('p') }}" } }, 'Key Prefix'],
		] as const) {
			const refused = await chat(redisMemory(parameters), [{ sessionId: 'x', chatInput: 'hi' }]);
			expect(refused.error?.message).toBe('Error in sub-node Chat Memory');
			expect(refused.error?.description).toMatch(new RegExp(`^The AI agent may not choose the ${label} \\(\\$fromAI\\)`));
		}
		const missing = await chat(redisMemory(), [{ chatInput: 'hi' }]);
		expect(missing.error?.description).toMatch(/^No session ID: by default it is the sessionId field the Chat Trigger sends/);
	});

	it('closes its Redis connection when the agent is done, and reports an unreachable Redis with host and port', async () => {
		const server = await startRedisServer();
		const observer = new Redis({ host: '127.0.0.1', port: server.port });
		try {
			const before = await connectionCounts(observer);
			const ran = await chat(redisMemory(), [1, 2, 3].map((n) => ({ sessionId: `close-${n}`, chatInput: 'hi' })), { ...redisCredential, port: server.port });
			expect(ran.error).toBeUndefined();
			const after = await connectionCounts(observer);
			expect(after.accepted).toBe(before.accepted + 3); // one per item (supplyData per item)…
			expect(after.connected).toBe(before.connected); // …all closed again
		} finally {
			observer.disconnect();
			await server.stop();
		}
		const down = await chat(redisMemory(), [{ sessionId: 'x', chatInput: 'hi' }], { ...redisCredential, port: server.port });
		expect(down.error?.description).toContain(`127.0.0.1:${server.port}`);
	});
});

describe('Symbiotic Chat Memory node through the engine (in-process)', () => {
	it('remembers across executions of the same process', async () => {
		const parameters = { backend: 'inProcess', namespace: 'trial', storageOptions: {}, contextWindow: 'tokenBudget', tokenBudget: 500 };
		const sessionId = `trial-${process.pid}`;
		await chat(parameters, [{ sessionId, chatInput: 'Hello' }]);
		const again = await chat(parameters, [{ sessionId, chatInput: 'Still there?' }]);
		expect(again.error).toBeUndefined();
		expect(again.items[0].history).toEqual([
			{ type: 'human', text: 'Hello' },
			{ type: 'ai', text: 'echo: Hello' },
		]);
	});
});

describe('Symbiotic Chat Memory on an n8n without @n8n/ai-node-sdk (before 2.16)', () => {
	afterAll(() => {
		jest.dontMock('@n8n/ai-node-sdk');
	});

	it('loads with the package, and fails only when an agent uses it, naming the n8n version needed', async () => {
		let NodeClass: typeof SymbioticChatMemory | undefined;
		jest.isolateModules(() => {
			jest.doMock('@n8n/ai-node-sdk', () => {
				throw new Error("Cannot find module '@n8n/ai-node-sdk'");
			});
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			NodeClass = (require('../../nodes/SymbioticChatMemory/SymbioticChatMemory.node') as { SymbioticChatMemory: typeof SymbioticChatMemory }).SymbioticChatMemory;
		});
		const node = new NodeClass!();
		const parameters: IDataObject = { backend: 'inProcess', namespace: 'old', sessionId: 'ada', contextWindow: 'lastN', lastN: 10 };
		const context = {
			getNode: () => ({ name: 'Chat Memory', type: MEMORY_TYPE, typeVersion: 1, parameters }),
			getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) => parameters[name] ?? fallback,
		};
		await expect(node.supplyData.call(context as never, 0)).rejects.toThrow(
			'Symbiotic Chat Memory needs n8n 2.16.0 or later, which provides @n8n/ai-node-sdk to community nodes',
		);
	});
});
