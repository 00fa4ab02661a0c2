import { randomUUID } from 'node:crypto';

import { load } from 'cheerio';
import Redis from 'ioredis';

import {
	createReviewLink,
	handleReviewRequest,
	InMemoryDecisionStore,
	newReviewId,
	RedisDecisionStore,
	type ApprovalPolicy,
	type DecisionStore,
	type ReviewDecision,
} from '../../lib/approval';
import {
	EXECUTION_ID,
	formTokenOf,
	getRequest,
	HOUR_MS,
	NODE_ID,
	postRequest,
	reviewContent,
	reviewToken,
	SECRET,
	USER_AGENTS,
} from './support/fixtures';
import { startReviewServer, type ReviewServer } from './support/reviewServer';

const REDIS_URL = 'redis://127.0.0.1:6379';
const keyPrefix = `test:approval:${randomUUID()}:`;
const redisClients: Redis[] = [];

function redisClient(): Redis {
	const client = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2, connectTimeout: 5000 });
	redisClients.push(client);
	return client;
}

afterAll(async () => {
	const cleaner = redisClient();
	const keys = await cleaner.keys(`${keyPrefix}*`);
	if (keys.length) await cleaner.del(...keys);
	expect(await cleaner.keys(`${keyPrefix}*`)).toEqual([]);
	await Promise.all(redisClients.map((client) => client.quit()));
});

const stores: Array<[string, () => DecisionStore]> = [
	['in-memory', () => new InMemoryDecisionStore()],
	['Redis', () => new RedisDecisionStore(redisClient(), { keyPrefix, retentionMs: HOUR_MS })],
];

interface Attempt {
	reviewer: string;
	url: string;
	formToken: string;
	action: 'approve' | 'reject';
}

/** Opens each reviewer's page once (as a browser would) and prepares `perReviewer` submissions per reviewer. */
async function prepareAttempts(server: ReviewServer, reviewId: string, reviewers: string[], perReviewer: number): Promise<Attempt[]> {
	const attempts: Attempt[] = [];
	for (const reviewer of reviewers) {
		const url = createReviewLink({
			baseUrl: server.baseUrl,
			reviewId,
			executionId: EXECUTION_ID,
			nodeId: NODE_ID,
			reviewerId: reviewer,
			expiresAt: Date.now() + HOUR_MS,
			secret: SECRET,
		});
		const page = await fetch(url, { headers: { 'user-agent': USER_AGENTS.chrome } });
		expect(page.status).toBe(200);
		const formToken = formTokenOf(await page.text());
		for (let index = 0; index < perReviewer; index++) {
			attempts.push({ reviewer, url, formToken, action: index % 2 ? 'reject' : 'approve' });
		}
	}
	return attempts;
}

/** Fires every attempt at the same moment. */
async function postAll(attempts: Attempt[]) {
	return Promise.all(
		attempts.map(async (attempt) => {
			const response = await fetch(attempt.url, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': `${USER_AGENTS.chrome} ${attempt.reviewer}` },
				body: new URLSearchParams({ formToken: attempt.formToken, action: attempt.action, finalText: reviewContent().draft, comment: '' }),
			});
			return { status: response.status, heading: load(await response.text())('h1').text() };
		}),
	);
}

function countBy(values: string[]): Record<string, number> {
	return values.reduce<Record<string, number>>((counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }), {});
}

