/**
 * The review front door over real HTTP: links are answered by `answerAtFrontDoor`, which forwards to a resume
 * server (handleReviewRequest behind a real socket, as the n8n node serves it) that can be switched to answer the
 * way n8n's waiting-webhook layer does once an execution has resumed (JSON 409/404/401). The same suite runs on the
 * in-memory and the Redis decision store. The real n8n is exercised in test/e2e/humanApproval.e2e.test.ts.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

import { load } from 'cheerio';
import Redis from 'ioredis';

import {
	answerAtFrontDoor,
	handleReviewRequest,
	InMemoryDecisionStore,
	RedisDecisionStore,
	REVIEW_PAGE_HEADER,
	TOKEN_PARAM,
	type DecisionStore,
	type ReviewDecision,
	type ReviewRequest,
} from '../../lib/approval';
import { forwardToResumeUrl, frontDoorBaseUrl, localResumeUrl } from '../../lib/approval/forward';
import { formTokenOf, getRequest, HOUR_MS, postRequest, REVIEW_ID, reviewContent, reviewToken, SECRET } from './support/fixtures';

type N8nAnswer = 'node' | 'finished' | 'running' | 'gone' | 'badSignature';

interface ResumeServer {
	url: string;
	/** What the server answers in place of the node, as n8n does once the execution has resumed. */
	answer: N8nAnswer;
	requests: number;
	close(): Promise<void>;
}

const N8N_JSON: Record<Exclude<N8nAnswer, 'node'>, [number, string]> = {
	finished: [409, '{"code":409,"message":"The execution \\"4711 has finished already."}'],
	running: [409, '{"code":409,"message":"The execution \\"4711\\" is running already."}'],
	gone: [404, '{"code":404,"message":"The execution \\"4711\\" does not exist."}'],
	badSignature: [401, '{"error":"Invalid token"}'],
};

async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

