/**
 * Conversation memory inside the n8n process, for trying the pack without a Redis server.
 * Single n8n process only, lost on restart: queue-mode workers and restarts each see their own, empty memory.
 * Semantics match the Redis backend (trim, TTL refreshed on every write, facts merge), so a workflow built
 * on it behaves the same once switched to Redis.
 */
import { checkNamespace } from '../namespace';
import { InputError } from '../types';
import { buildHistory, messagesToRead, toStoredMessage } from './history';
import {
	checkFactsUpdate,
	checkHistoryOptions,
	checkKeyPrefix,
	checkMessages,
	checkRetention,
	normalizeSession,
} from './input';
import type {
	AppendResult,
	Facts,
	FactsUpdate,
	History,
	HistoryOptions,
	ListSessionsOptions,
	MemoryBackend,
	MessageInput,
	RetentionPolicy,
	SessionListing,
	SessionRef,
	SessionTtl,
	StoredMessage,
} from './types';

interface InProcessSession {
	messages: StoredMessage[];
	facts: Facts;
	/** Epoch ms; `null` = kept forever. */
	expiresAt: number | null;
}

/** Sessions by `prefix NUL namespace NUL sessionId`. */
export type InProcessSessions = Map<string, InProcessSession>;

/** The store every node execution of this process shares, so memory survives between executions. */
const processWideSessions: InProcessSessions = new Map();

/** Expired sessions nobody reads again are swept on writes, at most this often. */
const SWEEP_INTERVAL_MS = 60_000;
const DEFAULT_LIST_LIMIT = 100;

export interface InProcessMemoryOptions {
	keyPrefix?: string;
	retention?: Partial<RetentionPolicy>;
	/** Defaults to the process-wide store; tests pass their own. */
	sessions?: InProcessSessions;
	/** Clock, epoch ms. */
	now?: () => number;
}

/** Deep copy through JSON, exactly what a round trip through Redis does to a value. */
function jsonCopy<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}

export class InProcessMemoryBackend implements MemoryBackend {
	readonly description = 'in-process (single n8n process only, lost on restart)';
	private readonly keyPrefix: string;
	private readonly retention: RetentionPolicy;
	private readonly sessions: InProcessSessions;
	private readonly now: () => number;
	private lastSweep = 0;

	constructor(options: InProcessMemoryOptions = {}) {
		this.keyPrefix = checkKeyPrefix(options.keyPrefix);
		this.retention = checkRetention(options.retention);
		this.sessions = options.sessions ?? processWideSessions;
		this.now = options.now ?? Date.now;
	}

	async appendMessages(session: SessionRef, messages: MessageInput[]): Promise<AppendResult> {
		const key = this.keyOf(session);
		checkMessages(messages);
		const now = new Date(this.now());
		const entry = this.writable(key);
		entry.messages.push(...messages.map((message) => jsonCopy(toStoredMessage(message, now))));
		if (this.retention.maxMessages > 0 && entry.messages.length > this.retention.maxMessages) {
			entry.messages.splice(0, entry.messages.length - this.retention.maxMessages);
		}
		return { storedMessages: entry.messages.length };
	}

	async getHistory(session: SessionRef, options: HistoryOptions = {}): Promise<History> {
		const key = this.keyOf(session);
		checkHistoryOptions(options);
		const messages = this.readable(key)?.messages ?? [];
		const toRead = messagesToRead(options);
		const tail = toRead === undefined ? messages : messages.slice(-toRead);
		return buildHistory(jsonCopy(tail), messages.length, options);
	}

	async setFacts(session: SessionRef, update: FactsUpdate): Promise<Facts> {
		const key = this.keyOf(session);
		checkFactsUpdate(update);
		const entry = this.writable(key);
		for (const [name, value] of Object.entries(update)) {
			if (value === null) delete entry.facts[name];
			else entry.facts[name] = value;
		}
		// As in Redis, a session left with nothing in it does not exist.
		if (entry.messages.length === 0 && Object.keys(entry.facts).length === 0) this.sessions.delete(key);
		return { ...entry.facts };
	}

	async getFacts(session: SessionRef): Promise<Facts> {
		return { ...this.readable(this.keyOf(session))?.facts };
	}

	async clearSession(session: SessionRef): Promise<boolean> {
		const key = this.keyOf(session);
		const existed = this.readable(key) !== undefined;
		this.sessions.delete(key);
		return existed;
	}

	async clearMessages(session: SessionRef): Promise<boolean> {
		const key = this.keyOf(session);
		const entry = this.readable(key);
		if (!entry || entry.messages.length === 0) return false;
		entry.messages = [];
		// As in Redis, a session left with nothing in it does not exist.
		if (Object.keys(entry.facts).length === 0) this.sessions.delete(key);
		return true;
	}

	async getTtl(session: SessionRef): Promise<SessionTtl> {
		const entry = this.readable(this.keyOf(session));
		if (!entry) return { exists: false, expiresInMs: null };
		return { exists: true, expiresInMs: entry.expiresAt === null ? null : entry.expiresAt - this.now() };
	}

	async listSessions(options: ListSessionsOptions): Promise<SessionListing> {
		const namespace = checkNamespace(options.namespace);
		const limit = options.limit ?? DEFAULT_LIST_LIMIT;
		if (!Number.isInteger(limit) || limit < 1) {
			throw new InputError(`Limit must be a whole number of at least 1, got ${limit}`, 'limit');
		}
		const offset = options.cursor ? Number(options.cursor) : 0;
		if (!Number.isInteger(offset) || offset < 0) {
			throw new InputError(`Cursor "${options.cursor}" is not one returned by List Sessions: leave it empty to start over`, 'cursor');
		}
		const start = `${this.keyPrefix}\u0000${namespace}\u0000`;
		const sessionIds = [...this.sessions.keys()]
			.filter((key) => key.startsWith(start) && this.readable(key))
			.map((key) => key.slice(start.length))
			.sort();
		const page = sessionIds.slice(offset, offset + limit);
		return { sessionIds: page, nextCursor: offset + limit < sessionIds.length ? String(offset + limit) : null };
	}

	async close(): Promise<void> {
		// Nothing to release: the sessions outlive this handle by design.
	}

	private keyOf(session: SessionRef): string {
		const { namespace, sessionId } = normalizeSession(session);
		return `${this.keyPrefix}\u0000${namespace}\u0000${sessionId}`;
	}

	/** The live session, or `undefined` when absent or expired (an expired one is dropped on the way). */
	private readable(key: string): InProcessSession | undefined {
		const entry = this.sessions.get(key);
		if (entry && entry.expiresAt !== null && entry.expiresAt <= this.now()) {
			this.sessions.delete(key);
			return undefined;
		}
		return entry;
	}

	/** The session to write to, created if needed, with its TTL refreshed as every write does. */
	private writable(key: string): InProcessSession {
		this.sweepExpired();
		const entry = this.readable(key) ?? { messages: [], facts: {}, expiresAt: null };
		entry.expiresAt = this.retention.ttlMs > 0 ? this.now() + this.retention.ttlMs : null;
		this.sessions.set(key, entry);
		return entry;
	}

	private sweepExpired(): void {
		if (this.now() - this.lastSweep < SWEEP_INTERVAL_MS) return;
		this.lastSweep = this.now();
		for (const key of this.sessions.keys()) this.readable(key);
	}
}
