/**
 * The behaviour every memory backend must show, run once per backend (Redis, in-process) so the two cannot
 * drift apart. Each test creates its own backends through the factory; the factory's owner cleans up.
 */
import { countTokens } from '../../lib/tokens';
import { InputError } from '../../lib/types';
import type { MemoryBackend, RetentionPolicy, SessionRef } from '../../lib/memory';

export interface BackendFactory {
	create(options?: { keyPrefix?: string; retention?: Partial<RetentionPolicy> }): Promise<MemoryBackend>;
	/** The prefix the factory uses by default; another prefix must start with it (so cleanup finds it). */
	keyPrefix: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sessionCounter = 0;
function newSession(namespace = 'tests'): SessionRef {
	sessionCounter += 1;
	return { namespace, sessionId: `lead-${sessionCounter}@example.com` };
}

export function describeMemoryBehaviour(factory: () => BackendFactory): void {
	const open: MemoryBackend[] = [];
	async function backend(options?: Parameters<BackendFactory['create']>[0]): Promise<MemoryBackend> {
		const created = await factory().create(options);
		open.push(created);
		return created;
	}
	afterEach(async () => {
		await Promise.all(open.splice(0).map((b) => b.close()));
	});

	describe('messages', () => {
		it('keeps messages in append order, with time and metadata', async () => {
			const memory = await backend();
			const session = newSession();
			await memory.appendMessages(session, [
				{ role: 'user', content: 'Hi, do you ship to Norway?', metadata: { channel: 'email', score: 3 } },
				{ role: 'assistant', content: 'Yes, within 5 days.', at: '2024-05-01T10:00:00.000Z' },
			]);
			const result = await memory.appendMessages(session, [{ role: 'user', content: 'Great, price?' }]);
			expect(result.storedMessages).toBe(3);

			const history = await memory.getHistory(session);
			expect(history.messages.map((m) => m.content)).toEqual(['Hi, do you ship to Norway?', 'Yes, within 5 days.', 'Great, price?']);
			expect(history.messages[0].metadata).toEqual({ channel: 'email', score: 3 });
			expect(history.messages[1].at).toBe('2024-05-01T10:00:00.000Z');
			expect(Date.now() - Date.parse(history.messages[2].at)).toBeLessThan(60_000);
			expect(history.transcript).toBe('User: Hi, do you ship to Norway?\nAssistant: Yes, within 5 days.\nUser: Great, price?');
			expect(history.transcriptTokens).toBe(countTokens(history.transcript));
			expect(history.omittedMessages).toBe(0);
		});

		it('returns the newest N messages with lastN', async () => {
			const memory = await backend();
			const session = newSession();
			await memory.appendMessages(session, Array.from({ length: 10 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })));
			const history = await memory.getHistory(session, { lastN: 3 });
			expect(history.messages.map((m) => m.content)).toEqual(['m7', 'm8', 'm9']);
			expect(history.omittedMessages).toBe(7);
			expect((await memory.getHistory(session, { lastN: 50 })).messages).toHaveLength(10);
		});

		it('fits the newest contiguous messages into a token budget', async () => {
			const memory = await backend();
			const session = newSession();
			const contents = ['old ' + 'word '.repeat(200), 'short one', 'word '.repeat(30), 'latest question'];
			await memory.appendMessages(session, contents.map((content, i) => ({ role: i % 2 ? 'assistant' : 'user', content }) as const));

			const lines = contents.map((c, i) => `${i % 2 ? 'Assistant' : 'User'}: ${c}`);
			const budget = countTokens(lines.slice(1).join('\n'));
			const history = await memory.getHistory(session, { tokenBudget: budget });
			expect(history.messages.map((m) => m.content)).toEqual(contents.slice(1));
			expect(history.transcriptTokens).toBeLessThanOrEqual(budget);
			expect(history.omittedMessages).toBe(1);

			// One token less: the oldest of the three no longer fits, and nothing older is pulled in instead.
			const tighter = await memory.getHistory(session, { tokenBudget: budget - 1 });
			expect(tighter.messages.map((m) => m.content)).toEqual(contents.slice(2));

			const both = await memory.getHistory(session, { tokenBudget: 10_000, lastN: 2 });
			expect(both.messages.map((m) => m.content)).toEqual(contents.slice(2));

			const tiny = await memory.getHistory(session, { tokenBudget: 2 });
			expect(tiny.messages).toEqual([]);
			expect(tiny.transcript).toBe('');
		});

		it('keeps only the newest maxMessages', async () => {
			const memory = await backend({ retention: { maxMessages: 5 } });
			const session = newSession();
			for (let i = 0; i < 4; i++) await memory.appendMessages(session, [{ role: 'user', content: `a${i}` }]);
			const result = await memory.appendMessages(session, ['b0', 'b1', 'b2'].map((content) => ({ role: 'assistant' as const, content })));
			expect(result.storedMessages).toBe(5);
			expect((await memory.getHistory(session)).messages.map((m) => m.content)).toEqual(['a2', 'a3', 'b0', 'b1', 'b2']);
		});

		it('loses nothing under 200 concurrent appends and keeps each writer in order', async () => {
			const writers = await Promise.all([backend(), backend(), backend(), backend()]);
			const session = newSession();
			await Promise.all(
				writers.map(async (memory, writer) => {
					await Promise.all(
						Array.from({ length: 50 }, (_, seq) => memory.appendMessages(session, [{ role: 'user', content: `w${writer}-${seq}` }])),
					);
				}),
			);
			const contents = (await writers[0].getHistory(session)).messages.map((m) => m.content);
			expect(contents).toHaveLength(200);
			expect(new Set(contents).size).toBe(200);
			for (let writer = 0; writer < writers.length; writer++) {
				const sequence = contents.filter((c) => c.startsWith(`w${writer}-`)).map((c) => Number(c.split('-')[1]));
				expect(sequence).toEqual(Array.from({ length: 50 }, (_, i) => i));
			}
		});

		it('rejects invalid messages naming the field, and writes nothing', async () => {
			const memory = await backend();
			const session = newSession();
			const bad = [{ role: 'user', content: 'fine' }, { role: 'robot', content: 'x' }];
			await expect(memory.appendMessages(session, bad as never)).rejects.toMatchObject({ name: 'InputError', field: 'role' });
			await expect(memory.appendMessages(session, [])).rejects.toThrow(/at least one message/);
			expect((await memory.getHistory(session)).messages).toEqual([]);
		});
	});

