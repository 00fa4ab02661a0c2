/**
 * The two "Measure it" examples in a real n8n 2.41.1 with the packed pack:
 * - *Measure your knowledge base*: its set-up part creates the data tables and stores the example shop's pages, its
 *   "every edition" part writes the scores to the kb-scores data table, and its Evaluations part runs as an n8n
 *   test run (one execution per question) whose metrics we read back through n8n's API.
 * - *Weekly review report*: after drafts of *Content draft with brand voice* were approved as they were, approved
 *   with edits and rejected, the report e-mailed to the marketing lead carries a chart drawn from exactly those
 *   decisions (SMTP capture).
 *
 * n8n runs with E2E_TESTS=true, n8n's own switch for its end-to-end tests: it replaces the licence with a test
 * one whose evaluation quota is one workflow, which is what a community edition gets once registered (free).
 * An unregistered community edition has a quota of 0 (`LicenseState.getMaxWorkflowsWithEvaluations`): the
 * Evaluations tab is locked there, which is why the example also measures without it.
 */
import path from 'node:path';

import type { ParsedMail } from 'mailparser';
import { type Browser } from 'playwright-core';

import { editRatio, renderReviewReport, type PeriodSummary } from '../../lib/evaluation';
import { startOpenAITestServer, type ChatCompletionRequest, type OpenAITestServer } from '../support/openaiServer';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { ownerSessionCookie } from './support/canvasScreenshots';
import {
	decideByForm,
	importAndPublish,
	nodeNamed,
	readShippedWorkflow,
	renderExampleCredentials,
	reviewLinkIn,
	WEBHOOK_AUTH,
	type ShippedWorkflow,
} from './support/exampleWorkflows';
import { startN8n, type ExecutionDetail, type N8nInstance } from './support/n8nInstance';
import { launchChromium } from '../support/chromium';

const SCREENSHOT_DIR = path.resolve(__dirname, '../../docs/screenshots');
const EXAMPLE_QUESTIONS = 20;

let n8n: N8nInstance;
let openai: OpenAITestServer;
let smtp: SmtpCapture;
let browser: Browser;

beforeAll(async () => {
	[openai, smtp] = await Promise.all([
		startOpenAITestServer({ apiKey: 'sk-e2e-examples', models: ['test-chat', 'test-embedding'] }),
		startSmtpCapture(),
	]);
	n8n = await startN8n({ env: { E2E_TESTS: 'true', GENERIC_TIMEZONE: 'Europe/Paris' } });
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: openai.url, smtpPort: smtp.port }));
	browser = await launchChromium();
}, 300_000);

afterAll(async () => {
	await browser?.close();
	await n8n?.stop();
	await Promise.all([openai?.close(), smtp?.close()]);
}, 120_000);

function outputOf(execution: ExecutionDetail, node: string, output = 0): Array<Record<string, any>> {
	const items = execution.data.resultData.runData[node]?.at(-1)?.data?.main?.[output];
	if (!items) throw new Error(`Node "${node}" has no output ${output} in execution ${execution.id}.`);
	return items.map((item) => item.json);
}

/** Runs a workflow from one of its manual triggers, as the editor's "Execute workflow" button does, to its end. */
async function runFromTrigger(workflowId: string, trigger: string): Promise<ExecutionDetail> {
	const { executionId } = await n8n.rest<{ executionId: string }>('POST', `/workflows/${workflowId}/run`, {
		triggerToStartFrom: { name: trigger },
	});
	const deadline = Date.now() + 120_000;
	for (;;) {
		const execution = await n8n.execution(executionId);
		if (['success', 'error', 'crashed', 'canceled'].includes(execution.status)) {
			if (execution.status !== 'success') {
				throw new Error(`"${trigger}" ended ${execution.status}: ${execution.data.resultData.error?.message ?? ''}`);
			}
			return execution;
		}
		if (Date.now() > deadline) throw new Error(`"${trigger}" still ${execution.status} after 120 s.`);
		await new Promise((resolve) => setTimeout(resolve, 300));
	}
}

