import { chunkDocument, type ChunkingOptions } from './chunking';
import { chunkId, sha256Hex } from './hashing';
import { checkNamespace } from './namespace';
import type { Chunk, Embedder, LoadedDocument, SourceSummary, StoredChunk, StoredVersion, UserMetadata, VectorStore } from './types';
import { InputError } from './types';

export interface IngestOptions {
	store: VectorStore;
	/** Without one, chunks are stored for keyword search only. */
	embedder?: Embedder;
	namespace: string;
	chunking?: ChunkingOptions;
	/** The user's metadata, attached to every chunk and filterable at search time. */
	metadata?: UserMetadata;
	signal?: AbortSignal;
	now?: () => Date;
}

export type DocumentStatus = 'created' | 'updated' | 'unchanged' | 'failed';

export interface DocumentResult {
	sourceId: string;
	title?: string;
	url?: string;
	status: DocumentStatus;
	/** Fingerprint of the stored version (text + chunking + embedding model). */
	documentHash?: string;
	/** Chunks of the current version. */
	chunks: number;
	/** Chunks sent to the embedding model by this run. */
	embedded: number;
	/** Chunks whose vectors were reused from an earlier version instead of being embedded again. */
	reused: number;
	/** Stale chunks (earlier versions) deleted by this run. */
	deleted: number;
	error?: string;
}

/** Chunks embedded together: large enough for few requests, small enough that one failure costs few documents. */
const EMBED_GROUP_CHUNKS = 256;
/** Rows per store write, so a very long document does not become one huge request. */
const UPSERT_SLICE = 500;

interface PlannedDocument {
	doc: LoadedDocument;
	result: DocumentResult;
	/** Present when the version must be (re)written. */
	chunks?: Chunk[];
	vectors?: Map<string, number[]>;
	/** Earlier versions to delete once the current one is complete. */
	hasStaleVersions: boolean;
	/** The complete version stored before this run, which a failed write must leave alone. */
	previousVersion?: string;
	/** Whether any of the new chunks were sent to the store (and may need removing if the document fails). */
	written?: boolean;
}

/**
 * Ingests documents incrementally and idempotently.
 *
 * - A document whose version is already completely stored costs no embedding call and no write.
 * - A changed document gets its new chunks written first and its stale chunks deleted after; if the write
 *   fails mid-way, what was written of the new version is removed again, so search sees the previous version,
 *   never a mix of both. Chunk ids are deterministic, so a re-run converges.
 * - Chunks whose text is unchanged keep their stored vectors instead of being embedded again.
 * - One document failing does not fail the others: its result says `failed` with the reason.
 */
export async function ingestDocuments(docs: LoadedDocument[], options: IngestOptions): Promise<DocumentResult[]> {
	const results: DocumentResult[] = new Array(docs.length);
	// The same source twice in one run (two items with one Source ID): later ones must replace earlier ones,
	// so each wave holds a source at most once and waves run in order.
	for (const wave of wavesOfDistinctSources(docs)) {
		const waveResults = await ingestDistinctSources(wave.map((index) => docs[index]), options);
		wave.forEach((docIndex, position) => (results[docIndex] = waveResults[position]));
	}
	return results;
}

function wavesOfDistinctSources(docs: LoadedDocument[]): number[][] {
	const waves: number[][] = [];
	const seen = new Map<string, number>();
	docs.forEach((doc, index) => {
		const wave = seen.get(doc.sourceId) ?? 0;
		seen.set(doc.sourceId, wave + 1);
		(waves[wave] ??= []).push(index);
	});
	return waves;
}

async function ingestDistinctSources(docs: LoadedDocument[], options: IngestOptions): Promise<DocumentResult[]> {
	const namespace = checkNamespace(options.namespace);
	const ingestedAt = (options.now?.() ?? new Date()).toISOString();
	const plans = await planDocuments(docs, namespace, ingestedAt, options);

	for (const group of embeddingGroups(plans)) {
		options.signal?.throwIfAborted();
		await embedGroup(group, namespace, options);
	}

	await writeChunks(plans, options);
	for (const plan of plans) {
		options.signal?.throwIfAborted();
		if (plan.result.status === 'failed' && plan.written) await removePartialVersion(plan, namespace, options);
		if (plan.result.status === 'failed' || !plan.hasStaleVersions) continue;
		try {
			// Only now that the new version is complete may the old one go.
			plan.result.deleted = await options.store.deleteSource(namespace, plan.doc.sourceId, plan.result.documentHash);
		} catch (error) {
			rethrowIfAborted(error, options.signal);
			markFailed(plan, error);
		}
	}
	return plans.map((plan) => plan.result);
}

export async function deleteSource(
	store: VectorStore,
	namespace: string,
	sourceId: string,
): Promise<{ sourceId: string; deleted: number }> {
	if (!sourceId?.trim()) throw new InputError('Source ID is empty: give the ID (URL or file name) of the source to delete', 'sourceId');
	return { sourceId, deleted: await store.deleteSource(checkNamespace(namespace), sourceId) };
}