	describe('session ids', () => {
		it('normalises ids: trimmed, NFC, e-mails lower-cased', async () => {
			const memory = await backend();
			await memory.appendMessages({ namespace: 'tests', sessionId: '  Lead.Norm@Example.COM ' }, [{ role: 'user', content: 'one' }]);
			await memory.appendMessages({ namespace: 'tests', sessionId: 'lead.norm@example.com' }, [{ role: 'user', content: 'two' }]);
			const history = await memory.getHistory({ namespace: 'tests', sessionId: 'LEAD.NORM@example.com' });
			expect(history.messages.map((m) => m.content)).toEqual(['one', 'two']);

			// "é" composed and decomposed are the same contact; a non-email id keeps its case.
			await memory.setFacts({ namespace: 'tests', sessionId: 'Caf\u00e9-42' }, { tier: 'gold' });
			expect(await memory.getFacts({ namespace: 'tests', sessionId: 'Cafe\u0301-42' })).toEqual({ tier: 'gold' });
			expect(await memory.getFacts({ namespace: 'tests', sessionId: 'caf\u00e9-42' })).toEqual({});
		});

		it('refuses empty, over-long and control-character ids naming the field', async () => {
			const memory = await backend();
			const attempt = (sessionId: unknown) => memory.getHistory({ namespace: 'tests', sessionId: sessionId as string });
			await expect(attempt('   ')).rejects.toMatchObject({ field: 'sessionId', message: expect.stringMatching(/Session ID is empty/) });
			await expect(attempt('x'.repeat(257))).rejects.toMatchObject({ field: 'sessionId', message: expect.stringMatching(/257 characters.*maximum is 256/) });
			await expect(attempt('a\nb')).rejects.toMatchObject({ field: 'sessionId', message: expect.stringMatching(/control characters/) });
			await expect(attempt(undefined)).rejects.toBeInstanceOf(InputError);
			await expect(attempt('x'.repeat(256))).resolves.toMatchObject({ messages: [] });
		});
	});

	describe('retention', () => {
		it('sets the TTL on write and refreshes it on every write', async () => {
			const memory = await backend({ retention: { ttlMs: 3000 } });
			const session = newSession();
			await memory.appendMessages(session, [{ role: 'user', content: 'hello' }]);
			const first = await memory.getTtl(session);
			expect(first.exists).toBe(true);
			expect(first.expiresInMs).toBeGreaterThan(2500);
			expect(first.expiresInMs).toBeLessThanOrEqual(3000);

			await sleep(600);
			expect((await memory.getTtl(session)).expiresInMs).toBeLessThanOrEqual(2400);
			await memory.setFacts(session, { stage: 'qualified' });
			expect((await memory.getTtl(session)).expiresInMs).toBeGreaterThan(2500);
		});

		it('forgets a session when its TTL runs out', async () => {
			const memory = await backend({ retention: { ttlMs: 150 } });
			const session = newSession();
			await memory.appendMessages(session, [{ role: 'user', content: 'soon gone' }]);
			await memory.setFacts(session, { name: 'Ada' });
			await sleep(400);
			expect((await memory.getHistory(session)).messages).toEqual([]);
			expect(await memory.getFacts(session)).toEqual({});
			expect(await memory.getTtl(session)).toEqual({ exists: false, expiresInMs: null });
		});

		it('keeps a session forever with TTL 0, also after an earlier TTL', async () => {
			const session = newSession();
			const expiring = await backend({ retention: { ttlMs: 60_000 } });
			await expiring.appendMessages(session, [{ role: 'user', content: 'one' }]);
			const forever = await backend({ retention: { ttlMs: 0 } });
			await forever.appendMessages(session, [{ role: 'user', content: 'two' }]);
			expect(await forever.getTtl(session)).toEqual({ exists: true, expiresInMs: null });
		});
	});

