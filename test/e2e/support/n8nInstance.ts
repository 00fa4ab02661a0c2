/**
 * A real n8n 2.41.1 for end-to-end tests, with this pack installed as a community package
 * (`npm pack` + `npm install <tgz>` in `.n8n/nodes`), exactly as users get it.
 * SYMBIOTIC_N8N_VERSION picks another n8n (an exact version, or `newest` for the newest stable 2.x in
 * the registry; see scripts/n8n-runtime.sh); globalSetup logs the version that runs.
 *
 * `startN8n()` runs n8n from the runtime cache (scripts/n8n-runtime.sh) in a fresh temp user folder,
 * on free ports, logs in as the env-managed owner and returns a handle for REST and webhook calls.
 * Queue mode adds a fresh PostgreSQL database, a unique Bull prefix in the local Redis and one
 * `n8n worker`. Every process runs in its own process group so `stop()` leaves nothing behind.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const execFileAsync = promisify(execFile);

const repoDir = path.resolve(__dirname, '../../..');
const cacheDir = process.env.SYMBIOTIC_CACHE ?? path.join(process.env.HOME ?? tmpdir(), '.cache/n8n-symbiotic');
/**
 * One install of the packed pack shared by every instance of a run; each user folder links to it.
 * It does not depend on the n8n version. SYMBIOTIC_E2E_NODES_DIR gives a run its own (e.g. a second
 * checkout testing other code while this one runs: a shared folder would swap the pack under it).
 */
const sharedNodesDir = process.env.SYMBIOTIC_E2E_NODES_DIR ?? path.join(cacheDir, 'e2e-nodes');
/** Set by globalSetup once it has built the pack, so each test file only re-packs. */
export const PACK_BUILT_ENV = 'SYMBIOTIC_E2E_PACK_BUILT';
/** The n8n version to run (scripts/n8n-runtime.sh): unset = pinned, an exact version, or `newest`. */
export const N8N_VERSION_ENV = 'SYMBIOTIC_N8N_VERSION';

const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;
const POSTGRES_HOST = '127.0.0.1';
const POSTGRES_USER = 'postgres';

export const OWNER = { email: 'owner@example.com', password: 'E2e-owner-pass-1' } as const;

export type N8nMode = 'regular' | 'queue';

export interface StartOptions {
	mode?: N8nMode;
	/** Extra environment for n8n (and its worker), e.g. N8N_RESTRICT_FILE_ACCESS_TO. */
	env?: Record<string, string>;
	/** How long start-up may take before the log tail is thrown (default 120 s). */
	startTimeoutMs?: number;
	/** Queue mode: worker processes (default 1) and executions each runs at once (default 5). */
	workers?: number;
	workerConcurrency?: number;
}

export interface RuntimePaths {
	/** The n8n version installed in runtimeDir (the one that runs), and the one the repo pins. */
	n8nVersion: string;
	pinnedVersion: string;
	/** What scripts/n8n-runtime.sh said about choosing the version (`newest`: which ones it skipped). */
	versionNotes: string[];
	runtimeDir: string;
	nodeBin: string;
	n8nBin: string;
}

export interface ExecutionSummary {
	id: string;
	workflowId: string;
	mode: string;
	status: 'new' | 'running' | 'success' | 'error' | 'canceled' | 'crashed' | 'waiting' | 'unknown';
	startedAt: string | null;
	stoppedAt: string | null;
	waitTill: string | null;
}

/** An execution with its run data decoded from n8n's flatted storage format. */
export interface ExecutionDetail extends ExecutionSummary {
	data: {
		resultData: {
			runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> }; error?: unknown }>>;
			lastNodeExecuted?: string;
			error?: { message?: string };
		};
	};
}

export interface WebhookResponse {
	status: number;
	headers: Headers;
	text: string;
	/** The body parsed as JSON, or undefined when it is not JSON. */
	json: unknown;
}

interface PublicationStatus {
	status: 'in_progress' | 'not_published' | 'published' | 'partial' | 'failed';
	liveVersionId: string | null;
	triggers: Array<{ nodeId: string; status: string; errorMessage: string | null }>;
}

