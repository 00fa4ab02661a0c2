/**
 * Human Approval inside n8n's real engine, in-process: `execute()` sends the emails through a real SMTP server
 * and leaves the execution waiting; the review link is then answered by the node's `webhook()` in a real
 * n8n-core WebhookContext over the waiting execution's data (only the express request/response are stand-ins),
 * and the execution is resumed by WorkflowExecute the way n8n does it for a webhook and for a timeout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { load } from 'cheerio';
import { ExecutionLifecycleHooks, ExternalSecretsProxy, WebhookContext, WorkflowExecute } from 'n8n-core';
import { NodeConnectionTypes, Workflow } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsHelper,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
	IRun,
	IRunExecutionData,
	IWebhookData,
	IWebhookResponseData,
	IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import type { ParsedMail } from 'mailparser';

import { TOKEN_PARAM } from '../../lib/approval';
import { openStore } from '../../lib/stores';
import { HumanApproval } from '../../nodes/HumanApproval/HumanApproval.node';
import { IngestDocument } from '../../nodes/IngestDocument/IngestDocument.node';
import { freePort, useLocalRedisPrefix } from '../memory/redisServer';
import { HARNESS_TRIGGER_NAME, HARNESS_TRIGGER_TYPE, linearWorkflow, runWorkflow, type HarnessWorkflow } from '../support/n8nHarness';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';

const APPROVAL_TYPE = 'n8n-nodes-symbiotic.humanApproval';
const COLLECT_TYPE = 'symbiotic-test.collect';
const APPROVAL_NODE = 'Human Approval';
const OUTPUT_NODES = ['Approved', 'Rejected', 'Timed Out'] as const;
const SECRET = 'node-test-signing-secret-0123456789-abcdefghij';
const BASE_URL = 'http://127.0.0.1:5678';
const EXECUTION_ID = 'harness-execution';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const OFFICE_UA = 'Mozilla/5.0 (compatible; Microsoft Office/16.0; Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)';
const DRAFT = 'Hi Ada,\n\nthanks for your interest in the Starter plan. It costs 29 euros.\n\nBest, Sam';
const REDIS_CREDENTIAL = { connection: 'host', host: '127.0.0.1', port: 6379, connectTimeout: 1000 };
const LEAD = { text: DRAFT, lead: 'Ada Lovelace', company: 'Analytical Engines Ltd', citations: [{ n: 1, sourceId: 'pricing.md', title: 'Pricing', url: 'https://example.com/pricing' }] };

/** Stands for the nodes behind each output: passes its input on, so the run data shows what arrived where. */
class Collect implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Collect',
		name: 'collect',
		group: ['transform'],
		version: 1,
		description: 'Passes items on',
		defaults: { name: 'Collect' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

const nodeTypes = { [APPROVAL_TYPE]: new HumanApproval(), [COLLECT_TYPE]: new Collect() };

let smtp: SmtpCapture;
let credentials: Record<string, ICredentialDataDecryptedObject>;

beforeAll(async () => {
	smtp = await startSmtpCapture();
	credentials = {
		symbioticRedisApi: REDIS_CREDENTIAL,
		symbioticApprovalApi: {
			signingSecret: SECRET,
			smtpHost: '127.0.0.1',
			smtpPort: smtp.port,
			smtpSecure: false,
			fromAddress: 'Reviews <reviews@example.com>',
		},
	};
});
afterAll(() => smtp.close());

// The default decision store is a folder beside n8n's data: keep it out of the home folder during tests.
let userFolder: string;
beforeAll(async () => {
	userFolder = await mkdtemp(join(tmpdir(), 'symbiotic-approval-node-'));
	process.env.N8N_USER_FOLDER = userFolder;
});
afterAll(async () => {
	delete process.env.N8N_USER_FOLDER;
	await rm(userFolder, { recursive: true, force: true });
});

function approvalWorkflow(parameters: Record<string, unknown> = {}): HarnessWorkflow {
	const node = (name: string, type: string, index: number, extra: Partial<INode> = {}): INode => ({
		id: `node-${index}`,
		name,
		type,
		typeVersion: 1,
		position: [index * 220, 0],
		parameters: {},
		...extra,
	});
	const connect = (target: string) => [{ node: target, type: NodeConnectionTypes.Main, index: 0 }];
	return {
		nodes: [
			node(HARNESS_TRIGGER_NAME, HARNESS_TRIGGER_TYPE, 0),
			node(APPROVAL_NODE, APPROVAL_TYPE, 1, {
				id: '6b1f7a52-0c1e-4f8e-9a3d-5a7c2b1e9f00',
				parameters: {
					reviewers: 'ada@example.com, Grace@Example.com',
					subject: '=Review: follow-up to {{ $json.lead }}',
					draft: '={{ $json.text }}',
					context: { fields: [{ label: 'Lead', value: '={{ $json.lead }}' }, { label: 'Company', value: '={{ $json.company }}' }] },
					...parameters,
				},
			}),
			...OUTPUT_NODES.map((name, index) => node(name, COLLECT_TYPE, 2 + index)),
		],
		connections: { [HARNESS_TRIGGER_NAME]: { main: [connect(APPROVAL_NODE)] }, [APPROVAL_NODE]: { main: OUTPUT_NODES.map(connect) } },
	};
}

/** Node types of the resumed workflow; the harness trigger already ran, so any pass-through stands in for it. */
function typeByName(type: string): INodeType {
	const types: Record<string, INodeType> = { ...nodeTypes, [HARNESS_TRIGGER_TYPE]: new Collect() };
	if (!types[type]) throw new Error(`Unknown node type ${type}`);
	return types[type];
}

/**
 * The pieces of n8n's server a waiting execution meets again when a request arrives or its time is up;
 * `credentialChanges` replace credentials for this server only (e.g. a Redis that went down).
 */
function serverSide(workflowDefinition: HarnessWorkflow, credentialChanges: Record<string, ICredentialDataDecryptedObject> = {}) {
	const serverCredentials = { ...credentials, ...credentialChanges };
	const workflow = new Workflow({
		id: 'harness',
		name: 'Harness workflow',
		nodes: workflowDefinition.nodes.map((node) =>
			node.type === APPROVAL_TYPE
				? { ...node, credentials: { symbioticApprovalApi: { id: '1', name: 'Approval' }, symbioticRedisApi: { id: '2', name: 'Redis' } } }
				: node,
		),
		connections: workflowDefinition.connections,
		settings: { executionOrder: 'v1' },
		active: false,
		nodeTypes: { getByName: typeByName, getByNameAndVersion: typeByName, getKnownTypes: () => ({}) },
	});
	const credentialsHelper = {
		getDecrypted: async (_data: unknown, _node: unknown, type: string) => structuredClone(serverCredentials[type]),
		getParentTypes: () => [],
		isCredentialUsableByNode: () => true,
	} as unknown as ICredentialsHelper;
	const additionalData = (): IWorkflowExecuteAdditionalData =>
		({
			hooks: new ExecutionLifecycleHooks('manual', EXECUTION_ID, { id: 'harness', name: 'Harness workflow', active: false, isArchived: false, activeVersionId: null, nodes: workflow.nodes ? Object.values(workflow.nodes) : [], connections: workflow.connectionsBySourceNode, createdAt: new Date(), updatedAt: new Date() }),
			credentialsHelper,
			executionId: EXECUTION_ID,
			currentNodeExecutionIndex: 0,
			variables: {},
			restApiUrl: `${BASE_URL}/rest`,
			instanceBaseUrl: `${BASE_URL}/`,
			formWaitingBaseUrl: `${BASE_URL}/form-waiting`,
			webhookBaseUrl: `${BASE_URL}/webhook`,
			webhookWaitingBaseUrl: `${BASE_URL}/webhook-waiting`,
			webhookTestBaseUrl: `${BASE_URL}/webhook-test`,
			externalSecretsProxy: new ExternalSecretsProxy(),
		}) as unknown as IWorkflowExecuteAdditionalData;
	return { workflow, additionalData };
}

interface CapturedResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
}

