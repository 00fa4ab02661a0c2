/**
 * n8n in queue mode with two worker processes, each taking one execution at a time, both ingesting the same
 * sources into one LanceDB folder at the same moment (two overlapping runs of a scheduled ingest): the store must
 * end with one complete version of each document (README "What we survive"; case ids in brackets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';
import { MODEL_API_KEY, renderExampleCredentials } from '../e2e/support/exampleWorkflows';
import { startN8n, type N8nInstance } from '../e2e/support/n8nInstance';
import { documents, expectConverged, ingestWorkflow, storedRows, WEBHOOK } from './ingestWorkflow';

const DOCUMENTS = 1_000;

let n8n: N8nInstance;
let openai: OpenAITestServer;
let folder: string;
let workflowId: string;

beforeAll(async () => {
	openai = await startOpenAITestServer({ apiKey: MODEL_API_KEY, embeddingLatencyMs: 300 });
	folder = mkdtempSync(path.join(tmpdir(), 'symbiotic-workers-'));
	n8n = await startN8n({ mode: 'queue', workers: 2, workerConcurrency: 1 });
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: openai.url, smtpPort: 2525 }));
	workflowId = await n8n.importWorkflow(ingestWorkflow(folder));
	await n8n.publish(workflowId);
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await openai?.close();
	if (folder) rmSync(folder, { recursive: true, force: true });
}, 120_000);

/** Two executions of the same ingest at once; both must succeed, and must have run at the same time. */
async function ingestTwiceAtOnce(version: number): Promise<void> {
	const before = new Set((await n8n.executions(workflowId)).map((execution) => execution.id));
	const body = { documents: documents(DOCUMENTS, version) };
	const answers = await Promise.all([1, 2].map(() => n8n.webhook(WEBHOOK, body, { timeoutMs: 240_000 })));
	expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
	// The premise: one execution on each worker, overlapping (otherwise this would test nothing).
	const runs = (await n8n.executions(workflowId)).filter((execution) => !before.has(execution.id));
	expect(runs).toHaveLength(2);
	const [first, second] = runs.map((run) => [Date.parse(run.startedAt ?? ''), Date.parse(run.stoppedAt ?? '')]);
	expect(Math.max(first[0], second[0])).toBeLessThan(Math.min(first[1], second[1]));
}

test('[workers-same-sources] two workers ingesting the same new sources at once store each document once', async () => {
	await ingestTwiceAtOnce(1);
	expectConverged(await storedRows(folder), DOCUMENTS, 1);
}, 400_000);

test('[workers-same-update] two workers replacing the same sources with the same new version at once leave only it', async () => {
	openai.reset();
	await ingestTwiceAtOnce(2);
	expectConverged(await storedRows(folder), DOCUMENTS, 2);
}, 400_000);