describe.each(stores)('50 simultaneous decisions with the %s store', (_name, makeStore) => {
	let server: ReviewServer;
	afterEach(() => server?.close());

	/** A fresh review id per test: the Redis store outlives a test. */
	async function serve(policy: ApprovalPolicy): Promise<{ server: ReviewServer; store: DecisionStore; reviewId: string }> {
		const store = makeStore();
		const reviewId = newReviewId();
		server = await startReviewServer({ secret: SECRET, store, content: reviewContent(), policy, binding: { executionId: EXECUTION_ID, nodeId: NODE_ID, reviewId } });
		return { server, store, reviewId };
	}

	test('first wins: exactly one 200 confirmation, 49 × 409 "already decided", no 500', async () => {
		const reviewers = ['ada@example.com', 'bob@example.com', 'cy@example.com', 'dee@example.com', 'eli@example.com'];
		const { server: running, reviewId } = await serve({ mode: 'first' });
		const results = await postAll(await prepareAttempts(running, reviewId, reviewers, 10));

		expect(countBy(results.map((result) => String(result.status)))).toEqual({ '200': 1, '409': 49 });
		const winner = results.find((result) => result.status === 200);
		expect(['Approved', 'Rejected']).toContain(winner?.heading);
		expect(results.filter((result) => result.status === 409).every((result) => result.heading === 'This review is already decided')).toBe(true);
		expect(running.outcomes).toHaveLength(1);
		expect(running.responses.filter((response) => response.decision)).toHaveLength(1);
	});

	test('require all: each reviewer decides once, exactly one response carries the outcome', async () => {
		const reviewers = ['ada@example.com', 'bob@example.com', 'cy@example.com'];
		const { server: running, reviewId } = await serve({ mode: 'all', reviewers });
		const attempts = (await prepareAttempts(running, reviewId, reviewers, 17)).map((attempt) => ({ ...attempt, action: 'approve' as const }));
		const results = await postAll(attempts.slice(0, 50));

		expect(results.some((result) => result.status >= 500)).toBe(false);
		expect(countBy(results.map((result) => String(result.status)))).toEqual({ '200': 3, '409': 47 });
		const recorded = running.responses.map((response) => response.decision).filter((entry): entry is ReviewDecision => !!entry);
		expect(recorded.map((entry) => entry.reviewer).sort()).toEqual(reviewers);
		expect(running.outcomes).toHaveLength(1);
		expect(running.outcomes[0]).toMatchObject({ decision: 'approved' });
		expect(running.outcomes[0].decisions).toHaveLength(3);
	});
});

function racingDecisions(count: number): ReviewDecision[] {
	return Array.from({ length: count }, (_unused, index) => ({
		action: index % 2 ? ('rejected' as const) : ('approved' as const),
		reviewer: `r${index}@example.com`,
		decidedAt: new Date().toISOString(),
		userAgent: 'ua',
		ip: '127.0.0.1',
		comment: '',
		finalText: `text ${index}`,
	}));
}

/** Redis with 10 connections, so the race is decided by the server rather than by one client's command queue. */
const racingStores: Array<[string, () => DecisionStore[]]> = [
	['in-memory', () => [new InMemoryDecisionStore()]],
	['Redis', () => Array.from({ length: 10 }, () => new RedisDecisionStore(redisClient(), { keyPrefix, retentionMs: HOUR_MS }))],
];

describe.each(racingStores)('decideOnce on the %s store, 50 calls at once', (_name, makeStores) => {
	test('one winner, and every loser is told the winning decision', async () => {
		const connections = makeStores();
		const key = `race-${randomUUID()}`;
		const decisions = racingDecisions(50);
		const results = await Promise.all(decisions.map((decision, index) => connections[index % connections.length].decideOnce(key, decision)));
		const winners = results.flatMap((result, index) => (result.won ? [decisions[index]] : []));
		expect(winners).toHaveLength(1);
		for (const result of results) if (!result.won) expect(result.existing).toEqual(winners[0]);
		expect(await connections[connections.length - 1].get(key)).toEqual(winners[0]);
	});

	test('through the handler without HTTP in between: one 200, 49 × 409', async () => {
		const [store] = makeStores();
		const options = { secret: SECRET, store, content: reviewContent(), policy: { mode: 'first' as const } };
		const token = reviewToken({ reviewId: newReviewId() });
		const page = await handleReviewRequest(getRequest(token), options);
		const formToken = formTokenOf(page.body);
		const responses = await Promise.all(
			Array.from({ length: 50 }, (_unused, index) =>
				handleReviewRequest(postRequest(token, { formToken, action: index % 2 ? 'reject' : 'approve', finalText: reviewContent().draft }), options),
			),
		);
		expect(countBy(responses.map((response) => String(response.status)))).toEqual({ '200': 1, '409': 49 });
		expect(responses.filter((response) => response.outcome)).toHaveLength(1);
	});
});

test('Redis keeps decisions for the retention period only', async () => {
	const client = redisClient();
	const store = new RedisDecisionStore(client, { keyPrefix });
	const key = `retention-${randomUUID()}`;
	expect(await store.decideOnce(key, racingDecisions(1)[0])).toEqual({ won: true });
	expect(await client.pttl(`${keyPrefix}${key}`)).toBeGreaterThan(29 * 24 * HOUR_MS);
});