interface LinkRequest {
	method: 'GET' | 'POST';
	url: string;
	body?: Record<string, string>;
	userAgent?: string;
}

/**
 * Answers one request on a review link with the node's webhook(), over the waiting execution's saved data;
 * `approvalNode` is the node as loaded by the n8n process that receives the request.
 */
async function answer(
	server: ReturnType<typeof serverSide>,
	waiting: IRunExecutionData,
	request: LinkRequest,
	approvalNode: INodeType = nodeTypes[APPROVAL_TYPE],
): Promise<{ response: CapturedResponse; result: IWebhookResponseData }> {
	const url = new URL(request.url);
	const response: CapturedResponse = { status: 200, headers: {}, body: '' };
	const additionalData = server.additionalData();
	additionalData.httpRequest = {
		method: request.method,
		query: Object.fromEntries(url.searchParams),
		body: request.body ?? {},
		headers: { 'user-agent': request.userAgent ?? CHROME_UA },
		ip: '203.0.113.7',
	} as unknown as IWorkflowExecuteAdditionalData['httpRequest'];
	const express = {
		status(code: number) {
			response.status = code;
			return express;
		},
		setHeader(name: string, value: string) {
			response.headers[name.toLowerCase()] = value;
			return express;
		},
		send(body: string) {
			response.body = body;
			return express;
		},
	};
	additionalData.httpResponse = express as unknown as IWorkflowExecuteAdditionalData['httpResponse'];
	// Saved executions come back from the database as plain data, and n8n drops the waiting node's run data
	// before it calls the webhook (WaitingWebhooks.getWebhookExecutionData).
	const saved = structuredClone(waiting);
	saved.resultData.runData[APPROVAL_NODE].pop();
	const node = server.workflow.getNode(APPROVAL_NODE)!;
	const webhookData = { httpMethod: request.method, node: APPROVAL_NODE, path: '', webhookDescription: {}, workflowId: 'harness' } as unknown as IWebhookData;
	const context = new WebhookContext(server.workflow, node, additionalData, 'manual', webhookData, [], saved);
	const result = await approvalNode.webhook!.call(context);
	return { response, result };
}

