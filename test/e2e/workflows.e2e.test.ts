/**
 * The four shipped example workflows, imported into one real n8n 2.41.1 with the packed pack and run through
 * their real triggers, with the webhook token of their Header Auth credential. Only the credentials and the
 * Settings nodes differ from `npm run dev`: credentials rendered from the same templates with the model at the
 * local OpenAI-compatible test server and the mail at a local SMTP capture; the website's sitemap and the CRM
 * endpoint set in Settings, as a user does, to local HTTP servers. Last, the canvases are screenshotted into
 * docs/canvas for the README.
 */
import path from 'node:path';

import type { ParsedMail } from 'mailparser';
import { NodeHelpers, type INode, type INodeTypeDescription } from 'n8n-workflow';
import { type Browser } from 'playwright-core';

import { startOpenAITestServer, type ChatCompletionRequest, type OpenAITestServer } from '../support/openaiServer';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { screenshotCanvases } from './support/canvasScreenshots';
import {
	CITATION_MARKER,
	decideByForm,
	EXAMPLE_WORKFLOWS,
	importAndPublish,
	nodeNamed,
	readShippedWorkflow,
	recipients,
	renderExampleCredentials,
	reviewLinkIn,
	settingsOf,
	startCrmRecorder,
	startWebsite,
	WEBHOOK_AUTH,
	withSettings,
	type CrmRecorder,
	type ExampleName,
	type Website,
} from './support/exampleWorkflows';
import { startN8n, type ExecutionDetail, type N8nInstance, type WebhookResponse } from './support/n8nInstance';
import { launchChromium } from '../support/chromium';

const CANVAS_DIR = path.resolve(__dirname, '../../docs/canvas');
const PRICE_FACT = 'The Starter plan costs 29 euros per month and includes five seats';
const CITED_PRICE_ANSWER = `${PRICE_FACT} [1].`;
const REFUSAL = 'I could not find that in our documentation. A colleague will get back to you.';
const ALL_NAMES = Object.keys(EXAMPLE_WORKFLOWS) as ExampleName[];

let n8n: N8nInstance;
let openai: OpenAITestServer;
let smtp: SmtpCapture;
let crm: CrmRecorder;
/** Where a lead's request body points `crmUpdateUrl`: must never be called. */
let elsewhere: CrmRecorder;
let website: Website;
let browser: Browser;
let ids: Record<ExampleName, string>;

/** Calls an example webhook the way a configured integration does: with the token header. */
function call(webhookPath: string, body?: unknown): Promise<WebhookResponse> {
	return n8n.webhook(webhookPath, body, { headers: WEBHOOK_AUTH });
}

beforeAll(async () => {
	[openai, smtp, crm, elsewhere, website] = await Promise.all([
		startOpenAITestServer({ apiKey: 'sk-e2e-examples', models: ['test-chat', 'test-embedding'] }),
		startSmtpCapture(),
		startCrmRecorder(),
		startCrmRecorder(),
		startWebsite(),
	]);
	n8n = await startN8n();
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: openai.url, smtpPort: smtp.port }));
	ids = await importAndPublish(n8n, ALL_NAMES, {
		// What a user types into the Settings nodes: their sitemap (here on this machine, so internal network on)
		// and their CRM endpoint.
		website: (workflow) => withSettings(workflow, { sitemapUrl: website.sitemapUrl, allowInternalNetwork: true }),
		lead: (workflow) => withSettings(workflow, { crmUpdateUrl: `${crm.url}/leads` }),
	});
	browser = await launchChromium();
}, 300_000);

afterAll(async () => {
	await browser?.close();
	await n8n?.stop();
	await Promise.all([openai?.close(), smtp?.close(), crm?.close(), elsewhere?.close(), website?.close()]);
}, 120_000);

/** The model: a cited answer to questions the pricing page answers, JSON for drafts, an uncited guess otherwise. */
function modelReply(request: ChatCompletionRequest): string {
	if (request.response_format) {
		return JSON.stringify({
			subject: 'Plan your spring campaigns together',
			body: 'Join our spring webinar and see how your team plans campaigns on one board.',
			socialPost: 'Spring webinar: plan campaigns together on one board. Save your seat!',
		});
	}
	const question = String(request.messages.filter((message) => message.role === 'user').at(-1)?.content ?? '');
	// Hybrid search always finds the nearest passages, so the pricing page may be among the sources of any question:
	// the model guesses uncited about what no page covers.
	if (/kubernetes/i.test(question)) return 'Yes, we probably support that.';
	if (/starter|seats|cost/i.test(question)) return `Hi, thanks for asking! ${CITED_PRICE_ANSWER} Best regards, The sales team`;
	return 'Yes, we probably support that.';
}

