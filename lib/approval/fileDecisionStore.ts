import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { n8nDataFolder } from '../n8nFolder';

import type { DecideResult, DecisionStore } from './decisionStore';
import type { ReviewDecision } from './types';

/**
 * File-backed decision store: one JSON file per key in a local folder, so decisions survive n8n restarts and are
 * shared by every process on the same filesystem, with no server.
 *
 * Atomicity. A decision is written in full (and fsynced) to a private temp file, then published under the key's
 * final name with `link(temp, final)`, which fails with EEXIST when the name exists: the filesystem picks exactly
 * one winner, and a reader never sees a half-written decision because the final name only ever points at a
 * complete file. A loser reads the winner's file and returns it.
 *
 * Expired entries. An expired file counts as absent. It is replaced or removed only under a per-key lock file
 * (`<hash>.lock`, created with O_EXCL) and only after re-reading it under that lock; the replacement is a
 * `rename(temp, final)`, atomic, so the name never disappears. Creating a new final name never needs the lock
 * (link fails while any file is there) and only lock holders ever remove or replace one, so "still the expired
 * one" checked under the lock stays true until the rename. The one gap: a lock is treated as abandoned after
 * 30 s (its holder crashed); a holder stalled that long inside its few-millisecond critical section could then
 * race a second replacer. Expired entries are only ever touched a retention period after their review closed.
 *
 * Filesystems without hard links (some SMB or FAT mounts) fall back to `open(final, 'wx')` and write in place;
 * readers retry briefly when they catch such a write in progress.
 *
 * Corrupted files (not our JSON, or for another key) are never taken for "absent": reading one throws an Error
 * naming the file, so a damaged decision cannot be silently decided a second time.
 */

export interface FileDecisionStoreOptions {
	/** Folder holding the decision files; created (mode 0700) on first write. See `defaultApprovalFolder()`. */
	folder: string;
	/** How long a decision is kept unless `decideOnce` says otherwise. Default 30 days, as in the other stores. */
	retentionMs?: number;
	/** The clock, in epoch milliseconds; tests inject one. */
	now?: () => number;
}

interface StoredEntry {
	key: string;
	decision: ReviewDecision;
	expiresAt: number;
}

const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
/** Expired files are swept at most this often per folder and process, on `decideOnce`. */
export const SWEEP_INTERVAL_MS = HOUR_MS;
/** A temp file older than this was left by a writer that crashed between writing and publishing. */
const ORPHAN_TEMP_AGE_MS = HOUR_MS;
/** A lock older than this (by the filesystem's clock) belongs to a crashed process and may be broken. */
const STALE_LOCK_MS = 30_000;
/** Bound on the contention loop of `decideOnce` (each turn after a busy lock waits a few milliseconds). */
const MAX_ATTEMPTS = 500;
/** A reader finding unparsable content retries this often before calling it corrupted (the no-link fallback). */
const CORRUPT_READ_RETRIES = 5;

const TEMP_PREFIX = '.tmp-';
const TEMP_NAME = /^\.tmp-(\d+)-/;
const LOCK_SUFFIX = '.lock';
const ENTRY_NAME = /^[0-9a-f]{64}\.json$/;
/** `link` errors that mean "this filesystem has no hard links", not "you may not write here". */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Last sweep per folder in this process: stores are opened per request, the sweep schedule outlives them. */
const lastSweeps = new Map<string, number>();

/** The file store's folder when none is configured: inside n8n's data folder, so it survives restarts and upgrades. */
export function defaultApprovalFolder(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(n8nDataFolder(env), 'symbiotic-approvals');
}

