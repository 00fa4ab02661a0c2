/**
 * Reranking against a real local HTTP server: the request each API style gets, every answer shape, and the
 * fallbacks (error status, timeout, malformed answer, unreachable server) that keep the search order instead of
 * failing the search.
 */
import { createServer } from 'node:net';
import {
	createHttpReranker,
	parseRerankResponse,
	rerankItems,
	RerankError,
	rerankUrl,
} from '../../lib/rerank';
import { startRerankTestServer, type RerankTestServer } from '../support/rerankServer';

const API_KEY = 'rk-test-secret';
const query = 'how long is the refund window';
const documents = [
	'Our boots are waterproof.',
	'The refund window is thirty days long.',
	'Shipping takes two days.',
	'A refund is paid to the original card.',
];

let server: RerankTestServer;
beforeAll(async () => {
	server = await startRerankTestServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const reranker = (extra: Partial<Parameters<typeof createHttpReranker>[0]> = {}) =>
	createHttpReranker({ baseUrl: server.url, apiKey: API_KEY, model: 'rerank-test', ...extra });

/** A port nothing listens on: bound, noted, released. */
async function closedPort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
	const { port } = probe.address() as { port: number };
	await new Promise<void>((resolve) => probe.close(() => resolve()));
	return port;
}

describe('HTTP reranker', () => {
	it('sends the Cohere/Jina/vLLM request with the key, and reads relevance best first', async () => {
		const scores = await reranker().rerank(query, documents);
		expect(scores.map((score) => score.index)).toEqual([1, 3, 0, 2]);
		expect(scores[0].score).toBeGreaterThan(scores[1].score);
		const [request] = server.requests;
		expect(request.path).toBe('/rerank');
		expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
		expect(request.body).toEqual({ model: 'rerank-test', query, documents, top_n: 4 });
	});

	it('speaks Hugging Face TEI ({query, texts} → [{index, score}]) when told', async () => {
		server.style = 'tei';
		const scores = await reranker({ format: 'texts', model: '' }).rerank(query, documents);
		expect(scores[0]).toMatchObject({ index: 1 });
		expect(server.requests[0].body).toEqual({ query, texts: documents });
	});

	it('reads the Voyage shape ({data: [...]}) too', async () => {
		server.style = 'voyage';
		expect((await reranker().rerank(query, documents))[0].index).toBe(1);
	});

	it('appends /rerank to a base URL with a version path, and keeps one that already ends in /rerank', async () => {
		expect(rerankUrl('https://api.cohere.com/v2')).toBe('https://api.cohere.com/v2/rerank');
		expect(rerankUrl('https://api.jina.ai/v1/')).toBe('https://api.jina.ai/v1/rerank');
		expect(rerankUrl('http://tei:8080')).toBe('http://tei:8080/rerank');
		expect(rerankUrl('http://vllm:8000/v1/rerank/')).toBe('http://vllm:8000/v1/rerank');
		await reranker({ baseUrl: `${server.url}/v1/` }).rerank(query, documents);
		expect(server.requests[0].path).toBe('/v1/rerank');
		expect(() => rerankUrl('ftp://x')).toThrow(RerankError);
		expect(() => rerankUrl('not a url')).toThrow(/not a valid URL/);
		// A URL too broken to parse is still shown without its user-info and query.
		expect(() => rerankUrl('http://ada:s3cret-pass@[bad?key=k3y-123')).toThrow('the reranker\'s base URL "http://[bad" is not a valid URL');
	});

	it('refuses malformed answers: no list, an index outside the documents, a repeated index, no score', () => {
		expect(() => parseRerankResponse({ ok: true }, 2)).toThrow(/malformed answer/);
		expect(() => parseRerankResponse({ results: [{ index: 5, relevance_score: 1 }] }, 2)).toThrow(/index 5, outside the 2 documents/);
		expect(() => parseRerankResponse({ results: [{ index: -1, relevance_score: 1 }] }, 2)).toThrow(/outside/);
		expect(() => parseRerankResponse({ results: [{ index: 0, relevance_score: 1 }, { index: 0, relevance_score: 0.5 }] }, 2)).toThrow(/appears twice/);
		expect(() => parseRerankResponse({ results: [{ index: 0, relevance_score: 'high' }] }, 2)).toThrow(/numeric relevance_score/);
		expect(() => parseRerankResponse({ results: [null] }, 2)).toThrow(/not an object/);
		expect(() => parseRerankResponse({ results: [] }, 2)).toThrow(/no results/);
		expect(parseRerankResponse([{ index: 1, score: 0.2 }, { index: 0, score: 0.9 }], 2)).toEqual([
			{ index: 0, score: 0.9 },
			{ index: 1, score: 0.2 },
		]);
	});
});

describe('rerankItems: reorders, or keeps the order and says why', () => {
	const items = documents.map((text, position) => ({ text, position }));
	const run = (extra: Partial<Parameters<typeof createHttpReranker>[0]> = {}, signal?: AbortSignal) =>
		rerankItems(reranker(extra), query, items, (item) => item.text, signal);
	const keptOrder = (ranking: Array<{ item: { position: number } }>) => ranking.map(({ item }) => item.position);

	it('reorders by relevance and scores every item', async () => {
		const { ranking, outcome } = await run();
		expect(outcome).toEqual({ reranked: true, candidates: 4 });
		expect(keptOrder(ranking)).toEqual([1, 3, 0, 2]);
		expect(ranking.every((entry) => typeof entry.score === 'number')).toBe(true);
	});

	it('puts candidates a top-N answer left out after the scored ones, in their order', async () => {
		server.topN = 1;
		const { ranking, outcome } = await run();
		expect(outcome.reranked).toBe(true);
		expect(keptOrder(ranking)).toEqual([1, 0, 2, 3]);
		expect(ranking[1].score).toBe(ranking[0].score);
	});

	it.each([
		['an error status, with the server message', () => server.respondWith(() => ({ status: 500, body: { message: 'model overloaded' } })), /HTTP 500: model overloaded/],
		['a wrong API key, saying which credential to check', () => undefined, /HTTP 401: invalid api token — check the API key/],
		['an answer that is not JSON', () => server.respondWith(() => ({ body: '<html>gateway</html>' })), /malformed answer: not JSON/],
		['an answer with an impossible index', () => server.respondWith(() => ({ body: { results: [{ index: 9, relevance_score: 1 }] } })), /malformed answer: .*index 9/],
		['an answer of the wrong shape', () => server.respondWith(() => ({ body: { scores: [1, 2, 3, 4] } })), /malformed answer/],
		['TEI answering a Cohere-style request, saying which format to set', () => {
			server.style = 'tei';
		}, /HTTP 422: .*missing field `texts`.* set the credential's API Format to "Hugging Face TEI"/],
	])('falls back on %s', async (_name, arrange, reason) => {
		arrange();
		const { ranking, outcome } = await run(_name.startsWith('a wrong API key') ? { apiKey: 'wrong' } : {});
		expect(outcome.reranked).toBe(false);
		expect(outcome.reason).toMatch(reason);
		expect(outcome.reason).not.toContain(API_KEY);
		expect(keptOrder(ranking)).toEqual([0, 1, 2, 3]);
		expect(ranking.every((entry) => entry.score === undefined)).toBe(true);
	});

	it('falls back after the timeout without waiting for a slow server', async () => {
		server.delayMs = 2000;
		const started = Date.now();
		const { ranking, outcome } = await run({ timeoutMs: 200 });
		expect(Date.now() - started).toBeLessThan(1500);
		expect(outcome).toMatchObject({ reranked: false, reason: 'the reranker did not answer within 0.2 s' });
		expect(keptOrder(ranking)).toEqual([0, 1, 2, 3]);
	});

	it('falls back when the server cannot be reached, naming the address without credentials', async () => {
		const port = await closedPort();
		const { outcome } = await run({ baseUrl: `http://127.0.0.1:${port}/v1?key=secret` });
		expect(outcome.reranked).toBe(false);
		expect(outcome.reason).toMatch(new RegExp(`could not reach the reranker at http://127\\.0\\.0\\.1:${port}/v1/rerank: ECONNREFUSED`));
		expect(outcome.reason).not.toMatch(/secret/);

		const withPassword = await run({ baseUrl: `http://user:pw@127.0.0.1:${server.url.split(':')[2]}` });
		expect(withPassword.outcome.reason).toMatch(/holds a user name or password: put the key in the credential's API Key/);
		expect(withPassword.outcome.reason).not.toMatch(/pw/);
		expect(server.requests).toHaveLength(0);
	});

	it('falls back on an unusable base URL', async () => {
		const { outcome } = await run({ baseUrl: 'RERANK_URL is not set' });
		expect(outcome).toMatchObject({ reranked: false, reason: expect.stringMatching(/not a valid URL/) });
	});

	it('stops, instead of falling back, when the execution is cancelled', async () => {
		server.delayMs = 2000;
		const controller = new AbortController();
		setTimeout(() => controller.abort(new Error('execution cancelled')), 100);
		await expect(run({}, controller.signal)).rejects.toThrow('execution cancelled');
	});

	it('sends nothing for no candidates', async () => {
		const { outcome } = await rerankItems(reranker(), query, [], () => '');
		expect(outcome).toMatchObject({ reranked: false, candidates: 0 });
		expect(server.requests).toHaveLength(0);
	});
});
