import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { withWriteLock } from '../../lib/stores/writeLock';

let folder: string;

beforeEach(() => {
	folder = mkdtempSync(path.join(tmpdir(), 'symbiotic-write-lock-'));
});

afterEach(() => rmSync(folder, { recursive: true, force: true }));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withWriteLock', () => {
	it('lets one writer at a time through, and frees the lock after a failed write', async () => {
		let inside = 0;
		let most = 0;
		const write = async (fail: boolean) => {
			inside++;
			most = Math.max(most, inside);
			await pause(20);
			inside--;
			if (fail) throw new Error('write failed');
			return 'done';
		};
		const results = await Promise.allSettled(
			[false, true, false, false].map((fail) => withWriteLock({ folder, table: 'knowledge' }, () => write(fail))),
		);
		expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
		expect(most).toBe(1);
	});

	it('creates the folder, and keeps separate tables apart', async () => {
		const nested = path.join(folder, 'new', 'store');
		let bothInside = false;
		let inside = 0;
		const write = async () => {
			inside++;
			await pause(30);
			bothInside ||= inside === 2;
			inside--;
		};
		await Promise.all([
			withWriteLock({ folder: nested, table: 'a' }, write),
			withWriteLock({ folder: nested, table: 'b' }, write),
		]);
		expect(bothInside).toBe(true);
	});

	it('takes over a lock left by a process that died without releasing it', async () => {
		const lockFolder = path.join(folder, '.knowledge.write-lock');
		mkdirSync(lockFolder);
		const minuteAgo = new Date(Date.now() - 60_000);
		utimesSync(lockFolder, minuteAgo, minuteAgo);
		const started = Date.now();
		await expect(withWriteLock({ folder, table: 'knowledge' }, async () => 'written')).resolves.toBe('written');
		expect(Date.now() - started).toBeLessThan(2_000);
	});

	it('gives up waiting for a writer that keeps the lock, saying what to do', async () => {
		const holder = withWriteLock({ folder, table: 'knowledge' }, () => pause(1_000));
		await pause(50);
		await expect(withWriteLock({ folder, table: 'knowledge', waitMs: 200 }, async () => 'never')).rejects.toThrow(
			/Another process has been writing to LanceDB table "knowledge" in .* for over 1 s, so this write gave up waiting\. Run the workflow again/,
		);
		await holder;
	});

	it('stops waiting when the execution is cancelled', async () => {
		const holder = withWriteLock({ folder, table: 'knowledge' }, () => pause(1_000));
		await pause(50);
		const controller = new AbortController();
		setTimeout(() => controller.abort(new Error('execution cancelled')), 100);
		await expect(withWriteLock({ folder, table: 'knowledge', signal: controller.signal }, async () => 'never')).rejects.toThrow(
			'execution cancelled',
		);
		await holder;
	});
});
