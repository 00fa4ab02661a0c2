/**
 * The knowledge base's keyword language in each store: LanceDB on disk and Qdrant through the validating
 * server. A French collection matches words typed without accents and other inflections, ignores elisions,
 * and changing the language re-indexes what is stored.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as lancedb from '@lancedb/lancedb';
import { QdrantClient } from '@qdrant/js-client-rest';

import { openStore, type StoreConfig } from '../../lib/stores';
import { encodeDocument } from '../../lib/stores/sparseEncoder';
import { InputError, type VectorStore } from '../../lib/types';
import { startQdrantValidatingServer, type QdrantValidatingServer } from '../support/qdrantValidatingServer';
import { chunk } from './contract';

const FRENCH = [
	chunk({ sourceId: 'activites.md', text: "Les activités de l'entreprise sont dirigées par le conseil d'administration.", vector: null }),
	chunk({ sourceId: 'avion.md', text: "L'avion décolle à midi depuis l'aéroport.", vector: null }),
	chunk({ sourceId: 'ecole.md', text: 'Les élèves étudient la géographie et l’histoire.', vector: null }),
];

async function keywordSources(store: VectorStore, text: string): Promise<string[]> {
	const hits = await store.search({ namespace: 'acme', mode: 'keyword', text, topK: 10 });
	return hits.map((hit) => hit.chunk.metadata.sourceId);
}

/** The behaviour both backends share. */
function describeFrenchSearch(name: string, open: (language?: StoreConfig['keywordLanguage']) => Promise<VectorStore>): void {
	describe(`${name}: French keyword search`, () => {
		let store: VectorStore;
		beforeAll(async () => {
			store = await open('french');
			await store.upsert(FRENCH);
		});
		afterAll(async () => {
			await store.close();
		});

		it('finds "activités" from "activite" and "dirigées" from "dirige"', async () => {
			expect(await keywordSources(store, 'activite')).toEqual(['activites.md']);
			expect(await keywordSources(store, 'dirige')).toEqual(['activites.md']);
			expect(await keywordSources(store, 'eleve geographie')).toEqual(['ecole.md']);
			expect(await keywordSources(store, 'Élèves')).toEqual(['ecole.md']);
		});

		it("does not match \"l'entreprise\" on the \"l\" every French text has", async () => {
			expect(await keywordSources(store, "l'entreprise")).toEqual(['activites.md']);
			expect(await keywordSources(store, "l'histoire")).toEqual(['ecole.md']);
			expect(await keywordSources(store, "l' d' qu'")).toEqual([]);
		});

		it('finds nothing for stop words only', async () => {
			expect(await keywordSources(store, 'le la les de des et')).toEqual([]);
		});
	});
}

describe('LanceDB keyword language', () => {
	let folder: string;
	let tableNumber = 0;
	beforeAll(() => {
		folder = fs.mkdtempSync(path.join(os.tmpdir(), 'symbiotic-language-'));
	});
	afterAll(() => {
		fs.rmSync(folder, { recursive: true, force: true });
	});
	const nextTable = () => `language_${++tableNumber}`;

	async function inspect(table: string): Promise<{ language?: string; indexes: Array<{ column: string; tokenizer?: unknown; stem?: unknown }> }> {
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		const handle = await connection.openTable(table);
		const field = (await handle.schema()).fields.find((candidate) => candidate.name === 'keywords');
		const indexes = (await handle.listIndices())
			.filter((index) => index.indexType === 'FTS')
			.map((index) => {
				const details = (index as { indexDetails?: Record<string, unknown> }).indexDetails ?? {};
				return { column: index.columns[0], tokenizer: details.base_tokenizer, stem: details.stem };
			});
		handle.close();
		connection.close();
		return { language: field?.metadata.get('symbiotic:keywordLanguage'), indexes };
	}

	describeFrenchSearch('LanceDB', (keywordLanguage) => openStore({ kind: 'lancedb', path: folder, table: nextTable(), keywordLanguage }));

	it('detects the language of a new table from its first chunks (Auto)', async () => {
		const table = nextTable();
		const store = await openStore({ kind: 'lancedb', path: folder, table });
		await store.upsert(FRENCH);
		expect((await inspect(table)).language).toBe('french');
		expect(await keywordSources(store, 'activite')).toEqual(['activites.md']);
		await store.close();
		const english = nextTable();
		const unclear = await openStore({ kind: 'lancedb', path: folder, table: english });
		await unclear.upsert([chunk({ sourceId: 'a.md', text: 'Spring pricing', vector: null })]);
		expect((await inspect(english)).language).toBe('english');
		await unclear.close();
	});

	it('re-indexes the table when the language changes, on the next write or search', async () => {
		const table = nextTable();
		const english = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'english' });
		await english.upsert(FRENCH);
		expect(await inspect(table)).toEqual({ language: 'english', indexes: [{ column: 'keywords', tokenizer: 'whitespace', stem: false }] });
		// English stemming does not know French conjugations.
		expect(await keywordSources(english, 'dirige')).toEqual([]);
		await english.close();

		const french = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'french' });
		expect(await keywordSources(french, 'dirige')).toEqual(['activites.md']);
		expect((await inspect(table)).language).toBe('french');
		await french.upsert([chunk({ sourceId: 'neuf.md', text: 'Nouvelles activités ajoutées', vector: null })]);
		expect((await keywordSources(french, 'activite')).sort()).toEqual(['activites.md', 'neuf.md']);
		await french.close();

		// Auto keeps what the table has; a write in another language re-indexes it again.
		const auto = await openStore({ kind: 'lancedb', path: folder, table });
		expect((await keywordSources(auto, 'activite')).sort()).toEqual(['activites.md', 'neuf.md']);
		await auto.close();
		const none = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'none' });
		await none.upsert([chunk({ sourceId: 'x.md', text: 'x', vector: null })]);
		expect((await inspect(table)).language).toBe('none');
		expect(await keywordSources(none, 'activite')).toEqual([]);
		expect((await keywordSources(none, 'activités')).sort()).toEqual(['activites.md', 'neuf.md']);
		await none.close();
	});

	it('keeps a table indexed before languages existed as it is, until a language is chosen', async () => {
		const table = nextTable();
		const writer = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'english' });
		await writer.upsert(FRENCH.slice(0, 2));
		await writer.close();
		// Make it a table as the store wrote it before: no keywords column, LanceDB's default index on text.
		const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
		const handle = await connection.openTable(table);
		for (const index of await handle.listIndices()) await handle.dropIndex(index.name);
		await handle.dropColumns(['keywords']);
		await handle.createIndex('text', { config: lancedb.Index.fts() });
		handle.close();
		connection.close();

		const legacy = await openStore({ kind: 'lancedb', path: folder, table });
		await legacy.upsert([FRENCH[2]]);
		expect(await inspect(table)).toEqual({ language: undefined, indexes: [{ column: 'text', tokenizer: 'simple', stem: true }] });
		expect(await keywordSources(legacy, 'élèves')).toEqual(['ecole.md']);
		// LanceDB's own parser is never involved: quotes and operators are words.
		expect(await keywordSources(legacy, '"zebra" OR "élèves"')).toEqual(['ecole.md']);
		expect(await keywordSources(legacy, 'activite')).toEqual([]);
		await legacy.close();

		const french = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'french' });
		expect(await keywordSources(french, 'activite')).toEqual(['activites.md']);
		expect(await inspect(table)).toEqual({ language: 'french', indexes: [{ column: 'keywords', tokenizer: 'whitespace', stem: false }] });
		expect(await keywordSources(french, 'eleves')).toEqual(['ecole.md']);
		await french.close();
	});

	it('refuses an unknown language, naming the field', async () => {
		const error = await openStore({ kind: 'lancedb', path: folder, table: 'x', keywordLanguage: 'klingon' as never }).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(InputError);
		expect(error).toMatchObject({ field: 'keywordLanguage' });
	});
});

