/**
 * Conversation memory in Redis. Every write is ONE round trip: a Lua script (sent as EVALSHA through ioredis
 * `defineCommand`) appends, trims and refreshes the TTL atomically, so concurrent writers never see or leave a
 * half-applied append, and a slow link costs one latency per append instead of three.
 */
import type { Cluster } from 'ioredis';
import { ReplyError } from 'ioredis';
import { checkNamespace } from '../namespace';
import { InputError } from '../types';
import { buildHistory, messagesToRead, parseStoredMessage, toStoredMessage } from './history';
import {
	checkFactsUpdate,
	checkHistoryOptions,
	checkKeyPrefix,
	checkMessages,
	checkRetention,
	normalizeSession,
} from './input';
import { namespaceScanPattern, sessionIdFromKey, sessionKeys } from './keys';
import {
	createRedisClient,
	DEFAULT_CONNECT_TIMEOUT_MS,
	describeEndpoint,
	explainRedisFailure,
	redisPasswords,
} from './redisConnection';
import type { RedisClient, RedisConnectionConfig } from './redisConnection';
import type {
	AppendResult,
	Facts,
	FactsUpdate,
	FactValue,
	History,
	HistoryOptions,
	ListSessionsOptions,
	MemoryBackend,
	MessageInput,
	RetentionPolicy,
	SessionListing,
	SessionRef,
	SessionTtl,
} from './types';
import { MemoryConnectionError } from './types';

// KEYS[1] = messages list, KEYS[2] = facts hash (same hash slot); ARGV[1] = TTL in ms, 0 = keep forever.
// A session's keys expire together: any write refreshes (or removes) the TTL of both.
const REFRESH_TTL = `
local ttl = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
	if ttl > 0 then redis.call('PEXPIRE', key, ttl) else redis.call('PERSIST', key) end
end`;

// ARGV[2] = max messages (0 = all), ARGV[3..] = messages (JSON). Returns the list length after the trim.
// RPUSH in slices of 1000: Lua's unpack() fails on very long argument lists.
const APPEND_SCRIPT = `
local length = 0
for first = 3, #ARGV, 1000 do
	length = redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
local maxMessages = tonumber(ARGV[2])
if maxMessages > 0 and length > maxMessages then
	redis.call('LTRIM', KEYS[1], -maxMessages, -1)
	length = maxMessages
end
${REFRESH_TTL}
return length`;

// ARGV[2] = n, ARGV[3 .. 2+2n] = field/value pairs to set, the rest = fields to delete. Returns HGETALL.
const SET_FACTS_SCRIPT = `
local setCount = tonumber(ARGV[2])
for i = 3, 2 + 2 * setCount, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = 3 + 2 * setCount, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
${REFRESH_TTL}
return redis.call('HGETALL', KEYS[2])`;

interface MemoryScripts {
	symbioticMemoryAppend(messagesKey: string, factsKey: string, ttlMs: number, maxMessages: number, ...messages: string[]): Promise<number>;
	symbioticMemorySetFacts(messagesKey: string, factsKey: string, ttlMs: number, setCount: number, ...fields: string[]): Promise<string[]>;
}

/** Sessions gathered per SCAN call; a hint to Redis, which may return more or fewer. */
const SCAN_COUNT_HINT = 500;
/** Bounds one List Sessions call on a huge keyspace; the cursor lets the caller continue. */
const MAX_SCAN_CALLS = 100;
const DEFAULT_LIST_LIMIT = 100;

export interface RedisMemoryOptions {
	/** Default `symbiotic`. */
	keyPrefix?: string;
	retention?: Partial<RetentionPolicy>;
	/** For error messages: where the client connects. */
	endpoint?: string;
	connectTimeoutMs?: number;
}

function decodeFacts(flat: string[] | Record<string, string>): Facts {
	const entries = Array.isArray(flat)
		? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as const)
		: Object.entries(flat);
	const facts: Facts = {};
	for (const [name, encoded] of entries) {
		try {
			facts[name] = JSON.parse(encoded) as FactValue;
		} catch {
			facts[name] = encoded; // written by another program: hand back the raw text
		}
	}
	return facts;
}

