/** Starts throw-away redis-server processes on free local ports, for tests that need a server of their own. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServerProcess {
	port: number;
	/** Freezes (SIGSTOP) or resumes (SIGCONT) the server: connections stay open, answers stop. */
	pause(paused: boolean): void;
	stop(): Promise<void>;
}

/** A port that was free a moment ago (bound, then released). */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

async function waitUntilListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
		const connected = await new Promise<boolean>((resolve) => {
			const socket = net.connect(port, '127.0.0.1');
			socket.once('connect', () => (socket.destroy(), resolve(true)));
			socket.once('error', () => resolve(false));
		});
		if (connected) return;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	throw new Error(`redis-server did not listen on port ${port} within ${timeoutMs} ms`);
}

/** `configFile`, when given, must come first on redis-server's command line (Sentinel needs one). */
export async function startRedisServer(extraArgs: string[] = [], configFile?: string): Promise<RedisServerProcess> {
	const port = await freePort();
	const dir = mkdtempSync(path.join(tmpdir(), 'symbiotic-redis-'));
	const child = spawn(
		'redis-server',
		[...(configFile ? [configFile] : []), '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, ...extraArgs],
		{ stdio: 'ignore' },
	);
	await waitUntilListening(port, child, 5000);
	return {
		port,
		pause: (paused) => child.kill(paused ? 'SIGSTOP' : 'SIGCONT'),
		stop: async () => {
			if (child.exitCode === null) {
				const exited = new Promise((resolve) => child.once('exit', resolve));
				child.kill('SIGKILL');
				await exited;
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

export interface RestartableRedisServer {
	port: number;
	/** Starts the server (again) on the same port and data folder. */
	up(): Promise<void>;
	/** SIGKILL: no shutdown, no final save, as a crash or the OOM killer. */
	kill(): Promise<void>;
	stop(): Promise<void>;
}

/** A redis-server with the durability a production memory needs (append-only file, fsync on every write). */
export async function startRestartableRedis(): Promise<RestartableRedisServer> {
	const port = await freePort();
	const dir = mkdtempSync(path.join(tmpdir(), 'symbiotic-redis-restart-'));
	let child: ChildProcess | undefined;
	const server: RestartableRedisServer = {
		port,
		up: async () => {
			child = spawn(
				'redis-server',
				['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
				{ stdio: 'ignore' },
			);
			await waitUntilListening(port, child, 10_000);
		},
		kill: async () => {
			const running = child;
			if (!running || running.exitCode !== null || running.signalCode !== null) return;
			const exited = new Promise((resolve) => running.once('exit', resolve));
			running.kill('SIGKILL');
			await exited;
		},
		stop: async () => {
			await server.kill();
			rmSync(dir, { recursive: true, force: true });
		},
	};
	await server.up();
	return server;
}

/** What a server says about its clients (INFO): connections open now, and connections ever accepted. */
export async function connectionCounts(client: Redis): Promise<{ connected: number; accepted: number }> {
	const info = await client.info();
	const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
	return { connected: field('connected_clients'), accepted: field('total_connections_received') };
}

/** The machine's Redis, which the tests share. */
export const LOCAL_REDIS = { host: '127.0.0.1', port: 6379 };

/**
 * A key prefix of its own on the machine's Redis for the calling test file (or describe block), and a client to
 * look at its keys; both are cleaned up after its tests.
 */
export function useLocalRedisPrefix(name: string): { prefix: string; admin: Redis } {
	const prefix = `symbiotic-${name}-${process.pid}-${Date.now()}`;
	const admin = new Redis(LOCAL_REDIS);
	afterAll(async () => {
		const keys: string[] = [];
		for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
		if (keys.length) await admin.del(...keys);
		await admin.quit();
	});
	return { prefix, admin };
}
