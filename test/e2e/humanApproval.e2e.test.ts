/**
 * Human Approval in a real n8n 2.41.1 with the packed pack: Webhook -> Human Approval (real SMTP to a local
 * capture) -> Approved / Rejected / Timed out Set nodes. The execution waits; link scanners (bot and browser user
 * agents) do not decide; attacks on the link are refused; the wait survives an n8n restart; real headless
 * Chromium opens the emailed link, edits and approves; a short wait limit leaves through Timed out.
 * What n8n answered to each request is printed as a table at the end (the report's "attacks" list).
 */
import { load } from 'cheerio';
import type { ParsedMail } from 'mailparser';
import { type Browser } from 'playwright-core';

import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { startN8n, type ExecutionDetail, type N8nInstance } from './support/n8nInstance';
import { launchChromium } from '../support/chromium';

const APPROVAL_TYPE = 'n8n-nodes-symbiotic.humanApproval';
const CREDENTIAL_ID = 'e2eApprovalCred01';
const SECRET = 'e2e-link-signing-secret-0123456789-abcdefghijklmnop';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const SCANNER_UAS = {
	'Microsoft Office link check': 'Mozilla/5.0 (compatible; Microsoft Office/16.0; Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)',
	Slackbot: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
	'browser user agent': CHROME_UA,
};
const DRAFT = 'Hi Ada,\n\nthe Starter plan costs 29 euros.\n\nBest, Sam';
const EDITED = 'Hi Ada,\n\nthe Starter plan costs 29 euros per month for five seats.\n\nBest, Sam';

/** Every request the test made on a review link and what n8n answered: printed for the report. */
const observed: Array<{ request: string; status: number; answer: string }> = [];

/** The Human Approval node's webhook id: its review links are /webhook/<id>/review while the workflow is published. */
function approvalWebhookId(workflowId: string): string {
	return `a9a9a9a9-0000-4000-8000-${Buffer.from(workflowId).toString('hex').slice(-12).padStart(12, '0')}`;
}

