/**
 * What the knowledge nodes survive when the model endpoint misbehaves, run through n8n's engine against the
 * local OpenAI-compatible server with injected faults (README "What we survive"; case ids in brackets).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { useKnowledgeBaseFixture } from '../nodes/knowledgeBaseNodes';

const kb = useKnowledgeBaseFixture();

const NAMESPACE = 'faults';
const ingestNode = (extra?: Parameters<typeof kb.ingestNode>[1]) =>
	kb.ingestNode(
		{ operation: 'ingest', source: 'text', text: '={{ $json.note }}', sourceId: '={{ $json.id }}', namespace: NAMESPACE },
		extra,
	);
const items = (notes: Array<{ id: string; note: string }>): INodeExecutionData[] => notes.map((json) => ({ json }));

const keywordSearch = async (query: string) =>
	(await kb.run(kb.searchNode({ operation: 'search', query, mode: 'keyword', topK: 5, output: 'perHit', namespace: NAMESPACE }))).items;

/** Runs the ingest of one document and returns the node's item and the time taken. */
async function ingestOne(id: string, note: string, extra?: Parameters<typeof kb.ingestNode>[1]) {
	const started = Date.now();
	const result = await kb.run(ingestNode(extra), items([{ id, note }]));
	return { result, item: result.items[0] as IDataObject | undefined, ms: Date.now() - started };
}

describe('model endpoint faults, through the Ingest Document node in n8n', () => {
	beforeEach(() => kb.server.reset());

	it('[model-429] waits as long as a 429 Retry-After says, then stores the document', async () => {
		kb.server.failNext(2, { status: 429, retryAfter: 1, path: '/embeddings' });
		const { result, item, ms } = await ingestOne('rate-limited', 'Our cargo bikes carry 80 kilograms of groceries.');
		expect(result.error).toBeUndefined();
		expect(item).toMatchObject({ status: 'created', embedded: 1 });
		expect(kb.server.count('/embeddings')).toBe(3);
		expect(ms).toBeGreaterThanOrEqual(2_000);
	});

	it.each([
		['[model-5xx] a burst of 500/503 answers', () => {
			kb.server.failNext(1, { status: 500, path: '/embeddings' });
			kb.server.failNext(2, { status: 503, path: '/embeddings' });
		}],
		['[model-reset] connections reset without an answer', () => kb.server.failNext(2, { reset: true, path: '/embeddings' })],
	])('%s: retried with backoff, then the document is stored', async (name, inject) => {
		inject();
		const { result, item } = await ingestOne(name, `The repair shop opens at eight on Saturdays (${name}).`);
		expect(result.error).toBeUndefined();
		expect(item).toMatchObject({ status: 'created', embedded: 1 });
		expect(kb.server.count('/embeddings')).toBeGreaterThan(1);
	});

	it('[model-malformed] an answer that is not JSON is a clear per-item error, not a crash', async () => {
		kb.server.failNext(10, { malformed: true, path: '/embeddings' });
		const { result, item } = await ingestOne('garbled', 'Gift cards never expire.', { onError: 'continueRegularOutput' });
		expect(result.error).toBeUndefined();
		expect(String(item?.error)).toMatch(/embedding/i);
		expect(String(item?.error)).not.toMatch(/Unexpected end of JSON|SyntaxError/);
	});

	it('[model-down-keeps-previous] a model that stays down fails the new version and leaves the previous one searchable', async () => {
		const first = await ingestOne('opening-hours', 'The shop opens at nine on weekdays.');
		expect(first.item).toMatchObject({ status: 'created' });

		kb.server.failNext(100, { status: 503, path: '/embeddings' });
		const second = await ingestOne('opening-hours', 'The shop opens at ten on weekdays, from March.', { onError: 'continueRegularOutput' });
		expect(second.result.error).toBeUndefined();
		expect(String(second.item?.error)).toMatch(/503|unavailable|server/i);
		// Bounded: the retry policy gave up (6 attempts of each request), it did not hang.
		expect(kb.server.count('/embeddings')).toBeLessThanOrEqual(12);

		const hits = (await keywordSearch('shop opens weekdays')).filter((hit) => hit.sourceId === 'opening-hours');
		expect(hits.map((hit) => hit.text)).toEqual([expect.stringContaining('opens at nine')]);
	}, 90_000);

	it('[model-stall] an endpoint that accepts requests and never answers fails the item after two timeouts; the previous version stays', async () => {
		const credential = kb.modelCredentials.symbioticModelApi;
		await ingestOne('returns', 'Returns are accepted within 30 days.');
		credential.embeddingTimeout = 1;
		try {
			kb.server.reset();
			kb.server.delayNext(100, 30_000, { path: '/embeddings' });
			const stalled = await ingestOne('returns', 'Returns are accepted within 60 days, from June.', { onError: 'continueRegularOutput' });
			expect(stalled.result.error).toBeUndefined();
			expect(String(stalled.item?.error)).toMatch(/timed out after 2 attempts.*Embedding Timeout \(Seconds\)/);
			// Two 1-second attempts and one backoff, not six attempts.
			expect(stalled.ms).toBeLessThan(6_000);
			expect(kb.server.count('/embeddings')).toBe(2);
		} finally {
			delete credential.embeddingTimeout;
			kb.server.reset();
		}
		const hits = (await keywordSearch('returns accepted days')).filter((hit) => hit.sourceId === 'returns');
		expect(hits.map((hit) => hit.text)).toEqual([expect.stringContaining('30 days')]);
	}, 60_000);
});
