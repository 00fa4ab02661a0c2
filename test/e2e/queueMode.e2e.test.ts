/**
 * The shipped lead workflow in n8n's queue mode (main + one worker over Redis, PostgreSQL): the worker ingests
 * the website and drafts the reply, the execution waits for approval, the review link is answered by the main
 * instance, and the resumed execution sends the reply and updates the CRM on the worker.
 */
import { readFileSync } from 'node:fs';

import {
	CITATION_MARKER,
	decideByForm,
	publishLeadWorkflows,
	recipients,
	reviewLinkIn,
	startLeadServices,
	WEBHOOK_AUTH,
	type LeadServices,
} from './support/exampleWorkflows';
import { startN8n, type N8nInstance } from './support/n8nInstance';

const CITED_ANSWER = 'Hi Grace, the Starter plan costs 29 euros per month for five seats [1]. The sales team';
const PRICE_FACT = 'the Starter plan costs 29 euros per month for five seats';

let n8n: N8nInstance;
let services: LeadServices;

beforeAll(async () => {
	services = await startLeadServices();
	n8n = await startN8n({ mode: 'queue' });
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await services?.close();
}, 120_000);

/** Only the worker process logs "Worker started execution <id>". */
function ranOnWorker(executionId: string): boolean {
	return readFileSync(n8n.logFile, 'utf8').includes(`Worker started execution ${executionId} `);
}

test('the lead workflow waits for approval on the worker, is resumed through the main instance, and sends and updates on approval', async () => {
	const { openai, smtp, crm } = services;
	const ids = await publishLeadWorkflows(n8n, services);
	const ingested = await n8n.webhook('website-to-knowledge-base', undefined, { headers: WEBHOOK_AUTH });
	expect((ingested.json as Array<{ status: string }>).map((result) => result.status)).toEqual(['created', 'created', 'created']);

	openai.setChatResponder(() => CITED_ANSWER);
	const lead = {
		email: 'grace@globex.example',
		name: 'Grace Hopper',
		company: 'Globex',
		message: 'How much is the Starter plan?',
	};
	expect((await n8n.webhook('new-lead', lead)).status).toBe(403);
	expect((await n8n.webhook('new-lead', lead, { headers: WEBHOOK_AUTH })).status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting', 'error'] });
	expect(waiting.status).toBe('waiting');
	expect(ranOnWorker(waiting.id)).toBe(true);
	expect(waiting.data.resultData.runData['Write the reply'][0].data?.main?.[0]?.[0].json).toMatchObject({ grounded: true });

	const approvalMail = await smtp.waitForMessage(1, 30_000);
	const reviewLink = reviewLinkIn(approvalMail);
	// The link points at the main instance, the only one serving webhooks.
	expect(new URL(reviewLink).origin).toBe(n8n.baseUrl);
	expect(await decideByForm(reviewLink, { action: 'approve' })).toEqual({ status: 200, heading: 'Approved' });

	const finished = await n8n.waitForExecution({ workflowId: ids.lead, status: ['success', 'error'], timeoutMs: 90_000 });
	expect(finished.id).toBe(waiting.id);
	expect(finished.status).toBe('success');
	const reply = await smtp.waitForMessage(2, 30_000);
	expect(recipients(reply)).toEqual(['grace@globex.example']);
	const sent = reply.text?.trim() ?? '';
	expect(sent).toContain(PRICE_FACT);
	expect(sent).not.toMatch(CITATION_MARKER);
	const crmCall = await crm.waitForCall(1);
	expect(crmCall).toMatchObject({
		path: '/leads',
		body: { email: 'grace@globex.example', status: 'replied', editedByReviewer: false },
	});
	expect(String((crmCall.body as { reply?: string }).reply).trim()).toBe(sent);
}, 240_000);
