/**
 * What the example-workflow e2e tests share: the shipped workflow files and credential templates, and the
 * local stand-ins for the outside world they talk to — a small company website with a sitemap, a CRM that
 * records updates, and the review links of the approval emails.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import { load } from 'cheerio';
import type { ParsedMail } from 'mailparser';

import { startOpenAITestServer, type OpenAITestServer } from '../../support/openaiServer';
import { startSmtpCapture, type SmtpCapture } from '../../support/smtpCapture';
import type { N8nInstance } from './n8nInstance';

const execFileAsync = promisify(execFile);
const repoDir = path.resolve(__dirname, '../../..');
export const WORKFLOWS_DIR = path.join(repoDir, 'workflows');

/** The shipped example workflows, by the file name (without .json) their screenshot is named after. */
export const EXAMPLE_WORKFLOWS = {
	website: 'website-to-knowledge-base',
	lead: 'lead-reply-with-approval',
	content: 'content-draft-brand-voice',
	support: 'support-chat-with-memory',
	agent: 'sales-assistant-agent',
	measure: 'measure-knowledge-base',
	report: 'weekly-review-report',
} as const;

export type ExampleName = keyof typeof EXAMPLE_WORKFLOWS;

export interface ShippedNode {
	id: string;
	name: string;
	type: string;
	parameters: Record<string, any>;
	credentials?: Record<string, { id: string; name: string }>;
	webhookId?: string;
	[key: string]: unknown;
}

export interface ShippedWorkflow {
	id: string;
	name: string;
	active: boolean;
	nodes: ShippedNode[];
	[key: string]: unknown;
}

export function readShippedWorkflow(name: ExampleName): ShippedWorkflow {
	return JSON.parse(readFileSync(path.join(WORKFLOWS_DIR, `${EXAMPLE_WORKFLOWS[name]}.json`), 'utf8')) as ShippedWorkflow;
}

/** How a test sets up a workflow before importing it, as a user would in the editor (e.g. its Settings node). */
export type Configure = Partial<Record<ExampleName, (workflow: ShippedWorkflow) => ShippedWorkflow>>;

/**
 * Imports shipped workflows and publishes them (they ship with `"active": true`): unchanged, or as `configure`
 * sets them up (the Settings values a user fills in).
 */
export async function importAndPublish(
	n8n: N8nInstance,
	names: ExampleName[],
	configure: Configure = {},
): Promise<Record<ExampleName, string>> {
	const ids = {} as Record<ExampleName, string>;
	for (const name of names) {
		const workflow = configure[name]?.(readShippedWorkflow(name)) ?? readShippedWorkflow(name);
		ids[name] = await n8n.importWorkflow(workflow);
		if (workflow.active) await n8n.publish(ids[name]);
	}
	return ids;
}

export function nodeNamed(workflow: ShippedWorkflow, name: string): ShippedNode {
	const found = workflow.nodes.find((node) => node.name === name);
	if (!found) throw new Error(`Workflow "${workflow.name}" has no node "${name}".`);
	return found;
}

/** The workflow with fields of one of its Set nodes (e.g. "Settings") given these values, as a user types them. */
export function withSettings(
	workflow: ShippedWorkflow,
	values: Record<string, string | boolean>,
	setNode = 'Settings',
): ShippedWorkflow {
	const copy = JSON.parse(JSON.stringify(workflow)) as ShippedWorkflow;
	const assignments = nodeNamed(copy, setNode).parameters.assignments.assignments as Array<{ name: string; value: unknown }>;
	for (const [name, value] of Object.entries(values)) {
		const field = assignments.find((assignment) => assignment.name === name);
		if (!field) throw new Error(`"${setNode}" in "${workflow.name}" has no field "${name}".`);
		field.value = value;
	}
	return copy;
}

/** The values of a Set node's fields as shipped. */
export function settingsOf(workflow: ShippedWorkflow, setNode = 'Settings'): Record<string, unknown> {
	const assignments = nodeNamed(workflow, setNode).parameters.assignments.assignments as Array<{ name: string; value: unknown }>;
	return Object.fromEntries(assignments.map((assignment) => [assignment.name, assignment.value]));
}