/** Resumes a waiting execution the way n8n does: with the webhook's workflowData, or (timeout) as saved. */
async function resume(server: ReturnType<typeof serverSide>, waiting: IRunExecutionData, workflowData?: INodeExecutionData[][]): Promise<IRun> {
	const data = structuredClone(waiting);
	if (workflowData) {
		const entry = data.executionData!.nodeExecutionStack[0];
		entry.data.main = workflowData;
		entry.metadata = { ...entry.metadata, forwardAllOutputs: true };
	}
	return await new WorkflowExecute(server.additionalData(), 'manual', data).processRunExecutionData(server.workflow);
}

function arrivals(run: IRun): Record<string, Array<Record<string, unknown>>> {
	return Object.fromEntries(
		OUTPUT_NODES.map((name) => [name, (run.data.resultData.runData[name]?.at(-1)?.data?.main[0] ?? []).map((item) => item.json)]),
	);
}

function linkIn(mail: ParsedMail): string {
	const html = load(String(mail.html));
	const button = html('a').filter((_, element) => html(element).text() === 'Review').attr('href');
	const textLink = /here: (\S+)/.exec(mail.text ?? '')?.[1];
	expect(button).toBe(textLink);
	return button!;
}

async function sendRequest(parameters: Record<string, unknown> = {}, inputItems: INodeExecutionData[] = [{ json: LEAD }]) {
	const definition = approvalWorkflow(parameters);
	const before = smtp.messages.length;
	const result = await runWorkflow(definition, { nodeTypes, credentials, inputItems });
	return { definition, result, mails: smtp.messages.slice(before) };
}

function formToken(page: string): string {
	return load(page)('input[name=formToken]').attr('value')!;
}

