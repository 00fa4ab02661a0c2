/**
 * n8n killed (SIGKILL) in the middle of a long ingest, then restarted and the workflow run again: the LanceDB
 * store must converge to exactly the documents sent — no duplicate chunk, no half-written version, no stale
 * chunk of the version before (README "What we survive"; case ids in brackets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';
import { MODEL_API_KEY, renderExampleCredentials } from '../e2e/support/exampleWorkflows';
import { startN8n, type N8nInstance } from '../e2e/support/n8nInstance';
import { documents, expectConverged, ingestWorkflow, storedRows, WEBHOOK } from './ingestWorkflow';

const DOCUMENTS = 3_000;

let n8n: N8nInstance;
let openai: OpenAITestServer;
let folder: string;

/** Sends the documents and kills n8n once some, but not all, of them are stored. */
async function crashMidIngest(version: number, storedBefore: number): Promise<number> {
	const request = n8n.webhook(WEBHOOK, { documents: documents(DOCUMENTS, version) }, { timeoutMs: 120_000 }).catch(() => undefined);
	const deadline = Date.now() + 90_000;
	let written = 0;
	for (;;) {
		written = (await storedRows(folder)).filter((row) => row.text.includes(`version ${version}.`)).length;
		if (written > 0 && written < DOCUMENTS) break;
		if (Date.now() > deadline) throw new Error(`no partial ingest to interrupt (version ${version}: ${written} rows, ${storedBefore} before)`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	await n8n.crash();
	await request;
	return written;
}

beforeAll(async () => {
	// Each embedding request answers after 1.5 s: the ingest of 3,000 documents lasts long enough to be cut.
	openai = await startOpenAITestServer({ apiKey: MODEL_API_KEY, embeddingLatencyMs: 1_500 });
	folder = mkdtempSync(path.join(tmpdir(), 'symbiotic-crash-'));
	n8n = await startN8n();
	await n8n.importCredentials(await renderExampleCredentials({ openAiBaseUrl: openai.url, smtpPort: 2525 }));
	const id = await n8n.importWorkflow(ingestWorkflow(folder));
	await n8n.publish(id);
}, 300_000);

afterAll(async () => {
	await n8n?.stop();
	await openai?.close();
	if (folder) rmSync(folder, { recursive: true, force: true });
}, 120_000);

test('[crash-first-ingest] n8n killed during a first ingest: after a restart, running it again stores each document once', async () => {
	const written = await crashMidIngest(1, 0);
	await n8n.restart();
	openai.reset();
	const again = await n8n.webhook(WEBHOOK, { documents: documents(DOCUMENTS, 1) }, { timeoutMs: 180_000 });
	expect(again.status).toBe(200);
	const rows = await storedRows(folder);
	expectConverged(rows, DOCUMENTS, 1);
	// Documents stored before the crash were recognised, not embedded again.
	const embedded = openai.requestsTo('/embeddings').reduce((sum, request) => sum + (request.body?.input as string[]).length, 0);
	expect(embedded).toBeLessThanOrEqual(DOCUMENTS - written);
}, 400_000);

test('[crash-update] n8n killed while a new version replaces the old: after a restart, only the new version remains', async () => {
	await crashMidIngest(2, DOCUMENTS);
	// Mid-update, every document is still searchable: old version, new version, or (briefly) both.
	const midway = await storedRows(folder);
	expect(new Set(midway.map((row) => row.sourceId)).size).toBe(DOCUMENTS);
	await n8n.restart();
	const again = await n8n.webhook(WEBHOOK, { documents: documents(DOCUMENTS, 2) }, { timeoutMs: 180_000 });
	expect(again.status).toBe(200);
	expectConverged(await storedRows(folder), DOCUMENTS, 2);
}, 400_000);
