/** The ingest workflow and store checks shared by the end-to-end reliability tests. */
import * as lancedb from '@lancedb/lancedb';

export const WEBHOOK = 'reliability-ingest';

/** Webhook (POST { documents: [{ id, text }] }, answers with the ingest results) → one item each → Ingest Document. */
export function ingestWorkflow(storeFolder: string): Record<string, unknown> {
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

/** `count` short documents (one chunk each), their text depending on `version`. */
export const documents = (count: number, version: number) =>
	Array.from({ length: count }, (_, index) => ({
		id: `doc-${index}`,
		text: `Document ${index}, version ${version}. Opening hours of shop ${index}: from ${8 + (index % 3)} to ${17 + version}.`,
	}));

export interface StoredRow {
	id: string;
	sourceId: string;
	documentHash: string;
	chunkCount: number;
	text: string;
}

/** Every chunk of namespace `crash` in the folder's `knowledge` table (none when it does not exist yet). */
export async function storedRows(folder: string): Promise<StoredRow[]> {
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

/** Exactly `count` documents, each stored once: one complete version, the given one, no duplicate chunk. */
export function expectConverged(rows: StoredRow[], count: number, version: number): void {
	expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
	const bySource = new Map<string, StoredRow[]>();
	for (const row of rows) bySource.set(row.sourceId, [...(bySource.get(row.sourceId) ?? []), row]);
	expect(bySource.size).toBe(count);
	for (const [sourceId, chunks] of bySource) {
		// One version per document, complete, and the one sent last.
		expect({ sourceId, versions: new Set(chunks.map((chunk) => chunk.documentHash)).size }).toEqual({ sourceId, versions: 1 });
		expect(chunks.length).toBe(chunks[0].chunkCount);
		expect(chunks.every((chunk) => chunk.text.includes(`version ${version}.`))).toBe(true);
	}
}

