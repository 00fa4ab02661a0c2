/**
 * The ranking steps after retrieval, through lib/search.ts on a real LanceDB folder: the per-source limit and
 * reranking against a real local /rerank server (bounded candidates, fallback with the reason).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestDocuments } from '../../lib/ingest';
import { loadText } from '../../lib/loaders';
import { createHttpReranker } from '../../lib/rerank';
import { limitPerSource, searchKnowledge, searchKnowledgeWithMode, searchWithDetails, type SearchOptions } from '../../lib/search';
import { openStore } from '../../lib/stores';
import { InputError, type VectorStore } from '../../lib/types';
import { startRerankTestServer, type RerankTestServer } from '../support/rerankServer';

/**
 * A long manual: many chunks about the same subject, which would fill any top 5 on their own. No two chunks have
 * the same length and word counts, so keyword scores never tie and every order below is exact.
 */
const manual = Array.from(
	{ length: 12 },
	(_, step) =>
		`## Returns step ${step + 1}\n\nReturns of shoes${' and returns'.repeat(step % 4)} are handled in step ${step + 1}${' with care'.repeat(Math.floor(step / 4))}.`,
).join('\n\n');
const PAGES: Record<string, string> = {
	'manual.md': `# Returns manual\n\n${manual}`,
	'faq.md': '# FAQ\n\nCan I make returns of worn shoes? Returns of worn shoes are refused.',
	'policy.md': '# Return policy\n\nReturns are free within thirty days; the refund window is thirty days long.',
	'shipping.md': '# Shipping\n\nParcels with shoes arrive within three days.',
};

let folder: string;
let store: VectorStore;
let reranker: RerankTestServer;
beforeAll(async () => {
	folder = await mkdtemp(join(tmpdir(), 'symbiotic-ranking-'));
	store = await openStore({ kind: 'lancedb', path: folder });
	const documents = Object.entries(PAGES).map(([sourceId, text]) => loadText(text, { sourceId, format: 'markdown' }));
	await ingestDocuments(documents, { store, namespace: 'shop', chunking: { chunkSize: 24, chunkOverlap: 0 } });
	reranker = await startRerankTestServer();
});
afterAll(async () => {
	await store.close();
	await rm(folder, { recursive: true, force: true });
	await reranker.close();
});
beforeEach(() => reranker.reset());

const search = (query: string, extra: Partial<SearchOptions> = {}) =>
	searchKnowledge({ store, namespace: 'shop', query, mode: 'keyword', topK: 5, ...extra });

describe('limitPerSource', () => {
	const hit = (sourceId: string, n: number) => ({ sourceId, n });
	const hits = [hit('a', 1), hit('a', 2), hit('a', 3), hit('b', 4), hit('a', 5), hit('c', 6)];

	it('keeps at most N per source first, best first, then fills up with the held-back hits', () => {
		expect(limitPerSource(hits, 1, 3).map((entry) => entry.n)).toEqual([1, 4, 6]);
		expect(limitPerSource(hits, 2, 4).map((entry) => entry.n)).toEqual([1, 2, 4, 6]);
		expect(limitPerSource(hits, 1, 5).map((entry) => entry.n)).toEqual([1, 4, 6, 2, 3]);
	});

	it('changes nothing with 0 (no limit) or a single source', () => {
		expect(limitPerSource(hits, 0, 4)).toEqual(hits.slice(0, 4));
		const single = [hit('a', 1), hit('a', 2), hit('a', 3)];
		expect(limitPerSource(single, 1, 3)).toEqual(single);
	});
});

describe('Max results per source', () => {
	it('without a limit, one long document takes most of the top 5', async () => {
		const hits = await search('returns of shoes');
		expect(hits.filter((hit) => hit.sourceId === 'manual.md').length).toBeGreaterThanOrEqual(4);
	});

	it('with a limit, the other sources get their place, numbered in order', async () => {
		const hits = await search('returns of shoes', { maxPerSource: 2 });
		expect(hits).toHaveLength(5);
		expect(hits.filter((hit) => hit.sourceId === 'manual.md')).toHaveLength(2);
		expect(new Set(hits.map((hit) => hit.sourceId))).toEqual(new Set(['manual.md', 'faq.md', 'policy.md', 'shipping.md']));
		expect(hits.map((hit) => hit.citation)).toEqual(['[1]', '[2]', '[3]', '[4]', '[5]']);
	});

	it('still returns Number of Results hits from a single document', async () => {
		const hits = await search('returns label step', { maxPerSource: 1, filter: [{ key: 'sourceId', op: 'eq', value: 'manual.md' }] });
		expect(hits).toHaveLength(5);
		const scores = hits.map((hit) => hit.score);
		expect(scores).toEqual([...scores].sort((a, b) => b - a));
	});

	it('refuses a negative or fractional limit, naming the option', async () => {
		await expect(search('returns', { maxPerSource: -1 })).rejects.toThrow(InputError);
		await expect(search('returns', { maxPerSource: 1.5 })).rejects.toThrow(/Max Results per Source/);
		await expect(search('returns', { semanticWeight: 2 })).rejects.toThrow(/Semantic Weight must be a number from 0 to 1/);
	});
});

