/**
 * Memory Store append benchmark: our one-round-trip script vs the command sequence of LangChain's
 * RedisChatMessageHistory (@langchain/community, ioredis flavour), same Redis, same run.
 *
 * LangChain's addMessage is `await lpush(sessionId, message)` then, with a session TTL, `await expire(...)`;
 * addMessages (BaseListChatMessageHistory) awaits addMessage once per message. It never trims, so a second
 * variant adds the `await ltrim(...)` a caller needs for the same retention as ours (max messages).
 *
 * One "append" = one conversation turn (user + assistant message), what a chat workflow writes per run.
 * Round trips are counted, not assumed: a MONITOR connection records every command the writer's socket
 * sends. Throughput (median of 5 interleaved rounds) is measured twice: straight to Redis, and through a local proxy adding 0.5 ms each way
 * (Redis on another machine in the same data centre).
 *
 *   npx tsx bench/memoryAppend.ts   (REDIS_URL defaults to redis://127.0.0.1:6379)
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { RedisMemoryBackend } from '../lib/memory';
import type { MessageInput } from '../lib/memory';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `symbiotic-bench-${process.pid}`;
const TTL_SECONDS = 30 * 24 * 3600;
const MAX_MESSAGES = 100;
const NAMESPACE = 'bench';
const CONCURRENT_SESSIONS = 50;
const ROUNDS = 5;

interface Appender {
	name: string;
	/** The writer's own connection, whose commands MONITOR counts. */
	client: Redis;
	appendTurn(sessionId: string, turn: MessageInput[]): Promise<void>;
}

function turn(i: number): MessageInput[] {
	return [
		{ role: 'user', content: `Question ${i}: do you deliver to Bergen, and what does express shipping cost?` },
		{ role: 'assistant', content: `Answer ${i}: yes, standard delivery takes 3 days; express is 9 EUR and arrives next day.` },
	];
}

/** LangChain's stored form: { type, data: { content, role, ... } } as JSON. */
function langchainStored(message: MessageInput): string {
	const type = message.role === 'user' ? 'human' : 'ai';
	return JSON.stringify({ type, data: { content: message.content, role: undefined, name: undefined, tool_call_id: undefined } });
}

function langchainAppender(client: Redis, withTrim: boolean): Appender {
	return {
		name: withTrim ? 'LangChain-style + LTRIM' : 'LangChain-style',
		client,
		async appendTurn(sessionId, messages) {
			const key = `${PREFIX}:langchain:${withTrim ? 'trim:' : ''}${sessionId}`;
			for (const message of messages) {
				await client.lpush(key, langchainStored(message));
				await client.expire(key, TTL_SECONDS);
				if (withTrim) await client.ltrim(key, 0, MAX_MESSAGES - 1);
			}
		},
	};
}

async function oursAppender(url: string): Promise<{ appender: Appender; close: () => Promise<void> }> {
	const client = new Redis(url);
	const memory = new RedisMemoryBackend(client, {
		keyPrefix: PREFIX,
		retention: { ttlMs: TTL_SECONDS * 1000, maxMessages: MAX_MESSAGES },
	});
	return {
		appender: {
			name: 'Symbiotic Memory Store',
			client,
			appendTurn: async (sessionId, messages) => {
				await memory.appendMessages({ namespace: NAMESPACE, sessionId }, messages);
			},
		},
		close: () => memory.close(),
	};
}

async function countRoundTrips(appender: Appender, turns: number): Promise<number> {
	await appender.appendTurn('warm-up', turn(0)); // first script call on a socket loads it (EVAL)
	const observer = new Redis(REDIS_URL);
	const monitor = await observer.monitor(); // a dedicated connection duplicated from `observer`
	const local = `127.0.0.1:${appender.client.stream.localPort}`;
	let commands = 0;
	let sawMarker = false;
	monitor.on('monitor', (_time: string, args: string[], source: string) => {
		if (source !== local) return;
		if (args[0].toLowerCase() === 'echo' && args[1] === 'bench-end') sawMarker = true;
		else commands++;
	});
	for (let i = 0; i < turns; i++) await appender.appendTurn('counted', turn(i));
	await appender.client.echo('bench-end');
	while (!sawMarker) await new Promise((resolve) => setTimeout(resolve, 5));
	monitor.disconnect();
	observer.disconnect();
	return commands / turns;
}

/** Sequential turns per second on one session: the latency a single workflow execution sees. */
async function sequentialRate(appender: Appender, turns: number): Promise<number> {
	const started = performance.now();
	for (let i = 0; i < turns; i++) await appender.appendTurn('sequential', turn(i));
	return turns / ((performance.now() - started) / 1000);
}

