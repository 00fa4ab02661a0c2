import path from 'node:path';

import type { Redis } from 'ioredis';
import type { IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import { defaultApprovalFolder, FileDecisionStore, InMemoryDecisionStore, RedisDecisionStore, type DecisionStore } from '../../lib/approval';
import { createRedisClient, DEFAULT_KEY_PREFIX, type RedisClient } from '../../lib/memory';
import { REDIS_CREDENTIAL, redisConfigFromCredential } from '../shared/redisCredential';
import { webhookParameter } from './http';

/** Where a review's decisions are kept, chosen when the request is sent and read back by every webhook call. */
export type DecisionStoreSetting = { kind: 'memory' } | { kind: 'folder'; folder: string } | { kind: 'redis'; keyPrefix: string };

/** A store opened for one request; `close` releases its connection (a no-op for process memory). */
export interface OpenDecisionStore {
	store: DecisionStore;
	close(): Promise<void>;
}

/**
 * Decisions of every waiting Human Approval that keeps them in process memory. Right for one main process only:
 * other webhook processes (queue mode, multi-main) cannot see them, and an "All Must Approve" review still in
 * progress is lost on restart (the reviewers decide again); settled ones have resumed their execution already.
 */
const processDecisions = new InMemoryDecisionStore();

// Decisions answer "already decided" pages: kept while the links are valid and a month after, for late visits.
const RETENTION_AFTER_EXPIRY_MS = 30 * 24 * 60 * 60 * 1000;

export function readDecisionStoreSetting(ctx: IExecuteFunctions): DecisionStoreSetting {
	return decisionStoreSetting(
		ctx.getNodeParameter('decisionStore', 0),
		ctx.getNodeParameter('keyPrefix', 0, ''),
		ctx.getNodeParameter('decisionFolder', 0, ''),
	);
}

/** The same setting read by the front door, which has no item: a Key Prefix expression falls back to the default. */
export function readDecisionStoreSettingInWebhook(ctx: IWebhookFunctions): DecisionStoreSetting {
	return decisionStoreSetting(
		webhookParameter(ctx, 'decisionStore', 'folder'),
		webhookParameter(ctx, 'keyPrefix', ''),
		webhookParameter(ctx, 'decisionFolder', ''),
	);
}

function decisionStoreSetting(kind: unknown, keyPrefix: unknown, folder: unknown): DecisionStoreSetting {
	if (kind === 'redis') return { kind: 'redis', keyPrefix: String(keyPrefix ?? '').trim() || DEFAULT_KEY_PREFIX };
	if (kind === 'folder') return { kind: 'folder', folder: path.resolve(String(folder ?? '').trim() || defaultApprovalFolder()) };
	return { kind: 'memory' };
}

/**
 * Opens the store of one review. For Redis that is a connection of its own per call, closed by `close`: a
 * reviewer's click is rare, so a connect costs nothing noticeable, and no client outlives the request. Fails with
 * the lib's MemoryConnectionError (naming host:port and the cause) when Redis cannot be reached.
 */
export async function openDecisionStore(
	ctx: IExecuteFunctions | IWebhookFunctions,
	setting: DecisionStoreSetting | undefined,
	linksExpireAt: Date,
): Promise<OpenDecisionStore> {
	const retentionMs = Math.max(0, linksExpireAt.getTime() - Date.now()) + RETENTION_AFTER_EXPIRY_MS;
	if (setting?.kind === 'folder') {
		const files = new FileDecisionStore({ folder: setting.folder, retentionMs });
		return { store: files, close: async () => {} };
	}
	if (setting?.kind !== 'redis') {
		const store: DecisionStore = {
			decideOnce: (key, decision) => processDecisions.decideOnce(key, decision, retentionMs),
			get: (key) => processDecisions.get(key),
		};
		return { store, close: async () => {} };
	}
	const client = await createRedisClient(redisConfigFromCredential(await ctx.getCredentials(REDIS_CREDENTIAL)));
	const store = new RedisDecisionStore(
		// A Cluster client has the same `eval` and `get` (each call touches one key), the type names Redis only.
		client as Redis,
		{ keyPrefix: `${setting.keyPrefix}:approval:`, retentionMs },
	);
	return { store, close: async () => await closeClient(client) };
}

/** QUIT lets pending replies arrive; when the connection is already broken it fails, and the socket is dropped. */
async function closeClient(client: RedisClient): Promise<void> {
	try {
		await client.quit();
	} catch {
		client.disconnect();
	}
}
