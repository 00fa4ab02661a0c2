/**
 * The Memory Store node run by n8n's engine (test/support/n8nHarness) against the real Redis at
 * 127.0.0.1:6379, under a key prefix unique to this run and deleted afterwards.
 */
import { Redis } from 'ioredis';
import type { ICredentialDataDecryptedObject, ICredentialTestFunctions, IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { MemoryStore } from '../../nodes/MemoryStore/MemoryStore.node';
import { connectionCounts, freePort, startRedisServer, useLocalRedisPrefix } from '../memory/redisServer';
import { asAgentTool, HARNESS_TRIGGER_NAME, linearWorkflow, runWorkflow } from '../support/n8nHarness';
import type { TestNode } from '../support/n8nHarness';
import { AGENT_TYPE, agentWorkflow, nodeTypes as knowledgeBaseNodeTypes } from './knowledgeBaseNodes';

const TYPE = 'n8n-nodes-symbiotic.memoryStore';
const TOOL_TYPE = `${TYPE}Tool`;


const nodeTypes = {
	[TYPE]: new MemoryStore(),
	[TOOL_TYPE]: asAgentTool(new MemoryStore()),
	[AGENT_TYPE]: knowledgeBaseNodeTypes[AGENT_TYPE],
};
const { prefix: keyPrefix, admin } = useLocalRedisPrefix('node-test');
const redisCredential = { connection: 'host', host: '127.0.0.1', port: 6379, connectTimeout: 1000 };

async function run(
	parameters: INodeParameters,
	inputItems: INodeExecutionData[] = [{ json: {} }],
	options: { credential?: ICredentialDataDecryptedObject; node?: Partial<TestNode> } = {},
) {
	const node: TestNode = {
		name: 'Memory',
		type: TYPE,
		parameters: { backend: 'redis', namespace: 'acme', storageOptions: { keyPrefix }, ...parameters },
		...options.node,
	};
	const result = await runWorkflow(linearWorkflow(node), {
		nodeTypes,
		credentials: { symbioticRedisApi: options.credential ?? redisCredential },
		inputItems,
	});
	return { ...result, items: (result.outputs.Memory?.[0] ?? []).map((item) => item.json) };
}

const leads = [
	{ email: ' Ada@Example.com', question: 'Do you ship to Oslo?', answer: 'Yes, in 3 days.' },
	{ email: 'bob@example.com', question: 'Is there a student price?', answer: 'Yes, 20% off.' },
	{ email: 'ada@example.com', question: 'And express?', answer: 'Next day, 9 EUR.' },
];

describe('Memory Store node (Redis)', () => {
	it('appends question and answer per item, then returns the history as a transcript with facts', async () => {
		const appended = await run(
			{
				operation: 'appendMessages',
				sessionId: '={{ $json.email }}',
				messagesInput: 'turn',
				userMessage: '={{ $json.question }}',
				assistantMessage: '={{ $json.answer }}',
				metadata: '{ "channel": "email" }',
			},
			leads.map((json) => ({ json })),
		);
		expect(appended.error).toBeUndefined();
		expect(appended.items).toEqual([
			{ namespace: 'acme', sessionId: 'ada@example.com', appended: 2, storedMessages: 2, storage: 'redis 127.0.0.1:6379' },
			{ namespace: 'acme', sessionId: 'bob@example.com', appended: 2, storedMessages: 2, storage: 'redis 127.0.0.1:6379' },
			{ namespace: 'acme', sessionId: 'ada@example.com', appended: 2, storedMessages: 4, storage: 'redis 127.0.0.1:6379' },
		]);
		const pttl = await admin.pttl(`${keyPrefix}:{acme:ada@example.com}:messages`);
		expect(pttl).toBeGreaterThan(29 * 24 * 3600 * 1000);

		await run({
			operation: 'setFacts',
			sessionId: 'ADA@example.com',
			factsInput: 'fields',
			facts: { fact: [{ name: 'city', value: 'Oslo' }, { name: 'stage', value: 'lead' }] },
		});
		const merged = await run({ operation: 'setFacts', sessionId: 'ada@example.com', factsInput: 'json', factsJson: '{ "stage": "customer", "city": null, "orders": 2 }' });
		expect(merged.items[0].facts).toEqual({ stage: 'customer', orders: 2 });

		const history = await run({ operation: 'getHistory', sessionId: 'ada@example.com', window: 'lastN', lastN: 3, includeFacts: true });
		expect(history.items[0]).toMatchObject({
			sessionId: 'ada@example.com',
			transcript: 'Assistant: Yes, in 3 days.\nUser: And express?\nAssistant: Next day, 9 EUR.',
			omittedMessages: 1,
			facts: { stage: 'customer', orders: 2 },
		});
		expect((history.items[0].messages as Array<{ metadata: unknown }>)[0].metadata).toEqual({ channel: 'email' });

		const budget = await run({ operation: 'getHistory', sessionId: 'ada@example.com', window: 'tokenBudget', tokenBudget: 12 });
		expect(budget.items[0].transcript).toBe('Assistant: Next day, 9 EUR.');
	});

	it('lists and clears sessions', async () => {
		await run({ operation: 'appendMessages', namespace: 'listing', sessionId: '={{ $json.id }}', messagesInput: 'single', role: 'user', content: 'hi' }, [
			{ json: { id: 'one' } },
			{ json: { id: 'two' } },
		]);
		const listed = await run({ operation: 'listSessions', namespace: 'listing', limit: 100, cursor: '' });
		expect(listed.items[0]).toMatchObject({ namespace: 'listing', count: 2, nextCursor: null });
		expect((listed.items[0].sessionIds as string[]).sort()).toEqual(['one', 'two']);

		const cleared = await run({ operation: 'clearSession', namespace: 'listing', sessionId: 'one' });
		expect(cleared.items[0]).toEqual({ namespace: 'listing', sessionId: 'one', cleared: true });
		expect(await admin.exists(`${keyPrefix}:{listing:one}:messages`)).toBe(0);
	});

	it('names the Session ID parameter and the item when an id is empty; continues when asked to', async () => {
		const items = [{ json: { email: 'ok@example.com' } }, { json: { email: '' } }];
		const parameters = { operation: 'getFacts', sessionId: '={{ $json.email }}' };
		const failed = await run(parameters, items);
		expect(failed.error?.message).toMatch(/^Session ID is empty/);
		expect(failed.error?.description).toBe('Check the "Session ID" parameter of item 2.');

		const continued = await run(parameters, items, { node: { onError: 'continueRegularOutput' } });
		expect(continued.items[0]).toEqual({ namespace: 'acme', sessionId: 'ok@example.com', facts: {} });
		expect(continued.items[1].error).toMatch(/^Session ID is empty/);
	});

	it('fails quickly naming host:port when Redis is unreachable, or gives every item the error', async () => {
		const port = await freePort();
		const credential = { ...redisCredential, port };
		const expected = `Could not connect to Redis at 127.0.0.1:${port}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`;
		const started = Date.now();
		const failed = await run({ operation: 'getHistory', sessionId: 'x', window: 'all' }, undefined, { credential });
		expect(failed.error?.message).toBe(expected);
		expect(Date.now() - started).toBeLessThan(3000);

		const continued = await run({ operation: 'getFacts', sessionId: '={{ $json.id }}' }, [{ json: { id: 'a' } }, { json: { id: 'b' } }], {
			credential,
			node: { onError: 'continueRegularOutput' },
		});
		expect(continued.items.map((item) => item.error)).toEqual([expected, expected]);
	});
});

describe('Memory Store node: whose memory is never chosen by the AI agent', () => {
	const spellings = [
		"={{ $fromAI('contact', 'Whose memory', 'string') }}",
		"={{ $fromai('contact') }}",
		"={{ $fromAi ( 'contact' ) }}",
		"={{ /*n8n-auto-generated-fromAI-override*/ $fromAI('Session_ID', ``, 'string') }}",
		"={{ $FROMAI('contact') }}",
		"={{ \\u0024fromAI('contact') }}",
	];
	const fields = [
		{ label: 'Session ID', set: (value: string) => ({ sessionId: value }) },
		{ label: 'Namespace', set: (value: string) => ({ namespace: value }) },
		{ label: 'Key Prefix', set: (value: string) => ({ storageOptions: { keyPrefix: value } }) },
	];
	const cases = fields.flatMap((field) => spellings.map((spelling) => [field.label, spelling, field.set(spelling)] as const));

	it.each(cases)('refuses $fromAI in %s (%s), naming the parameter', async (label, _spelling, parameters) => {
		const failed = await run({ operation: 'getHistory', sessionId: 'ada@example.com', window: 'all', ...parameters });
		expect(failed.error?.message).toMatch(new RegExp(`^The AI agent may not choose the ${label} \\(\\$fromAI\\): it decides `));
		expect(failed.error?.description).toBe(`Check the "${label}" parameter of item 1.`);
	});

	it('says where the session should come from, and gives every item the error with "On Error: Continue"', async () => {
		const parameters = { operation: 'clearSession', sessionId: "={{ $fromAI('sessionId') }}" };
		const failed = await run(parameters);
		expect(failed.error?.message).toBe(
			"The AI agent may not choose the Session ID ($fromAI): it decides whose conversation is read or changed. Set it from the workflow, e.g. the chat's session: {{ $('When chat message received').item.json.sessionId }}.",
		);
		const continued = await run(parameters, [{ json: {} }, { json: {} }], { node: { onError: 'continueRegularOutput' } });
		expect(continued.items).toHaveLength(2);
		expect(continued.items.map((item) => item.description)).toEqual([
			'Check the "Session ID" parameter of item 1.',
			'Check the "Session ID" parameter of item 2.',
		]);
	});

	it('lets List Sessions run with a leftover Session ID it does not use, but not with an agent-chosen namespace', async () => {
		const listed = await run({ operation: 'listSessions', namespace: 'nobody-here', sessionId: "={{ $fromAI('x') }}", limit: 10, cursor: '' });
		expect(listed.error).toBeUndefined();
		expect(listed.items[0]).toMatchObject({ namespace: 'nobody-here', count: 0 });
		const refused = await run({ operation: 'listSessions', namespace: "={{ $fromAI('client') }}", limit: 10, cursor: '' });
		expect(refused.error?.message).toMatch(/^The AI agent may not choose the Namespace/);
	});

	describe('as an AI Agent tool', () => {
		const chat = [{ json: { sessionId: 'chat-ada', action: 'sendMessage', chatInput: 'What do you know about me?' } }];
		const toolNode = (parameters: INodeParameters): TestNode => ({
			name: 'Memory Tool',
			type: TOOL_TYPE,
			parameters: { backend: 'redis', namespace: 'agent', storageOptions: { keyPrefix }, operation: 'getFacts', ...parameters },
		});
		const callTool = async (tool: TestNode, toolArguments: IDataObject) => {
			const result = await runWorkflow(agentWorkflow(tool, toolArguments), {
				nodeTypes,
				credentials: { symbioticRedisApi: redisCredential },
				inputItems: chat,
			});
			expect(result.error).toBeUndefined();
			return JSON.parse(String(result.outputs.Agent[0][0].json.observation));
		};

		beforeAll(async () => {
			for (const [sessionId, city] of [['chat-ada', 'Oslo'], ['chat-bob', 'Lima']]) {
				await run({ namespace: 'agent', operation: 'setFacts', sessionId, factsInput: 'json', factsJson: JSON.stringify({ city }) });
			}
		});

		it('offers n8n a tool variant whose description says the workflow decides the contact', () => {
			expect(nodeTypes[TOOL_TYPE].description.description).toMatch(/the workflow decides which contact/);
			expect(nodeTypes[TYPE].description.description).toBe('Remembers each contact: the conversation so far and what you know about them');
		});

		it('reads the session of the chat, whatever the model sends', async () => {
			const observation = await callTool(toolNode({ sessionId: `={{ $('${HARNESS_TRIGGER_NAME}').item.json.sessionId }}` }), { sessionId: 'chat-bob' });
			expect(observation).toEqual([{ namespace: 'agent', sessionId: 'chat-ada', facts: { city: 'Oslo' } }]);
		});

		it('(why) as a tool, $json holds the fields the model sends, over the chat\'s own', async () => {
			const probe = toolNode({ sessionId: 'probe', operation: 'setFacts', factsInput: 'json', factsJson: '={{ JSON.stringify({ seen: $json.sessionId }) }}' });
			expect(await callTool(probe, { sessionId: 'chat-bob' })).toEqual([{ namespace: 'agent', sessionId: 'probe', facts: { seen: 'chat-bob' } }]);
		});

		it('refuses a session id the model fills in through $fromAI', async () => {
			const observation = await callTool(toolNode({ sessionId: "={{ $fromAI('sessionId', 'The contact', 'string') }}" }), { sessionId: 'chat-bob' });
			expect(observation).toEqual([{ error: expect.stringMatching(/^The AI agent may not choose the Session ID \(\$fromAI\)/) }]);
		});

		it.each([
			['{{ $json.sessionId }}', { sessionId: "={{ $json.sessionId }}" }, 'Session ID'],
			['{{ $input.item.json.sessionId }}', { sessionId: '={{ $input.item.json.sessionId }}' }, 'Session ID'],
			['{{ $json.client }} in Namespace', { sessionId: 'chat-ada', namespace: '={{ $json.client }}' }, 'Namespace'],
		])('refuses %s: as a tool, $json is the tool call, which the model can fill', async (_name, parameters, label) => {
			const observation = await callTool(toolNode(parameters), { sessionId: 'chat-bob', client: 'agent' });
			expect(observation).toEqual([{ error: expect.stringMatching(new RegExp(`^As an AI agent tool, the ${label} may not come from the tool call's input`)) }]);
		});
	});
});

describe('Memory Store node with invalid storage options', () => {
	it('leaves no Redis connection behind, however many runs fail on them', async () => {
		// A server of its own: its client count is this test's alone.
		const server = await startRedisServer();
		const observer = new Redis({ host: '127.0.0.1', port: server.port });
		const credential = { ...redisCredential, port: server.port };
		const invalid = [
			{ storageOptions: { keyPrefix: 'has space' }, label: 'Key Prefix', message: /^Key prefix "has space" is not valid/ },
			{ storageOptions: { forgetAfterDays: -1 }, label: 'Forget After (Days)', message: /^Time to live must be 0/ },
			{ storageOptions: { maxMessages: 2.5 }, label: 'Max Messages Kept', message: /^Max messages must be 0/ },
		];
		try {
			const before = await connectionCounts(observer);
			for (let round = 0; round < 10; round++) {
				for (const { storageOptions, label, message } of invalid) {
					const failed = await run({ operation: 'getFacts', sessionId: 'x', storageOptions }, undefined, { credential });
					expect(failed.error?.message).toMatch(message);
					expect(failed.error?.description).toBe(`Check the "${label}" parameter of item 1.`);
				}
			}
			expect(await connectionCounts(observer)).toEqual(before);
		} finally {
			observer.disconnect();
			await server.stop();
		}
	});
});

describe('Memory Store node (in-process)', () => {
	it('remembers across executions of the same process', async () => {
		const parameters = { backend: 'inProcess', namespace: 'trial', storageOptions: {} };
		await run({ ...parameters, operation: 'appendMessages', sessionId: `trial-${process.pid}`, messagesInput: 'turn', userMessage: 'Hello', assistantMessage: 'Hi!' });
		const history = await run({ ...parameters, operation: 'getHistory', sessionId: `trial-${process.pid}`, window: 'all' });
		expect(history.items[0]).toMatchObject({ transcript: 'User: Hello\nAssistant: Hi!', transcriptTokens: expect.any(Number) });
		await run({ ...parameters, operation: 'clearSession', sessionId: `trial-${process.pid}` });
	});
});

describe('Symbiotic Redis credential test', () => {
	const test = (data: ICredentialDataDecryptedObject) =>
		new MemoryStore().methods.credentialTest.symbioticRedisConnectionTest.call({} as ICredentialTestFunctions, {
			id: 'c1',
			name: 'Redis',
			type: 'symbioticRedisApi',
			data,
		});

	it('reports success against a running Redis, via host/port and via URL', async () => {
		await expect(test(redisCredential)).resolves.toEqual({ status: 'OK', message: 'Connection successful' });
		await expect(test({ connection: 'url', url: 'redis://127.0.0.1:6379/2' })).resolves.toEqual({ status: 'OK', message: 'Connection successful' });
	});

	it('reports the host:port and cause when it fails', async () => {
		const port = await freePort();
		await expect(test({ ...redisCredential, port })).resolves.toEqual({
			status: 'Error',
			message: `Could not connect to Redis at 127.0.0.1:${port}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`,
		});
		await expect(test({ connection: 'cluster', clusterNodes: 'redis-1:abc' })).resolves.toMatchObject({
			status: 'Error',
			message: 'Cluster Nodes: "redis-1:abc" is not host:port (for example redis-1:6379)',
		});
	});
});
