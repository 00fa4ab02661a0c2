import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
	DecisionFileError,
	DecisionFolderError,
	defaultApprovalFolder,
	FileDecisionStore,
	SWEEP_INTERVAL_MS,
	type DecideResult,
	type ReviewDecision,
} from '../../lib/approval';

const DAY_MS = 24 * 60 * 60 * 1000;
const isWindows = process.platform === 'win32';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function decision(reviewer: string): ReviewDecision {
	return { action: 'approved', comment: '', finalText: 'Draft', reviewer, decidedAt: '2026-01-01T00:00:00.000Z', userAgent: 'test', ip: '127.0.0.1' };
}

function fileName(key: string): string {
	return `${createHash('sha256').update(key, 'utf8').digest('hex')}.json`;
}

let root: string;
let folder: string;

beforeEach(() => {
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'symbiotic-file-decisions-'));
	folder = path.join(root, 'approvals');
});

afterEach(() => {
	jest.restoreAllMocks();
	fs.chmodSync(root, 0o700);
	fs.rmSync(root, { recursive: true, force: true });
});

/** Files in the folder that are not decisions: temp files and locks must never be left behind. */
function leftovers(): string[] {
	return fs.readdirSync(folder).filter((name) => !/^[0-9a-f]{64}\.json$/.test(name));
}

function expectOneWinner(results: DecideResult[], winnerOf: (index: number) => ReviewDecision): ReviewDecision {
	const winners = results.flatMap((result, index) => (result.won ? [index] : []));
	expect(winners).toHaveLength(1);
	const winning = winnerOf(winners[0]);
	for (const result of results) if (!result.won) expect(result.existing).toEqual(winning);
	return winning;
}

describe('the file decision store keeps the first decision', () => {
	test('the first decision wins and a later one gets it back; the folder is created on first use', async () => {
		const store = new FileDecisionStore({ folder });
		expect(await store.get('review-1')).toBeUndefined();
		expect(fs.existsSync(folder)).toBe(false);
		expect(await store.decideOnce('review-1', decision('ada@example.com'))).toEqual({ won: true });
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: false, existing: decision('ada@example.com') });
		expect(await store.get('review-1')).toEqual(decision('ada@example.com'));
		expect(await store.get('review-2')).toBeUndefined();
		expect(leftovers()).toEqual([]);
	});

	test('decisions survive a restart: a new store on the same folder reads them and loses to them', async () => {
		await new FileDecisionStore({ folder }).decideOnce('review-1', decision('ada@example.com'));
		const restarted = new FileDecisionStore({ folder });
		expect(await restarted.get('review-1')).toEqual(decision('ada@example.com'));
		expect(await restarted.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: false, existing: decision('ada@example.com') });
	});

	test('file names are hashes of the key, never the key; the content is { key, decision, expiresAt }', async () => {
		const key = 'review-1:../../etc/passwd:ada@example.com';
		const store = new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => 5000 });
		await store.decideOnce(key, decision('ada@example.com'));
		expect(fs.readdirSync(folder)).toEqual([fileName(key)]);
		expect(JSON.parse(fs.readFileSync(path.join(folder, fileName(key)), 'utf8'))).toEqual({
			key,
			decision: decision('ada@example.com'),
			expiresAt: 5000 + DAY_MS,
		});
	});

	(isWindows ? test.skip : test)('the folder is private (0700) and decision files are 0600: they hold e-mails and IPs', async () => {
		const store = new FileDecisionStore({ folder: path.join(folder, 'nested') });
		await store.decideOnce('review-1', decision('ada@example.com'));
		expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
		expect(fs.statSync(path.join(folder, 'nested')).mode & 0o777).toBe(0o700);
		expect(fs.statSync(path.join(folder, 'nested', fileName('review-1'))).mode & 0o777).toBe(0o600);
	});

	test('the default folder is inside the n8n user folder, beside the default LanceDB folder', () => {
		const userFolder = path.join(root, 'n8n-home');
		expect(defaultApprovalFolder({ N8N_USER_FOLDER: userFolder })).toBe(path.join(userFolder, '.n8n', 'symbiotic-approvals'));
		expect(defaultApprovalFolder({})).toBe(path.join(os.homedir(), '.n8n', 'symbiotic-approvals'));
	});
});

