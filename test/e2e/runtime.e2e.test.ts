/**
 * Proves the e2e harness itself: a real n8n 2.41.1 starts with the packed pack installed, runs a
 * published webhook workflow of built-in nodes, and does the same in queue mode where a separate
 * worker process executes it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startN8n, type N8nInstance } from './support/n8nInstance';

const PACKAGE = 'n8n-nodes-symbiotic';

/** Webhook -> Set -> Respond to Webhook: greets the posted name and names the process that ran it. */
function greetingWorkflow(id: string, webhookPath: string) {
	return {
		id,
		name: `Greeting ${webhookPath}`,
		nodes: [
			{
				id: 'b3f1c7e0-0000-4000-8000-000000000001',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: `b3f1c7e0-0000-4000-8000-${webhookPath.padStart(12, '0').slice(-12)}`,
				parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'responseNode', options: {} },
			},
			{
				id: 'b3f1c7e0-0000-4000-8000-000000000002',
				name: 'Set greeting',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [220, 0],
				parameters: {
					assignments: {
						assignments: [
							{ id: 'greeting', name: 'greeting', type: 'string', value: "={{ 'Hello, ' + $json.body.name + '!' }}" },
							{ id: 'executionId', name: 'executionId', type: 'string', value: '={{ $execution.id }}' },
						],
					},
					options: {},
				},
			},
			{
				id: 'b3f1c7e0-0000-4000-8000-000000000003',
				name: 'Respond',
				type: 'n8n-nodes-base.respondToWebhook',
				typeVersion: 1.5,
				position: [440, 0],
				parameters: { respondWith: 'firstIncomingItem', options: {} },
			},
		],
		connections: {
			Webhook: { main: [[{ node: 'Set greeting', type: 'main', index: 0 }]] },
			'Set greeting': { main: [[{ node: 'Respond', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** Type names users get for the nodes the pack declares: `<package>.<description.name>`. */
function declaredNodeTypes(): string[] {
	const repoDir = path.resolve(__dirname, '../..');
	const manifest = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
	return manifest.n8n.nodes.map((file) => {
		const className = path.basename(file).replace(/\.node\.js$/, '');
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const NodeClass = (require(path.join(repoDir, file)) as Record<string, new () => { description: { name: string } }>)[className];
		return `${PACKAGE}.${new NodeClass().description.name}`;
	});
}

async function loadedNodeTypes(n8n: N8nInstance): Promise<string[]> {
	const response = await n8n.fetchAsOwner('/types/nodes.json');
	expect(response.status).toBe(200);
	return ((await response.json()) as Array<{ name: string }>).map((type) => type.name);
}

async function expectGreetingRoundTrip(n8n: N8nInstance, workflowId: string, webhookPath: string) {
	expect(await n8n.importWorkflow(greetingWorkflow(workflowId, webhookPath))).toBe(workflowId);
	await n8n.publish(workflowId);

	const response = await n8n.webhook(webhookPath, { name: 'Ada' });

	expect(response.status).toBe(200);
	expect(response.json).toMatchObject({ greeting: 'Hello, Ada!' });
	const execution = await n8n.waitForExecution({ workflowId });
	expect(execution.status).toBe('success');
	expect(execution.id).toBe((response.json as { executionId: string }).executionId);
	expect(execution.data.resultData.runData['Set greeting'][0].data?.main?.[0]?.[0].json.greeting).toBe('Hello, Ada!');
	return execution;
}

describe('n8n runtime (regular mode)', () => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		n8n = await startN8n({ mode: 'regular' });
	});
	afterAll(async () => {
		await n8n?.stop();
	});

	it('loads every node the pack declares, under the community package name', async () => {
		const declared = declaredNodeTypes();
		const loaded = await loadedNodeTypes(n8n);
		expect(declared.length).toBeGreaterThan(0);
		expect(loaded).toContain('n8n-nodes-base.webhook');
		expect(loaded).toEqual(expect.arrayContaining(declared));
	});

	it('runs a published webhook workflow and records the execution', async () => {
		await expectGreetingRoundTrip(n8n, 'e2eGreetRegular1', 'greet-regular');
	});

	it('imports credentials with decrypted data under the id the shipped workflows reference', async () => {
		await n8n.importCredentials({
			id: 'e2eSmtpCred00001',
			name: 'E2E mail catcher',
			type: 'smtp',
			data: { host: '127.0.0.1', port: 2525, user: '', password: '', secure: false },
		});

		const credentials = await n8n.rest<Array<{ id: string; name: string; type: string }>>('GET', '/credentials');
		expect(credentials).toContainEqual(expect.objectContaining({ id: 'e2eSmtpCred00001', name: 'E2E mail catcher', type: 'smtp' }));
	});

	it('keeps workflows and executions across a restart', async () => {
		const before = await n8n.executions('e2eGreetRegular1');
		expect(before.length).toBeGreaterThan(0);

		await n8n.restart();

		expect((await n8n.executions('e2eGreetRegular1')).map((execution) => execution.id)).toEqual(
			before.map((execution) => execution.id),
		);
		const again = await n8n.webhook('greet-regular', { name: 'Grace' });
		expect(again.json).toMatchObject({ greeting: 'Hello, Grace!' });
	});
});

describe('n8n runtime (queue mode with one worker)', () => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		n8n = await startN8n({ mode: 'queue' });
	});
	afterAll(async () => {
		await n8n?.stop();
	});

	it('runs a webhook workflow on the worker, not on the main instance', async () => {
		const execution = await expectGreetingRoundTrip(n8n, 'e2eGreetQueue001', 'greet-queue');
		// Only the worker process logs "Worker started execution <id>".
		expect(readFileSync(n8n.logFile, 'utf8')).toContain(`Worker started execution ${execution.id} `);
	});
});