describe('Qdrant keyword language (validating server)', () => {
	let server: QdrantValidatingServer;
	let client: QdrantClient;
	let collectionNumber = 0;
	beforeAll(async () => {
		server = await startQdrantValidatingServer();
		client = new QdrantClient({ url: server.url, checkCompatibility: false });
	});
	afterEach(() => {
		expect(server.violations.splice(0)).toEqual([]);
	});
	afterAll(async () => {
		await server.close();
	});
	const nextCollection = () => `language_${++collectionNumber}`;
	const open = (collection: string, keywordLanguage?: StoreConfig['keywordLanguage']) =>
		openStore({ kind: 'qdrant', url: server.url, collection, keywordLanguage });

	async function sparseOf(collection: string): Promise<Map<string, unknown>> {
		const page = await client.scroll(collection, { limit: 100, with_payload: ['sourceId'], with_vector: ['bm25'] });
		return new Map(page.points.map((point) => [String(point.payload?.sourceId), (point.vector as Record<string, unknown>).bm25]));
	}

	describeFrenchSearch('Qdrant', (keywordLanguage) => open(nextCollection(), keywordLanguage));

	it('stores the language in the collection metadata and encodes points with its analysis', async () => {
		const collection = nextCollection();
		const store = await open(collection);
		await store.upsert(FRENCH);
		const info = await client.getCollection(collection);
		expect(info.config.metadata).toEqual({ symbiotic_keyword_language: 'french', symbiotic_keyword_analysis: 1 });
		const sparse = await sparseOf(collection);
		for (const item of FRENCH) expect(sparse.get(item.metadata.sourceId)).toEqual(encodeDocument(item.text, 'french'));
		await store.close();
	});

	it('re-encodes every point when the language changes, and keeps legacy collections as they are', async () => {
		const collection = nextCollection();
		// A collection created before languages: no metadata, the legacy encoding.
		await client.createCollection(collection, { sparse_vectors: { bm25: { modifier: 'idf' } } });
		await client.upsert(collection, {
			wait: true,
			points: FRENCH.map((item) => ({ id: item.id, vector: { bm25: encodeDocument(item.text) }, payload: { ...item.metadata, text: item.text } })),
		});
		const legacy = await open(collection);
		await legacy.upsert([chunk({ sourceId: 'neuf.md', text: 'Nouvelles activités', vector: null })]);
		expect((await client.getCollection(collection)).config.metadata ?? undefined).toBeUndefined();
		expect((await sparseOf(collection)).get('neuf.md')).toEqual(encodeDocument('Nouvelles activités'));
		expect(await keywordSources(legacy, 'activite')).toEqual([]);
		await legacy.close();

		const french = await open(collection, 'french');
		expect((await keywordSources(french, 'activite')).sort()).toEqual(['activites.md', 'neuf.md']);
		expect((await client.getCollection(collection)).config.metadata).toEqual({ symbiotic_keyword_language: 'french', symbiotic_keyword_analysis: 1 });
		const sparse = await sparseOf(collection);
		expect(sparse.get('neuf.md')).toEqual(encodeDocument('Nouvelles activités', 'french'));
		expect(sparse.get('ecole.md')).toEqual(encodeDocument(FRENCH[2].text, 'french'));
		expect(server.requests.filter((request) => request.endsWith('/points/vectors'))).toHaveLength(1);
		await french.close();
	});
});