interface DataTable {
	id: string;
	name: string;
	projectId: string;
}

async function dataTable(name: string): Promise<DataTable> {
	const { data } = await n8n.rest<{ data: DataTable[] }>('GET', `/data-tables-global?take=100`);
	const table = data.find((candidate) => candidate.name === name);
	if (!table) throw new Error(`No data table "${name}" (have: ${data.map((candidate) => candidate.name).join(', ')}).`);
	return table;
}

async function rowsOf(table: DataTable): Promise<Array<Record<string, any>>> {
	const { data } = await n8n.rest<{ data: Array<Record<string, any>> }>(
		'GET',
		`/projects/${table.projectId}/data-tables/${table.id}/rows?take=1000`,
	);
	return data;
}

/** As on a machine without a model (npm run dev without OPENAI_BASE_URL): the pack's nodes search by keywords. */
function withoutModel(workflow: ShippedWorkflow): ShippedWorkflow {
	return {
		...workflow,
		nodes: workflow.nodes.map(({ credentials, ...node }) => {
			if (!node.type.startsWith('n8n-nodes-symbiotic.') || !credentials) return { ...node, credentials };
			const { symbioticModelApi: _model, ...others } = credentials;
			return Object.keys(others).length ? { ...node, credentials: others } : node;
		}),
	};
}