/** The token of the example webhooks' Header Auth credential in the tests (dev.sh makes a random one). */
export const WEBHOOK_TOKEN = `e2e-${randomBytes(16).toString('hex')}`;
/** The header the example webhooks require. */
export const WEBHOOK_AUTH = { authorization: `Bearer ${WEBHOOK_TOKEN}` } as const;

/** A citation marker such as [1] or [1, 2]: what a customer must never receive. */
export const CITATION_MARKER = /\[\d+(?:[,\s]*\d+)*\]/;

export interface LocalServices {
	openAiBaseUrl: string;
	smtpPort: number;
	/** The Redis of the example Redis credential (default: the machine's, 127.0.0.1:6379). */
	redisUrl?: string;
}

/**
 * The shipped credential templates rendered by the same script dev.sh uses, with the environment pointing at
 * the local test servers instead of a real model, mail server and Redis.
 */
export async function renderExampleCredentials(services: LocalServices): Promise<Array<Record<string, unknown>>> {
	const { NODE_ENV: _nodeEnv, ...inherited } = process.env;
	const { stdout } = await execFileAsync(
		process.execPath,
		[path.join(repoDir, 'scripts/render-credentials.mjs'), path.join(WORKFLOWS_DIR, 'credentials/examples.json')],
		{
			timeout: 30_000,
			env: {
				...inherited,
				OPENAI_BASE_URL: services.openAiBaseUrl,
				OPENAI_API_KEY: MODEL_API_KEY,
				OPENAI_CHAT_MODEL: 'test-chat',
				OPENAI_EMBEDDING_MODEL: 'test-embedding',
				SYMBIOTIC_SMTP_HOST: '127.0.0.1',
				SYMBIOTIC_SMTP_PORT: String(services.smtpPort),
				SYMBIOTIC_APPROVAL_SECRET: randomBytes(48).toString('base64'),
				SYMBIOTIC_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
				REDIS_URL: services.redisUrl ?? 'redis://127.0.0.1:6379',
			},
		},
	);
	return JSON.parse(stdout) as Array<Record<string, unknown>>;
}

export const MODEL_API_KEY = 'sk-e2e-examples';

/** The company website the knowledge base is built from. */
export const WEBSITE_PAGES: Record<string, { title: string; body: string }> = {
	'/pricing': {
		title: 'Pricing – Acme Boards',
		body:
			'<h1>Pricing</h1>' +
			'<p>The Starter plan costs 29 euros per month and includes five seats, unlimited boards and email support. ' +
			'Teams that need more seats add them for 6 euros per seat and month.</p>' +
			'<h2>Business plan</h2><p>The Business plan costs 99 euros per month with twenty seats, single sign-on ' +
			'and a named account manager. Yearly billing saves two months.</p>',
	},
	'/features': {
		title: 'Features – Acme Boards',
		body:
			'<h1>Features</h1><p>Acme Boards lets marketing teams plan campaigns on shared boards: briefs, drafts, ' +
			'approvals and publishing dates in one place. Boards sync with the calendar and send reminders before ' +
			'every deadline.</p><p>Templates for launches, newsletters and events help new teams start in minutes.</p>',
	},
	'/support': {
		title: 'Support – Acme Boards',
		body:
			'<h1>Support</h1><p>Our support team answers emails within one business day, Monday to Friday. ' +
			'Business customers also get phone support and onboarding calls with their account manager.</p>',
	},
};

export interface Website {
	url: string;
	sitemapUrl: string;
	close(): Promise<void>;
}