export async function listSources(
	store: VectorStore,
	namespace: string,
	options: { limit?: number; offset?: number } = {},
): Promise<SourceSummary[]> {
	return store.listSources(checkNamespace(namespace), options);
}

/**
 * Plans a wave of documents (distinct sources). Fingerprints come first, so one store lookup answers for
 * every source of the wave: an unchanged re-run then costs a few store requests in all, not one per document.
 */
async function planDocuments(docs: LoadedDocument[], namespace: string, ingestedAt: string, options: IngestOptions): Promise<PlannedDocument[]> {
	const { signal } = options;
	signal?.throwIfAborted();
	// Per document: its fingerprint, or its failed plan (no text).
	const fingerprinted = docs.map((doc) => guard(() => documentFingerprint(doc, options), doc, signal));
	const lookedUp = docs.filter((_, index) => typeof fingerprinted[index] === 'string');
	let stored: Map<string, StoredVersion[]>;
	try {
		stored = lookedUp.length > 0 ? await options.store.versions(namespace, lookedUp.map((doc) => doc.sourceId)) : new Map();
	} catch (error) {
		rethrowIfAborted(error, signal);
		// Without the stored versions no document can be decided: each one fails with the lookup's reason.
		return docs.map((doc, index) => {
			const documentHash = fingerprinted[index];
			return typeof documentHash === 'string' ? failedPlan(doc, error) : documentHash;
		});
	}
	return docs.map((doc, index) => {
		const documentHash = fingerprinted[index];
		if (typeof documentHash !== 'string') return documentHash;
		signal?.throwIfAborted();
		return guard(() => planDocument(doc, documentHash, stored.get(doc.sourceId) ?? [], namespace, ingestedAt, options), doc, signal);
	});
}

function documentFingerprint(doc: LoadedDocument, options: IngestOptions): string {
	if (!doc.sourceId?.trim()) {
		// Documents are replaced by source: two without an ID would silently overwrite each other.
		throw new InputError('A document has no Source ID: give each one a stable ID (its URL, file name or CRM ID)', 'sourceId');
	}
	if (!doc.text.trim()) throw new InputError(`Document "${doc.sourceId}" has no text to ingest`, 'text');
	return versionFingerprint(doc, options);
}

/** Decides from the fingerprint before chunking: an unchanged document then costs no chunking and no write. */
function planDocument(
	doc: LoadedDocument,
	documentHash: string,
	versions: StoredVersion[],
	namespace: string,
	ingestedAt: string,
	options: IngestOptions,
): PlannedDocument {
	const result: DocumentResult = {
		sourceId: doc.sourceId,
		title: doc.title,
		url: doc.url,
		status: 'created',
		chunks: 0,
		embedded: 0,
		reused: 0,
		deleted: 0,
	};
	result.documentHash = documentHash;
	const current = versions.find((version) => version.documentHash === documentHash);
	const hasStaleVersions = versions.some((version) => version.documentHash !== documentHash);
	const previousVersion = versions.find((version) => version !== current && version.storedChunks >= version.expectedChunks)?.documentHash;
	if (versions.length > 0) result.status = 'updated';
	if (current && current.storedChunks >= current.expectedChunks) {
		// Complete already: at most an interrupted run's stale versions remain to be cleaned up.
		result.chunks = current.expectedChunks;
		if (!hasStaleVersions) result.status = 'unchanged';
		return { doc, result, hasStaleVersions };
	}
	const chunks = fingerprint(
		chunkDocument(doc, { ...options.chunking, namespace, ingestedAt, extra: options.metadata ?? {} }),
		documentHash,
		options.embedder?.model,
	);
	result.chunks = chunks.length;
	return { doc, result, chunks, hasStaleVersions, previousVersion };
}

/**
 * A version is the text plus everything stored with its chunks: a new chunk size, embedding model, title or
 * metadata label must count as a change, or the store would keep chunks that no longer match. (Metadata-only
 * changes cost no embedding: the chunk texts are the same, so their vectors are reused.)
 */
function versionFingerprint(doc: LoadedDocument, options: IngestOptions): string {
	const { chunkSize, chunkOverlap } = options.chunking ?? {};
	const metadata = { ...doc.metadata, ...options.metadata };
	const sortedMetadata = Object.keys(metadata)
		.sort()
		.map((key) => [key, metadata[key]]);
	return sha256Hex(
		JSON.stringify([
			sha256Hex(doc.text),
			chunkSize ?? null,
			chunkOverlap ?? null,
			options.embedder?.model ?? null,
			doc.title ?? null,
			doc.url ?? null,
			sortedMetadata,
		]),
	);
}

/**
 * Re-keys chunks to the version fingerprint. Content hashes include the embedding model so that a vector
 * is only ever reused for the same text embedded by the same model.
 */
function fingerprint(chunks: Chunk[], documentHash: string, model: string | undefined): Chunk[] {
	return chunks.map((chunk) => {
		const { namespace, sourceId, chunkIndex } = chunk.metadata;
		return {
			...chunk,
			id: chunkId(namespace, sourceId, documentHash, chunkIndex),
			metadata: {
				...chunk.metadata,
				documentHash,
				contentHash: sha256Hex(`${model ?? 'keyword'}\n${chunk.text}`),
			},
		};
	});
}

