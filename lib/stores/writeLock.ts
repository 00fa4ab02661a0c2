/**
 * A write lock shared by every process using one LanceDB folder: queue-mode workers, a second n8n, a script.
 *
 * LanceDB resolves concurrent commits optimistically, but two processes merge-inserting the same new ids at
 * once could both insert them (seen with two n8n workers running the same ingest: 1,256 rows for 1,000 chunks,
 * even with `id` declared as the table's primary key). Holding this lock around each write makes the second
 * writer see the first one's rows, so its merge updates them instead.
 *
 * The lock is a folder created atomically next to the table (proper-lockfile: works on local and network file
 * systems, e.g. a Docker volume shared by workers). Its holder refreshes its time stamp; a holder killed without
 * releasing it (SIGKILL, power loss) stops refreshing, and others take the lock over once it is STALE_MS old.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import lockfile from 'proper-lockfile';

/** A lock not refreshed for this long belonged to a process that died; refreshed every STALE_MS / 6. */
const STALE_MS = 30_000;
/** Waiting longer than this for other writers fails the write with a message saying why. */
const DEFAULT_WAIT_MS = 10 * 60_000;
const FIRST_RETRY_MS = 20;
const LONGEST_RETRY_MS = 500;

export interface WriteLockOptions {
	/** The LanceDB folder (a local path: openStore resolves it); the lock lives in it, named after the table. */
	folder: string;
	table: string;
	signal?: AbortSignal;
	waitMs?: number;
}

/** Runs `work` while no other process writes to the same table of the same folder. */
export async function withWriteLock<T>(options: WriteLockOptions, work: () => Promise<T>): Promise<T> {
	const { folder } = options;
	await mkdir(folder, { recursive: true });
	let lost: Error | undefined;
	const release = await acquire(folder, options, (error) => {
		// proper-lockfile throws this from a timer by default, which would end the whole n8n process.
		lost = error;
	});
	try {
		const result = await work();
		if (lost) {
			throw new Error(
				`Lost the write lock of LanceDB table "${options.table}" while writing (${lost.message}): another process ` +
					'may have written at the same moment. Run the workflow again to make sure every chunk is stored once.',
			);
		}
		return result;
	} finally {
		if (!lost) await release().catch(() => undefined);
	}
}

async function acquire(
	folder: string,
	options: WriteLockOptions,
	onCompromised: (error: Error) => void,
): Promise<() => Promise<void>> {
	const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
	for (let attempt = 0; ; attempt++) {
		options.signal?.throwIfAborted();
		try {
			return await lockfile.lock(path.join(folder, options.table), {
				lockfilePath: path.join(folder, `.${options.table}.write-lock`),
				realpath: false,
				stale: STALE_MS,
				update: STALE_MS / 6,
				retries: 0,
				onCompromised,
			});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
			if (Date.now() >= deadline) {
				throw new Error(
					`Another process has been writing to LanceDB table "${options.table}" in ${options.folder} for over ` +
						`${Math.ceil((options.waitMs ?? DEFAULT_WAIT_MS) / 1000)} s, so this write gave up waiting. ` +
						'Run the workflow again once the other ingest has finished.',
				);
			}
			const delay = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 1.5 ** attempt) * (0.5 + Math.random());
			await new Promise((resolve) => setTimeout(resolve, delay));
		}
	}
}