describe('the file decision store forgets, like Redis keys expire', () => {
	test('a decision reads back until its retention ends, then is absent, its file removed, and the key can be decided again', async () => {
		let clock = 1_000_000;
		const store = new FileDecisionStore({ folder, retentionMs: 2 * DAY_MS, now: () => clock });
		expect(await store.decideOnce('review-1', decision('ada@example.com'))).toEqual({ won: true });
		clock += 2 * DAY_MS - 1;
		expect((await store.get('review-1'))?.reviewer).toBe('ada@example.com');
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: false, existing: decision('ada@example.com') });
		clock += 1;
		expect(await store.get('review-1')).toBeUndefined();
		expect(fs.readdirSync(folder)).toEqual([]);
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: true });
		expect(await store.get('review-1')).toEqual(decision('bob@example.com'));
	});

	test('an expired entry nobody read is replaced in place by the next decision', async () => {
		let clock = 0;
		const store = new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => clock });
		await store.decideOnce('review-1', decision('ada@example.com'));
		clock += DAY_MS;
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: true });
		expect(await new FileDecisionStore({ folder, now: () => clock }).get('review-1')).toEqual(decision('bob@example.com'));
		expect(leftovers()).toEqual([]);
	});

	test('a per-decision retention overrides the default', async () => {
		let clock = 0;
		const store = new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => clock });
		await store.decideOnce('short', decision('ada@example.com'));
		await store.decideOnce('long', decision('ada@example.com'), 10 * DAY_MS);
		clock += 5 * DAY_MS;
		expect(await store.get('short')).toBeUndefined();
		expect((await store.get('long'))?.reviewer).toBe('ada@example.com');
	});

	test('the sweep removes expired files (and abandoned temp files) at most once an hour, on decideOnce', async () => {
		let clock = 10 * DAY_MS;
		const store = new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => clock });
		// The process's first decideOnce on the folder sweeps it (nothing to remove yet); the next is due an hour later.
		for (let index = 0; index < 10; index++) await store.decideOnce(`old-${index}`, decision('ada@example.com'));
		for (let index = 0; index < 5; index++) await store.decideOnce(`long-${index}`, decision('ada@example.com'), 10 * DAY_MS);
		fs.writeFileSync(path.join(folder, `.tmp-${clock}-crashed-writer`), '{"half":');
		fs.writeFileSync(path.join(folder, 'notes.txt'), 'not ours');
		expect(fs.readdirSync(folder)).toHaveLength(17);

		clock += DAY_MS;
		await store.decideOnce('new-1', decision('ada@example.com'));
		await store.decideOnce('short', decision('ada@example.com'), SWEEP_INTERVAL_MS / 4);
		const live = ['notes.txt', ...['long-0', 'long-1', 'long-2', 'long-3', 'long-4', 'new-1'].map(fileName)];
		expect(fs.readdirSync(folder).sort()).toEqual([...live, fileName('short')].sort());

		clock += SWEEP_INTERVAL_MS / 2;
		await store.decideOnce('new-2', decision('ada@example.com'));
		expect(fs.readdirSync(folder)).toContain(fileName('short'));

		clock += SWEEP_INTERVAL_MS / 2;
		await store.decideOnce('new-3', decision('ada@example.com'));
		expect(fs.readdirSync(folder).sort()).toEqual([...live, fileName('new-2'), fileName('new-3')].sort());
	});

	test('an explicit sweep reports what it removed and leaves unreadable files alone', async () => {
		let clock = 0;
		const store = new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => clock });
		await store.decideOnce('a', decision('ada@example.com'));
		await store.decideOnce('b', decision('ada@example.com'));
		fs.writeFileSync(path.join(folder, fileName('garbage')), 'garbage', { mode: 0o600 });
		clock += DAY_MS;
		expect(await store.sweep()).toBe(2);
		expect(fs.readdirSync(folder)).toEqual([fileName('garbage')]);
	});
});