describe('Human Approval node', () => {
	it('emails every reviewer a personal link in both parts and leaves the execution waiting', async () => {
		const { result, mails } = await sendRequest();
		expect(result.error).toBeUndefined();
		expect(result.run.status).toBe('waiting');
		const waitTill = new Date(result.run.waitTill!).getTime();
		expect(waitTill - Date.now()).toBeGreaterThan(71.9 * 3600_000);
		expect(waitTill - Date.now()).toBeLessThanOrEqual(72 * 3600_000);

		expect(mails.map((mail) => mail.to && 'text' in mail.to ? mail.to.text : '')).toEqual(['ada@example.com', 'grace@example.com']);
		const links = mails.map(linkIn);
		expect(new Set(links).size).toBe(2);
		for (const link of links) {
			const url = new URL(link);
			expect(`${url.origin}${url.pathname}`).toBe(`${BASE_URL}/webhook-waiting/${EXECUTION_ID}`);
			// n8n's resume token plus our own signed, opaque token: no address or execution id in clear.
			expect(url.searchParams.get('signature')).toBe(result.run.data.resumeToken);
			expect(url.searchParams.get(TOKEN_PARAM)).toMatch(/^[A-Za-z0-9_-]{80,}$/);
			expect(link).not.toMatch(/ada(@|%40)/i);
		}
		expect(mails[0].subject).toBe('Review: follow-up to Ada Lovelace');
		expect(mails[0].text).toContain('Company: Analytical Engines Ltd');
		expect(mails[0].text).toContain('Source [1]: Pricing <https://example.com/pricing>');
		expect(mails[0].text).not.toContain(SECRET);

		// Nothing went downstream; the waiting node shows what leaves on timeout.
		expect(Object.keys(result.outputs)).not.toContain('Approved');
		expect(result.outputs[APPROVAL_NODE][2][0].json).toMatchObject({ decision: 'timedOut', originalDraft: DRAFT, input: LEAD });
	});

	it('shows the page on GET without deciding, resumes on Approved with the edit, and answers the loser "already decided"', async () => {
		const { definition, result, mails } = await sendRequest();
		const server = serverSide(definition);
		const [adaLink, graceLink] = mails.map(linkIn);

		for (const userAgent of [OFFICE_UA, CHROME_UA]) {
			const view = await answer(server, result.run.data, { method: 'GET', url: adaLink, userAgent });
			expect(view.response.status).toBe(200);
			expect(view.result).toEqual({ noWebhookResponse: true });
			expect(view.response.headers['content-security-policy']).toContain("default-src 'none'");
			expect(load(view.response.body)('textarea[name=finalText]').text()).toBe(DRAFT);
		}

		const page = (await answer(server, result.run.data, { method: 'GET', url: adaLink })).response.body;
		const edited = DRAFT.replace('It costs 29 euros.', 'It costs 29 euros per month for five seats.');
		const approval = await answer(server, result.run.data, {
			method: 'POST',
			url: adaLink,
			body: { formToken: formToken(page), action: 'approve', finalText: edited.replace(/\n/g, '\r\n'), comment: 'Name the seats.' },
		});
		expect(approval.response.status).toBe(200);
		expect(load(approval.response.body)('h1').text()).toBe('Approved');
		const [approved, rejected, timedOut] = approval.result.workflowData!;
		expect(rejected).toEqual([]);
		expect(timedOut).toEqual([]);
		expect(approved[0].json).toMatchObject({
			decision: 'approved',
			reviewer: 'ada@example.com',
			comment: 'Name the seats.',
			finalText: edited,
			originalDraft: DRAFT,
			changed: true,
			ip: '203.0.113.7',
			userAgent: CHROME_UA,
			input: LEAD,
		});
		expect((approved[0].json.diff as { unified: string }).unified).toContain('+thanks for your interest in the Starter plan. It costs 29 euros per month for five seats.');

		const resumed = await resume(server, result.run.data, approval.result.workflowData);
		expect(resumed.status).toBe('success');
		const arrived = arrivals(resumed);
		expect(arrived.Approved).toHaveLength(1);
		expect(arrived.Approved[0]).toMatchObject({ decision: 'approved', finalText: edited });
		expect(arrived.Rejected).toEqual([]);
		expect(arrived['Timed Out']).toEqual([]);

		const gracePage = (await answer(server, result.run.data, { method: 'GET', url: graceLink })).response.body;
		expect(load(gracePage)('h1').text()).toBe('This review is already decided');
		const late = await answer(server, result.run.data, {
			method: 'POST',
			url: graceLink,
			body: { formToken: formToken(page), action: 'reject', finalText: DRAFT },
		});
		expect(late.result.workflowData).toBeUndefined();
		expect([403, 409]).toContain(late.response.status);
	});

	it('lets exactly one of two simultaneous decisions win', async () => {
		const { definition, result, mails } = await sendRequest({ allowEdits: false });
		const server = serverSide(definition);
		const links = mails.map(linkIn);
		const pages = await Promise.all(links.map(async (url) => (await answer(server, result.run.data, { method: 'GET', url })).response.body));
		const decisions = await Promise.all(
			links.map((url, index) =>
				answer(server, result.run.data, { method: 'POST', url, body: { formToken: formToken(pages[index]), action: index ? 'reject' : 'approve' } }),
			),
		);
		const winners = decisions.filter((decision) => decision.result.workflowData);
		expect(winners).toHaveLength(1);
		const loser = decisions.find((decision) => !decision.result.workflowData)!;
		expect(loser.response.status).toBe(409);
		expect(loser.response.body).toContain('already decided');
		expect(loser.response.body).not.toMatch(/at .*\.(js|ts):\d+/);
	});

	it('resumes a rejection on Rejected', async () => {
		const { definition, result, mails } = await sendRequest();
		const server = serverSide(definition);
		const link = linkIn(mails[1]);
		const page = (await answer(server, result.run.data, { method: 'GET', url: link })).response.body;
		const rejection = await answer(server, result.run.data, {
			method: 'POST',
			url: link,
			body: { formToken: formToken(page), action: 'reject', finalText: DRAFT, comment: 'Wrong price.' },
		});
		const arrived = arrivals(await resume(server, result.run.data, rejection.result.workflowData));
		expect(arrived.Rejected).toEqual([expect.objectContaining({ decision: 'rejected', reviewer: 'grace@example.com', comment: 'Wrong price.', changed: false })]);
		expect(arrived.Approved).toEqual([]);
	});

	it('remembers the approved version in the knowledge store when asked to', async () => {
		const folder = await mkdtemp(join(tmpdir(), 'symbiotic-approval-learning-'));
		try {
			const { definition, result, mails } = await sendRequest({
				rememberApproved: true,
				store: 'lancedb',
				folderPath: folder,
				collection: 'examples',
				namespace: 'acme-approved',
				exampleInput: '={{ $json.lead }} asks about the price',
			});
			const server = serverSide(definition);
			const link = linkIn(mails[0]);
			const page = (await answer(server, result.run.data, { method: 'GET', url: link })).response.body;
			const edited = `${DRAFT} See you soon.`;
			const approval = await answer(server, result.run.data, { method: 'POST', url: link, body: { formToken: formToken(page), action: 'approve', finalText: edited } });
			const [approved] = approval.result.workflowData![0];
			expect(approved.json.learning).toMatchObject({ stored: true, namespace: 'acme-approved', chunks: 1 });

			const store = await openStore({ kind: 'lancedb', path: folder, table: 'examples' });
			try {
				const [hit] = await store.search({ namespace: 'acme-approved', mode: 'keyword', text: 'see you soon', topK: 1 });
				expect(hit.chunk.text).toBe(edited);
				expect(hit.chunk.metadata.extra).toMatchObject({ input: 'Ada Lovelace asks about the price', originalDraft: DRAFT, reviewer: 'ada@example.com' });
			} finally {
				await store.close();
			}
		} finally {
			await rm(folder, { recursive: true, force: true });
		}
	});

	it('answers a tampered link with 403 and does not resume', async () => {
		const { definition, result, mails } = await sendRequest();
		const server = serverSide(definition);
		const url = new URL(linkIn(mails[0]));
		const token = url.searchParams.get(TOKEN_PARAM)!;
		url.searchParams.set(TOKEN_PARAM, `${token.slice(0, 30)}${token[30] === 'A' ? 'B' : 'A'}${token.slice(31)}`);
		for (const method of ['GET', 'POST'] as const) {
			const tampered = await answer(server, result.run.data, { method, url: url.href, body: { action: 'approve' } });
			expect(tampered.response.status).toBe(403);
			expect(tampered.result).toEqual({ noWebhookResponse: true });
		}
	});

	it('leaves through Timed out when n8n resumes the wait after the limit', async () => {
		const { definition, result } = await sendRequest({ limitAmount: 30, limitUnit: 'minutes' });
		expect(new Date(result.run.waitTill!).getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
		const arrived = arrivals(await resume(serverSide(definition), result.run.data));
		expect(arrived.Approved).toEqual([]);
		expect(arrived['Timed Out']).toEqual([
			expect.objectContaining({ decision: 'timedOut', reviewer: null, finalText: DRAFT, changed: false, input: LEAD }),
		]);
	});

	it('refuses several items and invalid reviewer addresses with what to do', async () => {
		const several = await sendRequest({}, [{ json: LEAD }, { json: LEAD }]);
		expect(several.result.error?.message).toBe('Human Approval reviews one draft per execution, but it received 2 items.');
		expect(several.mails).toEqual([]);
		const invalid = await sendRequest({ reviewers: 'ada@example.com, grace' });
		expect(invalid.result.error?.message).toContain('These reviewers are not email addresses: grace');
		const shortSecret = await runWorkflow(approvalWorkflow(), {
			nodeTypes,
			credentials: { symbioticApprovalApi: { ...credentials.symbioticApprovalApi, signingSecret: 'too-short' } },
			inputItems: [{ json: LEAD }],
		});
		expect(shortSecret.error?.message).toMatch(/has 9 bytes; it needs at least 32/);
	});
});

/**
 * The node as another n8n process (a queue-mode webhook process, a second main, or n8n after a restart) loads it:
 * a fresh module registry, so nothing the first copy keeps in its memory is shared.
 */
function loadInAnotherProcess(): INodeType {
	let node: INodeType | undefined;
	jest.isolateModules(() => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const isolated = require('../../nodes/HumanApproval/HumanApproval.node') as typeof import('../../nodes/HumanApproval/HumanApproval.node');
		node = new isolated.HumanApproval();
	});
	return node!;
}

