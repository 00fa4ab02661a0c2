/**
 * Opening a Redis connection (single server, Sentinel or Cluster) that fails fast and says why.
 *
 * ioredis, left to its defaults, retries a dead server forever and queues commands meanwhile, which in an n8n
 * execution looks like a hang. Here the first connection either becomes ready within the connect timeout or
 * fails with host:port and the cause; later drops are retried a few times only.
 */
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { redactSecrets } from '../redact';
import { InputError } from '../types';
import { MemoryConnectionError } from './types';

export type RedisClient = Redis | Cluster;

export interface RedisEndpoint {
	host: string;
	port: number;
}

export interface RedisConnectionConfig {
	/** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). Other fields override its parts. */
	url?: string;
	host?: string;
	port?: number;
	username?: string;
	password?: string;
	db?: number;
	tls?: boolean;
	/** Accept self-signed server certificates (TLS only). */
	allowSelfSigned?: boolean;
	/** Whole connect, handshake and ready check included: the first connection fails after this long. Default 5000. */
	connectTimeoutMs?: number;
	/** A command without an answer in this time fails. Default 10000. */
	commandTimeoutMs?: number;
	/** Connect through Sentinel: `host`/`port` are then ignored. */
	sentinel?: { sentinels: RedisEndpoint[]; masterName: string; sentinelUsername?: string; sentinelPassword?: string };
	/** Connect to a Cluster through these startup nodes. */
	cluster?: { nodes: RedisEndpoint[] };
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10000;
const MAX_RECONNECTS = 3;

/** Backoff for reconnecting after an established connection drops; `null` gives up. */
function boundedRetry(attempt: number): number | null {
	return attempt > MAX_RECONNECTS ? null : Math.min(attempt * 200, 1000);
}

/**
 * Parses `host:port, host:port` (as typed in a credential) into endpoints; `field` names the setting in errors.
 * IPv6 hosts go in brackets: `[::1]:6379`.
 */
export function parseEndpoints(list: string, defaultPort: number, field: string): RedisEndpoint[] {
	const entries = list
		.split(/[\s,]+/)
		.map((entry) => entry.trim())
		.filter(Boolean);
	if (entries.length === 0) throw new InputError(`${field} is empty: give at least one host:port`, field);
	return entries.map((entry) => {
		const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry);
		const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
		if (!match || port < 1 || port > 65535) {
			// An entry typed as user:password@host:port must not show its password.
			const shown = entry.replace(/^.*@/s, '***@');
			throw new InputError(`${field}: "${shown}" is not host:port (for example redis-1:6379)`, field);
		}
		return { host: match[1] ?? match[2], port };
	});
}

/** Where the connection goes, for messages: `host:port`, the sentinels, or the cluster's startup nodes. */
export function describeEndpoint(config: RedisConnectionConfig): string {
	const list = (endpoints: RedisEndpoint[]) => endpoints.map((e) => `${e.host}:${e.port}`).join(', ');
	if (config.cluster) return `cluster ${list(config.cluster.nodes)}`;
	if (config.sentinel) return `sentinel ${list(config.sentinel.sentinels)} (master "${config.sentinel.masterName}")`;
	const fromUrl = config.url ? parseRedisUrl(config.url) : {};
	return `${config.host ?? fromUrl.host ?? '127.0.0.1'}:${config.port ?? fromUrl.port ?? 6379}`;
}

