import type { Redis } from 'ioredis';

import type { DecideResult, DecisionStore } from './decisionStore';
import type { ReviewDecision } from './types';

/**
 * SET NX and the read of the loser's answer in one script: Redis runs it atomically, so the winner is decided
 * by Redis alone and a loser always sees the decision that beat it (Redis 6 cannot combine NX with GET).
 */
const DECIDE_ONCE_SCRIPT = `
local stored = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if stored then return false end
return redis.call('GET', KEYS[1])
`;

export interface RedisDecisionStoreOptions {
	/** Prepended to every key, e.g. `symbiotic:approval:`. */
	keyPrefix: string;
	/** How long decisions are kept (they answer "already decided" pages). Default 30 days. */
	retentionMs?: number;
}

const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Shared store for several n8n processes (queue mode). The caller owns and closes the ioredis client. */
export class RedisDecisionStore implements DecisionStore {
	private readonly keyPrefix: string;
	private readonly retentionMs: number;

	constructor(
		private readonly redis: Redis,
		options: RedisDecisionStoreOptions,
	) {
		this.keyPrefix = options.keyPrefix;
		this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
	}

	async decideOnce(key: string, decision: ReviewDecision): Promise<DecideResult> {
		const existing = (await this.redis.eval(
			DECIDE_ONCE_SCRIPT,
			1,
			this.keyPrefix + key,
			JSON.stringify(decision),
			String(this.retentionMs),
		)) as string | null;
		return existing === null ? { won: true } : { won: false, existing: JSON.parse(existing) as ReviewDecision };
	}

	async get(key: string): Promise<ReviewDecision | undefined> {
		const stored = await this.redis.get(this.keyPrefix + key);
		return stored === null ? undefined : (JSON.parse(stored) as ReviewDecision);
	}
}