describe('Reranking', () => {
	const rerank = (extra: Partial<Parameters<typeof createHttpReranker>[0]> = {}, candidates?: number) => ({
		reranker: createHttpReranker({ baseUrl: reranker.url, model: 'test-reranker', ...extra }),
		candidates,
	});

	it('reorders the candidates by the reranker, keeping the retrieval score beside', async () => {
		const query = 'returns of shoes';
		const plain = await search(query, { topK: 3 });
		// A reranker that prefers the candidates retrieval ranked last.
		reranker.respondWith(({ body }) => ({
			body: { results: body.documents.map((_: string, index: number) => ({ index, relevance_score: index / body.documents.length })) },
		}));
		const result = await searchWithDetails({ store, namespace: 'shop', query, mode: 'keyword', topK: 3, rerank: rerank() });
		expect(result.rerank).toEqual({ reranked: true, candidates: expect.any(Number) });
		const [request] = reranker.requests;
		expect(request.body).toMatchObject({ model: 'test-reranker', query, top_n: request.body.documents.length });
		expect(request.body.documents.length).toBeGreaterThan(3);
		expect(result.hits.map((hit) => hit.text)).toEqual(request.body.documents.slice(-3).reverse());
		expect(result.hits.map((hit) => hit.citation)).toEqual(['[1]', '[2]', '[3]']);
		expect(result.hits[0].score).toBeGreaterThan(result.hits[1].score);
		expect(result.hits[0].retrievalScore).toBeLessThanOrEqual(plain[2].score);
		expect(plain[0]).not.toHaveProperty('retrievalScore');
	});

	it('sends at most the candidate limit, and at least Number of Results', async () => {
		await searchWithDetails({ store, namespace: 'shop', query: 'returns of shoes', mode: 'keyword', topK: 3, rerank: rerank({}, 8) });
		expect(reranker.requests[0].body.documents).toHaveLength(8);
		await searchWithDetails({ store, namespace: 'shop', query: 'returns of shoes', mode: 'keyword', topK: 10, rerank: rerank({}, 4) });
		expect(reranker.requests[1].body.documents).toHaveLength(10);
		await expect(search('returns', { rerank: rerank({}, 0) })).rejects.toThrow(/Rerank Candidates/);
	});

	it('keeps the retrieval order and says why when the reranker fails or is too slow', async () => {
		const plain = await search('returns of shoes', { maxPerSource: 2 });
		reranker.respondWith(() => ({ status: 503, body: { error: { message: 'no replica available' } } }));
		const failed = await searchWithDetails({ store, namespace: 'shop', query: 'returns of shoes', mode: 'keyword', topK: 5, maxPerSource: 2, rerank: rerank() });
		expect(failed.rerank).toMatchObject({ reranked: false, reason: 'the reranker answered HTTP 503: no replica available' });
		expect(failed.hits).toEqual(plain);

		reranker.respondWith(undefined);
		reranker.delayMs = 1500;
		const slow = await searchKnowledgeWithMode({ store, namespace: 'shop', query: 'returns of shoes', mode: 'auto', topK: 5, maxPerSource: 2, rerank: rerank({ timeoutMs: 200 }) });
		expect(slow).toMatchObject({ mode: 'keyword', rerank: { reranked: false, reason: 'the reranker did not answer within 0.2 s' } });
		expect(slow.hits).toEqual(plain);
	});

	it('applies the minimum score to the reranker\'s relevance once reranked', async () => {
		const result = await searchWithDetails({ store, namespace: 'shop', query: 'refund window thirty days', mode: 'keyword', topK: 5, minScore: 0.99, rerank: rerank() });
		expect(result.hits.map((hit) => hit.sourceId)).toEqual(['policy.md']);
	});
});