export interface WaitForExecutionOptions {
	workflowId?: string;
	/** Statuses that end the wait (default: success, error, crashed, canceled). */
	status?: Array<ExecutionSummary['status']>;
	/** Only executions with an id above this one (ids are sequential). */
	afterId?: string;
	timeoutMs?: number;
}

let runtimePromise: Promise<RuntimePaths> | undefined;
let packPromise: Promise<string> | undefined;

/**
 * Installs (first time only) and locates Node 24 and n8n in the runtime cache; the n8n version comes
 * from SYMBIOTIC_N8N_VERSION (globalSetup pins `newest` to the version it resolved, so every test
 * file of a run uses the same n8n).
 */
export function ensureRuntime(): Promise<RuntimePaths> {
	runtimePromise ??= (async () => {
		const { stdout, stderr } = await execFileAsync('bash', [path.join(repoDir, 'scripts/n8n-runtime.sh')], {
			timeout: 15 * 60_000,
			maxBuffer: 16 * 1024 * 1024,
		});
		const values = Object.fromEntries(
			stdout
				.split('\n')
				.filter((line) => line.includes('='))
				.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
		);
		const { N8N_RUNTIME_DIR, NODE_BIN, N8N_BIN } = values;
		if (!N8N_RUNTIME_DIR || !NODE_BIN || !N8N_BIN) {
			throw new Error(`scripts/n8n-runtime.sh printed no runtime paths; its output was:\n${stdout}`);
		}
		// What is installed is what runs: read it rather than trust the folder name.
		const installed = JSON.parse(readFileSync(path.join(N8N_RUNTIME_DIR, 'node_modules/n8n/package.json'), 'utf8')) as { version: string };
		if (values.N8N_VERSION && values.N8N_VERSION !== installed.version) {
			throw new Error(`${N8N_RUNTIME_DIR} holds n8n ${installed.version}, not ${values.N8N_VERSION}: delete the folder and rerun`);
		}
		const versionNotes = stderr
			.split('\n')
			.filter((line) => /newest|not installable/.test(line))
			.map((line) => line.replace(/^\[n8n-runtime\] /, ''));
		return {
			n8nVersion: installed.version,
			pinnedVersion: values.N8N_PINNED_VERSION ?? installed.version,
			versionNotes,
			runtimeDir: N8N_RUNTIME_DIR,
			nodeBin: NODE_BIN,
			n8nBin: N8N_BIN,
		};
	})();
	return runtimePromise;
}

/**
 * Packs the pack and installs it (only when its content changed) into the shared nodes folder.
 * Builds first unless globalSetup already did in this run.
 */