function parseRedisUrl(url: string): RedisOptions {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		// The URL may carry a password: never echo it.
		throw new MemoryConnectionError('The Redis URL is not valid: use redis://host:port/db or rediss://… for TLS', 'url');
	}
	if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
		throw new MemoryConnectionError(
			`The Redis URL must start with redis:// or rediss:// (TLS), not ${parsed.protocol}//`,
			parsed.host,
		);
	}
	const db = parsed.pathname.replace(/^\//, '');
	return {
		host: parsed.hostname || undefined,
		port: parsed.port ? Number(parsed.port) : undefined,
		username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
		password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
		db: db ? Number(db) : undefined,
		tls: parsed.protocol === 'rediss:' ? {} : undefined,
	};
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** ioredis options for one server connection (also used for each cluster node). */
export function toRedisOptions(config: RedisConnectionConfig): RedisOptions {
	const fromUrl = config.url ? parseRedisUrl(config.url) : {};
	const useTls = config.tls ?? fromUrl.tls !== undefined;
	return {
		...withoutUndefined(fromUrl),
		...withoutUndefined({
			host: config.host,
			port: config.port,
			username: config.username,
			password: config.password,
			db: config.db,
		}),
		tls: useTls ? { rejectUnauthorized: !config.allowSelfSigned } : undefined,
		connectTimeout: config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
		maxRetriesPerRequest: 1,
		retryStrategy: boundedRetry,
		// After a failed connect the socket is already gone, yet ioredis arms this timer anyway (default 2 s)
		// and it keeps the process alive; half a second still lets a live socket flush before it is destroyed.
		disconnectTimeout: 500,
		...(config.sentinel && {
			sentinels: config.sentinel.sentinels,
			name: config.sentinel.masterName,
			sentinelUsername: config.sentinel.sentinelUsername,
			sentinelPassword: config.sentinel.sentinelPassword,
			sentinelRetryStrategy: boundedRetry,
		}),
	};
}

/** The passwords a client was given, which its failures must never show. */
export function redisPasswords(client: RedisClient): Array<string | undefined> {
	const options = client instanceof Cluster ? client.options.redisOptions : client.options;
	return [options?.password, options?.sentinelPassword];
}

/**
 * Turns a low-level failure into a sentence naming the endpoint, the cause and what to do, without `passwords`
 * (Redis and Node never echo them; this is a safety net).
 */
export function explainRedisFailure(
	error: Error & { code?: string },
	endpoint: string,
	connectTimeoutMs: number,
	passwords: Array<string | undefined>,
): string {
	return redactSecrets(wordRedisFailure(error, endpoint, connectTimeoutMs), passwords);
}

function wordRedisFailure(error: Error & { code?: string }, endpoint: string, connectTimeoutMs: number): string {
	const cause = error.message;
	const code = error.code ?? /\b(E[A-Z]+)\b/.exec(cause)?.[1];
	if (/WRONGPASS|invalid password|invalid username-password/i.test(cause)) {
		return `Redis at ${endpoint} rejected the username or password (${cause.split('.')[0]}). Check them in the Symbiotic Redis credential`;
	}
	if (/NOAUTH/i.test(cause)) {
		return `Redis at ${endpoint} requires a password and none was given. Set it in the Symbiotic Redis credential`;
	}
	if (code === 'ECONNREFUSED') {
		return `Could not connect to Redis at ${endpoint}: connection refused (ECONNREFUSED). Check host and port, and that Redis is running`;
	}
	if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
		return `Could not connect to Redis at ${endpoint}: the host name was not found (${code}). Check the host`;
	}
	if (/Command timed out/i.test(cause)) {
		return `Redis at ${endpoint} did not answer in time (${cause}). Check that it is not overloaded, paused or blocked`;
	}
	if (code === 'ETIMEDOUT' || /timed? ?out/i.test(cause)) {
		return `Could not connect to Redis at ${endpoint}: no answer within ${connectTimeoutMs} ms. Check host, port, firewall and TLS settings`;
	}
	if (/Connection is closed/i.test(cause)) {
		// What a cluster reports when no startup node answers: ioredis keeps the socket error to itself.
		return `Could not connect to Redis at ${endpoint}: the connection closed before Redis answered. Check host, port and TLS, and that Redis is running`;
	}
	if (/max retries per request/i.test(cause)) {
		// ioredis gave up on a command whose connection dropped: it may or may not have been applied.
		return `Lost the connection to Redis at ${endpoint} during this command, which may or may not have been saved. Run it again once Redis is reachable`;
	}
	return `Could not use Redis at ${endpoint}: ${cause.replace(/\.+$/, '')}. Check the Symbiotic Redis credential and that Redis is running`;
}

/**
 * Arms the per-command timeout once the connection is ready. Set from the start, it would also time the
 * handshake commands, whose timers ioredis leaves running after a failed connect (keeping the process alive);
 * the connect phase has its own timeout instead.
 */
function enableCommandTimeout(client: RedisClient, commandTimeoutMs: number): void {
	if (client instanceof Cluster) {
		// New nodes (after a failover or resharding) copy redisOptions; the current ones need it set directly.
		client.options.redisOptions = { ...client.options.redisOptions, commandTimeout: commandTimeoutMs };
		for (const node of client.nodes()) node.options.commandTimeout = commandTimeoutMs;
	} else {
		client.options.commandTimeout = commandTimeoutMs;
	}
}

/**
 * Creates a client and waits until it is ready. Fails with a MemoryConnectionError when the connect timeout
 * ends (or sooner, with the cause), and leaves no reconnect loop running behind it.
 */
export async function createRedisClient(config: RedisConnectionConfig): Promise<RedisClient> {
	const endpoint = describeEndpoint(config);
	const options = toRedisOptions(config);
	const connectTimeoutMs = config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
	const client: RedisClient = config.cluster
		? new Cluster(config.cluster.nodes, {
				lazyConnect: true,
				// Node connections must not be lazy themselves: the cluster's connect() would then never finish.
				redisOptions: options,
				clusterRetryStrategy: boundedRetry,
				slotsRefreshTimeout: connectTimeoutMs,
			} satisfies ClusterOptions)
		: new Redis({ ...options, lazyConnect: true });

	// ioredis rejects `connect()` with a bare "Connection is closed."; the real cause arrives as an event, and
	// a cluster reports it per node before a generic summary.
	let cause: (Error & { code?: string }) | undefined;
	const noteCause = (error: Error & { lastNodeError?: Error }) => {
		const specific = error.lastNodeError ?? error;
		if (!cause || !/Connection is closed|Failed to refresh slots cache/i.test(specific.message)) cause = specific;
	};
	client.on('error', noteCause);
	client.on('node error', noteCause);

	// One deadline for the whole way to "ready", at exactly the time the message states. ioredis's own
	// connectTimeout covers only the TCP connect: a server that accepts and never answers meets this timer.
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), connectTimeoutMs);
	});
	try {
		await Promise.race([client.connect(), timeout]);
		enableCommandTimeout(client, config.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
		return client;
	} catch (error) {
		client.disconnect();
		throw new MemoryConnectionError(explainRedisFailure(cause ?? (error as Error), endpoint, connectTimeoutMs, redisPasswords(client)), endpoint);
	} finally {
		clearTimeout(timer);
	}
}
