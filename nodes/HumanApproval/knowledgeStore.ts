import type { IDataObject, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import { reviewLogSourceId, writeReviewLog, type ReviewLogEntry } from '../../lib/approval/reviewLog';
import { deleteSource } from '../../lib/ingest';
import { createOpenAIEmbedder } from '../../lib/embedding';
import { defaultLanceDbPath, openStore, type StoreConfig } from '../../lib/stores';
import type { Embedder, VectorStore } from '../../lib/types';
import { embedderConfig, MODEL_CREDENTIAL, QDRANT_CREDENTIAL } from '../shared/storeOptions';
import type { RememberSettings } from './reviewState';

type Context = IExecuteFunctions | IWebhookFunctions;

export const KNOWLEDGE_STORE_TIMEOUT_MS = 60_000;

/**
 * Opens the knowledge store "Remember Approved Versions" names (with the node's embedding model, if one is
 * selected, so a store with vectors takes the records), runs `use`, and closes it.
 */
export async function withKnowledgeStore<T>(
	ctx: Context,
	settings: RememberSettings,
	use: (store: VectorStore, embedder: Embedder | undefined) => Promise<T>,
): Promise<T> {
	const config: StoreConfig =
		settings.store === 'qdrant'
			? await qdrantConfig(ctx, settings.collection)
			: { kind: 'lancedb', path: settings.folderPath || defaultLanceDbPath(), table: settings.collection };
	const embedder = ctx.getNode().credentials?.[MODEL_CREDENTIAL]
		? createOpenAIEmbedder(embedderConfig(await ctx.getCredentials(MODEL_CREDENTIAL)))
		: undefined;
	const store = await openStore(config);
	try {
		return await use(store, embedder);
	} finally {
		await store.close();
	}
}

/**
 * Writes the review-log record of a request (pending, or its decision) when the log is on; the review goes on
 * whatever happens here, the result (and a warning in n8n's log) says what did.
 */
export async function logReview(ctx: Context, settings: RememberSettings | undefined, entry: ReviewLogEntry): Promise<IDataObject | undefined> {
	const namespace = settings?.reviewLogNamespace?.trim();
	if (!settings || !namespace) return undefined;
	try {
		const result = await withKnowledgeStore(ctx, settings, async (store, embedder) =>
			writeReviewLog(entry, { store, embedder, namespace, signal: AbortSignal.timeout(KNOWLEDGE_STORE_TIMEOUT_MS) }),
		);
		if (result.error) ctx.logger.warn(`Human Approval: the review log was not written: ${result.error}`);
		return result as unknown as IDataObject;
	} catch (error) {
		ctx.logger.warn(`Human Approval: the review log was not written: ${(error as Error).message}`);
		return { stored: false, namespace, error: (error as Error).message };
	}
}

/** Removes a pending record again when no link could be sent: it would count as a timeout later. */
export async function unlogReview(ctx: Context, settings: RememberSettings | undefined, reviewId: string): Promise<void> {
	const namespace = settings?.reviewLogNamespace?.trim();
	if (!settings || !namespace) return;
	try {
		await withKnowledgeStore(ctx, settings, async (store) => deleteSource(store, namespace, reviewLogSourceId(reviewId)));
	} catch (error) {
		ctx.logger.warn(`Human Approval: the pending review-log record ${reviewLogSourceId(reviewId)} was not removed: ${(error as Error).message}`);
	}
}

async function qdrantConfig(ctx: Context, collection: string): Promise<StoreConfig> {
	const credentials = await ctx.getCredentials(QDRANT_CREDENTIAL);
	return { kind: 'qdrant', url: String(credentials.url ?? ''), apiKey: (credentials.apiKey as string) || undefined, collection };
}
