/**
 * The four shipped example workflows, imported unchanged into one real n8n 2.41.1 with the packed pack and run
 * through their real triggers. Only the credentials differ from `npm run dev`: rendered from the same templates
 * with the model at the local OpenAI-compatible test server and the mail at a local SMTP capture. The website
 * and the CRM are local HTTP servers. Last, the canvases are screenshotted into docs/canvas for the README.
 */
import path from 'node:path';

import type { ParsedMail } from 'mailparser';
import { chromium, type Browser } from 'playwright-core';

import { startOpenAITestServer, type ChatCompletionRequest, type OpenAITestServer } from '../support/openaiServer';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { screenshotCanvases } from './support/canvasScreenshots';
import {
	decideByForm,
	EXAMPLE_WORKFLOWS,
	importAndPublish,
	readShippedWorkflow,
	recipients,
	renderExampleCredentials,
	reviewLinkIn,
	startCrmRecorder,
	startWebsite,
	type CrmRecorder,
	type ExampleName,
	type Website,
} from './support/exampleWorkflows';
import { startN8n, type ExecutionDetail, type N8nInstance } from './support/n8nInstance';

const CANVAS_DIR = path.resolve(__dirname, '../../docs/canvas');
const CITED_PRICE_ANSWER = 'The Starter plan costs 29 euros per month and includes five seats [1].';
const REFUSAL = 'I could not find that in our documentation. A colleague will get back to you.';

let n8n: N8nInstance;
let openai: OpenAITestServer;
let smtp: SmtpCapture;
let crm: CrmRecorder;
let website: Website;
let browser: Browser;
let ids: Record<ExampleName, string>;

beforeAll(async () => {
	[openai, smtp, crm, website] = await Promise.all([
		startOpenAITestServer({ apiKey: 'sk-e2e-examples', models: ['test-chat', 'test-embedding'] }),
		startSmtpCapture(),
		startCrmRecorder(),
		startWebsite(),
	]);
	n8n = await startN8n();
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: openai.url, smtpPort: smtp.port }));
	ids = await importAndPublish(n8n, Object.keys(EXAMPLE_WORKFLOWS) as ExampleName[]);
	browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
		timeout: 30_000,
	});
}, 300_000);

