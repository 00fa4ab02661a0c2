/**
 * The Redis backend against real servers: the shared instance at 127.0.0.1:6379 (keys under a prefix unique
 * to this run, deleted afterwards), plus throw-away servers for auth, outages and Cluster mode.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { createRedisClient, MemoryConnectionError, RedisMemoryBackend } from '../../lib/memory';
import type { RedisConnectionConfig, RedisMemoryOptions } from '../../lib/memory';
import { InputError } from '../../lib/types';
import { describeMemoryBehaviour } from './memoryBehaviour';
import { connectionCounts, freePort, LOCAL_REDIS, startRedisServer, useLocalRedisPrefix } from './redisServer';
import type { RedisServerProcess } from './redisServer';

const { prefix: runPrefix, admin } = useLocalRedisPrefix('test');

async function timed<T>(promise: Promise<T>): Promise<{ error: Error; ms: number }> {
	const started = Date.now();
	try {
		await promise;
	} catch (error) {
		return { error: error as Error, ms: Date.now() - started };
	}
	throw new Error('expected a failure, but the call succeeded');
}

describe('RedisMemoryBackend on 127.0.0.1:6379', () => {
	describeMemoryBehaviour(() => ({
		keyPrefix: runPrefix,
		create: (options) => RedisMemoryBackend.connect(LOCAL_REDIS, { keyPrefix: runPrefix, ...options }),
	}));

	it('stores a session as a list and a hash sharing one hash tag, both with the TTL', async () => {
		const memory = await RedisMemoryBackend.connect(LOCAL_REDIS, { keyPrefix: runPrefix, retention: { ttlMs: 90_000 } });
		try {
			const session = { namespace: 'layout', sessionId: 'Ada@Example.com' };
			await memory.appendMessages(session, [{ role: 'user', content: 'hello' }]);
			await memory.setFacts(session, { plan: 'pro' });
			const base = `${runPrefix}:{layout:ada@example.com}`;
			expect(await admin.type(`${base}:messages`)).toBe('list');
			expect(await admin.type(`${base}:facts`)).toBe('hash');
			expect(await admin.hget(`${base}:facts`, 'plan')).toBe('"pro"');
			for (const key of [`${base}:messages`, `${base}:facts`]) {
				const pttl = await admin.pttl(key);
				expect(pttl).toBeGreaterThan(85_000);
				expect(pttl).toBeLessThanOrEqual(90_000);
			}
		} finally {
			await memory.close();
		}
	});

	it('appends, trims and refreshes the TTL in exactly one round trip (seen by MONITOR)', async () => {
		const client = await createRedisClient(LOCAL_REDIS);
		const memory = new RedisMemoryBackend(client, { keyPrefix: runPrefix, retention: { ttlMs: 60_000, maxMessages: 10 } });
		const monitor = await admin.monitor();
		try {
			const session = { namespace: 'roundtrips', sessionId: 'counted' };
			const ourAddress = `127.0.0.1:${(client as Redis).stream.localPort}`;
			const commands: string[] = [];
			monitor.on('monitor', (_time: string, args: string[], source: string) => {
				if (source === ourAddress) commands.push(args[0].toLowerCase());
			});
			const appends = 20;
			for (let i = 0; i < appends; i++) {
				await memory.appendMessages(session, [
					{ role: 'user', content: `question ${i}` },
					{ role: 'assistant', content: `answer ${i}` },
				]);
			}
			await client.ping(); // end marker: MONITOR reports commands in order
			const deadline = Date.now() + 5000;
			while (!commands.includes('ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

			// ioredis sends the script body (EVAL) on a connection's first call, its SHA1 (EVALSHA) afterwards.
			expect(commands).toEqual(['eval', ...Array(appends - 1).fill('evalsha'), 'ping']);
			const key = `${runPrefix}:{roundtrips:counted}:messages`;
			expect(await admin.llen(key)).toBe(10);
			expect(await admin.pttl(key)).toBeGreaterThan(55_000);
		} finally {
			monitor.disconnect();
			await memory.close();
		}
	});

	it('connects through a redis:// URL with a database number', async () => {
		const memory = await RedisMemoryBackend.connect({ url: 'redis://127.0.0.1:6379/3' }, { keyPrefix: runPrefix });
		const db3 = new Redis({ ...LOCAL_REDIS, db: 3 });
		try {
			await memory.appendMessages({ namespace: 'url', sessionId: 's1' }, [{ role: 'user', content: 'in db 3' }]);
			expect(await db3.lrange(`${runPrefix}:{url:s1}:messages`, 0, -1)).toHaveLength(1);
			expect(await admin.exists(`${runPrefix}:{url:s1}:messages`)).toBe(0);
		} finally {
			await db3.del(`${runPrefix}:{url:s1}:messages`);
			db3.disconnect();
			await memory.close();
		}
	});

	it('reports a key another program wrote in another type instead of corrupting it', async () => {
		const memory = await RedisMemoryBackend.connect(LOCAL_REDIS, { keyPrefix: runPrefix });
		try {
			await admin.set(`${runPrefix}:{foreign:s1}:messages`, 'not a list');
			await expect(memory.appendMessages({ namespace: 'foreign', sessionId: 's1' }, [{ role: 'user', content: 'x' }])).rejects.toThrow(
				/refused the command: WRONGTYPE.*choose another key prefix/,
			);
			expect(await admin.get(`${runPrefix}:{foreign:s1}:messages`)).toBe('not a list');
		} finally {
			await memory.close();
		}
	});
});

describe('settings checked before connecting', () => {
	// A server of its own: its client count is this test's alone.
	let server: RedisServerProcess;
	let observer: Redis;
	beforeAll(async () => {
		server = await startRedisServer();
		observer = new Redis({ host: '127.0.0.1', port: server.port });
	});
	afterAll(async () => {
		observer.disconnect();
		await server.stop();
	});

	it('opens no connection for an invalid key prefix or retention, however often it is tried', async () => {
		const invalid: RedisMemoryOptions[] = [
			{ keyPrefix: 'has space' },
			{ keyPrefix: 'glob*' },
			{ retention: { ttlMs: -1 } },
			{ retention: { maxMessages: 1.5 } },
		];
		const before = await connectionCounts(observer);
		for (let round = 0; round < 25; round++) {
			for (const options of invalid) {
				await expect(RedisMemoryBackend.connect({ host: '127.0.0.1', port: server.port }, options)).rejects.toBeInstanceOf(InputError);
			}
		}
		expect(await connectionCounts(observer)).toEqual(before);
	});
});

describe('Redis connection failures', () => {
	it('fails fast naming host:port when nothing listens', async () => {
		const port = await freePort();
		const { error, ms } = await timed(RedisMemoryBackend.connect({ host: '127.0.0.1', port, connectTimeoutMs: 1000 }));
		expect(error).toBeInstanceOf(MemoryConnectionError);
		expect(error.message).toBe(
			`Could not connect to Redis at 127.0.0.1:${port}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`,
		);
		expect(ms).toBeLessThan(1000);
	});

	// The message promises a time: the failure must come then, not a second later (as it once did).
	const CONNECT_TIMEOUT_MS = 1000;
	const TIMER_MARGIN_MS = 250;

	it('gives up when the connect timeout ends, when the server accepts but never answers', async () => {
		const sockets: net.Socket[] = [];
		const silent = net.createServer((socket) => sockets.push(socket));
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const { port } = silent.address() as net.AddressInfo;
		try {
			const { error, ms } = await timed(createRedisClient({ host: '127.0.0.1', port, connectTimeoutMs: CONNECT_TIMEOUT_MS }));
			expect(error.message).toBe(
				`Could not connect to Redis at 127.0.0.1:${port}: no answer within ${CONNECT_TIMEOUT_MS} ms. Check host, port, firewall and TLS settings`,
			);
			expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 5);
			expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + TIMER_MARGIN_MS);
		} finally {
			sockets.forEach((socket) => socket.destroy());
			silent.close();
		}
	});

	it('gives up when the connect timeout ends, when the address never answers the TCP handshake', async () => {
		// TEST-NET-1 (RFC 5737) is never routed: packets vanish, or the network says at once that it cannot reach it.
		const { error, ms } = await timed(RedisMemoryBackend.connect({ host: '192.0.2.1', port: 6379, connectTimeoutMs: CONNECT_TIMEOUT_MS }));
		expect(error).toBeInstanceOf(MemoryConnectionError);
		expect(error.message).toMatch(/^Could not (connect to|use) Redis at 192\.0\.2\.1:6379: /);
		expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + TIMER_MARGIN_MS);
	});

	describe('against a password-protected server', () => {
		const password = 'correct-horse-battery';
		let server: RedisServerProcess;
		beforeAll(async () => {
			server = await startRedisServer(['--requirepass', password]);
		});
		afterAll(() => server.stop());

		it('says the password was rejected, without echoing it', async () => {
			const wrong = 'wrong-password-1234';
			for (const config of [
				{ host: '127.0.0.1', port: server.port, password: wrong },
				{ url: `redis://:${wrong}@127.0.0.1:${server.port}` },
			] satisfies RedisConnectionConfig[]) {
				const { error, ms } = await timed(RedisMemoryBackend.connect({ ...config, connectTimeoutMs: 2000 }));
				expect(error).toBeInstanceOf(MemoryConnectionError);
				expect(error.message).toMatch(`Redis at 127.0.0.1:${server.port} rejected the username or password (WRONGPASS`);
				expect(error.message).not.toContain(wrong);
				expect(ms).toBeLessThan(2000);
			}
		});

		it('says a password is required when none is given', async () => {
			const { error } = await timed(RedisMemoryBackend.connect({ host: '127.0.0.1', port: server.port }));
			expect(error.message).toBe(
				`Redis at 127.0.0.1:${server.port} requires a password and none was given. Set it in the Symbiotic Redis credential`,
			);
		});

		it('works with the right password', async () => {
			const memory = await RedisMemoryBackend.connect({ host: '127.0.0.1', port: server.port, password });
			try {
				await memory.appendMessages({ namespace: 'auth', sessionId: 'ok' }, [{ role: 'user', content: 'authenticated' }]);
				expect((await memory.getHistory({ namespace: 'auth', sessionId: 'ok' })).transcript).toBe('User: authenticated');
			} finally {
				await memory.close();
			}
		});
	});

	it('fails a call with host:port when the server dies, and stops reconnecting', async () => {
		const server = await startRedisServer();
		const client = await createRedisClient({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 500 });
		const memory = new RedisMemoryBackend(client, { endpoint: `127.0.0.1:${server.port}`, connectTimeoutMs: 500 });
		const session = { namespace: 'outage', sessionId: 's' };
		await memory.appendMessages(session, [{ role: 'user', content: 'before' }]);
		await server.stop();

		const { error, ms } = await timed(memory.appendMessages(session, [{ role: 'user', content: 'after' }]));
		expect(error).toBeInstanceOf(MemoryConnectionError);
		expect(error.message).toMatch(`Redis at 127.0.0.1:${server.port}`);
		expect(ms).toBeLessThan(5000);
		const deadline = Date.now() + 5000;
		while (client.status !== 'end' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
		expect(client.status).toBe('end');
	});

	it('fails a call naming host:port when the server stops answering', async () => {
		const server = await startRedisServer();
		const memory = await RedisMemoryBackend.connect({ host: '127.0.0.1', port: server.port, commandTimeoutMs: 500 });
		try {
			server.pause(true);
			const { error, ms } = await timed(memory.getFacts({ namespace: 'frozen', sessionId: 's' }));
			expect(error.message).toBe(
				`Redis at 127.0.0.1:${server.port} did not answer in time (Command timed out). Check that it is not overloaded, paused or blocked`,
			);
			expect(ms).toBeGreaterThanOrEqual(450);
			expect(ms).toBeLessThan(2000);
		} finally {
			server.pause(false);
			await memory.close();
			await server.stop();
		}
	});
});