	describe('facts', () => {
		it('merges fields, keeps their types, and deletes fields set to null', async () => {
			const memory = await backend();
			const session = newSession();
			expect(await memory.setFacts(session, { company: 'Acme', employees: 40, customer: false })).toEqual({
				company: 'Acme',
				employees: 40,
				customer: false,
			});
			const merged = await memory.setFacts(session, { employees: 45, city: 'Oslo', customer: null });
			expect(merged).toEqual({ company: 'Acme', employees: 45, city: 'Oslo' });
			expect(await memory.getFacts(session)).toEqual(merged);
			expect(await memory.getFacts(newSession())).toEqual({});
		});

		it('refuses non-scalar values naming the fact', async () => {
			const memory = await backend();
			await expect(memory.setFacts(newSession(), { tags: ['a'] } as never)).rejects.toMatchObject({
				field: 'facts',
				message: expect.stringMatching(/Fact "tags".*got a list/),
			});
		});
	});

	describe('sessions', () => {
		it('keeps namespaces and key prefixes apart', async () => {
			const memory = await backend();
			const other = await backend({ keyPrefix: `${factory().keyPrefix}-other` });
			const sessionId = 'shared@example.com';
			await memory.appendMessages({ namespace: 'brand-a', sessionId }, [{ role: 'user', content: 'for A' }]);
			await memory.setFacts({ namespace: 'brand-a', sessionId }, { brand: 'A' });
			await memory.appendMessages({ namespace: 'brand-b', sessionId }, [{ role: 'user', content: 'for B' }]);

			expect((await memory.getHistory({ namespace: 'brand-b', sessionId })).transcript).toBe('User: for B');
			expect(await memory.getFacts({ namespace: 'brand-b', sessionId })).toEqual({});
			expect((await other.getHistory({ namespace: 'brand-a', sessionId })).messages).toEqual([]);

			await memory.clearSession({ namespace: 'brand-b', sessionId });
			expect((await memory.getHistory({ namespace: 'brand-a', sessionId })).transcript).toBe('User: for A');
		});

		it('clears messages and facts of one session', async () => {
			const memory = await backend();
			const session = newSession();
			await memory.appendMessages(session, [{ role: 'user', content: 'x' }]);
			await memory.setFacts(session, { a: 1 });
			expect(await memory.clearSession(session)).toBe(true);
			expect((await memory.getHistory(session)).messages).toEqual([]);
			expect(await memory.getFacts(session)).toEqual({});
			expect(await memory.clearSession(session)).toBe(false);
		});

		it('clears the messages of one session and keeps its facts untouched, TTL included', async () => {
			const memory = await backend();
			const session = newSession();
			await memory.appendMessages(session, [{ role: 'user', content: 'x' }]);
			await memory.setFacts(session, { plan: 'Starter' });
			const before = await memory.getTtl(session);
			expect(await memory.clearMessages(session)).toBe(true);
			expect((await memory.getHistory(session)).messages).toEqual([]);
			expect(await memory.getFacts(session)).toEqual({ plan: 'Starter' });
			const after = await memory.getTtl(session);
			expect(after.exists).toBe(true);
			if (before.expiresInMs !== null) expect(after.expiresInMs).toBeLessThanOrEqual(before.expiresInMs);
			expect(await memory.clearMessages(session)).toBe(false);
			// Messages only: nothing is left, so the session no longer exists.
			const messagesOnly = newSession();
			await memory.appendMessages(messagesOnly, [{ role: 'user', content: 'y' }]);
			expect(await memory.clearMessages(messagesOnly)).toBe(true);
			expect((await memory.getTtl(messagesOnly)).exists).toBe(false);
		});

		it('lists every session of a namespace, page by page, and no other', async () => {
			const memory = await backend();
			const namespace = `list-${sessionCounter++}`;
			const expected = Array.from({ length: 25 }, (_, i) => `contact-${i}`);
			for (const [i, sessionId] of expected.entries()) {
				// Some sessions only have facts, some only messages, some both.
				if (i % 3 !== 0) await memory.appendMessages({ namespace, sessionId }, [{ role: 'user', content: 'hi' }]);
				if (i % 3 !== 1) await memory.setFacts({ namespace, sessionId }, { i });
			}
			await memory.appendMessages({ namespace: `${namespace}-x`, sessionId: 'elsewhere' }, [{ role: 'user', content: 'hi' }]);

			const seen = new Set<string>();
			let cursor: string | undefined;
			let pages = 0;
			do {
				const page = await memory.listSessions({ namespace, limit: 10, cursor });
				page.sessionIds.forEach((id) => seen.add(id));
				cursor = page.nextCursor ?? undefined;
				pages++;
			} while (cursor && pages < 50);
			expect([...seen].sort()).toEqual([...expected].sort());
			await expect(memory.listSessions({ namespace, cursor: 'garbage' })).rejects.toMatchObject({ field: 'cursor' });
		});
	});
}
