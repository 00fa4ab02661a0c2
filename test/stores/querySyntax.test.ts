/**
 * Whatever a user or an AI agent types — quotes, AND/OR/NOT, parentheses, colons, wildcards, query-language
 * punctuation, emoji, a whole pasted document — keyword and hybrid search return results, never a store's
 * query-parser error. Fuzzed with fast-check against LanceDB on disk (a table with a language and one indexed
 * as before languages) and Qdrant through the validating server (every request checked against its schema).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as lancedb from '@lancedb/lancedb';
import fc from 'fast-check';

import { openStore } from '../../lib/stores';
import type { StoreHit, VectorStore } from '../../lib/types';
import { startQdrantValidatingServer, type QdrantValidatingServer } from '../support/qdrantValidatingServer';
import { chunk, topic } from './contract';

const CORPUS = [
	chunk({ sourceId: 'zebra.md', text: 'The zebra and the banana: a story of stripes.', vector: topic(0) }),
	chunk({ sourceId: 'activites.md', text: "Les activités de l'entreprise sont dirigées par le conseil.", vector: topic(1) }),
	chunk({ sourceId: 'code.md', text: 'Use C++ or C# with key:value pairs (a AND b) OR NOT c*?', vector: topic(2) }),
	chunk({ sourceId: 'emoji.md', text: 'Rocket launch 🚀 today', vector: topic(3) }),
];

/** Fixed queries that broke or could break a query parser. */
const NASTY = [
	'"zebra" OR "banana"',
	'"zebra',
	'zebra"',
	'"',
	'""',
	"'",
	"l'",
	'AND',
	'OR',
	'NOT',
	'zebra AND NOT banana',
	'(zebra',
	'zebra)',
	'((()))',
	'title:zebra',
	'text:',
	':',
	'zebra*',
	'*',
	'?',
	'ze?ra',
	'+zebra -banana',
	'zebra~2',
	'zebra^3',
	'\\',
	'a\\b',
	'/zebra/',
	'[zebra TO banana]',
	'{zebra}',
	'&& || !',
	'🦓',
	'🚀 rocket',
	'C++',
	'C#',
	'\u0000\u0001',
	'\t\n\r',
	'   ',
	'SELECT * FROM chunks; --',
	"a' OR 1=1 --",
	`What about ${'zebra '.repeat(1_200)}?`,
	'x'.repeat(10_000),
	Array.from({ length: 2_000 }, (_, index) => `word${index}`).join(' '),
];

const SYNTAX = ['"', "'", '’', 'AND', 'OR', 'NOT', 'and', 'or', '(', ')', ':', '*', '?', '+', '-', '~', '^', '\\', '/', '[', ']', '{', '}', '!', '&&', '||', '@', '#', '%', '`', '😀', '🦓', 'zebra', 'activité', "l'", 'text:', 'TO', ' ', '\u0000'];
/** Queries mixing query-language syntax, real words and arbitrary Unicode. */
const queryArbitrary = fc.oneof(
	fc.array(fc.oneof(fc.constantFrom(...SYNTAX), fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 4 })), { maxLength: 24 }).chain((parts) =>
		fc.constantFrom(parts.join(' '), parts.join('')),
	),
	fc.string({ unit: 'binary', maxLength: 200 }),
	fc.string({ unit: 'grapheme', maxLength: 60 }),
);

function checkHits(hits: StoreHit[]): void {
	expect(Array.isArray(hits)).toBe(true);
	for (const hit of hits) {
		expect(typeof hit.chunk.text).toBe('string');
		expect(Number.isFinite(hit.score)).toBe(true);
	}
}

function describeQuerySyntax(name: string, setup: () => Promise<{ store: VectorStore; after?: () => void }>): void {
	describe(`${name}: queries never fail on their syntax`, () => {
		let store: VectorStore;
		let after: (() => void) | undefined;
		beforeAll(async () => {
			({ store, after } = await setup());
		});
		afterAll(async () => {
			await store.close();
		});
		const search = async (text: string, mode: 'keyword' | 'hybrid') => {
			const hits = await store.search({ namespace: 'acme', mode, text, topK: 5, ...(mode === 'hybrid' ? { vector: topic(3) } : {}) });
			checkHits(hits);
			after?.();
			return hits;
		};

		it('answers every fixed tricky query, in keyword and hybrid mode', async () => {
			for (const text of NASTY) {
				await search(text, 'keyword');
				await search(text, 'hybrid');
			}
			const sources = async (text: string) => (await search(text, 'keyword')).map((hit) => hit.chunk.metadata.sourceId);
			// Quotes and operators are plain words (in French, "or" is one too: it finds code.md's "OR").
			expect((await sources('"zebra" OR "banana"'))[0]).toBe('zebra.md');
			expect(await sources('title:zebra*')).toEqual(['zebra.md']);
			expect(await sources('(zebra')).toEqual(['zebra.md']);
			expect(await sources(`What about ${'zebra '.repeat(1_200)}?`)).toContain('zebra.md');
		});

		it('answers fuzzed queries (fast-check, 200 runs)', async () => {
			await fc.assert(
				fc.asyncProperty(queryArbitrary, fc.constantFrom('keyword' as const, 'hybrid' as const), async (text, mode) => {
					await search(text, mode);
				}),
				{ numRuns: 200 },
			);
		});
	});
}

let folder: string;
beforeAll(() => {
	folder = fs.mkdtempSync(path.join(os.tmpdir(), 'symbiotic-syntax-'));
});
afterAll(() => {
	fs.rmSync(folder, { recursive: true, force: true });
});

describeQuerySyntax('LanceDB, French table', async () => {
	const store = await openStore({ kind: 'lancedb', path: folder, table: 'french', keywordLanguage: 'french' });
	await store.upsert(CORPUS);
	return { store };
});

describeQuerySyntax('LanceDB, table indexed before languages', async () => {
	const writer = await openStore({ kind: 'lancedb', path: folder, table: 'legacy', keywordLanguage: 'english' });
	await writer.upsert(CORPUS);
	await writer.close();
	const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
	const handle = await connection.openTable('legacy');
	for (const index of await handle.listIndices()) if (index.indexType === 'FTS') await handle.dropIndex(index.name);
	await handle.dropColumns(['keywords']);
	await handle.createIndex('text', { config: lancedb.Index.fts() });
	handle.close();
	connection.close();
	return { store: await openStore({ kind: 'lancedb', path: folder, table: 'legacy' }) };
});

describe('Qdrant (validating server)', () => {
	let server: QdrantValidatingServer;
	beforeAll(async () => {
		server = await startQdrantValidatingServer();
	});
	afterAll(async () => {
		await server.close();
	});
	for (const keywordLanguage of ['english', 'french'] as const) {
		describeQuerySyntax(`Qdrant, ${keywordLanguage} collection`, async () => {
			const store = await openStore({ kind: 'qdrant', url: server.url, collection: `syntax_${keywordLanguage}`, keywordLanguage });
			await store.upsert(CORPUS);
			// Every request must be valid against Qdrant's OpenAPI document.
			return { store, after: () => expect(server.violations.splice(0)).toEqual([]) };
		});
	}
});
