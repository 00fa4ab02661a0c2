/** Connection settings: URL and credential parsing, and a real Sentinel group in front of a real server. */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEndpoints, RedisMemoryBackend } from '../../lib/memory';
import { describeEndpoint, toRedisOptions } from '../../lib/memory/redisConnection';
import { InputError } from '../../lib/types';
import { freePort, startRedisServer } from './redisServer';
import type { RedisServerProcess } from './redisServer';

describe('connection settings', () => {
	it('reads host, port, user, password, database and TLS from a URL; explicit fields win', () => {
		expect(toRedisOptions({ url: 'rediss://app:p%40ss@redis.example.com:6380/4' })).toMatchObject({
			host: 'redis.example.com',
			port: 6380,
			username: 'app',
			password: 'p@ss',
			db: 4,
			tls: { rejectUnauthorized: true },
		});
		expect(toRedisOptions({ url: 'redis://redis.example.com/4', db: 1, password: 'other' })).toMatchObject({ db: 1, password: 'other', tls: undefined });
		expect(describeEndpoint({ url: 'redis://user:secret@redis.example.com' })).toBe('redis.example.com:6379');
	});

	it('refuses a URL of another scheme without echoing it', () => {
		expect(() => toRedisOptions({ url: 'http://user:secret@host' })).toThrow('The Redis URL must start with redis:// or rediss:// (TLS), not http://');
		expect(() => toRedisOptions({ url: 'not a url secret' })).toThrow(/^The Redis URL is not valid: use redis:\/\/host:port\/db/);
	});

	it('parses host:port lists, with default ports and bracketed IPv6', () => {
		expect(parseEndpoints('a:7000, b [::1]:7001', 6379, 'Cluster Nodes')).toEqual([
			{ host: 'a', port: 7000 },
			{ host: 'b', port: 6379 },
			{ host: '::1', port: 7001 },
		]);
		expect(() => parseEndpoints(' ', 26379, 'Sentinels')).toThrow('Sentinels is empty: give at least one host:port');
		expect(() => parseEndpoints('a:99999', 6379, 'Cluster Nodes')).toThrow('"a:99999" is not host:port');
	});

	it('does not show the password of an entry typed with user:password@', () => {
		expect(() => parseEndpoints('default:hunter2-pw@redis-1:6379', 6379, 'Cluster Nodes')).toThrow(
			new InputError('Cluster Nodes: "***@redis-1:6379" is not host:port (for example redis-1:6379)', 'Cluster Nodes'),
		);
	});
});

describe('through Redis Sentinel', () => {
	let master: RedisServerProcess;
	let sentinel: RedisServerProcess;
	beforeAll(async () => {
		master = await startRedisServer();
		const dir = mkdtempSync(path.join(tmpdir(), 'symbiotic-sentinel-'));
		const config = path.join(dir, 'sentinel.conf');
		writeFileSync(config, `sentinel monitor testmaster 127.0.0.1 ${master.port} 1\n`);
		sentinel = await startRedisServer(['--sentinel'], config);
	});
	afterAll(async () => {
		await sentinel?.stop();
		await master?.stop();
	});

	it('finds the master through the sentinel and stores there', async () => {
		const memory = await RedisMemoryBackend.connect({
			sentinel: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], masterName: 'testmaster' },
		});
		try {
			await memory.appendMessages({ namespace: 'sentinel', sessionId: 's' }, [{ role: 'user', content: 'via sentinel' }]);
			expect((await memory.getHistory({ namespace: 'sentinel', sessionId: 's' })).transcript).toBe('User: via sentinel');
		} finally {
			await memory.close();
		}
	});

	it('names the sentinels when the master name is unknown', async () => {
		await expect(
			RedisMemoryBackend.connect({
				sentinel: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], masterName: 'nosuchmaster' },
				connectTimeoutMs: 1000,
			}),
		).rejects.toThrow(`Redis at sentinel 127.0.0.1:${sentinel.port} (master "nosuchmaster")`);
	});

	it('names the sentinels when none answers', async () => {
		const port = await freePort();
		await expect(
			RedisMemoryBackend.connect({ sentinel: { sentinels: [{ host: '127.0.0.1', port }], masterName: 'testmaster' }, connectTimeoutMs: 1000 }),
		).rejects.toThrow(`Redis at sentinel 127.0.0.1:${port} (master "testmaster")`);
	});
});
