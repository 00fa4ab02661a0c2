/**
 * The Redis backend in Cluster mode, against a real one-node cluster (a throw-away redis-server with
 * cluster-enabled that owns all 16384 slots). Cluster refuses a script or transaction whose keys live in
 * different slots, so the whole behaviour suite passing here proves the hash-tag key layout.
 */
import { Redis } from 'ioredis';
import { RedisMemoryBackend } from '../../lib/memory';
import type { RedisConnectionConfig } from '../../lib/memory';
import { describeMemoryBehaviour } from './memoryBehaviour';
import { startRedisServer } from './redisServer';
import type { RedisServerProcess } from './redisServer';

let server: RedisServerProcess;
let config: RedisConnectionConfig;

beforeAll(async () => {
	server = await startRedisServer([
		'--cluster-enabled', 'yes',
		'--cluster-config-file', 'nodes.conf',
		// Without it a lone node announces an empty address in CLUSTER SLOTS and clients cannot follow it.
		'--cluster-announce-ip', '127.0.0.1',
	]);
	const node = new Redis({ host: '127.0.0.1', port: server.port });
	try {
		await node.cluster('ADDSLOTSRANGE', 0, 16383);
		const deadline = Date.now() + 10_000;
		while (!/cluster_state:ok/.test(await node.cluster('INFO'))) {
			if (Date.now() > deadline) throw new Error('the one-node test cluster did not become ready');
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		// The guard this suite relies on: keys in different slots are refused.
		await expect(node.eval('return 1', 2, 'session-a', 'session-b')).rejects.toThrow(/CROSSSLOT/);
	} finally {
		node.disconnect();
	}
	config = { cluster: { nodes: [{ host: '127.0.0.1', port: server.port }] } };
});

afterAll(() => server.stop());

describe('RedisMemoryBackend on a Redis Cluster', () => {
	describeMemoryBehaviour(() => ({
		keyPrefix: 'symbiotic-test',
		create: (options) => RedisMemoryBackend.connect(config, { keyPrefix: 'symbiotic-test', ...options }),
	}));

	it('names the cluster nodes when none can be reached', async () => {
		await expect(
			RedisMemoryBackend.connect({ cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] }, connectTimeoutMs: 1000 }),
		).rejects.toThrow(
			'Could not connect to Redis at cluster 127.0.0.1:1: the connection closed before Redis answered. Check host, port and TLS, and that Redis is running',
		);
	});
});
