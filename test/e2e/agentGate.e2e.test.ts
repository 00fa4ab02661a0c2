/**
 * The human gate on an AI Agent's action in a real n8n 2.41.1 with the packed pack: Webhook → AI Agent v3.1 with
 * the Symbiotic Chat Model (the local OpenAI-compatible test server, scripted to call the tool) and "Send e-mail
 * to the lead" — Send Email After Review as a tool (`n8n-nodes-symbiotic.symbioticReviewedEmailTool`, the type
 * n8n generates for a usableAsTool node). The tool call puts the execution to wait and mails the reviewer a signed
 * link (SMTP capture); the reviewer decides on our review page, and the agent resumes with the answer:
 * - approved with an edit in Chromium → the e-mail the lead gets carries the edit, and the model reads "sent";
 * - rejected with a comment → nothing is sent, and the next model request carries the rejection and the comment;
 * - nobody decides in time → nothing is sent, and the model reads "no decision in time".
 */
import type { ParsedMail } from 'mailparser';
import { type Browser } from 'playwright-core';

import { startOpenAITestServer, type ChatMessage, type OpenAITestServer } from '../support/openaiServer';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { agentGateWorkflow, AGENT_GATE_TOOL_NAME, decideByForm, recipients, reviewLinkIn } from './support/exampleWorkflows';
import { startN8n, type ExecutionDetail, type N8nInstance, type N8nMode } from './support/n8nInstance';
import { launchChromium } from '../support/chromium';

const MODEL_KEY = 'sk-e2e-agent-gate';
const SECRET = 'e2e-agent-gate-signing-secret-0123456789-abcdefghij';
const REVIEWER = 'sales.lead@example.com';
const LEAD = 'ada@lovelace.example';
const PROPOSED = { to: LEAD, subject: 'Your Starter plan', body: 'Hi Ada,\n\nthe Starter plan costs 29 euros.\n\nBest, Sam' };
const EDITED_BODY = 'Hi Ada,\n\nthe Starter plan costs 29 euros per month for five seats.\n\nBest, Sam';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

let n8n: N8nInstance;
let smtp: SmtpCapture;
let openai: OpenAITestServer;
let browser: Browser;

beforeAll(async () => {
	[smtp, openai] = await Promise.all([startSmtpCapture(), startOpenAITestServer({ apiKey: MODEL_KEY })]);
	browser = await launchChromium();
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await Promise.all([smtp?.close(), openai?.close()]);
}, 120_000);

async function startGateN8n(mode: N8nMode): Promise<void> {
	n8n = await startN8n({ mode, env: { NODE_ENV: 'production' } });
	await n8n.importCredentials([
		{
			id: 'gateApprovalCred1',
			name: 'E2e approval',
			type: 'symbioticApprovalApi',
			data: { signingSecret: SECRET, smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpSecure: false, fromAddress: 'sam@example.com' },
		},
		{
			id: 'gateModelCred001',
			name: 'E2e model',
			type: 'symbioticModelApi',
			data: { baseUrl: openai.url, apiKey: MODEL_KEY, chatModel: 'test-chat', embeddingModel: 'test-embedding' },
		},
	]);
}

/** Publishes a gated agent, scripts the model (one tool call, then a final answer) and starts one run. */
async function startGatedRun(id: string, limit: { amount: number; unit: 'hours' | 'minutes' }) {
	await n8n.importWorkflow(
		agentGateWorkflow({ id, webhookPath: `gate-${id}`, reviewers: REVIEWER, approvalCredentialId: 'gateApprovalCred1', modelCredentialId: 'gateModelCred001', limit }),
	);
	await n8n.publish(id);
	const modelCallsBefore = openai.requestsTo('/chat/completions').length;
	openai.queueChatReplies(
		{ toolCalls: [{ id: `call_${id}`, name: AGENT_GATE_TOOL_NAME, arguments: JSON.stringify(PROPOSED) }] },
		'I have taken care of the e-mail to Ada.',
	);
	const mailsBefore = smtp.messages.length;
	const started = await n8n.webhook(`gate-${id}`, { message: 'Ada asked for the Starter price. E-mail her the price.', leadEmail: LEAD });
	expect(started.status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: id, status: ['waiting', 'error', 'success'], timeoutMs: 90_000 });
	expect(waiting.status).toBe('waiting');
	const reviewMail = await smtp.waitForMessage(mailsBefore + 1, 20_000);
	return { waiting, reviewMail, modelCallsBefore, mailsBefore };
}