afterAll(async () => {
	await browser?.close();
	await n8n?.stop();
	await Promise.all([openai?.close(), smtp?.close(), crm?.close(), website?.close()]);
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

test('Website → knowledge base: every sitemap page is ingested, and a second run skips them all', async () => {
	const first = await n8n.webhook('website-to-knowledge-base', { sitemapUrl: website.sitemapUrl, allowInternalNetwork: true });
	expect(first.status).toBe(200);
	const created = first.json as Array<Record<string, unknown>>;
	expect(created.map((result) => result.sourceId).sort()).toEqual(['/features', '/pricing', '/support'].map((page) => `${website.url}${page}`));
	for (const result of created) expect(result).toMatchObject({ status: 'created', namespace: 'website', chunks: expect.any(Number) });

	const second = await n8n.webhook('website-to-knowledge-base', { sitemapUrl: website.sitemapUrl, allowInternalNetwork: true });
	expect((second.json as Array<{ status: string }>).map((result) => result.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);

	// Without the webhook's explicit permission a local site is refused, naming the option that allows it.
	const refused = await n8n.webhook('website-to-knowledge-base', { sitemapUrl: website.sitemapUrl });
	expect(refused.status).toBeGreaterThanOrEqual(500);
	const failed = await n8n.waitForExecution({ workflowId: ids.website, status: ['error'] });
	expect(failed.data.resultData.error?.message).toMatch(/internal network/i);
});

test('Support chat: cited answers from the knowledge base, remembered for the follow-up, and a refusal when it has no answer', async () => {
	openai.reset();
	openai.setChatResponder(modelReply);
	const ask = async (message: string) => {
		const response = await n8n.webhook('support-chat', { sessionId: 'Ada@Example.com', message });
		expect(response.status).toBe(200);
		return response.json as { sessionId: string; answer: string; grounded: boolean; citations: Array<{ url?: string; n: number }> };
	};

	const first = await ask('What does the Starter plan cost?');
	expect(first.answer).toContain(CITED_PRICE_ANSWER);
	expect(first.grounded).toBe(true);
	expect(first.citations[0]).toMatchObject({ url: `${website.url}/pricing` });
	// The model only saw passages of the knowledge base, the pricing page among them.
	expect(JSON.stringify(openai.requestsTo('/chat/completions')[0].body.messages)).toContain('29 euros per month');

	const followUp = await ask('And how many seats does it include?');
	expect(followUp.grounded).toBe(true);
	const followUpMessages = openai.requestsTo('/chat/completions')[1].body.messages as Array<{ role: string; content: string }>;
	expect(followUpMessages).toEqual(
		expect.arrayContaining([
			expect.objectContaining({ role: 'user', content: 'What does the Starter plan cost?' }),
			expect.objectContaining({ role: 'assistant', content: expect.stringContaining(CITED_PRICE_ANSWER) }),
		]),
	);

	const unknown = await ask('Kubernetes Helm chart?');
	expect(unknown).toMatchObject({ answer: REFUSAL, grounded: false, citations: [] });
});

test('Inbound lead: a cited draft goes to the reviewer; approved in Chromium it is emailed to the lead and the CRM is updated; a rejection tells the owner', async () => {
	openai.reset();
	openai.setChatResponder(modelReply);
	const mailsBefore = smtp.messages.length;
	const afterId = await latestExecutionId(ids.lead);
	const lead = {
		email: 'ada@acme.example',
		name: 'Ada Lovelace',
		company: 'Acme',
		message: 'What does the Starter plan cost for our team?',
		crmUpdateUrl: `${crm.url}/leads/42`,
	};
	expect((await n8n.webhook('new-lead', lead)).status).toBe(200);

	const waiting = await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting', 'error'], afterId });
	expect(waiting.status).toBe('waiting');
	const [draft] = outputOf(waiting, 'Write the reply')!;
	expect(draft).toMatchObject({ grounded: true, citations: [expect.objectContaining({ url: `${website.url}/pricing` })] });
	expect(outputOf(waiting, 'Remember the lead')![0].facts).toMatchObject({ name: 'Ada Lovelace', company: 'Acme' });

	const approvalMail = await nextMail(mailsBefore + 1);
	expect(recipients(approvalMail)).toEqual(['owner@example.com']);
	expect(approvalMail.subject).toBe('Reply to Ada Lovelace (Acme)');
	expect(approvalMail.text).toContain(CITED_PRICE_ANSWER);
	expect(approvalMail.text).toContain(`${website.url}/pricing`);

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
	expect(reply.text?.trim()).toBe(edited);
	const crmCall = await crm.waitForCall(1);
	expect(crmCall).toMatchObject({
		method: 'POST',
		path: '/leads/42',
		body: { email: 'ada@acme.example', status: 'replied', reply: edited, approvedBy: 'owner@example.com', editedByReviewer: true },
	});

	// A second lead, rejected on the review page: the owner hears about it, nothing reaches the lead or the CRM.
	const rejectedAfter = finished.id;
	expect((await n8n.webhook('new-lead', { ...lead, email: 'grace@globex.example', name: 'Grace', company: 'Globex', crmUpdateUrl: undefined })).status).toBe(200);
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
}, 240_000);

test('Content draft: brand guide in, JSON draft reviewed with edits, and the approved version becomes the next draft\'s example', async () => {
	openai.reset();
	openai.setChatResponder(modelReply);
	const guide = await n8n.webhook('brand-guide', {
		title: 'Brand voice',
		text: 'We sound like a friendly coach for every webinar and campaign: short sentences, active verbs, no jargon. Never write "synergy".',
	});
	expect(guide.json).toMatchObject({ status: 'created', namespace: 'brand-guide' });

	const mailsBefore = smtp.messages.length;
	const afterId = await latestExecutionId(ids.content);
	expect((await n8n.webhook('content-brief', { brief: 'Announce our spring webinar on campaign planning' })).status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: ids.content, status: ['waiting', 'error'], afterId });
	expect(waiting.status).toBe('waiting');
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
	expect((await n8n.webhook('content-brief', { brief: 'Invite customers to our autumn webinar' })).status).toBe(200);
	await n8n.waitForExecution({ workflowId: ids.content, status: ['waiting'], afterId: finished.id });
	const nextDraftRequest = openai.requestsTo('/chat/completions').at(-1)!.body;
	expect(JSON.stringify(nextDraftRequest.messages)).toContain('plan campaigns in half the time');
}, 240_000);

test('canvas screenshots of the four example workflows', async () => {
	const workflows = (Object.keys(EXAMPLE_WORKFLOWS) as ExampleName[]).map((name) => ({
		name: EXAMPLE_WORKFLOWS[name],
		id: ids[name],
		nodeCount: readShippedWorkflow(name).nodes.length,
	}));
	const files = await screenshotCanvases(n8n, browser, workflows, CANVAS_DIR);
	expect(files.map((file) => path.basename(file))).toEqual(workflows.map((workflow) => `${workflow.name}.png`));
}, 240_000);

test('without a model server the Generate steps stop with a message that says to set OPENAI_BASE_URL', async () => {
	const [model] = (await renderExampleCredentials({ openAiBaseUrl: '', smtpPort: smtp.port })).filter(
		(credential) => credential.type === 'symbioticModelApi',
	);
	await n8n.importCredentials(model);
	const afterId = await latestExecutionId(ids.support);
	await n8n.webhook('support-chat', { sessionId: 'no-model@example.com', message: 'What does the Starter plan cost?' });
	const failed = await n8n.waitForExecution({ workflowId: ids.support, status: ['error'], afterId });
	expect(failed.data.resultData.lastNodeExecuted).toBe('Answer from sources');
	expect(failed.data.resultData.error?.message).toMatch(/OPENAI_BASE_URL is not set/);
});