/** The decision folder cannot be created, written or read; the message names it and what to do. */
export class DecisionFolderError extends Error {
	constructor(
		readonly folder: string,
		cause: unknown,
	) {
		const code = errorCode(cause) ?? 'error';
		const message = messageOf(cause);
		const detail = message.startsWith(code) ? message : `${code}: ${message}`;
		const reason = code === 'ENOSPC' || code === 'EDQUOT' ? `the disk is full, ${detail}` : detail;
		super(
			`Human Approval cannot use its decision folder "${folder}" (${reason}). Set the Decision Folder option to a ` +
				'writable folder, or in Docker mount a writable volume there (e.g. on the n8n user folder, /home/node/.n8n).',
		);
		this.name = 'DecisionFolderError';
	}
}

/** A decision file exists but does not hold a decision for its key; the message names the file and the remedy. */
export class DecisionFileError extends Error {
	constructor(
		readonly file: string,
		problem: string,
	) {
		super(
			`Human Approval found an unreadable decision file "${file}" (${problem}). Restore it from a backup, or delete ` +
				'it to let the review be decided again.',
		);
		this.name = 'DecisionFileError';
	}
}

export class FileDecisionStore implements DecisionStore {
	readonly folder: string;
	private readonly retentionMs: number;
	private readonly now: () => number;
	private ready: Promise<void> | undefined;
	private hardLinksUnsupported = false;

	constructor(options: FileDecisionStoreOptions) {
		if (!options.folder?.trim()) throw new Error('The decision folder is empty: set a folder path or keep the default.');
		this.folder = path.resolve(options.folder);
		this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
		this.now = options.now ?? Date.now;
	}

	/** `retentionMs` overrides the store's default for this entry: each review keeps its decisions as long as its links live. */
	async decideOnce(key: string, decision: ReviewDecision, retentionMs = this.retentionMs): Promise<DecideResult> {
		await this.ensureFolder();
		const entry: StoredEntry = { key, decision, expiresAt: this.now() + retentionMs };
		const text = JSON.stringify(entry);
		const temp = await this.writeTemp(text, entry.expiresAt);
		try {
			return await this.publish(this.fileOf(key), key, temp, text);
		} finally {
			// After a link the temp is a second name of the published file; after a rename it is gone already.
			await removeQuietly(temp);
			await this.sweepIfDue();
		}
	}

	async get(key: string): Promise<ReviewDecision | undefined> {
		const file = this.fileOf(key);
		const entry = await this.readEntry(file, key);
		if (!entry) return undefined;
		if (entry.expiresAt > this.now()) return entry.decision;
		try {
			await this.removeIfExpired(file, key);
		} catch {
			// Best effort: the sweep or the next decision deals with it.
		}
		return undefined;
	}

	/**
	 * Removes expired decision files, temp files abandoned by crashed writers and abandoned locks; returns how many
	 * files it removed. `decideOnce` calls it at most once an hour per folder and process; unreadable files stay.
	 */
	async sweep(): Promise<number> {
		const now = this.now();
		lastSweeps.set(this.folder, now);
		let names: string[];
		try {
			names = await fs.readdir(this.folder);
		} catch {
			return 0;
		}
		let removed = 0;
		for (const name of names) {
			const file = path.join(this.folder, name);
			try {
				const temp = TEMP_NAME.exec(name);
				if (temp) {
					if (Number(temp[1]) + ORPHAN_TEMP_AGE_MS <= now) removed += await unlinkCounted(file);
				} else if (name.endsWith(LOCK_SUFFIX)) {
					if (Date.now() - (await fs.stat(file)).mtimeMs > HOUR_MS) removed += await unlinkCounted(file);
				} else if (ENTRY_NAME.test(name)) {
					// Published files carry their expiry as mtime: only those that look expired are read.
					if ((await fs.stat(file)).mtimeMs > now) continue;
					if (await this.removeIfExpired(file)) removed++;
				}
			} catch {
				// Vanished meanwhile, unreadable or locked: left for the next sweep.
			}
		}
		return removed;
	}

	private fileOf(key: string): string {
		// Keys hold user-controlled pieces (reviewer e-mails): only their hash ever becomes a path.
		return path.join(this.folder, `${createHash('sha256').update(key, 'utf8').digest('hex')}.json`);
	}

