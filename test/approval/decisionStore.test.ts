import { InMemoryDecisionStore, type ReviewDecision } from '../../lib/approval';

const DAY_MS = 24 * 60 * 60 * 1000;

function decision(reviewer: string): ReviewDecision {
	return { action: 'approved', comment: '', finalText: 'Draft', reviewer, decidedAt: '2026-01-01T00:00:00.000Z', userAgent: 'test', ip: '127.0.0.1' };
}

describe('the in-memory decision store forgets, like Redis keys expire', () => {
	test('a decision reads back until its retention ends, then is absent and the key can be decided again', async () => {
		let clock = 1_000_000;
		const store = new InMemoryDecisionStore({ retentionMs: 2 * DAY_MS, now: () => clock });
		expect(await store.decideOnce('review-1', decision('ada@example.com'))).toEqual({ won: true });
		clock += 2 * DAY_MS - 1;
		expect((await store.get('review-1'))?.reviewer).toBe('ada@example.com');
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: false, existing: decision('ada@example.com') });
		clock += 1;
		expect(await store.get('review-1')).toBeUndefined();
		expect(store.size).toBe(0);
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: true });
	});

	test('an insert drops every expired entry, even ones nobody reads again', async () => {
		let clock = 0;
		const store = new InMemoryDecisionStore({ now: () => clock });
		for (let index = 0; index < 100; index++) await store.decideOnce(`old-${index}`, decision('ada@example.com'));
		expect(store.size).toBe(100);
		clock += 30 * DAY_MS;
		await store.decideOnce('new', decision('ada@example.com'));
		expect(store.size).toBe(1);
	});

	test('a per-decision retention overrides the default: each review keeps its decisions as long as its links live', async () => {
		let clock = 0;
		const store = new InMemoryDecisionStore({ retentionMs: DAY_MS, now: () => clock });
		await store.decideOnce('short', decision('ada@example.com'));
		await store.decideOnce('long', decision('ada@example.com'), 10 * DAY_MS);
		clock += 5 * DAY_MS;
		expect(await store.get('short')).toBeUndefined();
		expect((await store.get('long'))?.reviewer).toBe('ada@example.com');
	});
});
