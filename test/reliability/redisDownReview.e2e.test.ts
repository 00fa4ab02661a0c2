/**
 * Redis down, then up again, while the shipped lead workflow waits for its reviewer with decisions recorded in
 * Redis (README "What we survive"; case id in brackets). A reviewer who decides while Redis is down must be told
 * that nothing was recorded, the execution must keep waiting, and the same page must work once Redis is back.
 */
import { load } from 'cheerio';

import { startRestartableRedis, type RestartableRedisServer } from '../memory/redisServer';
import { nodeNamed, publishLeadWorkflows, reviewLinkIn, startLeadServices, WEBHOOK_AUTH, type LeadServices } from '../e2e/support/exampleWorkflows';
import { startN8n, type N8nInstance } from '../e2e/support/n8nInstance';

let n8n: N8nInstance;
let services: LeadServices;
let redis: RestartableRedisServer;

beforeAll(async () => {
	[services, redis] = await Promise.all([startLeadServices(), startRestartableRedis()]);
	n8n = await startN8n();
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await services?.close();
	await redis?.stop();
}, 120_000);

const fetchPage = async (url: string, init: RequestInit = {}) => {
	const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
	const html = load(await response.text());
	return { status: response.status, retryAfter: response.headers.get('retry-after'), heading: html('h1').first().text(), html };
};

test('[redis-down-while-review-waits] Redis down while a review waits: deciding says nothing was recorded, the execution waits, and the same page approves once Redis is back', async () => {
	const { openai, smtp } = services;
	const ids = await publishLeadWorkflows(n8n, services, {
		redisUrl: `redis://127.0.0.1:${redis.port}`,
		lead: (workflow) => {
			const approval = nodeNamed(workflow, 'Approve the reply');
			approval.parameters = { ...approval.parameters, decisionStore: 'redis', keyPrefix: 'reliability' };
			approval.credentials = { ...approval.credentials, symbioticRedisApi: { id: 'symbRedisCred001', name: 'Symbiotic Redis (REDIS_URL)' } };
			return workflow;
		},
	});
	expect((await n8n.webhook('website-to-knowledge-base', undefined, { headers: WEBHOOK_AUTH })).status).toBe(200);
	openai.setChatResponder(() => 'Hi Ada, the Starter plan costs 29 euros per month for five seats [1].');
	const lead = { email: 'ada@initech.example', name: 'Ada Lovelace', company: 'Initech', message: 'How much is the Starter plan?' };
	expect((await n8n.webhook('new-lead', lead, { headers: WEBHOOK_AUTH })).status).toBe(200);
	const waiting = await n8n.waitForExecution({ workflowId: ids.lead, status: ['waiting', 'error'] });
	expect(waiting.status).toBe('waiting');
	const reviewLink = reviewLinkIn(await smtp.waitForMessage(1, 30_000));

	// The reviewer opens the page while Redis is up, and decides after it went down.
	const page = await fetchPage(reviewLink);
	expect(page.status).toBe(200);
	const form = new URLSearchParams({
		formToken: page.html('input[name=formToken]').attr('value') ?? '',
		action: 'approve',
		comment: '',
		finalText: page.html('textarea[name=finalText]').text().replace(/^\n/, '').replace('29 euros', '29 € HT'),
	});
	const post = () => fetchPage(reviewLink, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });

	await redis.kill();
	const refused = await post();
	expect(refused.status).toBe(503);
	expect(refused.retryAfter).toMatch(/^\d+$/);
	expect(refused.html('body').text()).toContain('Nothing was recorded and the review is still open');
	expect(await fetchPage(reviewLink)).toMatchObject({ status: 503 });
	expect((await n8n.execution(waiting.id)).status).toBe('waiting');

	await redis.up();
	expect(await post()).toMatchObject({ status: 200, heading: 'Approved' });
	const finished = await n8n.waitForExecution({ workflowId: ids.lead, status: ['success', 'error'], timeoutMs: 90_000 });
	expect(finished).toMatchObject({ id: waiting.id, status: 'success' });
	const reply = await smtp.waitForMessage(2, 30_000);
	expect(reply.text).toContain('29 € HT per month');
	// The decision is in Redis, and a late second decision loses to it.
	expect(await post()).toMatchObject({ status: 409 });
}, 300_000);
