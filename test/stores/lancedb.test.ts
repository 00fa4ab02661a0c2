import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { defaultLanceDbPath, openStore } from '../../lib/stores';
import { chunk, describeVectorStoreContract, topic } from './contract';
import type { VectorStore } from '../../lib/types';

let folder: string;
let tableNumber = 0;

beforeAll(() => {
	folder = fs.mkdtempSync(path.join(os.tmpdir(), 'symbiotic-lancedb-'));
});
afterAll(() => {
	fs.rmSync(folder, { recursive: true, force: true });
});

describeVectorStoreContract('LanceDB', {
	open: () => openStore({ kind: 'lancedb', path: folder, table: `contract_${++tableNumber}` }),
});

describe('LanceDB specifics', () => {
	it('puts the default folder under the n8n user folder', () => {
		expect(defaultLanceDbPath({ N8N_USER_FOLDER: '/data/n8n' })).toBe(path.join('/data/n8n', '.n8n', 'symbiotic-lancedb'));
		expect(defaultLanceDbPath({})).toBe(path.join(os.homedir(), '.n8n', 'symbiotic-lancedb'));
	});

	it('shares one connection per folder: closing one store leaves the other working', async () => {
		const first = await openStore({ kind: 'lancedb', path: folder, table: 'shared' });
		const second = await openStore({ kind: 'lancedb', path: folder, table: 'shared' });
		await Promise.all([
			first.upsert([chunk({ sourceId: 'one.md', text: 'First writer text' })]),
			second.upsert([chunk({ sourceId: 'two.md', text: 'Second writer text', extra: { only: 'second' } })]),
		]);
		await first.close();
		const hits = await second.search({ namespace: 'acme', mode: 'keyword', text: 'writer', topK: 5 });
		expect(hits.map((hit) => hit.chunk.metadata.sourceId).sort()).toEqual(['one.md', 'two.md']);
		await second.close();
		const reopened = await openStore({ kind: 'lancedb', path: folder, table: 'shared' });
		expect(await reopened.listSources('acme')).toHaveLength(2);
		await reopened.close();
	});

	it('builds an ANN vector index once the table crosses the threshold, and still finds new rows', async () => {
		const table = 'indexed';
		const store = await openStore({ kind: 'lancedb', path: folder, table, vectorIndexThreshold: 300 });
		const dimension = 16;
		const random = (seed: number) => Array.from({ length: dimension }, (_, index) => Math.sin(seed * 12.9898 + index * 78.233) * 0.5 + 0.5);
		const rows = Array.from({ length: 320 }, (_, index) =>
			chunk({ sourceId: `doc-${index}.md`, text: `Document number ${index}`, vector: random(index) }),
		);
		await store.upsert(rows.slice(0, 200));
		const lancedb = await import('@lancedb/lancedb');
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		const handle = await connection.openTable(table);
		const indexed = async () => Object.fromEntries((await handle.listIndices()).map((index) => [index.columns.join(), index.indexType]));
		// Scalar indexes from the first write: lookups and the namespace pre-filter must not scan the table.
		expect(await indexed()).toEqual({ keywords: 'FTS', namespace: 'Bitmap', id: 'BTree', sourceId: 'BTree', contentHash: 'BTree' });
		await store.upsert(rows.slice(200));
		expect((await indexed()).vector).toBe('IvfHnswSq');
		const late = chunk({ sourceId: 'late.md', text: 'Added after the index', vector: topic(7, dimension) });
		await store.upsert([late]);
		const hits = await store.search({ namespace: 'acme', mode: 'semantic', vector: topic(7, dimension), topK: 1 });
		expect(hits[0].chunk.metadata.sourceId).toBe('late.md');
		const target = await store.search({ namespace: 'acme', mode: 'semantic', vector: random(42), topK: 1 });
		expect(target[0].chunk.metadata.sourceId).toBe('doc-42.md');
		expect(target[0].score).toBeGreaterThan(0.98);
		handle.close();
		connection.close();
		await store.close();
	});

	it('rebuilds a vector index grown into too many segments as one, in the background, and loses no row', async () => {
		const table = 'segments';
		const dimension = 8;
		const store = await openStore({ kind: 'lancedb', path: folder, table, vectorIndexThreshold: 300 });
		// openStore does not take the segment bound (not a user setting): open the class directly for it.
		const { LanceDbStore } = await import('../../lib/stores/lancedb');
		const segmented = new LanceDbStore({ path: folder, table, vectorIndexThreshold: 300, maxVectorIndexSegments: 2 });
		const vector = (seed: number) => Array.from({ length: dimension }, (_, index) => Math.cos(seed * 3.7 + index * 1.3));
		let written = 0;
		const write = async (target: VectorStore, count: number) => {
			const rows = Array.from({ length: count }, (_, offset) => chunk({ sourceId: `s-${written + offset}.md`, text: `Row ${written + offset}`, vector: vector(written + offset) }));
			written += count;
			await target.upsert(rows);
		};
		await write(store, 300);
		const lancedb = await import('@lancedb/lancedb');
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		const handle = await connection.openTable(table);
		const segments = async () => (await handle.indexStats('vector_idx'))?.numIndices ?? 0;
		// Each optimisation (≥ 2,000 unindexed rows) adds a segment; past the bound the next write starts a rebuild.
		for (let round = 0; round < 3; round++) await write(store, 2_000);
		expect(await segments()).toBe(4);
		await write(segmented, 10);
		for (let waited = 0; (await segments()) > 1 && waited < 60_000; waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
		expect(await segments()).toBe(1);
		expect(await handle.countRows()).toBe(written);
		const hits = await store.search({ namespace: 'acme', mode: 'semantic', vector: vector(written - 1), topK: 1 });
		expect(hits[0].chunk.metadata.sourceId).toBe(`s-${written - 1}.md`);
		handle.close();
		connection.close();
		await segmented.close();
		await store.close();
	}, 90_000);

	it('deletes old table versions when it optimises, so compacted data does not pile up on disk', async () => {
		const table = 'pruned';
		const { LanceDbStore } = await import('../../lib/stores/lancedb');
		const store = new LanceDbStore({ path: folder, table, versionRetentionMs: 0 });
		const lancedb = await import('@lancedb/lancedb');
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		for (let batch = 0; batch < 5; batch++) {
			await store.upsert(Array.from({ length: 500 }, (_, offset) => chunk({ sourceId: `p-${batch}-${offset}.md`, text: `Pruned row ${batch} ${offset}` })));
		}
		// Five writes and their index upkeep made more than a dozen versions; the optimisation at 2,000 rows kept only its own.
		const handle = await connection.openTable(table);
		expect((await handle.listVersions()).length).toBeLessThan(6);
		expect(await handle.countRows()).toBe(2_500);
		handle.close();
		connection.close();
		await store.close();
	});

	it('keeps user metadata keys as typed filter columns, added when a key first appears', async () => {
		const store = await openStore({ kind: 'lancedb', path: folder, table: 'evolving' });
		await store.upsert([chunk({ sourceId: 'old.md', text: 'Before the key existed' })]);
		await store.upsert([chunk({ sourceId: 'new.md', text: 'After the key existed', extra: { 'région': 'Île-de-France', score: [1, 2] } })]);
		const lancedb = await import('@lancedb/lancedb');
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		const handle = await connection.openTable('evolving');
		const names = (await handle.schema()).fields.map((field) => field.name);
		expect(names.filter((name) => name.startsWith('x_')).sort()).toEqual([
			`x_${Buffer.from('région').toString('hex')}_s`,
			`x_${Buffer.from('score').toString('hex')}_n`,
		]);
		const search = (filter: Parameters<typeof store.search>[0]['filter']) =>
			store.search({ namespace: 'acme', mode: 'semantic', vector: topic(0), topK: 5, filter }).then((hits) => hits.map((hit) => hit.chunk.metadata.sourceId));
		expect(await search([{ key: 'région', op: 'eq', value: 'Île-de-France' }])).toEqual(['new.md']);
		expect(await search([{ key: 'score', op: 'gt', value: 1.5 }])).toEqual(['new.md']);
		expect(await search([{ key: 'score', op: 'ne', value: 2 }])).toEqual(['old.md']);
		handle.close();
		connection.close();
		await store.close();
	});

	it('lets several processes write to one folder at once: commit conflicts and schema races are retried', async () => {
		// Each worker adds metadata keys of its own, so the writers also race to extend the schema; all start
		// writing at one agreed moment, since process start-up times differ.
		const worker = path.join(folder, 'writer.ts');
		fs.writeFileSync(
			worker,
			`import { openStore } from ${JSON.stringify(path.resolve(__dirname, '../../lib/stores'))};
import { chunk } from ${JSON.stringify(path.resolve(__dirname, 'contract'))};
const [folder, name, startAt] = process.argv.slice(2);
(async () => {
	const store = await openStore({ kind: 'lancedb', path: folder, table: 'multiprocess' });
	await new Promise((resolve) => setTimeout(resolve, Number(startAt) - Date.now()));
	for (let index = 0; index < 8; index++) {
		await store.upsert([chunk({ sourceId: name + '-' + index + '.md', text: 'Writer ' + name + ' part ' + index, extra: { ['key_' + name + '_' + index]: 'x' } })]);
	}
	await store.close();
})().catch((error) => { console.error(String(error)); process.exit(1); });
`,
		);
		const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
		const run = promisify(execFile);
		const startAt = String(Date.now() + 3_000);
		await Promise.all(['a', 'b', 'c'].map((name) => run(tsx, [worker, folder, name, startAt], { timeout: 30_000 })));
		const store = await openStore({ kind: 'lancedb', path: folder, table: 'multiprocess' });
		const sources = (await store.listSources('acme')).map((source) => source.sourceId);
		expect(sources).toHaveLength(24);
		expect(sources).toContain('c-7.md');
		await store.close();
	}, 40_000);

	it('ends with one version per source when several processes ingest the same new and then updated sources at once', async () => {
		// What an ingest does in each process: write the new version in slices, then delete each source's other
		// versions. Low thresholds make the writers also race to build indexes and optimise. Without the folder's
		// write lock this failed with duplicated rows or LanceDB's "Too many concurrent writers".
		const worker = path.join(folder, 'ingest-writer.ts');
		fs.writeFileSync(
			worker,
			`import { LanceDbStore } from ${JSON.stringify(path.resolve(__dirname, '../../lib/stores/lancedb'))};
import { chunk } from ${JSON.stringify(path.resolve(__dirname, 'contract'))};
const [folder, version, startAt] = process.argv.slice(2);
(async () => {
	const store = new LanceDbStore({ path: folder, table: 'same-ingest', vectorIndexThreshold: 300, optimizeAfterUnindexedRows: 100 });
	const chunks = Array.from({ length: 400 }, (_, index) => chunk({ sourceId: 'doc-' + index, documentHash: 'v' + version + '-' + index, text: 'Doc ' + index + ' version ' + version }));
	await new Promise((resolve) => setTimeout(resolve, Number(startAt) - Date.now()));
	for (let start = 0; start < chunks.length; start += 50) await store.upsert(chunks.slice(start, start + 50));
	for (const item of chunks) await store.deleteSource('acme', item.metadata.sourceId, item.metadata.documentHash);
	await store.close();
})().catch((error) => { console.error(String(error)); process.exit(1); });
`,
		);
		const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
		const run = promisify(execFile);
		const lancedb = await import('@lancedb/lancedb');
		for (const version of [1, 2]) {
			const startAt = String(Date.now() + 3_000);
			await Promise.all(['a', 'b', 'c'].map(() => run(tsx, [worker, folder, String(version), startAt], { timeout: 120_000 })));
			const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
			const table = await connection.openTable('same-ingest');
			const rows = (await table.query().select(['id', 'documentHash']).toArray()) as Array<{ id: string; documentHash: string }>;
			expect(rows).toHaveLength(400);
			expect(new Set(rows.map((row) => row.id)).size).toBe(400);
			expect(rows.filter((row) => !row.documentHash.startsWith(`v${version}-`))).toEqual([]);
			table.close();
			connection.close();
		}
	}, 300_000);

	it('stores chunks that several processes write at the same moment once, not once per process', async () => {
		// Two queue-mode workers running the same ingest: the same new chunk ids arrive from each at once.
		const worker = path.join(folder, 'same-writer.ts');
		fs.writeFileSync(
			worker,
			`import { openStore } from ${JSON.stringify(path.resolve(__dirname, '../../lib/stores'))};
import { chunk } from ${JSON.stringify(path.resolve(__dirname, 'contract'))};
const [folder, round, startAt] = process.argv.slice(2);
(async () => {
	const store = await openStore({ kind: 'lancedb', path: folder, table: 'same-chunks' });
	const chunks = Array.from({ length: 300 }, (_, index) => chunk({ sourceId: 'round-' + round + '-' + index + '.md', text: 'Shared text ' + index }));
	await new Promise((resolve) => setTimeout(resolve, Number(startAt) - Date.now()));
	await store.upsert(chunks);
	await store.close();
})().catch((error) => { console.error(String(error)); process.exit(1); });
`,
		);
		const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
		const run = promisify(execFile);
		const lancedb = await import('@lancedb/lancedb');
		for (let round = 0; round < 3; round++) {
			const startAt = String(Date.now() + 3_000);
			await Promise.all(['a', 'b', 'c'].map(() => run(tsx, [worker, folder, String(round), startAt], { timeout: 30_000 })));
			const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
			const table = await connection.openTable('same-chunks');
			expect(await table.countRows(`sourceId LIKE 'round-${round}-%'`)).toBe(300);
			table.close();
			connection.close();
		}
	}, 120_000);
});