/** The tool answer the model got in its next request (the `tool` message of our call). */
function toolAnswerSeenByModel(modelCallsBefore: number, id: string): string {
	const requests = openai.requestsTo('/chat/completions').slice(modelCallsBefore);
	expect(requests.length).toBe(2);
	const messages = (requests[1].body as { messages: ChatMessage[] }).messages;
	const tool = messages.find((message) => message.role === 'tool' && (message as { tool_call_id?: string }).tool_call_id === `call_${id}`);
	expect(tool).toBeDefined();
	return typeof tool!.content === 'string' ? tool!.content : JSON.stringify(tool!.content);
}

function mailsTo(address: string, from = 0): ParsedMail[] {
	return smtp.messages.slice(from).filter((mail) => recipients(mail).includes(address));
}

function agentOutput(execution: ExecutionDetail): unknown {
	return execution.data.resultData.runData.Agent?.at(-1)?.data?.main?.[0]?.[0]?.json;
}

describe.each(['regular', 'queue'] as const)('the gated agent action in n8n (%s mode)', (mode) => {
	const prefix = mode === 'regular' ? 'gateR' : 'gateQ';
	beforeAll(async () => await startGateN8n(mode), 300_000);
	afterAll(async () => await n8n?.stop(), 120_000);

	test('the agent waits for the reviewer, who edits and approves in Chromium: the lead gets the edited e-mail', async () => {
		const { waiting, reviewMail, modelCallsBefore, mailsBefore } = await startGatedRun(`${prefix}Approve0001`, { amount: 72, unit: 'hours' });
		expect(recipients(reviewMail)).toEqual([REVIEWER]);
		expect(reviewMail.text).toContain(`To: ${LEAD}`);
		expect(reviewMail.text).toContain('Subject: Your Starter plan');
		expect(mailsTo(LEAD, mailsBefore)).toEqual([]);
		// Nothing goes further while the reviewer has not decided: one model call so far.
		expect(openai.requestsTo('/chat/completions').length - modelCallsBefore).toBe(1);

		const page = await browser.newPage({ viewport: { width: 412, height: 915 }, userAgent: CHROME_UA });
		try {
			await page.goto(reviewLinkIn(reviewMail));
			const shown = await page.inputValue('textarea[name=finalText]');
			expect(shown).toBe(`To: ${LEAD}\nSubject: Your Starter plan\n\n${PROPOSED.body}`);
			await page.fill('textarea[name=finalText]', `To: ${LEAD}\nSubject: Your Starter plan (per month)\n\n${EDITED_BODY}`);
			await page.fill('textarea[name=comment]', 'Say per month.');
			await Promise.all([page.waitForLoadState('load'), page.click('button[value=approve]')]);
			await page.waitForSelector('h1');
			expect(await page.textContent('h1')).toBe('Approved');
		} finally {
			await page.close();
		}

		const finished = await n8n.waitForExecution({ workflowId: `${prefix}Approve0001`, status: ['success', 'error', 'crashed'], timeoutMs: 90_000 });
		expect(finished.id).toBe(waiting.id);
		expect(finished.status).toBe('success');
		const sent = mailsTo(LEAD, mailsBefore);
		expect(sent).toHaveLength(1);
		expect(sent[0].subject).toBe('Your Starter plan (per month)');
		expect(sent[0].text?.trim()).toBe(EDITED_BODY);
		expect(sent[0].from?.text).toContain('sam@example.com');

		const answer = toolAnswerSeenByModel(modelCallsBefore, `${prefix}Approve0001`);
		expect(answer).toContain('"status":"sent"');
		expect(answer).toContain(`sent to ${LEAD}`);
		expect(answer).toMatch(/changed the subject, body/);
		expect(answer).toContain('Say per month.');
		expect(agentOutput(finished)).toMatchObject({ output: 'I have taken care of the e-mail to Ada.' });
		expect(JSON.stringify(finished.data)).not.toContain(SECRET);

		// A late click (the front door of the published workflow) shows who decided; nothing is sent twice.
		const late = await fetch(reviewLinkIn(reviewMail), { signal: AbortSignal.timeout(30_000) });
		expect(late.status).toBe(200);
		expect(await late.text()).toMatch(/already decided/i);
		expect(mailsTo(LEAD, mailsBefore)).toHaveLength(1);
	}, 240_000);

	test('a rejection reaches the agent: nothing is sent and the next model request carries the comment', async () => {
		const { reviewMail, modelCallsBefore, mailsBefore } = await startGatedRun(`${prefix}Reject00001`, { amount: 72, unit: 'hours' });
		const decided = await decideByForm(reviewLinkIn(reviewMail), { action: 'reject', comment: 'Do not quote prices by e-mail; offer a call.' });
		expect(decided.status).toBe(200);
		const finished = await n8n.waitForExecution({ workflowId: `${prefix}Reject00001`, status: ['success', 'error', 'crashed'], timeoutMs: 90_000 });
		expect(finished.status).toBe('success');
		const answer = toolAnswerSeenByModel(modelCallsBefore, `${prefix}Reject00001`);
		expect(answer).toContain('"status":"rejected"');
		expect(answer).toContain(`The reviewer rejected the e-mail to ${LEAD}: \\"Do not quote prices by e-mail; offer a call.\\"`);
		expect(answer).toContain('Nothing was sent');
		expect(mailsTo(LEAD, mailsBefore)).toEqual([]);
	}, 240_000);

	test('nobody decides in time: the agent reads "no decision in time" and nothing is sent', async () => {
		const { reviewMail, modelCallsBefore, mailsBefore } = await startGatedRun(`${prefix}Timeout0001`, { amount: 0.25, unit: 'minutes' });
		const finished = await n8n.waitForExecution({ workflowId: `${prefix}Timeout0001`, status: ['success', 'error', 'crashed'], timeoutMs: 150_000 });
		expect(finished.status).toBe('success');
		const answer = toolAnswerSeenByModel(modelCallsBefore, `${prefix}Timeout0001`);
		expect(answer).toContain('"status":"timedOut"');
		expect(answer).toContain('No decision in time');
		expect(answer).toContain('nothing was sent');
		// n8n hands the waiting item to the model on timeout: the review request in it is sealed, not readable.
		expect(answer).not.toContain(REVIEWER);
		expect(mailsTo(LEAD, mailsBefore)).toEqual([]);
		// A late click finds the review closed, and still sends nothing.
		const late = await fetch(reviewLinkIn(reviewMail), { signal: AbortSignal.timeout(30_000) });
		expect(late.status).toBe(410);
		expect(mailsTo(LEAD, mailsBefore)).toEqual([]);
	}, 240_000);

	test('an AI Agent older than v3 cannot wait: the tool refuses, and neither a review request nor an e-mail goes out', async () => {
		const id = `${prefix}AgentV2s001`;
		await n8n.importWorkflow(
			agentGateWorkflow({ id, webhookPath: `gate-${id}`, reviewers: REVIEWER, approvalCredentialId: 'gateApprovalCred1', modelCredentialId: 'gateModelCred001', limit: { amount: 72, unit: 'hours' }, agentVersion: 2.2 }),
		);
		await n8n.publish(id);
		const modelCallsBefore = openai.requestsTo('/chat/completions').length;
		openai.queueChatReplies({ toolCalls: [{ id: `call_${id}`, name: AGENT_GATE_TOOL_NAME, arguments: JSON.stringify(PROPOSED) }] }, 'Could not send it.');
		const mailsBefore = smtp.messages.length;
		expect((await n8n.webhook(`gate-${id}`, { message: 'E-mail Ada the price.', leadEmail: LEAD })).status).toBe(200);
		const finished = await n8n.waitForExecution({ workflowId: id, status: ['success', 'error', 'crashed', 'waiting'], timeoutMs: 90_000 });
		expect(finished.status).not.toBe('waiting');
		const seen = JSON.stringify(finished.data) + JSON.stringify(openai.requestsTo('/chat/completions').slice(modelCallsBefore).map((request) => request.body));
		expect(seen).toContain('needs the AI Agent node version 3 or later');
		await new Promise((resolve) => setTimeout(resolve, 1_000));
		expect(smtp.messages.slice(mailsBefore)).toEqual([]);
	}, 180_000);
});