function approvalWorkflow(id: string, webhookPath: string, limit: { amount: number; unit: 'hours' | 'minutes' }) {
	const setNode = (name: string, index: number) => ({
		id: `c4e2d8f1-0000-4000-8000-00000000001${index}`,
		name,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [440, index * 160],
		parameters: {
			mode: 'manual',
			includeOtherFields: true,
			assignments: { assignments: [{ id: `route-${index}`, name: 'route', type: 'string', value: name }] },
			options: {},
		},
	});
	return {
		id,
		name: `Approval ${webhookPath}`,
		nodes: [
			{
				id: 'c4e2d8f1-0000-4000-8000-000000000001',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: `c4e2d8f1-0000-4000-8000-${webhookPath.padStart(12, '0').slice(-12)}`,
				parameters: { httpMethod: 'POST', path: webhookPath, options: {} },
			},
			{
				id: 'c4e2d8f1-0000-4000-8000-000000000002',
				name: 'Human Approval',
				type: APPROVAL_TYPE,
				typeVersion: 1,
				position: [220, 0],
				webhookId: approvalWebhookId(id),
				credentials: { symbioticApprovalApi: { id: CREDENTIAL_ID, name: 'E2e approval' } },
				parameters: {
					reviewers: 'ada@example.com, grace@example.com',
					subject: '=Review: reply to {{ $json.body.lead }}',
					draft: '={{ $json.body.text }}',
					sources: '',
					context: { fields: [{ label: 'Lead', value: '={{ $json.body.lead }}' }] },
					limitAmount: limit.amount,
					limitUnit: limit.unit,
				},
			},
			setNode('Approved', 0),
			setNode('Rejected', 1),
			setNode('Timed Out', 2),
		],
		connections: {
			Webhook: { main: [[{ node: 'Human Approval', type: 'main', index: 0 }]] },
			'Human Approval': {
				main: ['Approved', 'Rejected', 'Timed Out'].map((node) => [{ node, type: 'main', index: 0 }]),
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

let n8n: N8nInstance;
let smtp: SmtpCapture;
let browser: Browser;

beforeAll(async () => {
	smtp = await startSmtpCapture();
	browser = await launchChromium();
}, 240_000);

afterAll(async () => {
	await browser?.close();
	await smtp?.close();
	if (observed.length) console.log(`Requests on review links and n8n's answers:\n${observed.map((row) => `${row.status}\t${row.request}\t${row.answer}`).join('\n')}`);
}, 120_000);

function linkIn(mail: ParsedMail): string {
	const html = load(String(mail.html));
	return html('a').filter((_, element) => html(element).text() === 'Review').attr('href')!;
}

/** One request on a review link, recorded with n8n's answer (the page heading, or the body's start). */
async function request(
	label: string,
	url: string,
	init: RequestInit & { userAgent?: string } = {},
): Promise<{ status: number; body: string; contentType: string }> {
	const response = await fetch(url, {
		...init,
		headers: { 'user-agent': init.userAgent ?? CHROME_UA, ...(init.headers as Record<string, string> | undefined) },
		redirect: 'manual',
		signal: AbortSignal.timeout(30_000),
	});
	const body = await response.text();
	const heading = load(body)('h1').first().text();
	observed.push({ request: `${n8n.mode}: ${label}`, status: response.status, answer: heading || body.slice(0, 120).replace(/\s+/g, ' ') });
	return { status: response.status, body, contentType: response.headers.get('content-type') ?? '' };
}

function formPost(body: Record<string, string>): RequestInit {
	return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() };
}

/** One of our HTML pages saying who decided what; never n8n's JSON, never the draft. */
function expectDecidedPage(answer: { status: number; body: string; contentType?: string }, reviewer: string, decision: 'approved' | 'rejected') {
	expect(answer.contentType).toMatch(/^text\/html/);
	const page = load(answer.body);
	expect(page('h1').text()).toMatch(/already decided/i);
	expect(page('main').text()).toContain(reviewer);
	expect(page('main').text()).toMatch(decision === 'approved' ? /approved/i : /rejected/i);
	expect(answer.body).not.toContain(DRAFT.slice(0, 20));
}

async function startApproval(workflowId: string, limit: { amount: number; unit: 'hours' | 'minutes' }) {
	const webhookPath = `approval-${workflowId}`;
	await n8n.importWorkflow(approvalWorkflow(workflowId, webhookPath, limit));
	await n8n.publish(workflowId);
	const before = smtp.messages.length;
	const started = await n8n.webhook(webhookPath, { text: DRAFT, lead: 'Ada Lovelace' });
	expect(started.status).toBe(200);
	const execution = await n8n.waitForExecution({ workflowId, status: ['waiting', 'error'] });
	expect(execution.status).toBe('waiting');
	const mails = [await smtp.waitForMessage(before + 1, 15_000), await smtp.waitForMessage(before + 2, 15_000)];
	return { execution, links: mails.map(linkIn), mails };
}

async function stillWaiting(executionId: string): Promise<boolean> {
	return (await n8n.execution(executionId)).status === 'waiting';
}

function outputOf(execution: ExecutionDetail, node: string): Array<Record<string, unknown>> | undefined {
	return execution.data.resultData.runData[node]?.at(-1)?.data?.main?.[0]?.map((item) => item.json);
}

// In queue mode the execution waits on the worker, and review links are answered by the main instance.
describe.each(['regular', 'queue'] as const)('Human Approval in n8n (%s mode)', (mode) => {
	beforeAll(async () => {
		// As n8n's Docker image runs it: in development mode n8n adds stack traces to its own error answers.
		n8n = await startN8n({ mode, env: { NODE_ENV: 'production' } });
		await n8n.importCredentials({
			id: CREDENTIAL_ID,
			name: 'E2e approval',
			type: 'symbioticApprovalApi',
			data: { signingSecret: SECRET, smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpSecure: false, fromAddress: 'reviews@example.com' },
		});
	}, 240_000);

	afterAll(async () => await n8n?.stop(), 120_000);

	test('scanners do not decide, attacks are refused, the wait survives a restart, and a browser approval resumes on Approved', async () => {
		const { execution, links, mails } = await startApproval('e2eApproval00001', { amount: 72, unit: 'hours' });
		const [adaLink, graceLink] = links;
		expect(mails.map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''))).toEqual(['ada@example.com', 'grace@example.com']);
		expect(mails[0].subject).toBe('Review: reply to Ada Lovelace');
		// The front door: the node's own production webhook, which answers even after the execution has resumed.
		expect(new URL(adaLink).pathname).toBe(`/webhook/${approvalWebhookId('e2eApproval00001')}/review`);
		expect(mails[0].text).toContain(adaLink);

		for (const [scanner, userAgent] of Object.entries(SCANNER_UAS)) {
			const scan = await request(`GET by ${scanner}`, adaLink, { userAgent });
			expect(scan.status).toBe(200);
			expect(load(scan.body)('button[value=approve]').length).toBe(1);
		}
		expect(await stillWaiting(execution.id)).toBe(true);

		// Attacks on the link and the form.
		const token = new URL(adaLink).searchParams.get('token')!;
		const tampered = new URL(adaLink);
		tampered.searchParams.set('token', `${token.slice(0, 40)}${token[40] === 'A' ? 'B' : 'A'}${token.slice(41)}`);
		expect((await request('GET with one character of our token changed', tampered.href)).status).toBe(403);
		const noToken = new URL(adaLink);
		noToken.searchParams.delete('token');
		expect((await request('GET without our token', noToken.href)).status).toBe(400);
		const badSignature = new URL(adaLink);
		badSignature.searchParams.set('signature', 'x'.repeat(badSignature.searchParams.get('signature')!.length));
		// Forwarded to the resume URL, where n8n refuses the changed resume token: the reviewer gets our 403 page.
		expect((await request("GET with n8n's resume signature changed", badSignature.href)).status).toBe(403);
		const head = await request('HEAD while the review waits', adaLink, { method: 'HEAD' });
		expect(head.status).toBe(200);
		expect(head.body).toBe('');
		const form = formPost;
		expect((await request('POST approve without a form token (forged form)', adaLink, form({ action: 'approve' }))).status).toBe(403);
		const adaPage = (await request('GET to take a form token', adaLink)).body;
		const adaFormToken = load(adaPage)('input[name=formToken]').attr('value')!;
		expect(
			(await request("POST with Ada's form token on Grace's link", graceLink, form({ formToken: adaFormToken, action: 'approve', finalText: DRAFT }))).status,
		).toBe(403);
		expect(
			(await request('POST with the tampered link and a valid form token', tampered.href, form({ formToken: adaFormToken, action: 'approve', finalText: DRAFT }))).status,
		).toBe(403);
		expect(
			(await request('PUT on the link', adaLink, { method: 'PUT' })).status,
		).toBeGreaterThanOrEqual(400);
		expect(await stillWaiting(execution.id)).toBe(true);

		// The wait survives a restart between sending and clicking.
		await n8n.restart();
		expect(await stillWaiting(execution.id)).toBe(true);

		const page = await browser.newPage({ viewport: { width: 412, height: 915 }, userAgent: CHROME_UA });
		try {
			await page.goto(adaLink);
			await page.fill('textarea[name=finalText]', EDITED);
			await page.fill('textarea[name=comment]', 'Say per month.');
			await Promise.all([page.waitForLoadState('load'), page.click('button[value=approve]')]);
			await page.waitForSelector('h1');
			expect(await page.textContent('h1')).toBe('Approved');
		} finally {
			await page.close();
		}

		const finished = await n8n.waitForExecution({ workflowId: 'e2eApproval00001', status: ['success', 'error', 'crashed'], timeoutMs: 60_000 });
		expect(finished.status).toBe('success');
		const [approved] = outputOf(finished, 'Approved') ?? [];
		expect(approved).toMatchObject({
			route: 'Approved',
			decision: 'approved',
			reviewer: 'ada@example.com',
			finalText: EDITED,
			originalDraft: DRAFT,
			changed: true,
			comment: 'Say per month.',
			userAgent: CHROME_UA,
		});
		expect((approved.diff as { unified: string }).unified).toContain('+the Starter plan costs 29 euros per month for five seats.');
		expect((approved.input as { body: { lead: string } }).body.lead).toBe('Ada Lovelace');
		expect(outputOf(finished, 'Rejected')).toBeUndefined();
		expect(outputOf(finished, 'Timed Out')).toBeUndefined();
		expect(JSON.stringify(finished.data)).not.toContain(SECRET);

		// Late visits and a late decision after the execution finished: the front door answers from the decision store.
		const lateView = await request('GET of the decided link after the execution finished', adaLink);
		const lateOther = await request("GET of the other reviewer's link after the execution finished", graceLink);
		const lateDecision = await request('POST by the other reviewer after the execution finished', graceLink, form({ formToken: adaFormToken, action: 'reject' }));
		const lateHead = await request('HEAD after the execution finished', graceLink, { method: 'HEAD' });
		expect([lateView.status, lateOther.status, lateDecision.status, lateHead.status]).toEqual([200, 200, 409, 200]);
		for (const late of [lateView, lateOther, lateDecision]) expectDecidedPage(late, 'ada@example.com', 'approved');
		expect(lateHead.body).toBe('');
		expect((await n8n.execution(finished.id)).status).toBe('success');

		// Decisions are kept in a folder beside n8n's data (the default store): still shown after a restart.
		await n8n.restart();
		expectDecidedPage(await request('GET of the decided link after n8n restarted', graceLink), 'ada@example.com', 'approved');
	});

	test('a request nobody decides in time leaves through Timed out', async () => {
		// n8n's wait tracker looks for due executions every 60 s (those due within the next 70 s get a timer).
		const { execution, links } = await startApproval('e2eApproval00002', { amount: 0.25, unit: 'minutes' });
		const finished = await n8n.waitForExecution({ workflowId: 'e2eApproval00002', status: ['success', 'error', 'crashed'], timeoutMs: 120_000 });
		expect(finished.id).toBe(execution.id);
		expect(finished.status).toBe('success');
		expect(outputOf(finished, 'Timed Out')).toEqual([
			expect.objectContaining({ route: 'Timed Out', decision: 'timedOut', reviewer: null, finalText: DRAFT, changed: false }),
		]);
		expect(outputOf(finished, 'Approved')).toBeUndefined();
		expect(outputOf(finished, 'Rejected')).toBeUndefined();
		for (const [label, init] of [['GET', {}], ['HEAD', { method: 'HEAD' }]] as const) {
			const late = await request(`${label} of a link after its wait timed out`, links[0], init);
			expect(late.status).toBe(410);
			expect(late.contentType).toMatch(/^text\/html/);
			if (label === 'GET') expect(load(late.body)('h1').text()).toMatch(/closed without a decision|timed out/i);
		}
	}, 200_000);

	test('a link opened after it expired, while n8n has not yet resumed the execution, says the review timed out', async () => {
		const sentAt = Date.now();
		const { links } = await startApproval('e2eApproval00003', { amount: 0.1, unit: 'minutes' });
		// The links expire with the 6 s wait; n8n's wait tracker resumes the execution up to a minute later.
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt + 7_000 - Date.now())));
		const expired = await request('GET of an expired link before n8n resumed the execution', links[1]);
		expect(expired.status).toBe(410);
		expect(load(expired.body)('h1').text()).toMatch(/closed without a decision|timed out/i);
		const form = load((await request('GET of the expired link again', links[0])).body)('form');
		expect(form.length).toBe(0);
	}, 120_000);

	test('after a rejection, late clicks show who rejected and when; a decision on the other link changes nothing', async () => {
		const { links } = await startApproval('e2eApproval00004', { amount: 72, unit: 'hours' });
		const [adaLink, graceLink] = links;
		const graceFormToken = load((await request('GET (Grace) before rejecting', graceLink)).body)('input[name=formToken]').attr('value')!;
		const adaFormToken = load((await request('GET (Ada) before the rejection', adaLink)).body)('input[name=formToken]').attr('value')!;
		const rejected = await request('POST reject (Grace)', graceLink, formPost({ formToken: graceFormToken, action: 'reject', finalText: DRAFT, comment: 'Wrong price.' }));
		expect(rejected.status).toBe(200);
		const finished = await n8n.waitForExecution({ workflowId: 'e2eApproval00004', status: ['success', 'error', 'crashed'], timeoutMs: 60_000 });
		expect(outputOf(finished, 'Rejected')).toEqual([expect.objectContaining({ decision: 'rejected', reviewer: 'grace@example.com' })]);
		const lateApprove = await request('POST approve (Ada) after the rejection', adaLink, formPost({ formToken: adaFormToken, action: 'approve', finalText: DRAFT }));
		expect(lateApprove.status).toBe(409);
		expectDecidedPage(lateApprove, 'grace@example.com', 'rejected');
		expectDecidedPage(await request('GET (Ada) after the rejection', adaLink), 'grace@example.com', 'rejected');
		expect((await n8n.execution(finished.id)).status).toBe('success');
		expect(outputOf(await n8n.execution(finished.id), 'Approved')).toBeUndefined();
	});

	test('50 simultaneous decisions on one review: one 200, 49 of our HTML pages, no 500, one resume', async () => {
		const { links } = await startApproval('e2eApproval00005', { amount: 72, unit: 'hours' });
		const tokens = await Promise.all(
			links.map(async (link) => load((await request('GET to take a form token', link)).body)('input[name=formToken]').attr('value')!),
		);
		const answers = await Promise.all(
			Array.from({ length: 50 }, (_, index) =>
				request(
					`simultaneous POST ${index + 1}`,
					links[index % 2],
					formPost({ formToken: tokens[index % 2], action: index % 3 ? 'approve' : 'reject', finalText: DRAFT }),
				),
			),
		);
		const statuses = answers.map((answer) => answer.status);
		expect(statuses.filter((status) => status === 200)).toHaveLength(1);
		expect(statuses.filter((status) => status >= 500)).toEqual([]);
		for (const answer of answers) {
			expect(answer.contentType).toMatch(/^text\/html/);
			expect(load(answer.body)('h1').text()).not.toBe('');
		}
		const finished = await n8n.waitForExecution({ workflowId: 'e2eApproval00005', status: ['success', 'error', 'crashed'], timeoutMs: 60_000 });
		expect(finished.status).toBe('success');
		const decided = [...(outputOf(finished, 'Approved') ?? []), ...(outputOf(finished, 'Rejected') ?? [])];
		expect(decided).toHaveLength(1);
		expect((await n8n.executions('e2eApproval00005')).length).toBe(1);
	}, 120_000);
});
