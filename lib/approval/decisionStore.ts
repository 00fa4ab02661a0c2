import type { ReviewDecision } from './types';

export type DecideResult = { won: true } | { won: false; existing: ReviewDecision };

/**
 * Where decisions live. `decideOnce` must be atomic: of any number of concurrent calls for one key, exactly one
 * wins and every other one gets the winner's decision back.
 */
export interface DecisionStore {
	decideOnce(key: string, decision: ReviewDecision): Promise<DecideResult>;
	get(key: string): Promise<ReviewDecision | undefined>;
}

export interface InMemoryDecisionStoreOptions {
	/** How long a decision is kept unless `decideOnce` says otherwise. Default 30 days, as in the Redis store. */
	retentionMs?: number;
	/** The clock, in epoch milliseconds; tests inject one. */
	now?: () => number;
}

const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Single-process store. Atomic because check-and-set runs synchronously on the one JS thread; decisions are lost
 * on restart and invisible to other processes — use the Redis store for queue mode. Like Redis keys, entries
 * expire: an expired one reads as absent and is dropped when next looked at or on the next insert, so a
 * long-running process does not keep every review it ever saw.
 */
export class InMemoryDecisionStore implements DecisionStore {
	private readonly decisions = new Map<string, { decision: ReviewDecision; expiresAt: number }>();
	private readonly retentionMs: number;
	private readonly now: () => number;

	constructor(options: InMemoryDecisionStoreOptions = {}) {
		this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
		this.now = options.now ?? Date.now;
	}

	/** `retentionMs` overrides the store's default for this entry: each review's links expire at their own time. */
	async decideOnce(key: string, decision: ReviewDecision, retentionMs = this.retentionMs): Promise<DecideResult> {
		const now = this.now();
		for (const [stored, entry] of this.decisions) if (entry.expiresAt <= now) this.decisions.delete(stored);
		const existing = this.decisions.get(key);
		if (existing) return { won: false, existing: existing.decision };
		this.decisions.set(key, { decision, expiresAt: now + retentionMs });
		return { won: true };
	}

	async get(key: string): Promise<ReviewDecision | undefined> {
		const entry = this.decisions.get(key);
		if (entry && entry.expiresAt <= this.now()) {
			this.decisions.delete(key);
			return undefined;
		}
		return entry?.decision;
	}

	/** Entries held, expired ones not yet dropped included: what the process keeps in memory. */
	get size(): number {
		return this.decisions.size;
	}
}