describe('Human Approval node: the customer version', () => {
	const CITED = 'Hi Ada,\n\nthe Starter plan costs 29 euros [1]. Setup takes five minutes [1][2].\n\nBest, Sam';
	const SOURCES = [
		{ n: 1, sourceId: 'pricing.md', title: 'Pricing', url: 'https://example.com/pricing' },
		{ n: 2, sourceId: 'setup.md', title: 'Setup guide', url: 'https://example.com/setup' },
	];

	async function approveAs(parameters: Record<string, unknown>, finalText?: string) {
		const { definition, result, mails } = await sendRequest(parameters, [{ json: { ...LEAD, text: CITED, citations: SOURCES } }]);
		const server = serverSide(definition);
		const [adaLink] = mails.map(linkIn);
		expect(mails[0].text).toContain('costs 29 euros [1]');
		const page = (await answer(server, result.run.data, { method: 'GET', url: adaLink })).response.body;
		const approval = await answer(server, result.run.data, {
			method: 'POST',
			url: adaLink,
			body: { formToken: formToken(page), action: 'approve', finalText: finalText ?? CITED },
		});
		return approval.result.workflowData![0][0].json;
	}

	it('reviewers see the [n] markers and the sources; the Approved item carries the text without them', async () => {
		const approved = await approveAs({});
		expect(approved.finalText).toBe(CITED);
		expect(approved.customerText).toBe('Hi Ada,\n\nthe Starter plan costs 29 euros. Setup takes five minutes.\n\nBest, Sam');
	});

	it('a reviewer\'s edit reaches the customer version, with footnotes when asked', async () => {
		const approved = await approveAs(
			{ customerTextStyle: 'footnotes' },
			CITED.replace('five minutes [1][2]', 'five minutes [2]'),
		);
		expect(approved.customerText).toMatch(/costs 29 euros \[1\]\. Setup takes five minutes \[2\]\./);
		expect(approved.customerText).toContain('https://example.com/setup');
		expect(approved.customerText).toMatch(/Sources/);
	});
});