/** Serves WEBSITE_PAGES with navigation and footer around the content, and a sitemap listing them. */
export async function startWebsite(): Promise<Website> {
	let origin = '';
	const server = createServer((request, response) => {
		const route = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
		if (route === '/sitemap.xml') {
			const urls = Object.keys(WEBSITE_PAGES).map((page) => `<url><loc>${origin}${page}</loc></url>`).join('');
			response.writeHead(200, { 'content-type': 'application/xml' });
			response.end(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls}</urlset>`);
			return;
		}
		const page = WEBSITE_PAGES[route];
		if (!page) {
			response.writeHead(404, { 'content-type': 'text/plain' });
			response.end('not found');
			return;
		}
		response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		response.end(
			`<!doctype html><html lang="en"><head><title>${page.title}</title></head><body>` +
				'<nav><a href="/features">Features</a> <a href="/pricing">Pricing</a> <a href="/support">Support</a></nav>' +
				`<main><article>${page.body}</article></main>` +
				'<footer>© Acme Boards · Imprint · Cookie settings</footer></body></html>',
		);
	});
	await listen(server);
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return { url: origin, sitemapUrl: `${origin}/sitemap.xml`, close: () => close(server) };
}

export interface RecordedCall {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	body: unknown;
}

export interface CrmRecorder {
	/** Where a lead's record can be updated: `<url>/leads/<id>`. */
	url: string;
	calls: RecordedCall[];
	waitForCall(count?: number, timeoutMs?: number): Promise<RecordedCall>;
	close(): Promise<void>;
}

/** A CRM API that answers every update with 200 and records it. */
export async function startCrmRecorder(): Promise<CrmRecorder> {
	const calls: RecordedCall[] = [];
	const server = createServer((request, response) => {
		const parts: Buffer[] = [];
		request.on('data', (part: Buffer) => parts.push(part));
		request.on('end', () => {
			const text = Buffer.concat(parts).toString('utf8');
			let body: unknown = text;
			try {
				body = JSON.parse(text);
			} catch {
				// kept as text: the assertion shows what arrived
			}
			calls.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end('{"ok":true}');
		});
	});
	await listen(server);
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url,
		calls,
		async waitForCall(count = 1, timeoutMs = 30_000) {
			const deadline = Date.now() + timeoutMs;
			while (calls.length < count) {
				if (Date.now() > deadline) throw new Error(`CRM recorder: expected ${count} call(s) within ${timeoutMs} ms, got ${calls.length}.`);
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			return calls[count - 1];
		},
		close: () => close(server),
	};
}

/** The personal review link of an approval email (its "Review" button). */
export function reviewLinkIn(mail: ParsedMail): string {
	const html = load(String(mail.html));
	const href = html('a').filter((_, element) => html(element).text().trim() === 'Review').attr('href');
	if (!href) throw new Error(`No "Review" link in the email "${mail.subject ?? ''}".`);
	return href;
}

/** Decides on a review link the way the page's form does: GET for the form token, then POST the decision. */
export async function decideByForm(
	reviewLink: string,
	decision: { action: 'approve' | 'reject'; finalText?: string; comment?: string },
): Promise<{ status: number; heading: string }> {
	const page = await fetch(reviewLink, { signal: AbortSignal.timeout(30_000) });
	const html = load(await page.text());
	const formToken = html('input[name=formToken]').attr('value');
	if (page.status !== 200 || !formToken) throw new Error(`The review page answered ${page.status} without a form.`);
	const form = new URLSearchParams({ formToken, action: decision.action, comment: decision.comment ?? '' });
	form.set('finalText', decision.finalText ?? html('textarea[name=finalText]').text().replace(/^\n/, ''));
	const answer = await fetch(reviewLink, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: form.toString(),
		signal: AbortSignal.timeout(30_000),
	});
	return { status: answer.status, heading: load(await answer.text())('h1').first().text() };
}

/** Recipients of a parsed mail as plain addresses. */
export function recipients(mail: ParsedMail): string[] {
	const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
	return to.flatMap((group) => group.value.map((entry) => entry.address ?? ''));
}

function listen(server: Server): Promise<void> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
}

function close(server: Server): Promise<void> {
	server.closeAllConnections();
	return new Promise((resolve) => server.close(() => resolve()));
}

/** What the shipped lead workflow talks to, all on this machine: model server, mail catcher, CRM and website. */
export interface LeadServices {
	openai: OpenAITestServer;
	smtp: SmtpCapture;
	crm: CrmRecorder;
	website: Website;
	close(): Promise<void>;
}

export async function startLeadServices(): Promise<LeadServices> {
	const [openai, smtp, crm, website] = await Promise.all([
		startOpenAITestServer({ apiKey: MODEL_API_KEY }),
		startSmtpCapture(),
		startCrmRecorder(),
		startWebsite(),
	]);
	return { openai, smtp, crm, website, close: async () => void (await Promise.all([openai.close(), smtp.close(), crm.close(), website.close()])) };
}

/**
 * Gives `n8n` the example credentials pointing at `services`, then imports and publishes the website and lead
 * workflows set up as a user would (their sitemap, their CRM endpoint).
 */
export async function publishLeadWorkflows(
	n8n: N8nInstance,
	services: LeadServices,
	options: { redisUrl?: string; lead?: (workflow: ShippedWorkflow) => ShippedWorkflow } = {},
): Promise<Record<ExampleName, string>> {
	const { redisUrl, lead = (workflow) => workflow } = options;
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: services.openai.url, smtpPort: services.smtp.port, redisUrl }));
	return await importAndPublish(n8n, ['website', 'lead'], {
		website: (workflow) => withSettings(workflow, { sitemapUrl: services.website.sitemapUrl, allowInternalNetwork: true }),
		lead: (workflow) => lead(withSettings(workflow, { crmUpdateUrl: `${services.crm.url}/leads` })),
	});
}

/** The tool name the agent's model calls for the gated action (n8n's tool name for the node "Send e-mail to the lead"). */
export const AGENT_GATE_TOOL_NAME = 'Send_e-mail_to_the_lead';

/**
 * Webhook → AI Agent v3.1 (Symbiotic Chat Model) with "Send e-mail to the lead" — Send Email After Review as an
 * agent tool — whose To, Subject and Body the model fills in ($fromAI), while reviewers, wait limit and decision
 * store are the workflow's. The webhook answers at once; the execution waits for the review.
 */
export function agentGateWorkflow(options: {
	id: string;
	webhookPath: string;
	reviewers: string;
	approvalCredentialId: string;
	modelCredentialId: string;
	limit: { amount: number; unit: 'hours' | 'minutes' };
	/** The AI Agent node's version: 3.1 (the default) runs tool calls as engine requests, which can wait. */
	agentVersion?: number;
}): ShippedWorkflow {
	// Ids of this workflow's nodes, distinct per workflow id (FNV-1a of the id): its front door path must be its own.
	let hash = 0x811c9dc5;
	for (const character of options.id) hash = Math.imul(hash ^ character.charCodeAt(0), 0x01000193) >>> 0;
	const uuid = (suffix: string) => `6a7e0000-0000-4000-8000-${hash.toString(16).padStart(8, '0')}00${suffix}`;
	return {
		id: options.id,
		name: `Agent gate ${options.id}`,
		active: false,
		nodes: [
			{
				id: uuid('01'),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: uuid('0a'),
				parameters: { httpMethod: 'POST', path: options.webhookPath, options: {} },
			},
			{
				id: uuid('02'),
				name: 'Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: options.agentVersion ?? 3.1,
				position: [240, 0],
				parameters: {
					promptType: 'define',
					text: '={{ $json.body.message }} (lead: {{ $json.body.leadEmail }})',
					options: { systemMessage: 'You are a sales assistant. E-mails to leads go out only through the tool, after a human review.' },
				},
			},
			{
				id: uuid('03'),
				name: 'Symbiotic Chat Model',
				type: 'n8n-nodes-symbiotic.symbioticChatModel',
				typeVersion: 1,
				position: [160, 220],
				parameters: {},
				credentials: { symbioticModelApi: { id: options.modelCredentialId, name: 'E2e model' } },
			},
			{
				id: uuid('04'),
				name: 'Send e-mail to the lead',
				type: 'n8n-nodes-symbiotic.symbioticReviewedEmailTool',
				typeVersion: 1,
				position: [360, 220],
				webhookId: uuid('0b'),
				parameters: {
					toolDescription:
						'Sends an e-mail to the lead. A human reviewer approves, edits or rejects it first; the answer says whether it was sent.',
					to: "={{ $fromAI('to', 'E-mail address of the lead', 'string') }}",
					mailSubject: "={{ $fromAI('subject', 'Subject line', 'string') }}",
					mailBody: "={{ $fromAI('body', 'Plain-text body of the e-mail', 'string') }}",
					reviewers: options.reviewers,
					subject: 'The sales agent wants to e-mail a lead',
					limitAmount: options.limit.amount,
					limitUnit: options.limit.unit,
				},
				credentials: { symbioticApprovalApi: { id: options.approvalCredentialId, name: 'E2e approval' } },
			},
		],
		connections: {
			Webhook: { main: [[{ node: 'Agent', type: 'main', index: 0 }]] },
			'Symbiotic Chat Model': { ai_languageModel: [[{ node: 'Agent', type: 'ai_languageModel', index: 0 }]] },
			'Send e-mail to the lead': { ai_tool: [[{ node: 'Agent', type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}
