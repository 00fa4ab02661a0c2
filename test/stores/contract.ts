/**
 * The behaviour every VectorStore backend must show, run against each of them (LanceDB on disk, Qdrant
 * through the validating emulator, and a real Qdrant when QDRANT_URL is set).
 */
import { createHash } from 'node:crypto';

import { DimensionMismatchError, InputError, type MetadataFilter, type StoredChunk, type UserMetadata, type VectorStore } from '../../lib/types';

export interface StoreUnderTest {
	/** A store on a fresh, empty collection. */
	open(): Promise<VectorStore>;
}

export const DIMENSION = 8;

/** Unit vector along one axis, slightly tilted so cosine scores are not all exactly 0 or 1. */
export function topic(axis: number, dimension = DIMENSION): number[] {
	return Array.from({ length: dimension }, (_, index) => (index === axis ? 1 : 0.05));
}

export function uuidFrom(text: string): string {
	const hex = createHash('sha256').update(text).digest('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface ChunkSpec {
	namespace?: string;
	sourceId: string;
	documentHash?: string;
	chunkIndex?: number;
	chunkCount?: number;
	text: string;
	vector?: number[] | null;
	extra?: UserMetadata;
	title?: string;
	url?: string;
	ingestedAt?: string;
}

export function chunk(spec: ChunkSpec): StoredChunk {
	const namespace = spec.namespace ?? 'acme';
	const documentHash = spec.documentHash ?? `doc-${spec.sourceId}`;
	const chunkIndex = spec.chunkIndex ?? 0;
	return {
		id: uuidFrom(`${namespace}|${spec.sourceId}|${documentHash}|${chunkIndex}`),
		text: spec.text,
		tokens: spec.text.split(/\s+/).length,
		...(spec.vector === null ? {} : { vector: spec.vector ?? topic(0) }),
		metadata: {
			sourceId: spec.sourceId,
			namespace,
			title: spec.title,
			url: spec.url,
			headingPath: ['Intro', spec.sourceId],
			chunkIndex,
			chunkCount: spec.chunkCount ?? 1,
			contentHash: createHash('sha256').update(spec.text).digest('hex'),
			documentHash,
			ingestedAt: spec.ingestedAt ?? '2026-01-01T00:00:00.000Z',
			extra: spec.extra ?? {},
		},
	};
}

const INJECTION = "a' OR 1=1 --";

/** Six chunks with varied user metadata, for the filter tests. */
function filterCorpus(): StoredChunk[] {
	return [
		chunk({ sourceId: 'spring.pdf', text: 'Spring campaign pricing for partners', vector: topic(0), extra: { campaign: 'spring', year: 2024, tags: ['b2b', 'email'], vip: true, ratio: 0.5 } }),
		chunk({ sourceId: 'summer.pdf', text: 'Summer newsletter about events', vector: topic(1), extra: { campaign: 'summer', year: 2025, tags: ['b2c'], vip: false, ratio: 1.5 } }),
		chunk({ sourceId: 'autumn.pdf', text: 'Autumn offers for retail', vector: topic(2), extra: { campaign: 'autumn', year: 2023, "it's a key": 'yes', 'back`tick': 'bt' } }),
		chunk({ sourceId: 'inject.txt', text: 'Tricky metadata values', vector: topic(3), extra: { campaign: INJECTION, year: '2024' } }),
		chunk({ sourceId: 'plain.txt', text: 'Plain note without metadata', vector: topic(4), title: 'Plain', url: 'https://example.com/plain' }),
		chunk({ sourceId: 'multi.md', documentHash: 'doc-multi', chunkIndex: 3, chunkCount: 5, text: 'Fourth part of a long guide', vector: topic(5), extra: { campaign: 'spring' } }),
	];
}

export function describeVectorStoreContract(name: string, backend: StoreUnderTest): void {
	describe(`${name}: VectorStore contract`, () => {
		let store: VectorStore;
		beforeEach(async () => {
			store = await backend.open();
		});
		afterEach(async () => {
			await store.close();
		});

		/** One source's versions, read through the bulk lookup. */
		const versionsOf = async (namespace: string, sourceId: string) => (await store.versions(namespace, [sourceId])).get(sourceId) ?? [];
		const sources = async (filter: MetadataFilter, mode: 'semantic' | 'keyword' | 'hybrid' = 'semantic', namespace = 'acme') => {
			const hits = await store.search({ namespace, mode, vector: topic(0), text: 'spring summer autumn tricky plain fourth', topK: 20, filter });
			return hits.map((hit) => hit.chunk.metadata.sourceId).sort();
		};

		it('finds by meaning (semantic): the nearest chunk first, cosine similarity as score', async () => {
			await store.upsert([
				chunk({ sourceId: 'pricing.md', text: 'Our prices start at 49 euros per month', vector: topic(0) }),
				chunk({ sourceId: 'support.md', text: 'Support answers within one business day', vector: topic(1) }),
				chunk({ sourceId: 'team.md', text: 'The team is based in Lyon', vector: topic(2) }),
			]);
			const hits = await store.search({ namespace: 'acme', mode: 'semantic', vector: topic(1), topK: 2 });
			expect(hits.map((hit) => hit.chunk.metadata.sourceId)).toEqual(['support.md', expect.any(String)]);
			expect(hits[0].score).toBeCloseTo(1, 3);
			expect(hits[1].score).toBeLessThan(hits[0].score);
			expect(hits[1].score).toBeGreaterThan(0);
			const { chunk: found } = hits[0];
			expect(found.text).toBe('Support answers within one business day');
			expect(found.metadata).toMatchObject({ namespace: 'acme', headingPath: ['Intro', 'support.md'], chunkIndex: 0, chunkCount: 1 });
		});

		it('finds by words (keyword, BM25) and keeps the full-text index current after every write', async () => {
			await store.upsert([
				chunk({ sourceId: 'a.md', text: 'Invoices are sent on the first day of the month', vector: topic(0) }),
				chunk({ sourceId: 'b.md', text: 'Our onboarding call takes thirty minutes', vector: topic(1) }),
			]);
			let hits = await store.search({ namespace: 'acme', mode: 'keyword', text: 'onboarding call', topK: 5 });
			expect(hits.map((hit) => hit.chunk.metadata.sourceId)).toEqual(['b.md']);
			expect(hits[0].score).toBeGreaterThan(0);
			await store.upsert([chunk({ sourceId: 'c.md', text: 'Refunds for invoices take a week', vector: topic(2) })]);
			hits = await store.search({ namespace: 'acme', mode: 'keyword', text: 'invoices refunds', topK: 5 });
			expect(hits.map((hit) => hit.chunk.metadata.sourceId)).toEqual(['c.md', 'a.md']);
			expect(await store.search({ namespace: 'acme', mode: 'keyword', text: 'zeppelin', topK: 5 })).toEqual([]);
		});

		it('fuses meaning and words (hybrid, reciprocal rank fusion)', async () => {
			await store.upsert([
				chunk({ sourceId: 'vector-match.md', text: 'Completely unrelated wording here', vector: topic(0) }),
				chunk({ sourceId: 'word-match.md', text: 'Loyalty programme for returning customers', vector: topic(3) }),
				chunk({ sourceId: 'both.md', text: 'Loyalty discounts', vector: topic(0).map((value, index) => (index === 3 ? 0.8 : value)) }),
				chunk({ sourceId: 'neither.md', text: 'Office opening hours', vector: topic(6) }),
			]);
			const hits = await store.search({ namespace: 'acme', mode: 'hybrid', vector: topic(0), text: 'loyalty', topK: 3 });
			const ids = hits.map((hit) => hit.chunk.metadata.sourceId);
			expect(ids[0]).toBe('both.md');
			expect(ids).toEqual(expect.arrayContaining(['vector-match.md', 'word-match.md']));
			expect(ids).not.toContain('neither.md');
			for (const hit of hits) {
				expect(hit.score).toBeGreaterThan(0);
				expect(hit.score).toBeLessThanOrEqual(1);
			}
			expect(hits[0].score).toBeGreaterThan(hits[1].score);
		});

		it('applies every filter operator on user metadata, arrays included', async () => {
			await store.upsert(filterCorpus());
			expect(await sources([{ key: 'campaign', op: 'eq', value: 'spring' }])).toEqual(['multi.md', 'spring.pdf']);
			expect(await sources([{ key: 'extra.campaign', op: 'eq', value: 'summer' }])).toEqual(['summer.pdf']);
			expect(await sources([{ key: 'year', op: 'eq', value: 2024 }])).toEqual(['spring.pdf']);
			expect(await sources([{ key: 'year', op: 'eq', value: '2024' }])).toEqual(['inject.txt']);
			expect(await sources([{ key: 'vip', op: 'eq', value: false }])).toEqual(['summer.pdf']);
			expect(await sources([{ key: 'ratio', op: 'eq', value: 1.5 }])).toEqual(['summer.pdf']);
			expect(await sources([{ key: 'tags', op: 'eq', value: 'email' }])).toEqual(['spring.pdf']);
			expect(await sources([{ key: 'tags', op: 'in', value: ['b2c', 'email'] }])).toEqual(['spring.pdf', 'summer.pdf']);
			expect(await sources([{ key: 'tags', op: 'nin', value: ['b2b'] }])).toEqual(['autumn.pdf', 'inject.txt', 'multi.md', 'plain.txt', 'summer.pdf']);
			expect(await sources([{ key: 'campaign', op: 'ne', value: 'spring' }])).toEqual(['autumn.pdf', 'inject.txt', 'plain.txt', 'summer.pdf']);
			expect(await sources([{ key: 'campaign', op: 'in', value: ['summer', 'autumn'] }])).toEqual(['autumn.pdf', 'summer.pdf']);
			expect(await sources([{ key: 'year', op: 'gt', value: 2023 }])).toEqual(['spring.pdf', 'summer.pdf']);
			expect(await sources([{ key: 'year', op: 'gte', value: 2024 }])).toEqual(['spring.pdf', 'summer.pdf']);
			expect(await sources([{ key: 'year', op: 'lt', value: 2024 }])).toEqual(['autumn.pdf']);
			expect(await sources([{ key: 'year', op: 'lte', value: 2024 }])).toEqual(['autumn.pdf', 'spring.pdf']);
			expect(await sources([{ key: 'ratio', op: 'lt', value: 1 }])).toEqual(['spring.pdf']);
			expect(await sources([{ key: 'vip', op: 'exists' }])).toEqual(['spring.pdf', 'summer.pdf']);
			expect(await sources([{ key: 'vip', op: 'exists', value: false }])).toEqual(['autumn.pdf', 'inject.txt', 'multi.md', 'plain.txt']);
			expect(await sources([{ key: 'campaign', op: 'eq', value: null }])).toEqual(['plain.txt']);
			expect(await sources([{ key: 'campaign', op: 'eq', value: 'spring' }, { key: 'year', op: 'exists' }])).toEqual(['spring.pdf']);
			expect(await sources([{ key: "it's a key", op: 'eq', value: 'yes' }])).toEqual(['autumn.pdf']);
			expect(await sources([{ key: 'back`tick', op: 'eq', value: 'bt' }])).toEqual(['autumn.pdf']);
			expect(await sources([{ key: 'never-written', op: 'eq', value: 'x' }])).toEqual([]);
			expect(await sources([{ key: 'never-written', op: 'ne', value: 'x' }])).toHaveLength(6);
		});

		it('filters on chunk fields (sourceId, title, url, chunkIndex)', async () => {
			await store.upsert(filterCorpus());
			expect(await sources([{ key: 'sourceId', op: 'eq', value: 'plain.txt' }])).toEqual(['plain.txt']);
			expect(await sources([{ key: 'sourceId', op: 'in', value: ['plain.txt', 'multi.md', 'nope'] }])).toEqual(['multi.md', 'plain.txt']);
			expect(await sources([{ key: 'title', op: 'exists' }])).toEqual(['plain.txt']);
			expect(await sources([{ key: 'url', op: 'eq', value: 'https://example.com/plain' }])).toEqual(['plain.txt']);
			expect(await sources([{ key: 'chunkIndex', op: 'gt', value: 0 }])).toEqual(['multi.md']);
			expect(await sources([{ key: 'chunkIndex', op: 'eq', value: '3' }])).toEqual(['multi.md']);
		});

		it('treats injection attempts in filter values and keys as plain data', async () => {
			await store.upsert(filterCorpus());
			expect(await sources([{ key: 'campaign', op: 'eq', value: INJECTION }])).toEqual(['inject.txt']);
			expect(await sources([{ key: 'campaign', op: 'eq', value: "x' OR '1'='1" }])).toEqual([]);
			expect(await sources([{ key: 'sourceId', op: 'eq', value: "' OR 1=1 --" }])).toEqual([]);
			expect(await sources([{ key: 'campaign', op: 'in', value: ["') OR TRUE OR ('", 'summer'] }])).toEqual(['summer.pdf']);
			expect(await sources([{ key: "campaign` = 'spring' OR `x", op: 'eq', value: 'spring' }])).toEqual([]);
			expect(await sources([{ key: "x' OR 1=1 --", op: 'exists' }])).toEqual([]);
		});

		it('pre-filters keyword and hybrid searches too', async () => {
			await store.upsert(filterCorpus());
			expect(await sources([{ key: 'campaign', op: 'eq', value: 'summer' }], 'keyword')).toEqual(['summer.pdf']);
			expect(await sources([{ key: 'year', op: 'lt', value: 2024 }], 'hybrid')).toEqual(['autumn.pdf']);
			const top1 = await store.search({ namespace: 'acme', mode: 'semantic', vector: topic(0), topK: 1, filter: [{ key: 'campaign', op: 'eq', value: 'autumn' }] });
			expect(top1.map((hit) => hit.chunk.metadata.sourceId)).toEqual(['autumn.pdf']);
		});

		it('rejects unusable filters with a message naming the condition', async () => {
			await store.upsert(filterCorpus());
			await expect(sources([{ key: 'year', op: 'gt', value: 'soon' }])).rejects.toThrow(/filter "year gt".*number/);
			await expect(sources([{ key: 'year', op: 'like' as never, value: 1 }])).rejects.toThrow(/Unknown filter operator "like"/);
			await expect(sources([{ key: 'namespace', op: 'eq', value: 'other' }])).rejects.toThrow(InputError);
		});

		it('isolates namespaces in every operation', async () => {
			const shared = { sourceId: 'brochure.pdf', text: 'Shared brochure text about loyalty', vector: topic(0) };
			await store.upsert([
				chunk({ ...shared, namespace: 'client-a', documentHash: 'hash-a' }),
				chunk({ ...shared, namespace: 'client-b', documentHash: 'hash-b', chunkIndex: 0, chunkCount: 2 }),
				chunk({ ...shared, namespace: 'client-b', documentHash: 'hash-b', chunkIndex: 1, chunkCount: 2, text: 'Only client B has this loyalty part' }),
			]);
			for (const mode of ['semantic', 'keyword', 'hybrid'] as const) {
				const hits = await store.search({ namespace: 'client-a', mode, vector: topic(0), text: 'loyalty', topK: 10 });
				expect(hits.map((hit) => hit.chunk.metadata.namespace)).toEqual(['client-a']);
			}
			expect(await versionsOf('client-a', 'brochure.pdf')).toEqual([{ documentHash: 'hash-a', storedChunks: 1, expectedChunks: 1 }]);
			const contentHash = chunk(shared).metadata.contentHash;
			expect([...(await store.vectorsByContentHash('client-c', [contentHash])).keys()]).toEqual([]);
			expect([...(await store.vectorsByContentHash('client-a', [contentHash])).keys()]).toEqual([contentHash]);
			expect((await store.listSources('client-b')).map((source) => [source.sourceId, source.chunks])).toEqual([['brochure.pdf', 2]]);
			expect(await store.deleteSource('client-a', 'brochure.pdf')).toBe(1);
			expect(await versionsOf('client-a', 'brochure.pdf')).toEqual([]);
			expect(await versionsOf('client-b', 'brochure.pdf')).toEqual([{ documentHash: 'hash-b', storedChunks: 2, expectedChunks: 2 }]);
			expect(await store.search({ namespace: 'client-b', mode: 'keyword', text: 'loyalty', topK: 10 })).toHaveLength(2);
		});

		it('refuses an empty namespace everywhere', async () => {
			await expect(store.upsert([chunk({ sourceId: 'x', text: 'x', namespace: ' ' })])).rejects.toThrow(/namespace is empty/);
			await expect(store.search({ namespace: '', mode: 'keyword', text: 'x', topK: 1 })).rejects.toThrow(InputError);
			await expect(store.versions('', ['x'])).rejects.toThrow(InputError);
			await expect(store.vectorsByContentHash('', ['x'])).rejects.toThrow(InputError);
			await expect(store.deleteSource('', 'x')).rejects.toThrow(InputError);
			await expect(store.listSources('')).rejects.toThrow(InputError);
		});

		it('reports versions, including an interrupted write, and deletes stale versions', async () => {
			const version = (documentHash: string, count: number, indexes: number[]) =>
				indexes.map((chunkIndex) =>
					chunk({ sourceId: 'guide.md', documentHash, chunkIndex, chunkCount: count, text: `Guide ${documentHash} part ${chunkIndex}`, vector: topic(chunkIndex) }),
				);
			await store.upsert(version('v1', 3, [0, 1, 2]));
			await store.upsert(version('v2', 4, [0, 1])); // the run died after two of four chunks
			const versions = await versionsOf('acme', 'guide.md');
			expect(versions.sort((a, b) => a.documentHash.localeCompare(b.documentHash))).toEqual([
				{ documentHash: 'v1', storedChunks: 3, expectedChunks: 3 },
				{ documentHash: 'v2', storedChunks: 2, expectedChunks: 4 },
			]);
			await store.upsert(version('v2', 4, [2, 3])); // the re-run completes it
			expect(await store.deleteSource('acme', 'guide.md', 'v2')).toBe(3);
			expect(await versionsOf('acme', 'guide.md')).toEqual([{ documentHash: 'v2', storedChunks: 4, expectedChunks: 4 }]);
			expect(await store.deleteSource('acme', 'guide.md', 'v2')).toBe(0);
			expect(await store.deleteSource('acme', 'guide.md')).toBe(4);
			expect(await versionsOf('acme', 'guide.md')).toEqual([]);
			expect(await store.deleteSource('acme', 'never-stored.md')).toBe(0);
		});

		it('looks up the versions of many sources at once: absent ones left out, namespaces kept apart, odd ids as data', async () => {
			const odd = ["it's.md", "a' OR 1=1 --", 'back\\slash\\.md', '"quoted".md', "') OR sourceId IS NOT NULL OR ('"];
			await store.upsert([
				chunk({ sourceId: 'one.md', documentHash: 'one-v1', text: 'One, first version' }),
				chunk({ sourceId: 'one.md', documentHash: 'one-v2', chunkIndex: 0, chunkCount: 2, text: 'One, second version, part 1' }),
				chunk({ sourceId: 'two.md', documentHash: 'two-v1', chunkIndex: 0, chunkCount: 3, text: 'Two, part 1' }),
				chunk({ sourceId: 'two.md', documentHash: 'two-v1', chunkIndex: 2, chunkCount: 3, text: 'Two, part 3' }),
				chunk({ sourceId: 'elsewhere.md', namespace: 'other', text: 'Other tenant' }),
				chunk({ sourceId: 'two.md', namespace: 'other', documentHash: 'two-other', text: 'Other tenant, same source id' }),
				...odd.map((sourceId, index) => chunk({ sourceId, text: `Odd id number ${index}` })),
			]);
			const asked = ['one.md', 'two.md', 'absent.md', 'elsewhere.md', 'two.md', ...odd];
			const found = await store.versions('acme', asked);
			const byHash = (versions: Array<{ documentHash: string }> = []) => [...versions].sort((a, b) => a.documentHash.localeCompare(b.documentHash));
			expect([...found.keys()].sort()).toEqual(['one.md', 'two.md', ...odd].sort());
			expect(byHash(found.get('one.md'))).toEqual([
				{ documentHash: 'one-v1', storedChunks: 1, expectedChunks: 1 },
				{ documentHash: 'one-v2', storedChunks: 1, expectedChunks: 2 },
			]);
			expect(found.get('two.md')).toEqual([{ documentHash: 'two-v1', storedChunks: 2, expectedChunks: 3 }]);
			for (const sourceId of odd) expect(found.get(sourceId)).toEqual([{ documentHash: `doc-${sourceId}`, storedChunks: 1, expectedChunks: 1 }]);
			const other = await store.versions('other', asked);
			expect([...other.entries()].sort()).toEqual([
				['elsewhere.md', [{ documentHash: 'doc-elsewhere.md', storedChunks: 1, expectedChunks: 1 }]],
				['two.md', [{ documentHash: 'two-other', storedChunks: 1, expectedChunks: 1 }]],
			]);
			expect(await store.versions('acme', ['absent.md'])).toEqual(new Map());
			expect(await store.versions('acme', [])).toEqual(new Map());
		});

		it('looks up more sources and chunks than fit one request', async () => {
			const many = Array.from({ length: 1_203 }, (_, index) => `page-${index}.html`);
			const stored = many.filter((_, index) => index % 100 === 7);
			const chunksPerSource = 180;
			await store.upsert(
				stored.flatMap((sourceId) =>
					Array.from({ length: chunksPerSource - 1 }, (_, chunkIndex) => chunk({ sourceId, chunkIndex, chunkCount: chunksPerSource, text: `${sourceId} part ${chunkIndex}` })),
				),
			);
			const found = await store.versions('acme', many);
			expect([...found.keys()].sort()).toEqual([...stored].sort());
			for (const sourceId of stored) {
				expect(found.get(sourceId)).toEqual([{ documentHash: `doc-${sourceId}`, storedChunks: chunksPerSource - 1, expectedChunks: chunksPerSource }]);
			}
		});

		it('overwrites a chunk with the same id instead of duplicating it', async () => {
			await store.upsert([chunk({ sourceId: 'faq.md', text: 'Old answer about shipping', extra: { lang: 'en', old: 'yes' } })]);
			await store.upsert([chunk({ sourceId: 'faq.md', text: 'New answer about shipping', extra: { lang: 'fr' } })]);
			const hits = await store.search({ namespace: 'acme', mode: 'keyword', text: 'shipping', topK: 10 });
			expect(hits.map((hit) => hit.chunk.text)).toEqual(['New answer about shipping']);
			expect(hits[0].chunk.metadata.extra).toEqual({ lang: 'fr' });
			expect(await sources([{ key: 'old', op: 'exists' }])).toEqual([]);
		});

		it('lists sources page by page, sorted, newest version described', async () => {
			await store.upsert([
				chunk({ sourceId: 'c.md', text: 'C one', title: 'C', url: 'https://example.com/c' }),
				chunk({ sourceId: 'a.md', text: 'A one', title: 'A', chunkCount: 2 }),
				chunk({ sourceId: 'a.md', text: 'A two', title: 'A', chunkIndex: 1, chunkCount: 2 }),
				chunk({ sourceId: 'b.md', documentHash: 'b-old', text: 'B old', title: 'B old', ingestedAt: '2026-01-01T00:00:00.000Z' }),
				chunk({ sourceId: 'b.md', documentHash: 'b-new', text: 'B new', title: 'B new', ingestedAt: '2026-02-01T00:00:00.000Z' }),
				chunk({ sourceId: 'z.md', namespace: 'other', text: 'Other tenant' }),
			]);
			const all = await store.listSources('acme');
			expect(all.map((source) => [source.sourceId, source.chunks])).toEqual([
				['a.md', 2],
				['b.md', 2],
				['c.md', 1],
			]);
			expect(all[1]).toMatchObject({ title: 'B new', documentHash: 'b-new', ingestedAt: '2026-02-01T00:00:00.000Z' });
			expect(all[2]).toMatchObject({ title: 'C', url: 'https://example.com/c', documentHash: 'doc-c.md' });
			expect((await store.listSources('acme', { limit: 1, offset: 1 })).map((source) => source.sourceId)).toEqual(['b.md']);
			expect(await store.listSources('nobody')).toEqual([]);
		});

		it('returns stored vectors by content hash, for reuse on re-ingest', async () => {
			const stored = chunk({ sourceId: 'a.md', text: 'Reusable paragraph', vector: topic(3) });
			await store.upsert([stored, chunk({ sourceId: 'b.md', text: 'Another paragraph', vector: topic(4) })]);
			const vectors = await store.vectorsByContentHash('acme', [stored.metadata.contentHash, 'unknown-hash']);
			expect([...vectors.keys()]).toEqual([stored.metadata.contentHash]);
			const vector = vectors.get(stored.metadata.contentHash) as number[];
			vector.forEach((value, index) => expect(value).toBeCloseTo(topic(3)[index], 5));
			expect((await store.vectorsByContentHash('acme', [])).size).toBe(0);
		});

		it('refuses vectors of another dimension, naming both', async () => {
			await store.upsert([chunk({ sourceId: 'a.md', text: 'Eight dimensions' })]);
			const wrong = chunk({ sourceId: 'b.md', text: 'Four dimensions', vector: [1, 0, 0, 0] });
			const error = await store.upsert([wrong]).catch((caught: unknown) => caught);
			expect(error).toBeInstanceOf(DimensionMismatchError);
			expect((error as Error).message).toMatch(/dimension 8.*returned 4/);
			await expect(store.search({ namespace: 'acme', mode: 'semantic', vector: [1, 0, 0, 0], topK: 1 })).rejects.toThrow(DimensionMismatchError);
			await expect(store.upsert([chunk({ sourceId: 'c.md', text: 'No vector', vector: null })])).rejects.toThrow(/no embedding model is configured/);
			await expect(store.upsert([chunk({ sourceId: 'd.md', text: 'x' }), chunk({ sourceId: 'e.md', text: 'y', vector: topic(1, 4) })])).rejects.toThrow(
				DimensionMismatchError,
			);
		});

		it('works keyword-only without any embedding model, and says so when vectors arrive later', async () => {
			await store.upsert([
				chunk({ sourceId: 'k1.md', text: 'Webinar recording about retention', vector: null, extra: { kind: 'webinar' } }),
				chunk({ sourceId: 'k2.md', text: 'Case study on churn and retention', vector: null }),
			]);
			const hits = await store.search({ namespace: 'acme', mode: 'keyword', text: 'retention webinar', topK: 5, filter: [{ key: 'kind', op: 'eq', value: 'webinar' }] });
			expect(hits.map((hit) => hit.chunk.metadata.sourceId)).toEqual(['k1.md']);
			expect(hits[0].chunk).not.toHaveProperty('vector');
			expect((await store.vectorsByContentHash('acme', [chunk({ sourceId: 'k1.md', text: 'Webinar recording about retention' }).metadata.contentHash])).size).toBe(0);
			const error = await store.upsert([chunk({ sourceId: 'k3.md', text: 'With vector' })]).catch((caught: unknown) => caught);
			expect(error).toBeInstanceOf(DimensionMismatchError);
			expect((error as Error).message).toMatch(/keyword search only.*dimension 8/);
			await expect(store.search({ namespace: 'acme', mode: 'semantic', vector: topic(0), topK: 1 })).rejects.toThrow(/keyword search only/);
		});

		it('answers empty on a collection that does not exist yet', async () => {
			expect(await store.search({ namespace: 'acme', mode: 'hybrid', vector: topic(0), text: 'anything', topK: 3 })).toEqual([]);
			expect(await store.versions('acme', ['x'])).toEqual(new Map());
			expect(await store.listSources('acme')).toEqual([]);
			expect(await store.deleteSource('acme', 'x')).toBe(0);
		});
	});
}