function outputOf(execution: ExecutionDetail, node: string, output = 0): Array<Record<string, any>> | undefined {
	return execution.data.resultData.runData[node]?.at(-1)?.data?.main?.[output]?.map((item) => item.json);
}

async function latestExecutionId(workflowId: string): Promise<string | undefined> {
	return (await n8n.executions(workflowId, 1))[0]?.id;
}

async function nextMail(count: number): Promise<ParsedMail> {
	return await smtp.waitForMessage(count, 30_000);
}

test('every webhook of the examples requires the token: without it n8n answers 403 and runs nothing', async () => {
	const webhooks = ALL_NAMES.flatMap((name) =>
		readShippedWorkflow(name)
			.nodes.filter((node) => node.type === 'n8n-nodes-base.webhook')
			.map((node) => ({ name, node })),
	);
	expect(webhooks.map(({ node }) => node.parameters.path).sort()).toEqual(
		['brand-guide', 'content-brief', 'new-lead', 'support-chat', 'website-to-knowledge-base'],
	);
	for (const { node } of webhooks) {
		expect(node.parameters.authentication).toBe('headerAuth');
		expect(node.credentials?.httpHeaderAuth?.id).toBe('symbWebhookAuth1');
	}

	const executionsBefore = (await n8n.executions()).length;
	const body = { email: 'eve@evil.example', name: 'Eve', message: 'hi', title: 'Brand voice', text: 'Say synergy.', brief: 'x', sessionId: 'eve', crmUpdateUrl: `${elsewhere.url}/x` };
	for (const { node } of webhooks) {
		const path = String(node.parameters.path);
		const without = await n8n.webhook(path, body);
		const wrong = await n8n.webhook(path, body, { headers: { authorization: 'Bearer not-the-token' } });
		expect({ path, without: without.status, wrong: wrong.status }).toEqual({ path, without: 403, wrong: 403 });
	}
	await new Promise((resolve) => setTimeout(resolve, 1_000));
	expect(await n8n.executions()).toHaveLength(executionsBefore);
	expect(elsewhere.calls).toHaveLength(0);
	expect(openai.count()).toBe(0);
});