	private async publish(file: string, key: string, temp: string, text: string): Promise<DecideResult> {
		for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
			if (await this.createIfAbsent(temp, file, text)) {
				await this.syncFolder();
				return { won: true };
			}
			const existing = await this.readEntry(file, key);
			if (existing && existing.expiresAt > this.now()) return { won: false, existing: existing.decision };
			if (existing) {
				// Expired: counts as absent. Replace it, but only while it is still the expired one (see the top).
				const replaced = await this.withLock(file, async (): Promise<DecideResult | undefined> => {
					const current = await this.readEntry(file, key);
					if (!current) return undefined;
					if (current.expiresAt > this.now()) return { won: false, existing: current.decision };
					try {
						await fs.rename(temp, file);
					} catch (error) {
						// Windows refuses to replace a file another process has open: try again shortly.
						if (process.platform === 'win32' && ['EPERM', 'EACCES', 'EBUSY'].includes(errorCode(error) ?? '')) return undefined;
						throw new DecisionFolderError(this.folder, error);
					}
					await this.syncFolder();
					return { won: true };
				});
				if (replaced) return replaced;
				// Another process holds the lock (it is replacing or removing this entry): give it a moment.
				await sleep(2 + Math.random() * 8);
			}
			// Absent again (removed between our link and our read): try to create it once more.
		}
		throw new Error(
			`Human Approval could not record a decision in "${this.folder}": the entry ${path.basename(file)} stayed locked. ` +
				`If no n8n process is using it, delete ${path.basename(file)}${LOCK_SUFFIX} there.`,
		);
	}

	/** Publishes the complete temp file under `file` unless that name exists; false when it does. */
	private async createIfAbsent(temp: string, file: string, text: string): Promise<boolean> {
		if (!this.hardLinksUnsupported) {
			try {
				await fs.link(temp, file);
				return true;
			} catch (error) {
				const code = errorCode(error);
				if (code === 'EEXIST') return false;
				if (!LINK_UNSUPPORTED.has(code ?? '')) throw new DecisionFolderError(this.folder, error);
				this.hardLinksUnsupported = true;
			}
		}
		let handle: fs.FileHandle;
		try {
			handle = await fs.open(file, 'wx', 0o600);
		} catch (error) {
			if (errorCode(error) === 'EEXIST') return false;
			throw new DecisionFolderError(this.folder, error);
		}
		try {
			await handle.writeFile(text, 'utf8');
			await handle.sync();
		} catch (error) {
			throw new DecisionFolderError(this.folder, error);
		} finally {
			await handle.close();
		}
		return true;
	}

	private async writeTemp(text: string, expiresAt: number): Promise<string> {
		const temp = path.join(this.folder, `${TEMP_PREFIX}${Math.max(0, Math.floor(this.now()))}-${randomUUID()}`);
		let handle: fs.FileHandle;
		try {
			handle = await fs.open(temp, 'wx', 0o600);
		} catch (error) {
			throw new DecisionFolderError(this.folder, error);
		}
		try {
			await handle.writeFile(text, 'utf8');
			try {
				// The expiry as mtime lets the sweep skip live files by a stat; the JSON stays authoritative.
				await handle.utimes(new Date(), new Date(expiresAt));
			} catch {
				// Some filesystems refuse: the sweep then reads every file.
			}
			await handle.sync();
			await handle.close();
		} catch (error) {
			await handle.close().catch(() => undefined);
			await removeQuietly(temp);
			throw new DecisionFolderError(this.folder, error);
		}
		return temp;
	}

	/** The entry in `file`, undefined when there is none; throws DecisionFileError when it is not a decision for `key`. */
	private async readEntry(file: string, key?: string, retries = CORRUPT_READ_RETRIES): Promise<StoredEntry | undefined> {
		for (let attempt = 0; ; attempt++) {
			let text: string;
			try {
				text = await fs.readFile(file, 'utf8');
			} catch (error) {
				if (errorCode(error) === 'ENOENT') return undefined;
				throw new DecisionFolderError(this.folder, error);
			}
			const entry = parseEntry(text);
			if (entry) {
				if (key !== undefined ? entry.key !== key : this.fileOf(entry.key) !== file) {
					throw new DecisionFileError(file, 'it belongs to another key');
				}
				return entry;
			}
			if (attempt >= retries) {
				throw new DecisionFileError(file, text.length ? 'not a decision in JSON' : 'it is empty');
			}
			await sleep(20);
		}
	}

	/** Removes `file` when, read again under its lock, it is still expired; false when it is not or the lock is busy. */
	private async removeIfExpired(file: string, key?: string): Promise<boolean> {
		const removed = await this.withLock(file, async () => {
			// The sweep (no key) does not wait on unparsable files: it leaves them alone.
			const current = await this.readEntry(file, key, key === undefined ? 0 : CORRUPT_READ_RETRIES);
			if (!current || current.expiresAt > this.now()) return false;
			await fs.unlink(file);
			return true;
		});
		return removed === true;
	}

	/** Runs `action` holding the key's lock file; undefined without running it when another process holds it. */
	private async withLock<T>(file: string, action: () => Promise<T>): Promise<T | undefined> {
		const lock = file + LOCK_SUFFIX;
		try {
			await (await fs.open(lock, 'wx', 0o600)).close();
		} catch (error) {
			if (errorCode(error) !== 'EEXIST') throw new DecisionFolderError(this.folder, error);
			await breakIfAbandoned(lock);
			return undefined;
		}
		try {
			return await action();
		} finally {
			await removeQuietly(lock);
		}
	}

	private ensureFolder(): Promise<void> {
		this.ready ??= (async () => {
			try {
				await fs.mkdir(this.folder, { recursive: true, mode: 0o700 });
				await fs.access(this.folder, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
			} catch (error) {
				this.ready = undefined;
				throw new DecisionFolderError(this.folder, error);
			}
		})();
		return this.ready;
	}

	/** Makes a new name durable across a power cut; best effort (Windows cannot open a folder for fsync). */
	private async syncFolder(): Promise<void> {
		try {
			const handle = await fs.open(this.folder, 'r');
			try {
				await handle.sync();
			} finally {
				await handle.close();
			}
		} catch {
			// Durability only: the decision is published either way.
		}
	}

	private async sweepIfDue(): Promise<void> {
		const now = this.now();
		const last = lastSweeps.get(this.folder);
		if (last !== undefined && now >= last && now - last < SWEEP_INTERVAL_MS) return;
		try {
			await this.sweep();
		} catch {
			// Housekeeping never fails a decision.
		}
	}
}

function parseEntry(text: string): StoredEntry | undefined {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return undefined;
	}
	if (typeof value !== 'object' || value === null) return undefined;
	const { key, decision, expiresAt } = value as Partial<StoredEntry>;
	if (typeof key !== 'string' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
	if (typeof decision !== 'object' || decision === null || typeof decision.action !== 'string') return undefined;
	return { key, decision, expiresAt };
}

/** A lock whose holder crashed is removed after STALE_LOCK_MS, so the key does not stay locked forever. */
async function breakIfAbandoned(lock: string): Promise<void> {
	try {
		if (Date.now() - (await fs.stat(lock)).mtimeMs > STALE_LOCK_MS) await fs.unlink(lock);
	} catch {
		// Released meanwhile, or broken by another process.
	}
}

async function removeQuietly(file: string): Promise<void> {
	try {
		await fs.unlink(file);
	} catch {
		// Already gone.
	}
}

async function unlinkCounted(file: string): Promise<number> {
	await fs.unlink(file);
	return 1;
}

function errorCode(error: unknown): string | undefined {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
