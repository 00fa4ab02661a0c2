/**
 * Redis killed and restarted while memory appends and approval decisions are being written (README "What we
 * survive"; case ids in brackets). A Redis of its own, with the durability a production memory needs
 * (append-only file, fsync on every write): what Redis acknowledged must be there after the restart, and what
 * was in flight must fail with a clear error — never silently.
 */
import { Redis } from 'ioredis';

import { RedisDecisionStore } from '../../lib/approval/redisDecisionStore';
import { RedisMemoryBackend } from '../../lib/memory';
import { startRestartableRedis, type RestartableRedisServer } from '../memory/redisServer';

let redis: RestartableRedisServer;

beforeEach(async () => {
	redis = await startRestartableRedis();
});

afterEach(async () => {
	await redis.stop();
});

/** Runs `count` operations one after another, killing Redis before `killAt` and starting it again 500 ms later. */
async function throughRestart(count: number, killAt: number, operation: (index: number) => Promise<unknown>) {
	const acknowledged: number[] = [];
	const failures: Array<{ index: number; message: string }> = [];
	let restarted: Promise<void> | undefined;
	for (let index = 0; index < count; index++) {
		if (index === killAt) {
			await redis.kill();
			restarted = new Promise((resolve) => setTimeout(resolve, 500)).then(() => redis.up());
		}
		try {
			await operation(index);
			acknowledged.push(index);
		} catch (error) {
			failures.push({ index, message: (error as Error).message });
		}
	}
	await restarted;
	return { acknowledged, failures };
}

test('[redis-restart-appends] Redis killed during 1,000 memory appends: every acknowledged append is kept, the others failed clearly', async () => {
	const memory = await RedisMemoryBackend.connect({ host: '127.0.0.1', port: redis.port }, { keyPrefix: 'reliability' });
	const session = { namespace: 'acme', sessionId: 'lead@example.com' };
	try {
		const { acknowledged, failures } = await throughRestart(1_000, 300, (index) =>
			memory.appendMessages(session, [{ role: 'user', content: `message ${index}` }]),
		);
		// Appends after the restart go through again on the same backend.
		expect(acknowledged.at(-1)).toBe(999);
		for (const { message } of failures) expect(message).toMatch(/^Lost the connection to Redis at 127.0.0.1:\d+ during this command/);
		const history = await memory.getHistory(session);
		const stored = history.messages.map((message) => Number(message.content.replace('message ', '')));
		// Nothing acknowledged is lost, nothing is stored twice, and the order is the order of the appends.
		expect(stored.filter((index) => acknowledged.includes(index))).toEqual(acknowledged);
		expect(new Set(stored).size).toBe(stored.length);
		expect([...stored].sort((a, b) => a - b)).toEqual(stored);
	} finally {
		await memory.close();
	}
}, 120_000);

test('[redis-restart-decisions] Redis killed during approval decisions: every acknowledged decision is kept and still wins', async () => {
	const client = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, enableOfflineQueue: false });
	client.on('error', () => undefined);
	const store = new RedisDecisionStore(client, { keyPrefix: 'reliability:approval:' });
	const decision = (index: number) => ({
		action: 'approved' as const,
		reviewer: `reviewer-${index}@example.com`,
		decidedAt: new Date().toISOString(),
		userAgent: 'test',
		ip: '127.0.0.1',
		comment: '',
		finalText: `draft ${index}`,
	});
	try {
		const { acknowledged, failures } = await throughRestart(300, 100, async (index) => {
			const result = await store.decideOnce(`review-${index}`, decision(index));
			if (!result.won) throw new Error(`review-${index} was already decided`);
		});
		expect(failures.every(({ message }) => !/already decided/.test(message))).toBe(true);
		for (const index of acknowledged) {
			// A second reviewer arriving later loses to the acknowledged decision, which is still there.
			const late = await store.decideOnce(`review-${index}`, { ...decision(index), reviewer: 'late@example.com' });
			expect(late).toMatchObject({ won: false, existing: { reviewer: `reviewer-${index}@example.com` } });
		}
	} finally {
		client.disconnect();
	}
}, 120_000);