test('Website → knowledge base: the sitemap in Settings is ingested (embedded, the model being set), a second run skips it all, and a request body changes nothing', async () => {
	openai.reset();
	// The body asks for another site and for the internal network to be off: Settings decide, not the request.
	const ignored = { sitemapUrl: `${elsewhere.url}/sitemap.xml`, namespace: 'other-client', allowInternalNetwork: false };
	const first = await call('website-to-knowledge-base', ignored);
	expect(first.status).toBe(200);
	const created = first.json as Array<Record<string, unknown>>;
	expect(created.map((result) => result.sourceId).sort()).toEqual(['/features', '/pricing', '/support'].map((page) => `${website.url}${page}`));
	for (const result of created) {
		expect(result).toMatchObject({ status: 'created', namespace: 'website', chunks: expect.any(Number), embedded: expect.any(Number) });
		expect(result.embedded).toBeGreaterThan(0);
	}
	expect(openai.count('/embeddings')).toBeGreaterThan(0);
	expect(elsewhere.calls).toHaveLength(0);

	const second = await call('website-to-knowledge-base');
	expect((second.json as Array<{ status: string }>).map((result) => result.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
});

test('Website → knowledge base: nothing in a request switches on the internal network', async () => {
	const shipped = readShippedWorkflow('website');
	expect(settingsOf(shipped)).toMatchObject({ allowInternalNetwork: false, sitemapUrl: 'https://www.example.com/sitemap.xml' });
	expect(nodeNamed(shipped, 'Ingest Document').parameters.options.allowInternalNetwork).toBe('={{ $json.allowInternalNetwork }}');

	// A copy with the shipped setting (internal network off) pointed at the local site, under another path.
	const copy = withSettings(shipped, { sitemapUrl: website.sitemapUrl });
	copy.id = 'symbWebsiteOff01';
	copy.name = 'Website → knowledge base (internal network off)';
	const webhook = nodeNamed(copy, 'Webhook');
	webhook.parameters.path = 'website-internal-off';
	webhook.webhookId = '5a1e0001-0000-4000-8000-0000000000ff';
	webhook.id = webhook.webhookId;
	const copyId = await n8n.importWorkflow(copy);
	await n8n.publish(copyId);
	const afterId = (await n8n.executions(copyId, 1))[0]?.id;

	const refused = await call('website-internal-off', { allowInternalNetwork: true, options: { allowInternalNetwork: true } });
	expect(refused.status).toBeGreaterThanOrEqual(500);
	const failed = await n8n.waitForExecution({ workflowId: copyId, status: ['error', 'success'], afterId });
	expect(failed.status).toBe('error');
	expect(failed.data.resultData.error?.message).toMatch(/internal network/i);
});

test('Support chat: answers from the knowledge base found by hybrid search, without citation markers for the customer, remembered for the follow-up, and a refusal when it has no answer', async () => {
	openai.reset();
	openai.setChatResponder(modelReply);
	const ask = async (message: string) => {
		const response = await call('support-chat', { sessionId: 'Ada@Example.com', message });
		expect(response.status).toBe(200);
		return response.json as { sessionId: string; answer: string; grounded: boolean; citations: Array<{ url?: string; n: number }> };
	};

	const afterId = await latestExecutionId(ids.support);
	const first = await ask('What does the Starter plan cost?');
	expect(first.answer).toContain(PRICE_FACT);
	expect(first.answer).not.toMatch(CITATION_MARKER);
	expect(first.grounded).toBe(true);
	expect(first.citations[0]).toMatchObject({ url: `${website.url}/pricing` });
	// The model only saw passages of the knowledge base, the pricing page among them.
	expect(JSON.stringify(openai.requestsTo('/chat/completions')[0].body.messages)).toContain('29 euros per month');
	// Search Mode "Auto" with the model credential set: hybrid, the question embedded by the model server.
	const execution = await n8n.waitForExecution({ workflowId: ids.support, afterId });
	expect(outputOf(execution, 'Search the knowledge base')![0]).toMatchObject({ mode: 'hybrid' });
	expect(openai.requestsTo('/embeddings').map((request) => request.body.input)).toContainEqual(
		expect.arrayContaining(['What does the Starter plan cost?']),
	);

	const followUp = await ask('And how many seats does it include?');
	expect(followUp.grounded).toBe(true);
	const followUpMessages = openai.requestsTo('/chat/completions')[1].body.messages as Array<{ role: string; content: string }>;
	expect(followUpMessages).toEqual(
		expect.arrayContaining([
			expect.objectContaining({ role: 'user', content: 'What does the Starter plan cost?' }),
			expect.objectContaining({ role: 'assistant', content: expect.stringContaining(PRICE_FACT) }),
		]),
	);

	const unknown = await ask('Kubernetes Helm chart?');
	expect(unknown).toMatchObject({ answer: REFUSAL, grounded: false, citations: [] });
});

test('Inbound lead: a cited draft goes to the reviewer; approved in Chromium the lead gets it without citation markers and the CRM set in Settings is updated, never an address from the request; a rejection tells the owner', async () => {
	expect(settingsOf(readShippedWorkflow('lead')).crmUpdateUrl).toBe('');
	openai.reset();
	openai.setChatResponder(modelReply);
	const mailsBefore = smtp.messages.length;
	const afterId = await latestExecutionId(ids.lead);
	const lead = {
		email: 'ada@acme.example',
		name: 'Ada Lovelace',
		company: 'Acme',
		message: 'What does the Starter plan cost for our team?',
		// Anyone can put an address here: it must not receive the lead's e-mail and our reply.
		crmUpdateUrl: `${elsewhere.url}/collect`,
	};
	expect((await call('new-lead', lead)).status).toBe(200);

	const waiting = await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting', 'error'], afterId });
	expect(waiting.status).toBe('waiting');
	const [draft] = outputOf(waiting, 'Write the reply')!;
	expect(draft).toMatchObject({ grounded: true, citations: [expect.objectContaining({ url: `${website.url}/pricing` })] });
	expect(outputOf(waiting, 'Search our website')![0]).toMatchObject({ mode: 'hybrid' });
	expect(outputOf(waiting, 'Remember the lead')![0].facts).toMatchObject({ name: 'Ada Lovelace', company: 'Acme' });

	const approvalMail = await nextMail(mailsBefore + 1);
	expect(recipients(approvalMail)).toEqual(['owner@example.com']);
	expect(approvalMail.subject).toBe('Reply to Ada Lovelace (Acme)');
	// The reviewer checks the cited version against its sources.
	expect(approvalMail.text).toContain(CITED_PRICE_ANSWER);
	expect(approvalMail.text).toContain(`${website.url}/pricing`);
	expect(approvalMail.text).not.toContain(elsewhere.url);

	const edited = `Hi Ada,\n\n${CITED_PRICE_ANSWER} Shall we book a demo?\n\nThe sales team`;
	const page = await browser.newPage();
	try {
		await page.goto(reviewLinkIn(approvalMail));
		await page.fill('textarea[name=finalText]', edited);
		await Promise.all([page.waitForLoadState('load'), page.click('button[value=approve]')]);
		await page.waitForSelector('h1');
		expect(await page.textContent('h1')).toBe('Approved');
	} finally {
		await page.close();
	}

	const finished = await n8n.waitForExecution({ workflowId: ids.lead, status: ['success', 'error'], afterId });
	expect(finished.status).toBe('success');
	const reply = await nextMail(mailsBefore + 2);
	expect(recipients(reply)).toEqual(['ada@acme.example']);
	expect(reply.subject).toBe('Re: your question, Ada Lovelace');
	// The customer version of the reviewer's edit: the same words, no [1] that would point nowhere.
	const sent = reply.text?.trim() ?? '';
	expect(sent).not.toMatch(CITATION_MARKER);
	expect(sent).toContain('Hi Ada,');
	expect(sent).toContain(PRICE_FACT);
	expect(sent).toContain('Shall we book a demo?');
	const crmCall = await crm.waitForCall(1);
	expect(crmCall).toMatchObject({
		method: 'POST',
		path: '/leads',
		body: { email: 'ada@acme.example', status: 'replied', approvedBy: 'owner@example.com', editedByReviewer: true },
	});
	expect(String((crmCall.body as { reply?: string }).reply).trim()).toBe(sent);
	expect(elsewhere.calls).toHaveLength(0);

	// A second lead, rejected on the review page: the owner hears about it, nothing reaches the lead or the CRM.
	const rejectedAfter = finished.id;
	expect((await call('new-lead', { ...lead, email: 'grace@globex.example', name: 'Grace', company: 'Globex' })).status).toBe(200);
	await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting'], afterId: rejectedAfter });
	const secondApproval = await nextMail(mailsBefore + 3);
	expect(await decideByForm(reviewLinkIn(secondApproval), { action: 'reject', comment: 'I will call her myself.' })).toEqual({ status: 200, heading: 'Rejected' });
	const rejected = await n8n.waitForExecution({ workflowId: ids.lead, status: ['success', 'error'], afterId: rejectedAfter });
	expect(rejected.status).toBe('success');
	const ownerMail = await nextMail(mailsBefore + 4);
	expect(recipients(ownerMail)).toEqual(['owner@example.com']);
	expect(ownerMail.subject).toBe('Lead Grace (Globex) not answered: reply rejected');
	expect(ownerMail.text).toContain('I will call her myself.');
	expect(outputOf(rejected, 'Send the reply')).toBeUndefined();
	expect(crm.calls).toHaveLength(1);
	expect(elsewhere.calls).toHaveLength(0);
}, 240_000);

test('Content draft: brand guide in, JSON draft reviewed with edits, and the approved version becomes the next draft\'s example', async () => {
	openai.reset();
	openai.setChatResponder(modelReply);
	const guide = await call('brand-guide', {
		title: 'Brand voice',
		text: 'We sound like a friendly coach for every webinar and campaign: short sentences, active verbs, no jargon. Never write "synergy".',
	});
	expect(guide.json).toMatchObject({ status: 'created', namespace: 'brand-guide', embedded: 1 });

	const mailsBefore = smtp.messages.length;
	const afterId = await latestExecutionId(ids.content);
	expect((await call('content-brief', { brief: 'Announce our spring webinar on campaign planning' })).status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: ids.content, status: ['waiting', 'error'], afterId });
	expect(waiting.status).toBe('waiting');
	expect(outputOf(waiting, 'Brand guide')![0]).toMatchObject({ mode: 'hybrid', count: 1 });
	const [generated] = outputOf(waiting, 'Draft in brand voice')!;
	expect(generated.json).toEqual({
		subject: 'Plan your spring campaigns together',
		body: expect.stringContaining('spring webinar'),
		socialPost: expect.any(String),
	});
	const draftRequest = openai.requestsTo('/chat/completions')[0].body;
	expect(draftRequest.response_format.type).toBe('json_schema');
	expect(JSON.stringify(draftRequest.messages)).toContain('friendly coach');

	const approvalMail = await nextMail(mailsBefore + 1);
	expect(approvalMail.subject).toBe('Content draft: Announce our spring webinar on campaign planning');
	const approvedText = 'Subject: Plan your spring campaigns together\n\nOne board, one team: join our spring webinar and plan campaigns in half the time.';
	expect(await decideByForm(reviewLinkIn(approvalMail), { action: 'approve', finalText: approvedText })).toEqual({ status: 200, heading: 'Approved' });
	const finished = await n8n.waitForExecution({ workflowId: ids.content, status: ['success', 'error'], afterId });
	expect(finished.status).toBe('success');
	expect(outputOf(finished, 'Ready to publish')).toEqual([
		{ approvedText, approvedBy: 'owner@example.com', editedByReviewer: true, rememberedAsExample: true },
	]);

	// The next brief is drafted with the approved version as an example.
	expect((await call('content-brief', { brief: 'Invite customers to our autumn webinar' })).status).toBe(200);
	await n8n.waitForExecution({ workflowId: ids.content, status: ['waiting'], afterId: finished.id });
	const nextDraftRequest = openai.requestsTo('/chat/completions').at(-1)!.body;
	expect(JSON.stringify(nextDraftRequest.messages)).toContain('plan campaigns in half the time');
	const next = await n8n.waitForExecution({ workflowId: ids.content, status: ['waiting'], afterId: finished.id });
	expect(outputOf(next, 'Approved examples')![0]).toMatchObject({ mode: 'hybrid', count: 1 });
}, 240_000);

test('every example can be published from the editor: no active, connected node has a parameter the editor flags', async () => {
	// The editor refuses to publish while a connected, active node has issues (n8n 2.41: hasPublishBlockingIssues);
	// the REST API does not check, so this computes them as the editor does, from the node types n8n serves.
	const types = (await (await n8n.fetchAsOwner('/types/nodes.json')).json()) as INodeTypeDescription[];
	const problems: string[] = [];
	for (const name of ALL_NAMES) {
		const workflow = readShippedWorkflow(name);
		const connections = workflow.connections as Record<string, Record<string, Array<Array<{ node: string }> | null>>>;
		const connected = new Set(
			Object.entries(connections).flatMap(([source, byType]) => [
				source,
				...Object.values(byType).flatMap((outputs) => outputs.flatMap((targets) => (targets ?? []).map((target) => target.node))),
			]),
		);
		for (const node of workflow.nodes) {
			if (node.disabled || !connected.has(node.name)) continue;
			const version = node.typeVersion as number;
			const type = types.find(
				(candidate) => candidate.name === node.type && (Array.isArray(candidate.version) ? candidate.version.includes(version) : candidate.version === version),
			);
			if (!type) {
				problems.push(`${name} / ${node.name}: n8n has no node type ${node.type} v${version}`);
				continue;
			}
			const parameters = NodeHelpers.getNodeParameters(type.properties, node.parameters, true, false, node as unknown as INode, type);
			const issues = NodeHelpers.getNodeParametersIssues(type.properties, { ...node, parameters } as unknown as INode, type);
			if (issues) problems.push(`${name} / ${node.name}: ${JSON.stringify(issues)}`);
		}
	}
	expect(problems).toEqual([]);
});

test('an n8n without a licence key (unregistered community edition) allows n8n Evaluations on no workflow: why Measure your knowledge base also measures without them', async () => {
	const settings = await n8n.rest<{ evaluation: { quota: number } }>('GET', '/settings');
	expect(settings.evaluation.quota).toBe(0);
});

test('canvas screenshots of the example workflows', async () => {
	const workflows = (Object.keys(EXAMPLE_WORKFLOWS) as ExampleName[]).map((name) => ({
		name: EXAMPLE_WORKFLOWS[name],
		id: ids[name],
		nodeCount: readShippedWorkflow(name).nodes.length,
	}));
	const files = await screenshotCanvases(n8n, browser, workflows, CANVAS_DIR);
	expect(files.map((file) => path.basename(file))).toEqual(workflows.map((workflow) => `${workflow.name}.png`));
}, 240_000);

test('without a model the searches run by keywords (Auto), and the Generate steps stop with a message that says to set OPENAI_BASE_URL', async () => {
	const [model] = (await renderExampleCredentials({ openAiBaseUrl: '', smtpPort: smtp.port })).filter(
		(credential) => credential.type === 'symbioticModelApi',
	);
	await n8n.importCredentials(model);
	const afterId = await latestExecutionId(ids.support);
	openai.reset();
	await call('support-chat', { sessionId: 'no-model@example.com', message: 'What does the Starter plan cost?' });
	const failed = await n8n.waitForExecution({ workflowId: ids.support, status: ['error'], afterId });
	expect(failed.data.resultData.lastNodeExecuted).toBe('Answer from sources');
	expect(failed.data.resultData.error?.message).toMatch(/OPENAI_BASE_URL is not set/);
	const [search] = outputOf(failed, 'Search the knowledge base')!;
	expect(search).toMatchObject({ mode: 'keyword', modeReason: 'no embedding model configured' });
	expect(search.hits[0]).toMatchObject({ url: `${website.url}/pricing` });
	expect(openai.count()).toBe(0);
});
