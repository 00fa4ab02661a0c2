import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { QdrantClient } from '@qdrant/js-client-rest';

import { openStore } from '../../lib/stores';
import type { VectorStore } from '../../lib/types';
import { startQdrantValidatingServer, type QdrantValidatingServer } from '../support/qdrantValidatingServer';
import { chunk, describeVectorStoreContract, topic } from './contract';

const runId = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

describe('Qdrant through the validating server', () => {
	let server: QdrantValidatingServer;
	let collectionNumber = 0;
	beforeAll(async () => {
		server = await startQdrantValidatingServer();
	});
	afterEach(() => {
		// Every request our backend sent must be valid against Qdrant's OpenAPI document.
		const violations = server.violations.splice(0);
		expect(violations).toEqual([]);
	});
	afterAll(async () => {
		await server.close();
	});

	describeVectorStoreContract('Qdrant (emulated)', {
		open: () => openStore({ kind: 'qdrant', url: server.url, collection: `contract_${++collectionNumber}`, timeoutMs: 10_000 }),
	});

	it('catches an invalid request body', async () => {
		const response = await fetch(`${server.url}/collections/any/points/query`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ query: { fusion: 'average' }, limit: -1 }),
		});
		expect(response.status).toBe(400);
		const violations = server.violations.splice(0);
		expect(violations).toHaveLength(1);
		expect(violations[0]).toMatch(/POST \/collections\/any\/points\/query: request body violates/);
		await fetch(`${server.url}/collections/any/nonsense`, { method: 'POST' });
		expect(server.violations.splice(0)).toEqual([expect.stringMatching(/no such operation/)]);
	});

	it('looks up the versions of many sources in one scroll request, not one per source', async () => {
		const store = await openStore({ kind: 'qdrant', url: server.url, collection: 'bulk-versions' });
		const sourceIds = Array.from({ length: 40 }, (_, index) => `crm-${index}`);
		await store.upsert(sourceIds.map((sourceId) => chunk({ sourceId, text: `Record ${sourceId}` })));
		server.requests.splice(0);
		const found = await store.versions('acme', sourceIds);
		expect(found.size).toBe(40);
		expect(server.requests).toEqual(['POST /collections/bulk-versions/points/scroll']);
		await store.close();
	});

	it('creates the collection with dense + idf sparse vectors and tenant-aware payload indexes', async () => {
		const store = await openStore({ kind: 'qdrant', url: server.url, collection: 'layout' });
		await store.upsert([chunk({ sourceId: 'a.md', text: 'Layout check' })]);
		const info = await new QdrantClient({ url: server.url, checkCompatibility: false }).getCollection('layout');
		expect(info.config.params.vectors).toEqual({ dense: { size: 8, distance: 'Cosine' } });
		expect(info.config.params.sparse_vectors).toEqual({ bm25: { modifier: 'idf' } });
		expect(Object.keys(info.payload_schema).sort()).toEqual(['contentHash', 'documentHash', 'ingestedAt', 'namespace', 'sourceId']);
		await store.close();
	});
});

describe('Qdrant connection errors', () => {
	let guarded: QdrantValidatingServer;
	beforeAll(async () => {
		guarded = await startQdrantValidatingServer({ apiKey: 'secret-key-123' });
	});
	afterAll(async () => {
		await guarded.close();
	});

	it('sends the API key only in the api-key header', async () => {
		const store = await openStore({ kind: 'qdrant', url: guarded.url, apiKey: 'secret-key-123', collection: 'keyed' });
		await store.upsert([chunk({ sourceId: 'a.md', text: 'Keyed text' })]);
		expect(guarded.lastHeaders?.['api-key']).toBe('secret-key-123');
		expect(await store.search({ namespace: 'acme', mode: 'keyword', text: 'keyed', topK: 1 })).toHaveLength(1);
		expect(guarded.violations).toEqual([]);
		await store.close();
	});

	it('says the API key was refused, without repeating it', async () => {
		const store = await openStore({ kind: 'qdrant', url: guarded.url, apiKey: 'wrong-key-456', collection: 'keyed' });
		const error = (await store.listSources('acme').catch((caught: unknown) => caught)) as Error;
		expect(error.message).toMatch(/^Qdrant refused the API key/);
		expect(error.message).not.toContain('wrong-key-456');
		await store.close();
	});

	it('says when Qdrant cannot be reached', async () => {
		const closed = http.createServer();
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const { port } = closed.address() as AddressInfo;
		await new Promise<void>((resolve) => closed.close(() => resolve()));
		const store = await openStore({ kind: 'qdrant', url: `http://127.0.0.1:${port}`, apiKey: 'k-789', collection: 'x' });
		const error = (await store.search({ namespace: 'acme', mode: 'keyword', text: 'x', topK: 1 }).catch((caught: unknown) => caught)) as Error;
		expect(error.message).toBe(`Could not reach Qdrant at http://127.0.0.1:${port}: ECONNREFUSED`);
	});

	it('gives up after the timeout instead of hanging', async () => {
		const silent = http.createServer(() => undefined);
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
		const store = await openStore({ kind: 'qdrant', url, collection: 'x', timeoutMs: 300 });
		const started = Date.now();
		await expect(store.versions('acme', ['a.md'])).rejects.toThrow(`Qdrant at ${url} did not answer within 300 ms`);
		expect(Date.now() - started).toBeLessThan(5_000);
		silent.closeAllConnections();
		await new Promise<void>((resolve) => silent.close(() => resolve()));
	});

	it('refuses a URL that is not http(s)', async () => {
		await expect(openStore({ kind: 'qdrant', url: 'localhost:6333', collection: 'x' })).rejects.toThrow(/not valid: use http/);
	});
});

const realUrl = process.env.QDRANT_URL;
if (!realUrl) console.log('skipped: QDRANT_URL not set');
(realUrl ? describe : describe.skip)('Qdrant (real server at QDRANT_URL)', () => {
	const collections: string[] = [];
	const apiKey = process.env.QDRANT_API_KEY || undefined;
	afterAll(async () => {
		const client = new QdrantClient({ url: realUrl, checkCompatibility: false, ...(apiKey ? { headers: { 'api-key': apiKey } } : {}) });
		for (const name of collections) await client.deleteCollection(name).catch(() => undefined);
	});
	describeVectorStoreContract('Qdrant (real)', {
		open: async (): Promise<VectorStore> => {
			const collection = `symbiotic_test_${runId}_${collections.length + 1}`;
			collections.push(collection);
			return openStore({ kind: 'qdrant', url: realUrl as string, apiKey, collection });
		},
	});
	it('is reachable', async () => {
		const store = await openStore({ kind: 'qdrant', url: realUrl as string, apiKey, collection: `symbiotic_test_${runId}_ping` });
		collections.push(`symbiotic_test_${runId}_ping`);
		await store.upsert([chunk({ sourceId: 'ping.md', text: 'ping', vector: topic(0) })]);
		expect(await store.listSources('acme')).toHaveLength(1);
	});
});
