/**
 * Human Approval in a real n8n 2.41.1 with the packed pack: Webhook -> Human Approval (real SMTP to a local
 * capture) -> Approved / Rejected / Timed out Set nodes. The execution waits; link scanners (bot and browser user
 * agents) do not decide; attacks on the link are refused; the wait survives an n8n restart; real headless
 * Chromium opens the emailed link, edits and approves; a short wait limit leaves through Timed out.
 * What n8n answered to each request is printed as a table at the end (the report's "attacks" list).
 */
import { load } from 'cheerio';
import type { ParsedMail } from 'mailparser';
import { chromium, type Browser } from 'playwright-core';

import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { startN8n, type ExecutionDetail, type N8nInstance } from './support/n8nInstance';

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
	// As n8n's Docker image runs it: in development mode n8n adds stack traces to its own error answers.
	n8n = await startN8n({ env: { NODE_ENV: 'production' } });
	await n8n.importCredentials({
		id: CREDENTIAL_ID,
		name: 'E2e approval',
		type: 'symbioticApprovalApi',
		data: { signingSecret: SECRET, smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpSecure: false, fromAddress: 'reviews@example.com' },
	});
	browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
		timeout: 30_000,
	});
}, 240_000);

afterAll(async () => {
	await browser?.close();
	await n8n?.stop();
	await smtp?.close();
	if (observed.length) console.log(`Requests on review links and n8n's answers:\n${observed.map((row) => `${row.status}\t${row.request}\t${row.answer}`).join('\n')}`);
}, 120_000);

function linkIn(mail: ParsedMail): string {
	const html = load(String(mail.html));
	return html('a').filter((_, element) => html(element).text() === 'Review').attr('href')!;
}

/** One request on a review link, recorded with n8n's answer (the page heading, or the body's start). */
async function request(label: string, url: string, init: RequestInit & { userAgent?: string } = {}): Promise<{ status: number; body: string }> {
	const response = await fetch(url, {
		...init,
		headers: { 'user-agent': init.userAgent ?? CHROME_UA, ...(init.headers as Record<string, string> | undefined) },
		redirect: 'manual',
		signal: AbortSignal.timeout(30_000),
	});
	const body = await response.text();
	const heading = load(body)('h1').first().text();
	observed.push({ request: label, status: response.status, answer: heading || body.slice(0, 120).replace(/\s+/g, ' ') });
	return { status: response.status, body };
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

test('scanners do not decide, attacks are refused, the wait survives a restart, and a browser approval resumes on Approved', async () => {
	const { execution, links, mails } = await startApproval('e2eApproval00001', { amount: 72, unit: 'hours' });
	const [adaLink, graceLink] = links;
	expect(mails.map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''))).toEqual(['ada@example.com', 'grace@example.com']);
	expect(mails[0].subject).toBe('Review: reply to Ada Lovelace');
	expect(new URL(adaLink).pathname).toBe(`/webhook-waiting/${execution.id}`);
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
	expect((await request("GET with n8n's resume signature changed", badSignature.href)).status).toBe(401);
	const form = (body: Record<string, string>) => ({
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(body).toString(),
	});
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

	// Late visits and a late decision after the execution finished: n8n answers before the node is asked.
	const lateView = await request('GET of the decided link after the execution finished', adaLink);
	const lateDecision = await request("POST by the other reviewer after the execution finished", graceLink, form({ formToken: adaFormToken, action: 'reject' }));
	for (const late of [lateView, lateDecision]) {
		expect(late.status).toBe(409);
		expect(late.body).not.toContain('stacktrace');
		expect(late.body).not.toContain(DRAFT.slice(0, 20));
	}
	expect((await n8n.execution(finished.id)).status).toBe('success');
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
	const expired = await request('GET of a link after its wait timed out', links[0]);
	expect(expired.status).toBe(409);
}, 200_000);
