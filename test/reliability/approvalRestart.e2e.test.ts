/**
 * n8n killed (SIGKILL) while the shipped lead workflow waits for a reviewer, then started again: the review link
 * in the e-mail still works and the approval resumes the execution, which sends the reply (README "What we
 * survive"; case ids in brackets).
 */
import { decideByForm, publishLeadWorkflows, recipients, reviewLinkIn, startLeadServices, WEBHOOK_AUTH, type LeadServices } from '../e2e/support/exampleWorkflows';
import { startN8n, type N8nInstance } from '../e2e/support/n8nInstance';

let n8n: N8nInstance;
let services: LeadServices;

beforeAll(async () => {
	services = await startLeadServices();
	n8n = await startN8n();
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await services?.close();
}, 120_000);

test('[crash-while-approval-waits] n8n killed while a review waits: after a restart the emailed link approves and the reply is sent', async () => {
	const { openai, smtp } = services;
	const ids = await publishLeadWorkflows(n8n, services);
	expect((await n8n.webhook('website-to-knowledge-base', undefined, { headers: WEBHOOK_AUTH })).status).toBe(200);
	openai.setChatResponder(() => 'Hi Grace, the Starter plan costs 29 euros per month for five seats [1].');
	const lead = { email: 'grace@globex.example', name: 'Grace Hopper', company: 'Globex', message: 'How much is the Starter plan?' };
	expect((await n8n.webhook('new-lead', lead, { headers: WEBHOOK_AUTH })).status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting', 'error'] });
	expect(waiting.status).toBe('waiting');
	const reviewLink = reviewLinkIn(await smtp.waitForMessage(1, 30_000));

	await n8n.crash();
	await n8n.restart();

	expect(await decideByForm(reviewLink, { action: 'approve' })).toEqual({ status: 200, heading: 'Approved' });
	const finished = await n8n.waitForExecution({ workflowId: ids.lead, status: ['success', 'error'], timeoutMs: 90_000 });
	expect(finished).toMatchObject({ id: waiting.id, status: 'success' });
	const reply = await smtp.waitForMessage(2, 30_000);
	expect(recipients(reply)).toEqual(['grace@globex.example']);
	expect(reply.text).toContain('29 euros per month');
}, 300_000);