export function ensurePackInstalled(options: { build?: boolean } = {}): Promise<string> {
	const build = options.build ?? process.env[PACK_BUILT_ENV] !== '1';
	packPromise ??= (async () => {
		const args = [path.join(repoDir, 'scripts/pack-install.sh'), '--nodes-dir', sharedNodesDir];
		if (!build) args.push('--skip-build');
		try {
			await execFileAsync('bash', args, { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 });
		} catch (error) {
			const { stderr } = error as { stderr?: string };
			throw new Error(`Installing the pack for the e2e tests failed:\n${stderr ?? String(error)}`);
		}
		return sharedNodesDir;
	})();
	return packPromise;
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string, lines = 60): string {
	try {
		return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch {
		return '(no log written)';
	}
}

/** Everything a test needs from one running n8n (plus its worker in queue mode). */
export class N8nInstance {
	readonly baseUrl: string;
	readonly logFile: string;
	private readonly processes: ChildProcess[] = [];
	private cookie = '';

	constructor(
		readonly mode: N8nMode,
		readonly userFolder: string,
		readonly port: number,
		private readonly runtime: RuntimePaths,
		private readonly env: NodeJS.ProcessEnv,
		private readonly workerEnvs: NodeJS.ProcessEnv[],
		private readonly workerConcurrency: number,
		private readonly cleanups: Array<() => Promise<void>>,
		private readonly startTimeoutMs: number,
	) {
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.logFile = path.join(userFolder, 'n8n.log');
	}

	/** Starts n8n (and the worker) and logs in; used by startN8n and restart. */
	async start(): Promise<void> {
		const deadline = Date.now() + this.startTimeoutMs;
		const main = this.spawnN8n(['start'], this.env, 'main');
		try {
			await this.waitForReady(`${this.baseUrl}/healthz/readiness`, main, deadline);
			for (const [index, workerEnv] of this.workerEnvs.entries()) {
				const worker = this.spawnN8n(['worker', `--concurrency=${this.workerConcurrency}`], workerEnv, index === 0 ? 'worker' : `worker${index + 1}`);
				await this.waitForReady(`http://127.0.0.1:${workerEnv.QUEUE_HEALTH_CHECK_PORT}/healthz/readiness`, worker, deadline);
			}
			await this.login();
		} catch (error) {
			await this.halt();
			throw new Error(`${(error as Error).message}\n--- last lines of ${this.logFile} ---\n${tail(this.logFile)}`);
		}
	}

	/** Stops n8n and starts it again on the same folder, database and ports (for "survives a restart"). */
	async restart(): Promise<void> {
		await this.halt();
		await this.start();
	}

	/** Stops every process and removes the temp folder, database and Redis keys of this instance. */
	async stop(): Promise<void> {
		await this.halt();
		for (const cleanup of this.cleanups.reverse()) await cleanup();
	}

	/** A request to n8n with the owner's session cookie (e.g. `/types/nodes.json`, which needs a login). */
	fetchAsOwner(route: string, init: RequestInit = {}): Promise<Response> {
		return fetch(`${this.baseUrl}${route}`, {
			signal: AbortSignal.timeout(30_000),
			...init,
			headers: { ...(init.headers as Record<string, string> | undefined), cookie: this.cookie },
		});
	}

	/** Calls n8n's internal REST API as the owner; throws with n8n's message on a non-2xx answer. */
	async rest<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
		const response = await this.fetchAsOwner(`/rest${route}`, {
			method,
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`n8n ${method} /rest${route} answered ${response.status}: ${text.slice(0, 500)}`);
		return (JSON.parse(text) as { data: T }).data;
	}

	/**
	 * Creates the workflow from exported/shipped JSON (keeping its id if it has one) and returns the id.
	 * Tags are left out: they reference tag ids that exist only in the instance the file came from.
	 */
	async importWorkflow(workflow: Record<string, unknown>): Promise<string> {
		const { id, name, nodes, connections, settings, pinData, meta } = workflow;
		const created = await this.rest<{ id: string }>('POST', '/workflows', { id, name, nodes, connections, settings, pinData, meta });
		return created.id;
	}

	/**
	 * Imports credentials with decrypted `data` through the CLI, which keeps their ids so shipped
	 * workflows that reference them by id work unchanged (the REST API assigns new ids).
	 */
	async importCredentials(credentials: Record<string, unknown> | Array<Record<string, unknown>>): Promise<void> {
		const file = path.join(this.userFolder, `credentials-${randomBytes(4).toString('hex')}.json`);
		writeFileSync(file, JSON.stringify(Array.isArray(credentials) ? credentials : [credentials]));
		try {
			const output = await this.cli(['import:credentials', `--input=${file}`]);
			if (!/Successfully imported/.test(output)) throw new Error(`n8n import:credentials did not confirm the import:\n${output}`);
		} finally {
			rmSync(file, { force: true });
		}
	}

	/**
	 * Publishes (2.x activation) the workflow's current version and waits until its triggers are live:
	 * n8n 2.41 applies a publication asynchronously (an outbox), so the activate call returns before
	 * webhooks answer; `publication-status` says when it has settled. An n8n without that endpoint, or
	 * run with N8N_USE_WORKFLOW_PUBLICATION_SERVICE=false, activates within the call (no outbox) and
	 * never reports "published": there the activate answer is the end of it.
	 */
	async publish(workflowId: string, timeoutMs = 30_000): Promise<void> {
		const workflow = await this.rest<{ versionId: string }>('GET', `/workflows/${workflowId}`);
		await this.rest('POST', `/workflows/${workflowId}/activate`, { versionId: workflow.versionId });
		if (this.env.N8N_USE_WORKFLOW_PUBLICATION_SERVICE === 'false') return;
		const deadline = Date.now() + timeoutMs;
		let publication: PublicationStatus | undefined;
		while (Date.now() < deadline) {
			const response = await this.fetchAsOwner(`/rest/workflows/${workflowId}/publication-status`);
			const text = await response.text();
			if (response.status === 404 && !publication) return; // no publication service in this n8n version
			if (!response.ok) throw new Error(`n8n GET publication-status answered ${response.status}: ${text.slice(0, 500)}`);
			publication = (JSON.parse(text) as { data: PublicationStatus }).data;
			if (publication.status === 'published' && publication.liveVersionId === workflow.versionId) return;
			if (publication.status === 'failed' || publication.status === 'partial') break;
			await sleep(200);
		}
		const failures = (publication?.triggers ?? [])
			.filter((trigger) => trigger.errorMessage)
			.map((trigger) => `node ${trigger.nodeId}: ${trigger.errorMessage}`);
		throw new Error(
			`Workflow ${workflowId} did not publish (status ${publication?.status ?? 'unknown'} after ${timeoutMs} ms)` +
				(failures.length ? `: ${failures.join('; ')}` : '.'),
		);
	}

	/**
	 * Calls a production webhook. n8n registers a published workflow's webhooks shortly after the
	 * activate call returns, so a "not registered" 404 is retried for a few seconds.
	 */
	async webhook(
		webhookPath: string,
		body?: unknown,
		options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
	): Promise<WebhookResponse> {
		const url = `${this.baseUrl}/webhook/${webhookPath.replace(/^\//, '')}`;
		const registrationDeadline = Date.now() + 10_000;
		for (;;) {
			const response = await fetch(url, {
				method: options.method ?? 'POST',
				headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
			});
			const text = await response.text();
			if (response.status === 404 && text.includes('is not registered') && Date.now() < registrationDeadline) {
				await sleep(250);
				continue;
			}
			let json: unknown;
			try {
				json = JSON.parse(text);
			} catch {
				json = undefined;
			}
			return { status: response.status, headers: response.headers, text, json };
		}
	}

	/** The newest executions (of one workflow when given), newest first. */
	async executions(workflowId?: string, limit = 50): Promise<ExecutionSummary[]> {
		const query = new URLSearchParams({ limit: String(limit) });
		if (workflowId) query.set('filter', JSON.stringify({ workflowId }));
		const page = await this.rest<{ results: ExecutionSummary[] }>('GET', `/executions?${query}`);
		return page.results;
	}

	/** One execution with its run data decoded. */
	async execution(id: string): Promise<ExecutionDetail> {
		const raw = await this.rest<ExecutionSummary & { data: string }>('GET', `/executions/${id}`);
		const flatted = createRequire(path.join(this.runtime.runtimeDir, 'package.json'))('flatted') as { parse(text: string): unknown };
		return { ...raw, data: flatted.parse(raw.data) as ExecutionDetail['data'] };
	}

	/** Polls until an execution matching the options reaches one of the wanted statuses, and returns it decoded. */
	async waitForExecution(options: WaitForExecutionOptions = {}): Promise<ExecutionDetail> {
		const statuses = options.status ?? ['success', 'error', 'crashed', 'canceled'];
		const deadline = Date.now() + (options.timeoutMs ?? 60_000);
		let seen: ExecutionSummary[] = [];
		while (Date.now() < deadline) {
			seen = await this.executions(options.workflowId);
			const match = seen.find(
				(execution) =>
					statuses.includes(execution.status) && (!options.afterId || Number(execution.id) > Number(options.afterId)),
			);
			if (match) return this.execution(match.id);
			await sleep(300);
		}
		const latest = seen.map((execution) => `${execution.id}:${execution.status}`).join(', ') || 'none';
		throw new Error(
			`No execution${options.workflowId ? ` of workflow ${options.workflowId}` : ''} reached ${statuses.join('/')} ` +
				`within ${options.timeoutMs ?? 60_000} ms (latest: ${latest}).`,
		);
	}

	/** Runs an n8n CLI command against this instance's folder and database; returns its output. */
	async cli(args: string[], timeoutMs = 120_000): Promise<string> {
		try {
			const { stdout, stderr } = await execFileAsync(this.runtime.nodeBin, [this.runtime.n8nBin, ...args], {
				env: this.env,
				timeout: timeoutMs,
				maxBuffer: 64 * 1024 * 1024,
			});
			return `${stdout}${stderr}`;
		} catch (error) {
			const { stdout, stderr } = error as { stdout?: string; stderr?: string };
			throw new Error(`n8n ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? String(error)}`);
		}
	}

	private spawnN8n(args: string[], env: NodeJS.ProcessEnv, role: string): ChildProcess {
		const log = openSync(this.logFile, 'a');
		writeFileSync(log, `\n=== ${new Date().toISOString()} ${role}: n8n ${args.join(' ')} ===\n`);
		// detached: its own process group, so stop() also reaches the task runners n8n spawns.
		const child = spawn(this.runtime.nodeBin, [this.runtime.n8nBin, ...args], {
			env,
			detached: true,
			stdio: ['ignore', log, log],
		});
		closeSync(log);
		this.processes.push(child);
		return child;
	}

	private async waitForReady(url: string, child: ChildProcess, deadline: number): Promise<void> {
		while (Date.now() < deadline) {
			if (child.exitCode !== null || child.signalCode !== null) {
				throw new Error(`n8n ${child.spawnargs.slice(2).join(' ')} exited during start-up (${child.exitCode ?? child.signalCode}).`);
			}
			try {
				const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
				if (response.ok) return;
			} catch {
				// not listening yet
			}
			await sleep(250);
		}
		throw new Error(`n8n did not report ready at ${url} within ${this.startTimeoutMs} ms.`);
	}

	private async login(): Promise<void> {
		const response = await fetch(`${this.baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
			signal: AbortSignal.timeout(30_000),
		});
		const authCookie = response.headers.getSetCookie().find((cookie) => cookie.startsWith('n8n-auth='));
		if (!response.ok || !authCookie) {
			throw new Error(`Owner login failed (${response.status}): ${(await response.text()).slice(0, 300)}`);
		}
		this.cookie = authCookie.split(';')[0];
	}

	/** Kills every process at once, as a crash, a power cut or the OOM killer would: nothing can clean up. */
	async crash(): Promise<void> {
		await this.halt('SIGKILL');
	}

	/** Stops all processes (SIGTERM to each group, SIGKILL after 20 s; or `first` at once). */
	private async halt(first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		const running = this.processes.splice(0).reverse();
		await Promise.all(
			running.map(async (child) => {
				if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
				const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
				const signalGroup = (signal: NodeJS.Signals) => {
					try {
						process.kill(-child.pid!, signal);
					} catch {
						// the group is already gone
					}
				};
				signalGroup(first);
				const killTimer = setTimeout(() => signalGroup('SIGKILL'), 20_000);
				await exited;
				clearTimeout(killTimer);
				// Task runners may outlive their parent for a moment; make sure none keeps the ports.
				signalGroup('SIGKILL');
			}),
		);
	}
}

async function createPostgresDatabase(name: string): Promise<() => Promise<void>> {
	try {
		await execFileAsync('createdb', ['-h', POSTGRES_HOST, '-U', POSTGRES_USER, name], { timeout: 30_000 });
	} catch (error) {
		throw new Error(
			`Queue mode needs PostgreSQL on ${POSTGRES_HOST}:5432 with trust auth for user ${POSTGRES_USER} ` +
				`(createdb failed: ${(error as { stderr?: string }).stderr ?? String(error)}). Start it as .ci/run does.`,
		);
	}
	return async () => {
		await execFileAsync('dropdb', ['-h', POSTGRES_HOST, '-U', POSTGRES_USER, '--force', '--if-exists', name], {
			timeout: 30_000,
		}).catch(() => undefined);
	};
}

async function deleteRedisKeys(prefix: string): Promise<void> {
	const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1 });
	try {
		await redis.connect();
		let cursor = '0';
		do {
			const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
			if (keys.length > 0) await redis.del(...keys);
			cursor = next;
		} while (cursor !== '0');
	} finally {
		redis.disconnect();
	}
}

/** Starts a real n8n with the packed pack installed; call `stop()` on the result in afterAll. */
export async function startN8n(options: StartOptions = {}): Promise<N8nInstance> {
	const mode = options.mode ?? 'regular';
	const [runtime, nodesDir] = await Promise.all([ensureRuntime(), ensurePackInstalled()]);
	const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
	const userFolder = mkdtempSync(path.join(tmpdir(), 'symbiotic-e2e-n8n-'));
	const cleanups: Array<() => Promise<void>> = [
		async () => {
			if (process.env.SYMBIOTIC_E2E_KEEP !== '1') rmSync(userFolder, { recursive: true, force: true });
		},
	];
	mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
	// n8n scans <user folder>/.n8n/nodes/node_modules; a link to the shared install saves a
	// dependency install (LanceDB and friends, ~450 MB) per instance.
	symlinkSync(nodesDir, path.join(userFolder, '.n8n/nodes'), 'dir');

	const [port, brokerPort] = await Promise.all([freePort(), freePort()]);
	const ownerHash = (createRequire(path.join(runtime.runtimeDir, 'package.json'))('bcryptjs') as {
		hashSync(password: string, rounds: number): string;
	}).hashSync(OWNER.password, 10);

	// Jest's own variables (NODE_ENV=test and friends) would change n8n's behaviour.
	const { NODE_ENV: _nodeEnv, NODE_OPTIONS: _nodeOptions, JEST_WORKER_ID: _jestWorker, ...inherited } = process.env;
	const env: NodeJS.ProcessEnv = {
		...inherited,
		PATH: `${path.dirname(runtime.nodeBin)}:${process.env.PATH ?? ''}`,
		N8N_USER_FOLDER: userFolder,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		WEBHOOK_URL: `http://127.0.0.1:${port}/`,
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_LOG_OUTPUT: 'console',
		N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
		N8N_INSTANCE_OWNER_EMAIL: OWNER.email,
		N8N_INSTANCE_OWNER_FIRST_NAME: 'E2e',
		N8N_INSTANCE_OWNER_LAST_NAME: 'Owner',
		N8N_INSTANCE_OWNER_PASSWORD_HASH: ownerHash,
		...options.env,
	};

	const workerEnvs: NodeJS.ProcessEnv[] = [];
	if (mode === 'queue') {
		const database = `symbiotic_e2e_${runId}`;
		cleanups.push(await createPostgresDatabase(database));
		const bullPrefix = `symbiotic-e2e-${runId}`;
		cleanups.push(() => deleteRedisKeys(bullPrefix));
		Object.assign(env, {
			EXECUTIONS_MODE: 'queue',
			// What production queue setups do (and n8n's announced default): manual runs go to workers too.
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			QUEUE_BULL_REDIS_HOST: REDIS_HOST,
			QUEUE_BULL_REDIS_PORT: String(REDIS_PORT),
			QUEUE_BULL_PREFIX: bullPrefix,
			// n8n's cache (webhooks among others) lives in Redis in queue mode; under this run's prefix it goes with
			// the run (left behind, a webhook path of an earlier run conflicts with a new workflow using it).
			N8N_REDIS_KEY_PREFIX: bullPrefix,
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: POSTGRES_HOST,
			DB_POSTGRESDB_PORT: '5432',
			DB_POSTGRESDB_DATABASE: database,
			DB_POSTGRESDB_USER: POSTGRES_USER,
			...options.env,
		});
		for (let worker = 0; worker < (options.workers ?? 1); worker++) {
			const [workerBrokerPort, workerHealthPort] = await Promise.all([freePort(), freePort()]);
			workerEnvs.push({
				...env,
				// Each worker runs its own task-runner broker and health server: both need ports of their own.
				N8N_RUNNERS_BROKER_PORT: String(workerBrokerPort),
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				QUEUE_HEALTH_CHECK_PORT: String(workerHealthPort),
				N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
			});
		}
	}

	const instance = new N8nInstance(mode, userFolder, port, runtime, env, workerEnvs, options.workerConcurrency ?? 5, cleanups, options.startTimeoutMs ?? 120_000);
	try {
		await instance.start();
	} catch (error) {
		for (const cleanup of cleanups.reverse()) await cleanup();
		throw error;
	}
	return instance;
}