test('Measure your knowledge base: the example is set up, scored into kb-scores on any edition, and recorded as an n8n evaluation', async () => {
	const shipped = withoutModel(readShippedWorkflow('measure'));
	const { measure: workflowId } = await importAndPublish(n8n, ['measure'], { measure: () => shipped });

	const setUp = await runFromTrigger(workflowId, 'Set up the example');
	expect(outputOf(setUp, 'Store the example pages').map((item) => item.status)).toEqual(Array(9).fill('created'));
	const questionsTable = await dataTable('kb-questions');
	const questions = await rowsOf(questionsTable);
	expect(questions).toHaveLength(EXAMPLE_QUESTIONS);
	// Setting up twice keeps one row per question (upsert) and stores no page again.
	const again = await runFromTrigger(workflowId, 'Set up the example');
	expect(outputOf(again, 'Store the example pages').map((item) => item.status)).toEqual(Array(9).fill('unchanged'));
	expect(await rowsOf(questionsTable)).toHaveLength(EXAMPLE_QUESTIONS);

	// Part 2, any edition: the averages of one run land in kb-scores.
	const measured = await runFromTrigger(workflowId, 'Measure now');
	const perQuestion = outputOf(measured, 'Score the search', 0);
	expect(perQuestion).toHaveLength(EXAMPLE_QUESTIONS);
	expect(perQuestion.every((item) => item.mode === 'keyword')).toBe(true);
	const [summary] = outputOf(measured, 'Score the search', 1);
	expect(summary).toMatchObject({ summary: true, questions: EXAMPLE_QUESTIONS, k: 5, skipped: 0 });
	const notFound = perQuestion.filter((item) => !item.hitAtK).map((item) => item.question);
	expect(summary.noExpectedSourceFound).toBe(notFound.length);
	const misses = measured.data.resultData.runData['Not in the top 5']?.at(-1)?.data?.main?.[0] ?? [];
	expect(misses.map((item) => item.json.question)).toEqual(notFound);
	const [scores] = await rowsOf(await dataTable('kb-scores'));
	expect(scores).toMatchObject({
		questions: EXAMPLE_QUESTIONS,
		k: 5,
		hitRate: summary.meanHitAtK,
		mrr: summary.mrr,
		ndcg: summary.meanNdcgAtK,
		notFound: notFound.length,
	});
	// The shipped example's scores, for the README and the release note (keyword search, no model).
	console.log(
		`Example dataset, keyword search: hit@5 ${summary.meanHitAtK}, MRR ${summary.mrr}, nDCG@5 ${summary.meanNdcgAtK}; ` +
			`not found: ${notFound.join(' | ')}`,
	);

	// Part 3: the user picks kb-questions in the Evaluation Trigger and activates it (once), then Evaluations → Run
	// evaluation.
	const stored = await n8n.rest<{ versionId: string; nodes: ShippedWorkflow['nodes'] }>('GET', `/workflows/${workflowId}`);
	const nodes = stored.nodes.map(({ disabled, ...node }) =>
		node.name === 'When fetching a dataset row'
			? { ...node, parameters: { ...node.parameters, dataTableId: { __rl: true, mode: 'list', value: questionsTable.id, cachedResultName: 'kb-questions' } } }
			: { ...node, ...(disabled === undefined ? {} : { disabled }) },
	);
	await n8n.rest('PATCH', `/workflows/${workflowId}`, { versionId: stored.versionId, nodes });
	// What Evaluations → Run evaluation calls; it answers 202 with the run's id (not in n8n's usual `data` envelope).
	const started = await n8n.fetchAsOwner(`/rest/workflows/${workflowId}/test-runs/new`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: '{}',
	});
	expect(started.status).toBe(202);
	const { testRunId } = (await started.json()) as { testRunId: string };
	const deadline = Date.now() + 180_000;
	let run: { status: string; metrics: Record<string, number> | null; errorCode?: string | null };
	for (;;) {
		run = await n8n.rest('GET', `/workflows/${workflowId}/test-runs/${testRunId}`);
		if (!['new', 'running'].includes(run.status) || Date.now() > deadline) break;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	expect({ status: run.status, errorCode: run.errorCode ?? null }).toEqual({ status: 'completed', errorCode: null });
	const cases = await n8n.rest<Array<{ status: string; metrics: Record<string, number> }>>(
		'GET',
		`/workflows/${workflowId}/test-runs/${testRunId}/test-cases`,
	);
	expect(cases).toHaveLength(EXAMPLE_QUESTIONS);
	expect(cases.every((testCase) => testCase.status === 'success')).toBe(true);
	// n8n averages each metric over the questions: the same numbers as part 2's summary.
	expect(run.metrics!.hitAt5).toBeCloseTo(summary.meanHitAtK, 4);
	expect(run.metrics!.reciprocalRank).toBeCloseTo(summary.mrr, 4);
	expect(run.metrics!.ndcgAt5).toBeCloseTo(summary.meanNdcgAtK, 4);

	// The README's screenshot of the metrics in n8n.
	const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
	try {
		await context.addCookies([{ name: 'n8n-auth', value: await ownerSessionCookie(n8n), url: n8n.baseUrl }]);
		const page = await context.newPage();
		await page.goto(`${n8n.baseUrl}/workflow/${workflowId}/evaluation/test-runs/${testRunId}`, { waitUntil: 'networkidle', timeout: 60_000 });
		// The run's page: the three averages on top, then each question's scores.
		await page.getByText('Reciprocal Rank').first().waitFor({ timeout: 30_000 });
		await page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => undefined);
		await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'evaluations-tab.png') });
	} finally {
		await context.close();
	}
}, 600_000);

/** The model: the content draft's JSON, always the same. */
function draftReply(request: ChatCompletionRequest): string {
	if (!request.response_format) return 'Not used in this test.';
	return JSON.stringify({
		subject: 'Plan your spring campaigns together',
		body: 'Join our spring webinar and see how your team plans campaigns on one board.',
		socialPost: 'Spring webinar: plan campaigns together on one board. Save your seat!',
	});
}

