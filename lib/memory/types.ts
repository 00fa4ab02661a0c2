/**
 * Contracts of the conversation memory: what a message and a fact look like, and what every backend
 * (Redis, in-process) must do. Both backends pass the same behaviour suite, so the node can switch between
 * them without the workflow noticing anything but durability.
 */

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** What a caller appends. `at` defaults to the time of the append. */
export interface MessageInput {
	role: MessageRole;
	content: string;
	metadata?: Record<string, unknown>;
	/** ISO-8601 time the message was sent. */
	at?: string;
}

/** What the store holds and returns: `at` is always set. */
export interface StoredMessage extends MessageInput {
	at: string;
}

/** A fact value is a scalar; `null` in `setFacts` deletes the field. */
export type FactValue = string | number | boolean;
export type Facts = Record<string, FactValue>;
export type FactsUpdate = Record<string, FactValue | null>;

/** Identifies one conversation: a namespace (one per client or brand) and a contact's session id. */
export interface SessionRef {
	namespace: string;
	sessionId: string;
}

export interface RetentionPolicy {
	/** Time to live of a session after its last write, in milliseconds; 0 keeps it forever. */
	ttlMs: number;
	/** Newest messages kept per session; 0 keeps all. */
	maxMessages: number;
}

export interface HistoryOptions {
	/** Only the newest N messages. */
	lastN?: number;
	/** Only the newest messages whose transcript fits in this many tokens (cl100k_base). */
	tokenBudget?: number;
}

export interface History {
	/** Oldest first. */
	messages: StoredMessage[];
	/** `User: …\nAssistant: …`, oldest first, ready to paste into a prompt. */
	transcript: string;
	/** Tokens of `transcript`. */
	transcriptTokens: number;
	/** Messages stored but left out by `lastN` or `tokenBudget`. */
	omittedMessages: number;
}

export interface AppendResult {
	/** Messages in the session after the append and trim. */
	storedMessages: number;
}

export interface ListSessionsOptions {
	namespace: string;
	/** Stop once at least this many sessions are found (one scan page more may come back). */
	limit?: number;
	/** `nextCursor` of the previous call; omit to start. */
	cursor?: string;
}

export interface SessionListing {
	sessionIds: string[];
	/** Pass back to continue; `null` when the whole namespace was scanned. */
	nextCursor: string | null;
}

export interface SessionTtl {
	exists: boolean;
	/** Milliseconds until the session expires; `null` when it is kept forever or does not exist. */
	expiresInMs: number | null;
}

export interface MemoryBackend {
	/** Human-readable kind, shown on output items (e.g. `redis 127.0.0.1:6379`). */
	readonly description: string;
	/** Appends in order, trims to `maxMessages` and refreshes the TTL, all at once. */
	appendMessages(session: SessionRef, messages: MessageInput[]): Promise<AppendResult>;
	getHistory(session: SessionRef, options?: HistoryOptions): Promise<History>;
	/** Merges `update` into the session's facts (`null` deletes a field); returns all facts after the merge. */
	setFacts(session: SessionRef, update: FactsUpdate): Promise<Facts>;
	getFacts(session: SessionRef): Promise<Facts>;
	/** Deletes the session's messages and facts; `true` when there was something to delete. */
	clearSession(session: SessionRef): Promise<boolean>;
	/** Deletes the session's messages in one step, keeping its facts as they are; `true` when there were some. */
	clearMessages(session: SessionRef): Promise<boolean>;
	listSessions(options: ListSessionsOptions): Promise<SessionListing>;
	getTtl(session: SessionRef): Promise<SessionTtl>;
	close(): Promise<void>;
}

/** Redis could not be reached or refused us; the message names host:port and the cause, never a password. */
export class MemoryConnectionError extends Error {
	constructor(
		message: string,
		readonly endpoint: string,
	) {
		super(message);
		this.name = 'MemoryConnectionError';
	}
}
