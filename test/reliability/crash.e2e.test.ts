/**
 * n8n killed (SIGKILL) in the middle of a long ingest, then restarted and the workflow run again: the LanceDB
 * store must converge to exactly the documents sent — no duplicate chunk, no half-written version, no stale
 * chunk of the version before (README "What we survive"; case ids in brackets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';

import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';
import { MODEL_API_KEY, renderExampleCredentials } from '../e2e/support/exampleWorkflows';
import { startN8n, type N8nInstance } from '../e2e/support/n8nInstance';

const DOCUMENTS = 3_000;
const WEBHOOK = 'reliability-ingest';

let n8n: N8nInstance;
let openai: OpenAITestServer;
let folder: string;

function ingestWorkflow(storeFolder: string): Record<string, unknown> {
	return {
		name: 'Reliability: ingest many documents',
		nodes: [
			{
				id: 'r1',
				name: 'Documents',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: 'f0a1b2c3-0000-4000-8000-00000000c4a5',
				parameters: { httpMethod: 'POST', path: WEBHOOK, responseMode: 'lastNode', options: {} },
			},
			{
				id: 'r2',
				name: 'One item per document',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [220, 0],
				parameters: { fieldToSplitOut: 'body.documents', options: {} },
			},
			{
				id: 'r3',
				name: 'Ingest',
				type: 'n8n-nodes-symbiotic.ingestDocument',
				typeVersion: 1,
				position: [440, 0],
				parameters: {
					operation: 'ingest',
					source: 'text',
					text: '={{ $json.text }}',
					sourceId: '={{ $json.id }}',
					options: {},
					store: 'lancedb',
					folderPath: storeFolder,
					collection: 'knowledge',
					namespace: 'crash',
				},
				credentials: { symbioticModelApi: { id: 'symbModelCred001', name: 'Symbiotic Model (OPENAI_BASE_URL)' } },
			},
		],
		connections: {
			Documents: { main: [[{ node: 'One item per document', type: 'main', index: 0 }]] },
			'One item per document': { main: [[{ node: 'Ingest', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

const documents = (version: number) =>
	Array.from({ length: DOCUMENTS }, (_, index) => ({
		id: `doc-${index}`,
		text: `Document ${index}, version ${version}. Opening hours of shop ${index}: from ${8 + (index % 3)} to ${17 + version}.`,
	}));

interface StoredRow {
	id: string;
	sourceId: string;
	documentHash: string;
	chunkCount: number;
	text: string;
}

async function storedRows(): Promise<StoredRow[]> {
	const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
	try {
		if (!(await connection.tableNames()).includes('knowledge')) return [];
		const table = await connection.openTable('knowledge');
		const rows = (await table.query().where("namespace = 'crash'").select(['id', 'sourceId', 'documentHash', 'chunkCount', 'text']).toArray()) as StoredRow[];
		table.close();
		return rows;
	} finally {
		connection.close();
	}
}

/** Sends the documents and kills n8n once some, but not all, of them are stored. */
async function crashMidIngest(version: number, storedBefore: number): Promise<number> {
	const request = n8n.webhook(WEBHOOK, { documents: documents(version) }, { timeoutMs: 120_000 }).catch(() => undefined);
	const deadline = Date.now() + 90_000;
	let written = 0;
	for (;;) {
		written = (await storedRows()).filter((row) => row.text.includes(`version ${version}.`)).length;
		if (written > 0 && written < DOCUMENTS) break;
		if (Date.now() > deadline) throw new Error(`no partial ingest to interrupt (version ${version}: ${written} rows, ${storedBefore} before)`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	await n8n.crash();
	await request;
	return written;
}

function expectConverged(rows: StoredRow[], version: number): void {
	expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
	const bySource = new Map<string, StoredRow[]>();
	for (const row of rows) bySource.set(row.sourceId, [...(bySource.get(row.sourceId) ?? []), row]);
	expect(bySource.size).toBe(DOCUMENTS);
	for (const [sourceId, chunks] of bySource) {
		// One version per document, complete, and the one sent last.
		expect({ sourceId, versions: new Set(chunks.map((chunk) => chunk.documentHash)).size }).toEqual({ sourceId, versions: 1 });
		expect(chunks.length).toBe(chunks[0].chunkCount);
		expect(chunks.every((chunk) => chunk.text.includes(`version ${version}.`))).toBe(true);
	}
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
	const again = await n8n.webhook(WEBHOOK, { documents: documents(1) }, { timeoutMs: 180_000 });
	expect(again.status).toBe(200);
	const rows = await storedRows();
	expectConverged(rows, 1);
	// Documents stored before the crash were recognised, not embedded again.
	expect(written).toBeGreaterThan(0);
}, 400_000);

test('[crash-update] n8n killed while a new version replaces the old: after a restart, only the new version remains', async () => {
	await crashMidIngest(2, DOCUMENTS);
	// Mid-update, every document is still searchable: old version, new version, or (briefly) both.
	const midway = await storedRows();
	expect(new Set(midway.map((row) => row.sourceId)).size).toBe(DOCUMENTS);
	await n8n.restart();
	const again = await n8n.webhook(WEBHOOK, { documents: documents(2) }, { timeoutMs: 180_000 });
	expect(again.status).toBe(200);
	expectConverged(await storedRows(), 2);
}, 400_000);