test('Weekly review report: after approvals with and without edits and a rejection, the e-mailed chart shows exactly those decisions', async () => {
	openai.setChatResponder(draftReply);
	const ids = await importAndPublish(n8n, ['content', 'report'], {
		// What the marketing lead sets: a French report.
		report: (workflow) => {
			nodeNamed(workflow, 'Review report').parameters.reportLanguage = 'fr';
			return workflow;
		},
	});
	const call = (webhookPath: string, body: unknown) => n8n.webhook(webhookPath, body, { headers: WEBHOOK_AUTH });
	expect((await call('brand-guide', { title: 'Brand voice', text: 'Short sentences, active verbs, no jargon.' })).status).toBe(200);

	const decisions: Array<{ action: 'approve' | 'reject'; edit?: (draft: string) => string }> = [
		{ action: 'approve' },
		{ action: 'approve', edit: (draft) => draft.replace('Join our spring webinar', 'Come to our free spring webinar on 12 March') },
		{ action: 'reject' },
	];
	const ratios: number[] = [];
	for (const decision of decisions) {
		const mailsBefore = smtp.messages.length;
		expect((await call('content-brief', { brief: 'Announce our spring webinar' })).status).toBe(200);
		const mail = await smtp.waitForMessage(mailsBefore + 1, 60_000);
		const link = reviewLinkIn(mail);
		const page = await (await fetch(link)).text();
		const draft = /<textarea[^>]*name="finalText"[^>]*>\n?([\s\S]*?)<\/textarea>/.exec(page)![1]
			.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
		const finalText = decision.edit?.(draft) ?? draft;
		if (decision.action === 'approve') ratios.push(editRatio(draft, finalText));
		expect((await decideByForm(link, { action: decision.action, finalText })).status).toBe(200);
	}
	expect(ratios[0]).toBe(0);
	expect(ratios[1]).toBeGreaterThan(0);
	// The decisions are logged when each execution resumes: wait for the three to finish.
	const deadline = Date.now() + 60_000;
	while ((await n8n.executions(ids.content)).filter((execution) => execution.status === 'success').length < 3) {
		if (Date.now() > deadline) throw new Error('The three reviewed drafts did not all finish within 60 s.');
		await new Promise((resolve) => setTimeout(resolve, 300));
	}

	const mailsBefore = smtp.messages.length;
	const run = await runFromTrigger(ids.report, 'Send it now');
	const [report] = outputOf(run, 'Review report');
	const periods = report.periods as PeriodSummary[];
	expect(periods).toHaveLength(12);
	const thisWeek = periods.at(-1)!;
	expect(thisWeek).toMatchObject({ decisions: 3, approved: 2, rejected: 1, timedOut: 0 });
	expect(thisWeek.approvalRate).toBeCloseTo(2 / 3, 4);
	expect(thisWeek.medianEditRatio).toBeCloseTo((ratios[0] + ratios[1]) / 2, 4);
	expect(periods.slice(0, -1).every((row) => row.decisions === 0)).toBe(true);

	const mail: ParsedMail = await smtp.waitForMessage(mailsBefore + 1, 30_000);
	expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('owner@example.com');
	expect(mail.subject).toMatch(/^Rapport de relecture/);
	const html = String(mail.html);
	expect(html).toContain('66,7\u00a0%');
	const chart = mail.attachments.find((attachment) => attachment.cid === 'chart');
	expect(chart).toMatchObject({ contentType: 'image/png', related: true });
	// mailparser resolves the html's cid:chart to the attachment it names, as a mail client shows it.
	expect(html).toContain(`src="data:image/png;base64,${chart!.content.toString('base64')}"`);
	// The chart is the one drawn from the decisions made above, pixel for pixel.
	const expected = await renderReviewReport(periods, { language: 'fr', period: 'week', timeZone: 'Europe/Paris', namespace: 'review-log', chartId: 'chart' });
	expect(Buffer.compare(chart!.content, expected.png)).toBe(0);
	await import('node:fs').then(({ writeFileSync }) => writeFileSync(path.join(SCREENSHOT_DIR, 'review-report-chart.png'), chart!.content));
}, 600_000);