function scanTargets(client: RedisClient): RedisClient[] {
	if (!('nodes' in client) || typeof (client as Cluster).nodes !== 'function') return [client];
	// A cluster has no global SCAN: every master is scanned in turn, in a stable order so cursors stay valid.
	return (client as Cluster)
		.nodes('master')
		.sort((a, b) => `${a.options.host}:${a.options.port}`.localeCompare(`${b.options.host}:${b.options.port}`));
}

function parseCursor(cursor: string | undefined): [number, string] {
	if (cursor === undefined || cursor === '') return [0, '0'];
	const match = /^(\d+):(\d+)$/.exec(cursor);
	if (!match) {
		throw new InputError(`Cursor "${cursor}" is not one returned by List Sessions: leave it empty to start over`, 'cursor');
	}
	return [Number(match[1]), match[2]];
}

export class RedisMemoryBackend implements MemoryBackend {
	readonly description: string;
	private readonly keyPrefix: string;
	private readonly retention: RetentionPolicy;
	private readonly scripts: RedisClient & MemoryScripts;
	private readonly endpoint: string;
	private readonly connectTimeoutMs: number;

	/** Takes ownership of `client`: `close()` quits it. */
	constructor(
		private readonly client: RedisClient,
		options: RedisMemoryOptions = {},
	) {
		this.keyPrefix = checkKeyPrefix(options.keyPrefix);
		this.retention = checkRetention(options.retention);
		this.endpoint = options.endpoint ?? 'the configured Redis';
		this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
		this.description = `redis ${this.endpoint}`;
		client.defineCommand('symbioticMemoryAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
		client.defineCommand('symbioticMemorySetFacts', { numberOfKeys: 2, lua: SET_FACTS_SCRIPT });
		this.scripts = client as RedisClient & MemoryScripts;
	}

	/**
	 * Checks the settings, then connects (failing fast with a clear MemoryConnectionError) and returns a ready
	 * backend. Settings come first: a connection opened for settings that then fail would never be closed.
	 */
	static async connect(config: RedisConnectionConfig, options: Omit<RedisMemoryOptions, 'endpoint' | 'connectTimeoutMs'> = {}) {
		const settings = { keyPrefix: checkKeyPrefix(options.keyPrefix), retention: checkRetention(options.retention) };
		const client = await createRedisClient(config);
		return new RedisMemoryBackend(client, {
			...settings,
			endpoint: describeEndpoint(config),
			connectTimeoutMs: config.connectTimeoutMs,
		});
	}

	async appendMessages(session: SessionRef, messages: MessageInput[]): Promise<AppendResult> {
		const keys = this.keysOf(session);
		checkMessages(messages);
		const now = new Date();
		const encoded = messages.map((message) => JSON.stringify(toStoredMessage(message, now)));
		const storedMessages = await this.run(() =>
			this.scripts.symbioticMemoryAppend(keys.messages, keys.facts, this.retention.ttlMs, this.retention.maxMessages, ...encoded),
		);
		return { storedMessages };
	}

	async getHistory(session: SessionRef, options: HistoryOptions = {}): Promise<History> {
		const keys = this.keysOf(session);
		checkHistoryOptions(options);
		const toRead = messagesToRead(options);
		// One snapshot: length and tail from the same moment, even while others append.
		const [total, tail] = (await this.run(async () =>
			this.unwrapTransaction(
				await this.client
					.multi()
					.llen(keys.messages)
					.lrange(keys.messages, toRead === undefined ? 0 : -toRead, -1)
					.exec(),
			),
		)) as [number, string[]];
		return buildHistory(tail.map(parseStoredMessage), total, options);
	}

	async setFacts(session: SessionRef, update: FactsUpdate): Promise<Facts> {
		const keys = this.keysOf(session);
		checkFactsUpdate(update);
		const entries = Object.entries(update);
		const toSet = entries.filter(([, value]) => value !== null).flatMap(([name, value]) => [name, JSON.stringify(value)]);
		const toDelete = entries.filter(([, value]) => value === null).map(([name]) => name);
		const flat = await this.run(() =>
			this.scripts.symbioticMemorySetFacts(keys.messages, keys.facts, this.retention.ttlMs, toSet.length / 2, ...toSet, ...toDelete),
		);
		return decodeFacts(flat);
	}

	async getFacts(session: SessionRef): Promise<Facts> {
		const keys = this.keysOf(session);
		return decodeFacts(await this.run(() => this.client.hgetall(keys.facts)));
	}

	async clearSession(session: SessionRef): Promise<boolean> {
		const keys = this.keysOf(session);
		return (await this.run(() => this.client.del(keys.messages, keys.facts))) > 0;
	}

	async clearMessages(session: SessionRef): Promise<boolean> {
		const keys = this.keysOf(session);
		return (await this.run(() => this.client.del(keys.messages))) > 0;
	}

	async getTtl(session: SessionRef): Promise<SessionTtl> {
		const keys = this.keysOf(session);
		const pttls = (await this.run(async () =>
			this.unwrapTransaction(await this.client.multi().pttl(keys.messages).pttl(keys.facts).exec()),
		)) as number[];
		// PTTL: -2 = no such key, -1 = no expiry.
		const ttls = pttls.filter((ttl) => ttl !== -2);
		if (ttls.length === 0) return { exists: false, expiresInMs: null };
		return { exists: true, expiresInMs: ttls.includes(-1) ? null : Math.max(...ttls) };
	}

	async listSessions(options: ListSessionsOptions): Promise<SessionListing> {
		const namespace = checkNamespace(options.namespace);
		const limit = options.limit ?? DEFAULT_LIST_LIMIT;
		if (!Number.isInteger(limit) || limit < 1) {
			throw new InputError(`Limit must be a whole number of at least 1, got ${limit}`, 'limit');
		}
		let [targetIndex, scanCursor] = parseCursor(options.cursor);
		const pattern = namespaceScanPattern(this.keyPrefix, namespace);
		const targets = scanTargets(this.client);
		// A session has up to two keys, so it may show up twice; Redis SCAN may also repeat keys across calls.
		const sessionIds = new Set<string>();
		for (let calls = 0; calls < MAX_SCAN_CALLS && sessionIds.size < limit && targetIndex < targets.length; calls++) {
			const [next, keys] = await this.run(() =>
				targets[targetIndex].scan(scanCursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT_HINT),
			);
			for (const key of keys) {
				const sessionId = sessionIdFromKey(this.keyPrefix, namespace, key);
				if (sessionId !== undefined) sessionIds.add(sessionId);
			}
			if (next === '0') {
				targetIndex++;
				scanCursor = '0';
			} else {
				scanCursor = next;
			}
		}
		return {
			sessionIds: [...sessionIds],
			nextCursor: targetIndex >= targets.length ? null : `${targetIndex}:${scanCursor}`,
		};
	}

	async close(): Promise<void> {
		try {
			await this.client.quit();
		} catch {
			this.client.disconnect(); // already closed or unreachable: nothing left to flush
		}
	}

	private keysOf(session: SessionRef) {
		return sessionKeys(this.keyPrefix, normalizeSession(session));
	}

	private unwrapTransaction(results: [Error | null, unknown][] | null): unknown[] {
		if (!results) throw new Error(`Redis at ${this.endpoint} aborted the read; try again`);
		return results.map(([error, value]) => {
			if (error) throw error;
			return value;
		});
	}

	/** Runs one Redis call, turning transport failures into a MemoryConnectionError naming the endpoint. */
	private async run<T>(call: () => Promise<T>): Promise<T> {
		try {
			return await call();
		} catch (error) {
			if (error instanceof ReplyError) {
				throw new Error(
					`Redis at ${this.endpoint} refused the command: ${error.message}. If another program uses these keys, choose another key prefix`,
				);
			}
			if (error instanceof InputError) throw error;
			throw new MemoryConnectionError(
				explainRedisFailure(error as Error, this.endpoint, this.connectTimeoutMs, redisPasswords(this.client)),
				this.endpoint,
			);
		}
	}
}
