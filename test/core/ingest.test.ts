/**
 * Ingest → search end to end on a real LanceDB folder, with embeddings from a real local OpenAI-compatible
 * HTTP server (the `openai` SDK talks to it over HTTP).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIEmbedder } from '../../lib/embedding';
import { deleteSource, ingestDocuments, listSources, type IngestOptions } from '../../lib/ingest';
import { loadText } from '../../lib/loaders';
import { formatSources, searchKnowledge } from '../../lib/search';
import { openStore } from '../../lib/stores';
import type { Embedder, LoadedDocument, StoredChunk, VectorStore } from '../../lib/types';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const PRODUCTS: Record<string, string> = {
	'pricing.md': '# Pricing\n\nThe Starter plan costs 29 euros per month and includes five seats.\n\n## Enterprise\n\nEnterprise pricing is negotiated per contract with volume discounts.',
	'onboarding.md': '# Onboarding\n\nEvery new customer gets a kickoff call within two business days.\n\nA dedicated success manager guides the first ninety days.',
	'security.md': '# Security\n\nAll customer data is encrypted at rest with AES-256 and in transit with TLS 1.3.\n\nWe are ISO 27001 certified.',
	'refunds.md': '# Refunds\n\nAnnual plans can be refunded pro rata within thirty days of purchase.',
};

function corpus(overrides: Record<string, string> = {}): LoadedDocument[] {
	return Object.entries({ ...PRODUCTS, ...overrides }).map(([sourceId, text]) => loadText(text, { sourceId, format: 'markdown' }));
}

/** A long document: many chunks, so writes span several store calls. */
function handbook(version: string): LoadedDocument {
	const sections = Array.from(
		{ length: 60 },
		(_, index) => `## Section ${index}\n\n${`Policy ${index} explains how the team handles request ${index} carefully. `.repeat(12)}`,
	);
	return loadText(`# Handbook ${version}\n\nVersion marker ${version}.\n\n${sections.join('\n\n')}`, { sourceId: 'handbook.md', format: 'markdown' });
}