describe('the file decision store under concurrency', () => {
	test('50 concurrent decisions in one process: exactly one wins, every other one gets its decision', async () => {
		const store = new FileDecisionStore({ folder });
		const results = await Promise.all(
			Array.from({ length: 50 }, (_, index) => store.decideOnce('review-1', decision(`r${index}@example.com`))),
		);
		const winning = expectOneWinner(results, (index) => decision(`r${index}@example.com`));
		expect(await store.get('review-1')).toEqual(winning);
		expect(leftovers()).toEqual([]);
	});

	test('50 concurrent decisions replacing an expired entry: exactly one wins', async () => {
		let clock = 0;
		const stores = Array.from({ length: 5 }, () => new FileDecisionStore({ folder, retentionMs: DAY_MS, now: () => clock }));
		await stores[0].decideOnce('review-1', decision('old@example.com'));
		clock += 2 * DAY_MS;
		const results = await Promise.all(
			Array.from({ length: 50 }, (_, index) => stores[index % 5].decideOnce('review-1', decision(`r${index}@example.com`))),
		);
		const winning = expectOneWinner(results, (index) => decision(`r${index}@example.com`));
		expect(await stores[0].get('review-1')).toEqual(winning);
		expect(leftovers()).toEqual([]);
	});

	test('4 processes racing 25 times each on one key: exactly one winner, all others see the same decision', async () => {
		const script = path.join(__dirname, 'support', 'fileDecisionRace.ts');
		const children = ['p0', 'p1', 'p2', 'p3'].map((name) => {
			const child = spawn(process.execPath, ['--import', 'tsx', script, folder, 'review-race', name, '25'], {
				cwd: path.join(__dirname, '..', '..'),
				stdio: ['pipe', 'pipe', 'pipe'],
			});
			let stdout = '';
			let stderr = '';
			child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
			child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
			const ready = new Promise<void>((resolve, reject) => {
				const check = () => (stdout.startsWith('ready\n') ? resolve() : undefined);
				child.stdout.on('data', check);
				child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready: ${stderr}`)));
			});
			const done = new Promise<DecideResult[]>((resolve, reject) => {
				child.on('exit', (code) =>
					code === 0 ? resolve(JSON.parse(stdout.slice('ready\n'.length)) as DecideResult[]) : reject(new Error(`${name} failed (${code}): ${stderr}`)),
				);
			});
			return { name, child, ready, done };
		});
		await Promise.all(children.map((entry) => entry.ready));
		for (const { child } of children) child.stdin.end('go\n');
		const perProcess = await Promise.all(children.map((entry) => entry.done));

		const results = perProcess.flat();
		expect(results).toHaveLength(100);
		const winning = expectOneWinner(results, (index) => decision(`p${Math.floor(index / 25)}-${index % 25}@example.com`));
		expect(await new FileDecisionStore({ folder }).get('review-race')).toEqual(winning);
		expect(leftovers()).toEqual([]);
	});

	test('on a filesystem without hard links it falls back to exclusive create, still with one winner', async () => {
		const link = jest.spyOn(fs.promises, 'link').mockRejectedValue(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }));
		const store = new FileDecisionStore({ folder });
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, index) => store.decideOnce('review-1', decision(`r${index}@example.com`))),
		);
		expect(link).toHaveBeenCalled();
		const winning = expectOneWinner(results, (index) => decision(`r${index}@example.com`));
		expect(await new FileDecisionStore({ folder }).get('review-1')).toEqual(winning);
		expect(leftovers()).toEqual([]);
	});
});

describe('the file decision store fails clearly', () => {
	test('a corrupted file is not taken for "absent": reading or deciding throws an error naming the file', async () => {
		const store = new FileDecisionStore({ folder });
		await store.decideOnce('other', decision('ada@example.com'));
		const file = path.join(folder, fileName('review-1'));
		for (const content of ['{"key":"review-1","decision":{"act', '', 'null']) {
			fs.writeFileSync(file, content);
			await expect(store.get('review-1')).rejects.toThrow(DecisionFileError);
			await expect(store.get('review-1')).rejects.toThrow(file);
			await expect(store.decideOnce('review-1', decision('bob@example.com'))).rejects.toThrow(/unreadable decision file.*delete it/);
		}
		expect(fs.readFileSync(file, 'utf8')).toBe('null');
		fs.unlinkSync(file);
		expect(await store.decideOnce('review-1', decision('bob@example.com'))).toEqual({ won: true });
	});

	test('a file holding another key (copied or renamed by hand) is refused', async () => {
		const store = new FileDecisionStore({ folder });
		await store.decideOnce('review-1', decision('ada@example.com'));
		fs.copyFileSync(path.join(folder, fileName('review-1')), path.join(folder, fileName('review-2')));
		await expect(store.get('review-2')).rejects.toThrow(/belongs to another key/);
	});

	test('a folder that cannot be created throws an error naming it and what to do', async () => {
		fs.writeFileSync(path.join(root, 'a-file'), '');
		const unusable = path.join(root, 'a-file', 'approvals');
		const store = new FileDecisionStore({ folder: unusable });
		const attempt = store.decideOnce('review-1', decision('ada@example.com'));
		await expect(attempt).rejects.toThrow(DecisionFolderError);
		await expect(store.decideOnce('review-1', decision('ada@example.com'))).rejects.toThrow(
			`Human Approval cannot use its decision folder "${unusable}" (ENOTDIR`,
		);
		await expect(store.decideOnce('review-1', decision('ada@example.com'))).rejects.toThrow(/Decision Folder option.*Docker/);
	});

	(isWindows || isRoot ? test.skip : test)('a read-only folder throws the same clear error', async () => {
		fs.mkdirSync(folder, { mode: 0o500 });
		await expect(new FileDecisionStore({ folder }).decideOnce('review-1', decision('ada@example.com'))).rejects.toThrow(
			new RegExp(`decision folder "${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" \\(EACCES`),
		);
	});

	test('an empty folder option is refused at once', () => {
		expect(() => new FileDecisionStore({ folder: ' ' })).toThrow(/decision folder is empty/);
	});
});