describe('Human Approval node with Decision Store = Redis', () => {
	const { prefix: keyPrefix, admin } = useLocalRedisPrefix('approval-node-test');
	const redisParameters = { decisionStore: 'redis', keyPrefix };

	/** Open TCP sockets of this test process; a Redis client left open by the node stays among them. */
	const openSockets = () => process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;

	/** Waits (bounded) until the sockets are back to `count`: QUIT resolves just before the socket is closed. */
	async function socketsSettleAt(count: number): Promise<number> {
		for (let attempt = 0; attempt < 20 && openSockets() > count; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
		return openSockets();
	}

	/** Opens each link's page once, as the reviewers' browsers would, and returns the form tokens. */
	async function formTokens(server: ReturnType<typeof serverSide>, waiting: IRunExecutionData, links: string[]): Promise<string[]> {
		return await Promise.all(links.map(async (url) => formToken((await answer(server, waiting, { method: 'GET', url })).response.body)));
	}

	it('records the decision in Redis under the key prefix with a TTL, and resumes on Approved', async () => {
		const { definition, result, mails } = await sendRequest(redisParameters);
		expect(result.error).toBeUndefined();
		const server = serverSide(definition);
		const link = linkIn(mails[0]);
		const [token] = await formTokens(server, result.run.data, [link]);
		const socketsBefore = await socketsSettleAt(0);
		const approval = await answer(server, result.run.data, { method: 'POST', url: link, body: { formToken: token, action: 'approve', finalText: DRAFT } });
		expect(approval.response.status).toBe(200);
		// The request's own Redis connection is closed again.
		expect(await socketsSettleAt(socketsBefore)).toBe(socketsBefore);
		const approved = approval.result.workflowData![OUTPUT_NODES.indexOf('Approved')];
		expect(approved[0].json).toMatchObject({ decision: 'approved', reviewer: 'ada@example.com', finalText: DRAFT });

		const reviewId = (approved[0].json.review as { id: string }).id;
		const key = `${keyPrefix}:approval:${reviewId}`;
		expect(JSON.parse((await admin.get(key))!)).toMatchObject({ action: 'approved', reviewer: 'ada@example.com', ip: '203.0.113.7' });
		// Kept while the links are valid (72 h) and 30 days after, then Redis forgets it.
		const ttlMs = await admin.pttl(key);
		expect(ttlMs).toBeGreaterThan((72 + 30 * 24 - 1) * 3600_000);
		expect(ttlMs).toBeLessThanOrEqual((72 + 30 * 24) * 3600_000);

		const arrived = arrivals(await resume(server, result.run.data, approval.result.workflowData));
		expect(arrived.Approved).toEqual([expect.objectContaining({ decision: 'approved', reviewer: 'ada@example.com' })]);
		expect(arrived.Rejected).toEqual([]);
	});

	it('lets exactly one of two simultaneous decisions in two n8n processes win; process memory could not', async () => {
		const race = async (parameters: Record<string, unknown>) => {
			const { definition, result, mails } = await sendRequest({ ...parameters, allowEdits: false });
			const links = mails.map(linkIn);
			const processes = [loadInAnotherProcess(), loadInAnotherProcess()];
			const servers = [serverSide(definition), serverSide(definition)];
			const tokens = await formTokens(servers[0], result.run.data, links);
			return await Promise.all(
				links.map((url, index) =>
					answer(servers[index], result.run.data, { method: 'POST', url, body: { formToken: tokens[index], action: index ? 'reject' : 'approve' } }, processes[index]),
				),
			);
		};

		const decisions = await race(redisParameters);
		const winners = decisions.filter((decision) => decision.result.workflowData);
		expect(winners).toHaveLength(1);
		const loser = decisions.find((decision) => !decision.result.workflowData)!;
		expect(loser.response.status).toBe(409);
		expect(load(loser.response.body)('h1').text()).toBe('This review is already decided');

		// The same race with decisions in each process's memory: both "win" — why queue mode needs Redis.
		const inMemory = await race({ decisionStore: 'memory' });
		expect(inMemory.filter((decision) => decision.result.workflowData)).toHaveLength(2);
	});

	it('keeps an "All Must Approve" review in progress across a restart', async () => {
		const { definition, result, mails } = await sendRequest({ ...redisParameters, policy: 'all', allowEdits: false });
		const server = serverSide(definition);
		const [adaLink, graceLink] = mails.map(linkIn);
		const [adaToken, graceToken] = await formTokens(server, result.run.data, [adaLink, graceLink]);
		const first = await answer(server, result.run.data, { method: 'POST', url: adaLink, body: { formToken: adaToken, action: 'approve' } }, loadInAnotherProcess());
		expect(first.result.workflowData).toBeUndefined();
		expect(first.response.body).toContain('1 more reviewer must still approve');

		const afterRestart = loadInAnotherProcess();
		const last = await answer(server, result.run.data, { method: 'POST', url: graceLink, body: { formToken: graceToken, action: 'approve' } }, afterRestart);
		const [approved] = last.result.workflowData![OUTPUT_NODES.indexOf('Approved')];
		expect((approved.json.decisions as Array<{ reviewer: string }>).map((decision) => decision.reviewer).sort()).toEqual([
			'ada@example.com',
			'grace@example.com',
		]);
	});

	it('answers 503 without internals while Redis is down, keeps waiting, and takes the decision once Redis is back', async () => {
		const { definition, result, mails } = await sendRequest(redisParameters);
		const link = linkIn(mails[0]);
		const [token] = await formTokens(serverSide(definition), result.run.data, [link]);
		const deadPort = await freePort();
		const outage = serverSide(definition, { symbioticRedisApi: { ...REDIS_CREDENTIAL, port: deadPort } });
		const decide = { method: 'POST', url: link, body: { formToken: token, action: 'approve', finalText: DRAFT } } as const;

		for (const request of [{ method: 'GET', url: link } as const, decide]) {
			const started = Date.now();
			const { response, result: webhookResult } = await answer(outage, result.run.data, request);
			expect(Date.now() - started).toBeLessThan(3000);
			expect(response.status).toBe(503);
			expect(response.headers['retry-after']).toBe('60');
			expect(load(response.body)('h1').text()).toBe('Decisions cannot be recorded right now');
			expect(response.body).toContain('the review is still open');
			expect(response.body).not.toMatch(/ECONNREFUSED|Redis|127\.0\.0\.1|at .*\.(js|ts):\d+/);
			expect(response.body).not.toContain(String(deadPort));
			expect(webhookResult).toEqual({ noWebhookResponse: true });
		}

		const retry = await answer(serverSide(definition), result.run.data, decide);
		expect(retry.response.status).toBe(200);
		expect(retry.result.workflowData![OUTPUT_NODES.indexOf('Approved')][0].json).toMatchObject({ decision: 'approved', reviewer: 'ada@example.com' });
	});

	it('serves the Redis credential\'s "Test" button it names in testedBy', async () => {
		const redisCredential = new HumanApproval().description.credentials!.find((credential) => credential.name === 'symbioticRedisApi')!;
		const test = (data: ICredentialDataDecryptedObject) =>
			new HumanApproval().methods.credentialTest[redisCredential.testedBy as 'symbioticRedisConnectionTest'].call(
				{} as ICredentialTestFunctions,
				{ id: '2', name: 'Redis', type: 'symbioticRedisApi', data },
			);
		await expect(test(REDIS_CREDENTIAL)).resolves.toEqual({ status: 'OK', message: 'Connection successful' });
		const deadPort = await freePort();
		await expect(test({ ...REDIS_CREDENTIAL, port: deadPort })).resolves.toEqual({
			status: 'Error',
			message: `Could not connect to Redis at 127.0.0.1:${deadPort}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`,
		});
	});

	it('fails before sending any link when Redis cannot be reached, naming host:port and what to do', async () => {
		const deadPort = await freePort();
		const before = smtp.messages.length;
		const failed = await runWorkflow(approvalWorkflow(redisParameters), {
			nodeTypes,
			credentials: { ...credentials, symbioticRedisApi: { ...REDIS_CREDENTIAL, port: deadPort } },
			inputItems: [{ json: LEAD }],
		});
		expect(failed.error?.message).toBe(
			`Could not connect to Redis at 127.0.0.1:${deadPort}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`,
		);
		expect(failed.error?.description).toContain('no review link was sent');
		expect(smtp.messages.length).toBe(before);
	});
});

describe('Human Approval node: reviewer-edit metrics, the review log and Ingest Document\'s Review Report', () => {
	let folder: string;
	beforeAll(async () => {
		folder = await mkdtemp(join(tmpdir(), 'symbiotic-review-report-'));
	});
	afterAll(async () => {
		await rm(folder, { recursive: true, force: true });
	});

	const remembering = () => ({ rememberApproved: true, store: 'lancedb', folderPath: folder, collection: 'reviews', namespace: 'acme-approved' });

	/** Sends a review, then (unless `action` is undefined) decides it on Ada's link; returns the item that left. */
	async function review(action: 'approve' | 'reject' | undefined, finalText = DRAFT, parameters: Record<string, unknown> = {}) {
		const { definition, result, mails } = await sendRequest({ ...remembering(), ...parameters });
		expect(result.error).toBeUndefined();
		const server = serverSide(definition);
		if (!action) return { server, result, json: result.outputs[APPROVAL_NODE][2][0].json };
		const link = linkIn(mails[0]);
		const page = (await answer(server, result.run.data, { method: 'GET', url: link })).response.body;
		const decided = await answer(server, result.run.data, { method: 'POST', url: link, body: { formToken: formToken(page), action, finalText } });
		const arrived = arrivals(await resume(server, result.run.data, decided.result.workflowData));
		const [json] = action === 'approve' ? arrived.Approved : arrived.Rejected;
		return { server, result, json };
	}

	it('removes the pending record again when no review link could be sent', async () => {
		const own = await mkdtemp(join(tmpdir(), 'symbiotic-review-log-failed-'));
		try {
			const closedPort = await freePort();
			const failing = { ...credentials, symbioticApprovalApi: { ...credentials.symbioticApprovalApi, smtpPort: closedPort } };
			const result = await runWorkflow(approvalWorkflow({ ...remembering(), folderPath: own }), { nodeTypes, credentials: failing, inputItems: [{ json: LEAD }] });
			expect(result.error).toBeDefined(); // SMTP refused the connection: nothing was sent
			const store = await openStore({ kind: 'lancedb', path: own, table: 'reviews' });
			try {
				expect(await store.listSources('review-log')).toEqual([]);
			} finally {
				await store.close();
			}
		} finally {
			await rm(own, { recursive: true, force: true });
		}
	});

	it('outputs edit ratio and time to decision on every output, logs every decision, and the report counts them', async () => {
		// Approved unchanged.
		const unchanged = (await review('approve')).json;
		expect(unchanged).toMatchObject({ decision: 'approved', editRatio: 0, reviewLog: { stored: true, namespace: 'review-log', sourceId: expect.stringMatching(/^review:/) } });
		// Approved with one word of the draft's 16 changed: 1/16.
		const edited = (await review('approve', DRAFT.replace('29 euros', '39 euros'))).json;
		expect(edited).toMatchObject({ decision: 'approved', editRatio: 0.0625, learning: { stored: true, namespace: 'acme-approved' }, reviewLog: { stored: true } });
		// Rejected: no edit ratio.
		const rejected = (await review('reject', DRAFT)).json;
		expect(rejected).toMatchObject({ decision: 'rejected', editRatio: null, reviewLog: { stored: true } });
		for (const json of [unchanged, edited, rejected]) {
			const requestedAt = Date.parse(String(json.requestedAt));
			const decidedAt = Date.parse(String(json.decidedAt));
			expect(decidedAt).toBeGreaterThanOrEqual(requestedAt);
			expect(json.secondsToDecision).toBe((decidedAt - requestedAt) / 1000);
			expect(json.requestedAt).toBe((json.review as { requestedAt: string }).requestedAt);
		}
		// Timed out after 1.2 seconds: n8n resumes the wait with the item built when the request was sent.
		const waiting = await review(undefined, DRAFT, { limitAmount: 0.02, limitUnit: 'minutes' });
		const timedOut = arrivals(await resume(waiting.server, waiting.result.run.data))['Timed Out'][0];
		expect(timedOut).toMatchObject({ decision: 'timedOut', editRatio: null, secondsToDecision: 1.2, reviewLog: { stored: true } });
		expect(Date.parse(String(timedOut.decidedAt)) - Date.parse(String(timedOut.requestedAt))).toBe(1200);

		// The approved version's metadata in the examples namespace carries the metrics.
		const store = await openStore({ kind: 'lancedb', path: folder, table: 'reviews' });
		try {
			const [hit] = await store.search({ namespace: 'acme-approved', mode: 'keyword', text: '39 euros', topK: 1 });
			expect(hit.chunk.metadata.extra).toMatchObject({ editRatio: 0.0625, secondsToDecision: edited.secondsToDecision, decidedAt: edited.decidedAt });
		} finally {
			await store.close();
		}

		// The timeout counts once its wait has ended.
		await new Promise((done) => setTimeout(done, Math.max(0, Date.parse(String(timedOut.decidedAt)) - Date.now() + 50)));
		const report = await runWorkflow(
			{
				...linearWorkflow({
					name: 'Review Report',
					type: 'n8n-nodes-symbiotic.ingestDocument',
					parameters: { operation: 'reviewReport', store: 'lancedb', folderPath: folder, collection: 'reviews', namespace: 'review-log', period: 'week', periods: 2 },
				}),
				// The report's weeks start in the workflow's time zone when its own field is empty.
				settings: { timezone: 'Europe/Paris' },
			},
			{ nodeTypes: { 'n8n-nodes-symbiotic.ingestDocument': new IngestDocument() } },
		);
		expect(report.error).toBeUndefined();
		const rows = report.outputs['Review Report'][0].map((item) => item.json);
		expect(rows).toHaveLength(2);
		expect(rows.map((row) => row.timeZone)).toEqual(['Europe/Paris', 'Europe/Paris']);
		const [previous, current] = rows;
		expect(String(previous.period)).toMatch(/^\d{4}-W\d{2}$/);
		// Hand-computed: 2 approved, 1 rejected, 1 timed out; approval rate 2/3; median edit ratio of 0 and 0.0625;
		// median time to decision of the three decided reviews (timeouts excluded).
		const seconds = [unchanged, edited, rejected].map((json) => Number(json.secondsToDecision)).sort((a, b) => a - b);
		expect(previous).toMatchObject({ decisions: 0, approvalRate: null, medianEditRatio: null });
		expect(current).toMatchObject({ decisions: 4, approved: 2, rejected: 1, timedOut: 1, approvalRate: 0.6667, medianEditRatio: 0.0313, namespace: 'review-log' });
		expect(current.medianSecondsToDecision).toBeCloseTo(seconds[1], 3);
		expect(String(current.from) <= new Date().toISOString().slice(0, 10)).toBe(true);

		// Output "Report With Chart": one item to e-mail, in French, with the chart as a PNG in the field named.
		const reportWith = (extra: Record<string, unknown>) =>
			runWorkflow(
				{
					...linearWorkflow({
						name: 'Review Report',
						type: 'n8n-nodes-symbiotic.ingestDocument',
						parameters: {
							operation: 'reviewReport', store: 'lancedb', folderPath: folder, collection: 'reviews', namespace: 'review-log', period: 'week', periods: 2,
							reportOutput: 'report', reportLanguage: 'fr', ...extra,
						},
					}),
					settings: { timezone: 'Europe/Paris' },
				},
				{ nodeTypes: { 'n8n-nodes-symbiotic.ingestDocument': new IngestDocument() } },
			);
		const emailed = await reportWith({ chartBinaryProperty: 'graph', reportTitle: 'Nos brouillons' });
		expect(emailed.error).toBeUndefined();
		const [item] = emailed.outputs['Review Report'][0];
		expect(item.json).toMatchObject({ subject: `Nos brouillons – review-log ${String(previous.period)} – ${String(current.period)}`, language: 'fr', timeZone: 'Europe/Paris', namespace: 'review-log' });
		expect(item.json.periods).toEqual(rows.map(({ timeZone: _zone, namespace: _namespace, ...row }) => row));
		expect(String(item.json.html)).toContain('src="cid:graph"');
		expect(String(item.json.html)).toContain('Nos brouillons');
		expect(String(item.json.html)).toContain('66,7');
		expect(String(item.json.text)).toContain('66,7');
		expect(item.binary?.graph).toMatchObject({ mimeType: 'image/png', fileName: `review-report-${String(current.period)}.png` });
		const png = Buffer.from(String(item.binary!.graph.data), 'base64');
		expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

		// The field name becomes the image's Content-ID: a name that cannot be one is refused, naming the field.
		const refused = await reportWith({ chartBinaryProperty: 'my chart' });
		expect(refused.error?.message).toMatch(/letters, digits, "_" or "-" only, got "my chart"/);
		expect((refused.error as { description?: string }).description).toMatch(/"Put Chart in Field"/);
	});
});