async function startResumeServer(store: DecisionStore): Promise<ResumeServer> {
	const state = { answer: 'node' as N8nAnswer, requests: 0 };
	const server = createServer(async (request, response) => {
		state.requests += 1;
		if (state.answer !== 'node') {
			const [status, body] = N8N_JSON[state.answer];
			response.writeHead(status, { 'content-type': 'application/json' }).end(body);
			return;
		}
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		const page = await handleReviewRequest(
			{
				method: request.method ?? 'GET',
				query: Object.fromEntries(url.searchParams),
				body: request.method === 'POST' ? await readForm(request) : undefined,
				headers: request.headers,
				ip: request.socket.remoteAddress,
			},
			{ secret: SECRET, store, content: reviewContent(), policy: { mode: 'first' } },
		);
		// The settling decision resumes the execution: from then on n8n answers in place of the node.
		if (page.outcome) state.answer = 'running';
		response.writeHead(page.status, { ...page.headers, [REVIEW_PAGE_HEADER]: '1', 'x-transport-only': 'yes' }).end(page.body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/webhook-waiting`,
		get answer() {
			return state.answer;
		},
		set answer(value: N8nAnswer) {
			state.answer = value;
		},
		get requests() {
			return state.requests;
		},
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

const redisClients: Redis[] = [];
const keyPrefix = `test:frontdoor:${randomUUID()}:`;

afterAll(async () => {
	const cleaner = new Redis('redis://127.0.0.1:6379');
	const keys = await cleaner.keys(`${keyPrefix}*`);
	if (keys.length) await cleaner.del(...keys);
	await cleaner.quit();
	await Promise.all(redisClients.map((client) => client.quit()));
});

const stores: Array<[string, () => DecisionStore]> = [
	['in-memory', () => new InMemoryDecisionStore()],
	[
		'Redis',
		() => {
			const client = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
			redisClients.push(client);
			return new RedisDecisionStore(client, { keyPrefix: `${keyPrefix}${randomUUID()}:`, retentionMs: HOUR_MS });
		},
	],
];

describe.each(stores)('review front door (%s decision store)', (_name, makeStore) => {
	let store: DecisionStore;
	let resume: ResumeServer;
	let reviewId: string;

	beforeEach(async () => {
		store = makeStore();
		resume = await startResumeServer(store);
		reviewId = REVIEW_ID;
	});
	afterEach(async () => await resume.close());

	const frontDoor = (request: ReviewRequest, options: { store?: DecisionStore | null; now?: () => Date } = {}) =>
		answerAtFrontDoor(request, {
			secret: SECRET,
			store: options.store === null ? undefined : (options.store ?? store),
			now: options.now,
			forward: async (claims) =>
				await forwardToResumeUrl({
					url: localResumeUrl({
						executionId: claims.executionId,
						query: { ...request.query, signature: 'n8n-resume-token' },
						env: { SYMBIOTIC_APPROVAL_RESUME_BASE_URL: resume.url },
					}),
					method: request.method === 'POST' ? 'POST' : 'GET',
					form: request.body,
					headers: { 'user-agent': String(request.headers['user-agent'] ?? '') },
				}),
		});

	const decision = (action: ReviewDecision['action'], reviewer = 'grace.reviewer@example.com'): ReviewDecision => ({
		action,
		reviewer,
		decidedAt: '2026-01-05T10:30:00.000Z',
		comment: '',
		finalText: reviewContent().draft,
		userAgent: 'test',
		ip: '203.0.113.9',
	});

	test('a waiting review: the page comes from the execution, with its own headers only', async () => {
		const page = await frontDoor(getRequest(reviewToken()));
		expect(page.status).toBe(200);
		expect(load(page.body)('button[value=approve]').length).toBe(1);
		expect(page.headers['content-security-policy']).toContain("default-src 'none'");
		expect(Object.keys(page.headers)).not.toContain('x-transport-only');
		expect(Object.keys(page.headers)).not.toContain(REVIEW_PAGE_HEADER);
		expect(resume.requests).toBe(1);
	});

	test('HEAD answers like GET without a body and decides nothing', async () => {
		const page = await frontDoor({ ...getRequest(reviewToken()), method: 'HEAD' });
		expect(page.status).toBe(200);
		expect(page.body).toBe('');
		expect(await store.get(reviewId)).toBeUndefined();
	});

	test('a decision goes through once; every later click gets the "already decided" page from the store', async () => {
		const token = reviewToken();
		const formToken = formTokenOf((await frontDoor(getRequest(token))).body);
		const decided = await frontDoor(postRequest(token, { formToken, action: 'reject', finalText: reviewContent().draft }));
		expect(decided.status).toBe(200);
		const forwardedSoFar = resume.requests;
		const late = await frontDoor(getRequest(reviewToken({ reviewerId: 'grace.reviewer@example.com' })));
		expect(late.status).toBe(200);
		expect(load(late.body)('h1').text()).toMatch(/already decided/i);
		expect(load(late.body)('main').text()).toContain('ada.reviewer@example.com');
		const latePost = await frontDoor(postRequest(token, { formToken, action: 'approve', finalText: reviewContent().draft }));
		expect(latePost.status).toBe(409);
		expect(resume.requests).toBe(forwardedSoFar);
	});

	test('50 simultaneous POSTs: one 200, 49 HTML 409 pages, no 5xx', async () => {
		const token = reviewToken();
		const formToken = formTokenOf((await frontDoor(getRequest(token))).body);
		const answers = await Promise.all(
			Array.from({ length: 50 }, (_, index) =>
				frontDoor(postRequest(token, { formToken, action: index % 2 ? 'approve' : 'reject', finalText: reviewContent().draft })),
			),
		);
		expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
		expect(answers.filter((answer) => answer.status === 409)).toHaveLength(49);
		for (const answer of answers) expect(answer.headers['Content-Type'] ?? answer.headers['content-type']).toMatch(/^text\/html/);
	});

	test('decided before the visit: answered from the store without asking the execution', async () => {
		await store.decideOnce(reviewId, decision('approved'));
		const page = await frontDoor(getRequest(reviewToken()));
		expect(page.status).toBe(200);
		expect(load(page.body)('main').text()).toContain('grace.reviewer@example.com');
		expect(resume.requests).toBe(0);
	});

	test('an expired link with no decision: the review timed out (410), nothing forwarded', async () => {
		const token = reviewToken({ expiresAt: Date.now() + 1_000 });
		const page = await frontDoor(getRequest(token), { now: () => new Date(Date.now() + 5_000) });
		expect(page.status).toBe(410);
		expect(load(page.body)('h1').text()).not.toBe('');
		expect(resume.requests).toBe(0);
	});

	test('an expired link of a decided review still shows the decision', async () => {
		await store.decideOnce(reviewId, decision('rejected'));
		const page = await frontDoor(getRequest(reviewToken({ expiresAt: Date.now() + 1_000 })), { now: () => new Date(Date.now() + 5_000) });
		expect(page.status).toBe(200);
		expect(load(page.body)('main').text()).toMatch(/rejected/i);
	});

	test.each([
		['finished', 410],
		['gone', 410],
		['running', 503],
		['badSignature', 403],
	] as const)('n8n answering "%s" in place of the node becomes our HTML page (%i)', async (answer, status) => {
		resume.answer = answer;
		const page = await frontDoor(getRequest(reviewToken()));
		expect(page.status).toBe(status);
		expect(page.headers['Content-Type']).toMatch(/^text\/html/);
		expect(page.body).not.toContain('"code"');
		if (status === 503) expect(page.headers['Retry-After']).toBe('5');
	});

	test('tampered and malformed links are refused at the door', async () => {
		const token = reviewToken();
		const tampered = `${token.slice(0, 30)}${token[30] === 'A' ? 'B' : 'A'}${token.slice(31)}`;
		expect((await frontDoor(getRequest(tampered))).status).toBe(403);
		expect((await frontDoor({ ...getRequest(''), query: {} })).status).toBe(400);
		expect(resume.requests).toBe(0);
	});

	test('an unreachable execution or decision store: a 503 page that says to retry, nothing decided', async () => {
		expect((await frontDoor(getRequest(reviewToken()), { store: null })).status).toBe(503);
		await resume.close();
		const page = await frontDoor(getRequest(reviewToken()));
		expect(page.status).toBe(503);
		expect(page.headers['Retry-After']).toBe('5');
	});
});

test('pages follow the locale', async () => {
	const page = await answerAtFrontDoor(getRequest('not-a-token'), {
		secret: SECRET,
		store: new InMemoryDecisionStore(),
		locale: { language: 'fr', timeZone: 'Europe/Paris' },
		forward: async () => {
			throw new Error('not forwarded');
		},
	});
	expect(page.status).toBe(400);
	expect(page.body).toContain('lang="fr"');
});

describe('front door addresses', () => {
	test('the link sits beside the public resume URL and keeps n8n\'s resume token', () => {
		expect(frontDoorBaseUrl('https://n8n.example.com/base/webhook-waiting/4711?signature=abc', 'f00d/review', {})).toBe(
			'https://n8n.example.com/base/webhook/f00d/review?signature=abc',
		);
		expect(
			frontDoorBaseUrl('https://n8n.example.com/wait/4711?signature=abc', 'f00d/review', { N8N_ENDPOINT_WEBHOOK_WAIT: 'wait', N8N_ENDPOINT_WEBHOOK: 'hook' }),
		).toBe('https://n8n.example.com/hook/f00d/review?signature=abc');
		expect(frontDoorBaseUrl('https://n8n.example.com/somewhere/else', 'f00d/review', {})).toBeUndefined();
	});

	test('the forward goes to this process over loopback, with only the resume and link tokens', () => {
		const query = { signature: 'sig', [TOKEN_PARAM]: 'tok', action: 'approve' };
		expect(localResumeUrl({ executionId: '42', query, env: {} })).toBe('http://127.0.0.1:5678/webhook-waiting/42?signature=sig&token=tok');
		expect(localResumeUrl({ executionId: '42', query, env: { N8N_PORT: '5680', N8N_LISTEN_ADDRESS: '::1', N8N_PROTOCOL: 'https' } })).toBe(
			'https://[::1]:5680/webhook-waiting/42?signature=sig&token=tok',
		);
		expect(localResumeUrl({ executionId: '42', query, env: { SYMBIOTIC_APPROVAL_RESUME_BASE_URL: 'http://n8n:5678/webhook-waiting/' } })).toBe(
			'http://n8n:5678/webhook-waiting/42?signature=sig&token=tok',
		);
	});
});
