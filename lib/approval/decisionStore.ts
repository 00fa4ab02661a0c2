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

/**
 * Single-process store. Atomic because check-and-set runs synchronously on the one JS thread; decisions are lost
 * on restart and invisible to other processes — use the Redis store for queue mode.
 */
export class InMemoryDecisionStore implements DecisionStore {
	private readonly decisions = new Map<string, ReviewDecision>();

	async decideOnce(key: string, decision: ReviewDecision): Promise<DecideResult> {
		const existing = this.decisions.get(key);
		if (existing) return { won: false, existing };
		this.decisions.set(key, decision);
		return { won: true };
	}

	async get(key: string): Promise<ReviewDecision | undefined> {
		return this.decisions.get(key);
	}
}