/** Turns per second with `sessions` conversations written concurrently over one connection. */
async function concurrentRate(appender: Appender, sessions: number, turnsEach: number): Promise<number> {
	const started = performance.now();
	await Promise.all(
		Array.from({ length: sessions }, async (_, s) => {
			for (let i = 0; i < turnsEach; i++) await appender.appendTurn(`concurrent-${s}`, turn(i));
		}),
	);
	return (sessions * turnsEach) / ((performance.now() - started) / 1000);
}

/** A TCP proxy to Redis that delays every chunk by `delayMs` in each direction. */
async function startDelayProxy(target: URL, delayMs: number): Promise<{ url: string; close: () => void }> {
	const sockets = new Set<net.Socket>();
	const relay = (from: net.Socket, to: net.Socket) =>
		from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
	const server = net.createServer((client) => {
		const upstream = net.connect(Number(target.port || 6379), target.hostname);
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('error', () => undefined);
			socket.on('close', () => (client.destroy(), upstream.destroy()));
		}
		relay(client, upstream);
		relay(upstream, client);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	const proxied = new URL(target.toString());
	proxied.hostname = '127.0.0.1';
	proxied.port = String(port);
	return { url: proxied.toString(), close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

interface Row {
	name: string;
	roundTrips: number;
	sequential: number;
	concurrent: number;
}

/**
 * Runs every writer against `url`. Round trips are counted on the direct connection only: behind the proxy
 * MONITOR would see the proxy's socket, and the command sequence does not depend on the route anyway.
 */
async function measure(url: string, sequentialTurns: number, turnsEach: number, roundTrips?: number[]): Promise<Row[]> {
	const ours = await oursAppender(url);
	const langchainClient = new Redis(url);
	const appenders = [ours.appender, langchainAppender(langchainClient, false), langchainAppender(langchainClient, true)];
	const roundTripsPerAppend = roundTrips ?? [];
	if (!roundTrips) for (const appender of appenders) roundTripsPerAppend.push(await countRoundTrips(appender, 50));
	// Rounds interleave the writers so drift on a shared machine hits all of them; the median is reported.
	const samples = appenders.map(() => ({ sequential: [] as number[], concurrent: [] as number[] }));
	for (let round = 0; round < ROUNDS; round++) {
		for (const [index, appender] of appenders.entries()) {
			samples[index].sequential.push(await sequentialRate(appender, sequentialTurns));
			samples[index].concurrent.push(await concurrentRate(appender, CONCURRENT_SESSIONS, turnsEach));
		}
	}
	const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
	const rows: Row[] = appenders.map((appender, index) => ({
		name: appender.name,
		roundTrips: roundTripsPerAppend[index],
		sequential: median(samples[index].sequential),
		concurrent: median(samples[index].concurrent),
	}));
	await ours.close();
	langchainClient.disconnect();
	return rows;
}

function report(label: string, rows: Row[]): void {
	console.log(`\n## ${label}`);
	console.log(`| writer | Redis round trips per append (turn of 2 messages) | sequential appends/s | concurrent appends/s (${CONCURRENT_SESSIONS} sessions) |`);
	console.log('|---|---:|---:|---:|');
	for (const row of rows) {
		console.log(`| ${row.name} | ${row.roundTrips.toFixed(2)} | ${row.sequential.toFixed(0)} | ${row.concurrent.toFixed(0)} |`);
	}
	const [mine, ...others] = rows;
	for (const other of others) {
		console.log(
			`ours vs ${other.name}: ${(other.roundTrips / mine.roundTrips).toFixed(1)}x fewer round trips, ` +
				`${(mine.sequential / other.sequential).toFixed(2)}x sequential throughput, ` +
				`${(mine.concurrent / other.concurrent).toFixed(2)}x concurrent throughput`,
		);
	}
}

async function cleanUp(): Promise<void> {
	const admin = new Redis(REDIS_URL);
	const keys: string[] = [];
	for await (const batch of admin.scanStream({ match: `${PREFIX}*`, count: 1000 })) keys.push(...(batch as string[]));
	if (keys.length) await admin.del(...keys);
	admin.disconnect();
}

async function main(): Promise<void> {
	console.log(`Memory append benchmark against ${new URL(REDIS_URL).host}, Node ${process.version}`);
	try {
		const direct = await measure(REDIS_URL, 2000, 40);
		report('Direct (Redis on the same host)', direct);
		const proxy = await startDelayProxy(new URL(REDIS_URL), 0.5);
		try {
			const delayed = await measure(proxy.url, 200, 10, direct.map((row) => row.roundTrips));
			report('Through a proxy adding 0.5 ms each way (~1 ms round trip)', delayed);
		} finally {
			proxy.close();
		}
	} finally {
		await cleanUp();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