/** Splits the documents that need embedding into groups of about EMBED_GROUP_CHUNKS chunks. */
function* embeddingGroups(plans: PlannedDocument[]): Generator<PlannedDocument[]> {
	let group: PlannedDocument[] = [];
	let size = 0;
	for (const plan of plans) {
		if (!plan.chunks || plan.result.status === 'failed') continue;
		group.push(plan);
		size += plan.chunks.length;
		if (size >= EMBED_GROUP_CHUNKS) {
			yield group;
			group = [];
			size = 0;
		}
	}
	if (group.length > 0) yield group;
}

async function embedGroup(group: PlannedDocument[], namespace: string, options: IngestOptions): Promise<void> {
	const { embedder, store, signal } = options;
	if (!embedder) return;
	try {
		const chunks = group.flatMap((plan) => plan.chunks ?? []);
		const known = await store.vectorsByContentHash(namespace, [...new Set(chunks.map((chunk) => chunk.metadata.contentHash))]);
		const missing = [...new Map(chunks.filter((chunk) => !known.has(chunk.metadata.contentHash)).map((chunk) => [chunk.metadata.contentHash, chunk.text]))];
		const embedded = missing.length > 0 ? await embedder.embed(missing.map(([, text]) => text), signal) : [];
		missing.forEach(([hash], index) => known.set(hash, embedded[index]));
		const newlyEmbedded = new Set(missing.map(([hash]) => hash));
		for (const plan of group) {
			plan.vectors = known;
			for (const chunk of plan.chunks ?? []) {
				if (newlyEmbedded.delete(chunk.metadata.contentHash)) plan.result.embedded++;
				else plan.result.reused++;
			}
		}
	} catch (error) {
		rethrowIfAborted(error, signal);
		for (const plan of group) markFailed(plan, error);
	}
}

/**
 * Writes the new chunks of many documents in store calls of about UPSERT_SLICE rows: one call per small
 * document would make a first ingest pay the store's per-write cost hundreds of times. A failed call fails
 * every document with rows in it; their previous versions are untouched, since new chunks have new ids.
 */
async function writeChunks(plans: PlannedDocument[], options: IngestOptions): Promise<void> {
	const { store, signal } = options;
	let rows: StoredChunk[] = [];
	let writers = new Set<PlannedDocument>();
	const flush = async () => {
		if (rows.length === 0) return;
		signal?.throwIfAborted();
		try {
			await store.upsert(rows, signal);
		} catch (error) {
			rethrowIfAborted(error, signal);
			for (const plan of writers) markFailed(plan, error);
		}
		rows = [];
		writers = new Set();
	};
	for (const plan of plans) {
		for (const chunk of plan.chunks ?? []) {
			// A document already failed by an earlier slice must not be half-written by a later one.
			if (plan.result.status === 'failed') break;
			rows.push({ ...chunk, vector: plan.vectors?.get(chunk.metadata.contentHash) });
			writers.add(plan);
			plan.written = true;
			if (rows.length >= UPSERT_SLICE) await flush();
		}
	}
	await flush();
}

/**
 * A document that failed half-way must not be searchable as a mix of its old and new facts: the new version's
 * chunks written so far are removed, leaving the previous complete version (or nothing, for a new document).
 * If even that fails, the next run converges as usual.
 */
async function removePartialVersion(plan: PlannedDocument, namespace: string, options: IngestOptions): Promise<void> {
	try {
		await options.store.deleteSource(namespace, plan.doc.sourceId, plan.previousVersion);
	} catch (error) {
		rethrowIfAborted(error, options.signal);
		plan.result.error += ` (its partly written new version could not be removed either: ${(error as Error).message}; run the ingest again)`;
	}
}

/** Runs one document's planning step; a failure becomes that document's failed plan instead of the wave's. */
function guard<T>(step: () => T, doc: LoadedDocument, signal?: AbortSignal): T | PlannedDocument {
	try {
		return step();
	} catch (error) {
		rethrowIfAborted(error, signal);
		return failedPlan(doc, error);
	}
}

function failedPlan(doc: LoadedDocument, error: unknown): PlannedDocument {
	const plan: PlannedDocument = {
		doc,
		result: { sourceId: doc.sourceId, title: doc.title, url: doc.url, status: 'failed', chunks: 0, embedded: 0, reused: 0, deleted: 0 },
		hasStaleVersions: false,
	};
	markFailed(plan, error);
	return plan;
}

function markFailed(plan: PlannedDocument, error: unknown): void {
	plan.result.status = 'failed';
	plan.result.embedded = 0;
	plan.result.reused = 0;
	plan.result.error = `Could not ingest "${plan.doc.sourceId}": ${(error as Error)?.message ?? String(error)}`;
	plan.chunks = undefined;
}

/** A cancelled execution must stop the whole run, not be reported as one failed document. */
function rethrowIfAborted(error: unknown, signal?: AbortSignal): void {
	if (signal?.aborted) throw error;
}