describe('incremental ingest and search on LanceDB', () => {
	let server: OpenAITestServer;
	let folder: string;
	let store: VectorStore;
	let embedder: Embedder;
	let options: IngestOptions;

	beforeAll(async () => {
		server = await startOpenAITestServer({ apiKey: 'sk-test' });
	});
	afterAll(() => server.close());

	beforeEach(async () => {
		server.reset();
		folder = await mkdtemp(join(tmpdir(), 'symbiotic-ingest-'));
		store = await openStore({ kind: 'lancedb', path: folder });
		embedder = createOpenAIEmbedder({ baseURL: server.url, apiKey: 'sk-test', model: 'test-embedding', maxRetries: 2 });
		options = { store, embedder, namespace: 'acme' };
	});
	afterEach(async () => {
		await store.close();
		await rm(folder, { recursive: true, force: true });
	});

	const search = (query: string, extra: Partial<Parameters<typeof searchKnowledge>[0]> = {}) =>
		searchKnowledge({ store, embedder, namespace: 'acme', query, mode: 'semantic', topK: 3, ...extra });

	it('stores documents and finds them with citations in every mode', async () => {
		const results = await ingestDocuments(corpus(), options);
		expect(results.map((result) => result.status)).toEqual(['created', 'created', 'created', 'created']);
		expect(results.every((result) => result.chunks > 0 && result.embedded === result.chunks)).toBe(true);

		for (const mode of ['semantic', 'keyword', 'hybrid'] as const) {
			const [top] = await search('How much does the Starter plan cost per month?', { mode });
			expect(top).toMatchObject({ citation: '[1]', index: 1, sourceId: 'pricing.md', title: 'Pricing' });
			expect(top.text).toContain('29 euros');
		}
	});

	it('costs zero embedding requests to re-ingest an unchanged corpus', async () => {
		await ingestDocuments(corpus(), options);
		const firstRun = server.count('/embeddings');
		expect(firstRun).toBeGreaterThan(0);

		const again = await ingestDocuments(corpus(), options);
		expect(again.map((result) => result.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
		expect(again.every((result) => result.embedded === 0 && result.deleted === 0)).toBe(true);
		expect(server.count('/embeddings')).toBe(firstRun);
		const sources = await listSources(store, 'acme');
		expect(sources.map((source) => source.sourceId).sort()).toEqual(Object.keys(PRODUCTS).sort());
	});

	it('replaces a changed document: new text searchable, stale chunks gone, unchanged chunks not re-embedded', async () => {
		await ingestDocuments([handbook('v1')], options);
		server.reset();

		const [result] = await ingestDocuments([handbook('v2')], options);
		expect(result.status).toBe('updated');
		expect(result.deleted).toBeGreaterThan(0);
		// Only the chunk carrying the version marker changed; the other sections keep their vectors.
		expect(result.embedded).toBeGreaterThan(0);
		expect(result.embedded).toBeLessThan(result.chunks);
		expect(result.reused).toBe(result.chunks - result.embedded);

		const versions = (await store.versions('acme', ['handbook.md'])).get('handbook.md') ?? [];
		expect(versions).toHaveLength(1);
		expect(versions[0]).toMatchObject({ documentHash: result.documentHash, storedChunks: result.chunks, expectedChunks: result.chunks });
		const keywordHits = await search('marker v1', { mode: 'keyword', topK: 10 });
		expect(keywordHits.some((hit) => hit.text.includes('marker v1'))).toBe(false);
		expect((await search('marker v2', { mode: 'keyword' }))[0].text).toContain('marker v2');
	});

	it('keeps the previous version searchable when embedding fails, and a re-run completes the update', async () => {
		await ingestDocuments(corpus(), options);
		// Three failures use up the embedder's attempts (1 + 2 retries) for the changed document.
		server.failNext(3, { status: 500, path: '/embeddings' });

		const changed = corpus({ 'pricing.md': '# Pricing\n\nThe Starter plan now costs 39 euros per month.' });
		const failed = await ingestDocuments(changed, options);
		expect(failed.find((result) => result.sourceId === 'pricing.md')).toMatchObject({ status: 'failed', error: expect.stringContaining('pricing.md') });
		expect(failed.filter((result) => result.sourceId !== 'pricing.md').every((result) => result.status === 'unchanged')).toBe(true);
		expect((await search('Starter plan price'))[0].text).toContain('29 euros');

		server.reset();
		const rerun = await ingestDocuments(changed, options);
		expect(rerun.find((result) => result.sourceId === 'pricing.md')?.status).toBe('updated');
		const [top] = await search('Starter plan price');
		expect(top.text).toContain('39 euros');
		expect((await search('Starter plan price', { topK: 10 })).some((hit) => hit.text.includes('29 euros'))).toBe(false);
	});

	it('keeps exactly the previous version when a write fails mid-document, and a re-run completes the update', async () => {
		await ingestDocuments([handbook('v1')], options);
		const before = await store.versions('acme', ['handbook.md']);

		// The real store underneath; the second write call fails as a crashed disk or dropped connection would.
		let writes = 0;
		const flaky: VectorStore = Object.create(store, {
			upsert: {
				value: async (chunks: StoredChunk[], signal?: AbortSignal) => {
					writes++;
					if (writes === 2) throw new Error('connection reset while writing');
					return store.upsert(chunks, signal);
				},
			},
		});
		const longer = handbook('v2');
		longer.text += `\n\n${Array.from({ length: 400 }, (_, index) => `## Appendix ${index}\n\nAppendix ${index} text.`).join('\n\n')}`;
		const [failed] = await ingestDocuments([longer], { ...options, store: flaky, chunking: { chunkSize: 64, chunkOverlap: 0 } });
		expect(writes).toBe(2);
		expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('connection reset') });

		// The 500 chunks of v2 that did land are gone again: search sees v1 only, never a mix of both.
		expect(await store.versions('acme', ['handbook.md'])).toEqual(before);
		expect((await search('marker v1', { mode: 'keyword' }))[0].text).toContain('marker v1');
		expect((await search('marker v2', { mode: 'keyword', topK: 10 })).some((hit) => hit.text.includes('marker v2'))).toBe(false);

		const [rerun] = await ingestDocuments([longer], { ...options, chunking: { chunkSize: 64, chunkOverlap: 0 } });
		expect(rerun.status).toBe('updated');
		expect(rerun.embedded + rerun.reused).toBe(rerun.chunks);
		const after = await store.versions('acme', ['handbook.md']);
		expect(after.get('handbook.md')).toEqual([{ documentHash: rerun.documentHash, storedChunks: rerun.chunks, expectedChunks: rerun.chunks }]);
	});

	it('embeds the chunks of many documents together, with several requests in flight, and never more than allowed', async () => {
		const many = Array.from({ length: 120 }, (_, index) =>
			loadText(`# Note ${index}\n\nCustomer ${index} asked about invoice ${index * 7} and the delivery of order ${index * 13}.`, {
				sourceId: `note-${index}.md`,
				format: 'markdown',
			}),
		);
		server.delayNext(1000, 50, { path: '/embeddings' });
		const limited = createOpenAIEmbedder({ baseURL: server.url, apiKey: 'sk-test', model: 'test-embedding', batchSize: 8, concurrency: 3 });
		const results = await ingestDocuments(many, { ...options, embedder: limited });
		expect(results.every((result) => result.status === 'created' && result.embedded === result.chunks)).toBe(true);
		const requests = server.requestsTo('/embeddings');
		expect(requests).toHaveLength(15);
		expect(requests.every((request) => request.body.input.length === 8)).toBe(true);
		expect(server.maxInFlight).toBe(3);

		// With the default embedder (4 in flight, 256 texts per request): one request for all 120 documents.
		server.reset();
		const again = await ingestDocuments(
			many.map((doc) => ({ ...doc, sourceId: `copy-${doc.sourceId}`, text: `${doc.text} Copy.` })),
			options,
		);
		expect(again.every((result) => result.status === 'created')).toBe(true);
		expect(server.requestsTo('/embeddings').map((request) => request.body.input.length)).toEqual([120]);
	});

	it('embeds a chunk text shared by documents once per run, also across windows', async () => {
		const shared = '# Shipping\n\nOrders ship within two business days from our warehouse in Lyon.';
		const filler = Array.from({ length: 300 }, (_, index) =>
			loadText(`# Filler ${index}\n\nFiller document number ${index} about topic ${index * 3}.`, { sourceId: `filler-${index}.md`, format: 'markdown' }),
		);
		const docs = [
			loadText(shared, { sourceId: 'shipping-a.md', format: 'markdown' }),
			...filler,
			loadText(shared, { sourceId: 'shipping-b.md', format: 'markdown' }),
			loadText(shared, { sourceId: 'shipping-c.md', format: 'markdown' }),
		];
		const results = await ingestDocuments(docs, options);
		const inputs = server.requestsTo('/embeddings').flatMap((request) => request.body.input as string[]);
		expect(inputs.filter((text) => text.includes('warehouse in Lyon'))).toHaveLength(1);
		expect(new Set(inputs).size).toBe(inputs.length);
		const byId = (id: string) => results.find((result) => result.sourceId === id);
		expect(byId('shipping-a.md')).toMatchObject({ status: 'created', embedded: 1, reused: 0 });
		expect(byId('shipping-b.md')).toMatchObject({ status: 'created', embedded: 0, reused: 1 });
		expect(byId('shipping-c.md')).toMatchObject({ status: 'created', embedded: 0, reused: 1 });
		const hits = await search('orders ship from the warehouse in Lyon', { mode: 'keyword', topK: 5 });
		expect(hits.map((hit) => hit.sourceId).sort()).toEqual(['shipping-a.md', 'shipping-b.md', 'shipping-c.md']);

		server.reset();
		const rerun = await ingestDocuments(docs, options);
		expect(rerun.every((result) => result.status === 'unchanged')).toBe(true);
		expect(server.count('/embeddings')).toBe(0);
	});

	it('fails the documents whose embedding failed and stores the others', async () => {
		const docs = Array.from({ length: 400 }, (_, index) =>
			loadText(`# Item ${index}\n\nItem ${index} weighs ${index + 1} kilograms${index === 300 ? ' (poison)' : ''}.`, {
				sourceId: `item-${index}.md`,
				format: 'markdown',
			}),
		);
		// An embedder that refuses any request carrying the poisoned text, as a server refusing one input would.
		const picky: Embedder = {
			model: embedder.model,
			embed: async (texts, signal) => {
				if (texts.some((text) => text.includes('poison'))) throw new Error('the server refused an input');
				return embedder.embed(texts, signal);
			},
		};
		const results = await ingestDocuments(docs, { ...options, embedder: picky });
		// Documents are embedded in windows of whole documents (the first of 256 chunks): the poisoned one's window fails.
		expect(results.slice(0, 256).every((result) => result.status === 'created')).toBe(true);
		expect(results.slice(256).every((result) => result.status === 'failed' && result.error?.includes('refused an input'))).toBe(true);
		const stored = (await listSources(store, 'acme', { limit: 1000 })).map((source) => source.sourceId).sort();
		expect(stored).toEqual(results.slice(0, 256).map((result) => result.sourceId).sort());
	});

	it('refuses a document without a source id instead of letting it replace another', async () => {
		const results = await ingestDocuments([{ ...loadText('Some text', { sourceId: 'x' }), sourceId: '  ' }, ...corpus()], options);
		expect(results[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/no Source ID/) });
		expect(results.slice(1).every((result) => result.status === 'created')).toBe(true);
	});

	it('updates stored labels when only the metadata changes, without embedding again', async () => {
		await ingestDocuments(corpus(), { ...options, metadata: { campaign: 'spring' } });
		server.reset();
		const results = await ingestDocuments(corpus(), { ...options, metadata: { campaign: 'summer' } });
		expect(results.every((result) => result.status === 'updated' && result.embedded === 0 && result.reused === result.chunks)).toBe(true);
		expect(server.count('/embeddings')).toBe(0);
		const summer = await search('Starter plan price', { filter: [{ key: 'campaign', op: 'eq', value: 'summer' }] });
		expect(summer[0].sourceId).toBe('pricing.md');
		expect(await search('Starter plan price', { filter: [{ key: 'campaign', op: 'eq', value: 'spring' }] })).toEqual([]);
	});

	it('lets the later of two documents with one source id win within a run', async () => {
		const [first, second] = [
			loadText('# Offer\n\nThe spring offer gives 10 percent off.', { sourceId: 'offer.md', format: 'markdown' }),
			loadText('# Offer\n\nThe summer offer gives 20 percent off.', { sourceId: 'offer.md', format: 'markdown' }),
		];
		const results = await ingestDocuments([first, ...corpus(), second], options);
		expect(results.map((result) => result.status)).toEqual(['created', 'created', 'created', 'created', 'created', 'updated']);
		const versions = (await store.versions('acme', ['offer.md'])).get('offer.md') ?? [];
		expect(versions).toEqual([expect.objectContaining({ documentHash: results[5].documentHash })]);
		const hits = await search('offer percent off', { mode: 'keyword', topK: 10 });
		expect(hits.filter((hit) => hit.sourceId === 'offer.md').map((hit) => hit.text)).toEqual([expect.stringContaining('20 percent')]);
	});

	it('fails every document, and writes nothing, when the store cannot say what it holds', async () => {
		const offline: VectorStore = Object.create(store, {
			versions: { value: async () => Promise.reject(new Error('store offline')) },
		});
		const docs = [...corpus(), { ...loadText('x', { sourceId: 'blank.md' }), text: ' ' }];
		const results = await ingestDocuments(docs, { ...options, store: offline });
		expect(results.slice(0, 4).map((result) => result.error)).toEqual(Object.keys(PRODUCTS).map((id) => `Could not ingest "${id}": store offline`));
		expect(results[4].error).toMatch(/blank.md.*no text/);
		expect(server.count('/embeddings')).toBe(0);
		expect(await listSources(store, 'acme')).toEqual([]);
	});

	it('isolates namespaces in ingest, search and delete', async () => {
		await ingestDocuments(corpus(), options);
		await ingestDocuments(corpus({ 'pricing.md': '# Pricing\n\nGlobex charges 99 dollars for the Starter plan.' }), { ...options, namespace: 'globex' });

		expect((await search('Starter plan price'))[0].text).toContain('29 euros');
		const globexHits = await search('Starter plan price', { namespace: 'globex', topK: 10 });
		expect(globexHits[0].text).toContain('99 dollars');
		expect(globexHits.some((hit) => hit.text.includes('29 euros'))).toBe(false);

		expect((await deleteSource(store, 'globex', 'pricing.md')).deleted).toBeGreaterThan(0);
		expect((await search('Starter plan price'))[0].text).toContain('29 euros');
		expect((await listSources(store, 'globex')).map((source) => source.sourceId)).not.toContain('pricing.md');
	});

	it('stores keyword-only when no embedding model is configured', async () => {
		const results = await ingestDocuments(corpus(), { store, namespace: 'acme' });
		expect(results.every((result) => result.status === 'created' && result.embedded === 0)).toBe(true);
		expect(server.count('/embeddings')).toBe(0);
		const [top] = await searchKnowledge({ store, namespace: 'acme', query: 'encrypted at rest', mode: 'keyword', topK: 3 });
		expect(top.sourceId).toBe('security.md');
		await expect(searchKnowledge({ store, namespace: 'acme', query: 'encryption', mode: 'semantic', topK: 3 })).rejects.toThrow(
			/needs an embedding model/,
		);
	});

	it('fails one empty document without failing the others', async () => {
		const docs = [...corpus(), { ...loadText('x', { sourceId: 'blank.md' }), text: '   ' }];
		const results = await ingestDocuments(docs, options);
		expect(results.find((result) => result.sourceId === 'blank.md')).toMatchObject({ status: 'failed', error: expect.stringMatching(/no text/) });
		expect(results.filter((result) => result.status === 'created')).toHaveLength(4);
	});

	it('stops when the execution is cancelled', async () => {
		const controller = new AbortController();
		server.delayNext(5, 2_000);
		const running = ingestDocuments(corpus(), { ...options, signal: controller.signal });
		setTimeout(() => controller.abort(), 100);
		await expect(running).rejects.toThrow();
		expect(await listSources(store, 'acme')).toEqual([]);
	});
});

describe('formatSources', () => {
	it('numbers the sources and does not repeat a title that is also the first heading', () => {
		const metadata = { sourceId: 'pricing.md', namespace: 'acme', headingPath: ['Pricing', 'Enterprise'], chunkIndex: 1, chunkCount: 2, contentHash: 'c', documentHash: 'd', ingestedAt: 'now', extra: {} };
		const text = formatSources([
			{ citation: '[1]', index: 1, text: 'Negotiated per contract.', score: 1, sourceId: 'pricing.md', title: 'Pricing', url: 'https://acme.test/pricing', headingPath: ['Pricing', 'Enterprise'], chunkIndex: 1, metadata },
			{ citation: '[2]', index: 2, text: 'Five seats.', score: 0.5, sourceId: 'notes.txt', headingPath: [], chunkIndex: 0, metadata },
		]);
		expect(text).toBe('[1] Pricing › Enterprise — https://acme.test/pricing\nNegotiated per contract.\n\n[2] notes.txt\nFive seats.');
	});
});
