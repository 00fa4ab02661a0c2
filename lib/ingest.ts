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

/**
 * Documents are chunked, embedded and written in windows of whole documents: the first window is one default
 * batch (256), so the first request leaves while later documents are still being chunked and a small update is
 * one request; later ones are large enough to fill the embedder's batches and requests in flight (an embedder
 * keeps its own bound on requests in flight).
 */
const FIRST_WINDOW_CHUNKS = 256;
const MAX_WINDOW_CHUNKS = 1024;
/**
 * Chunks chunked but not yet written, over all windows: enough work queued for the embedder to keep every
 * request slot busy, and a bound on memory (texts and vectors) whatever the number of documents in one call.
 */
const MAX_PENDING_CHUNKS = 4096;
/** Longest stretch of chunking (CPU) before answers are read and new requests sent. */
const YIELD_EVERY_MS = 10;
/** Rows per store write, so a very long document does not become one huge request. */
const UPSERT_SLICE = 500;

interface PlannedDocument {
	doc: LoadedDocument;
	result: DocumentResult;
	/** Whether the version must be (re)written: chunked, embedded and stored. */
	toWrite: boolean;
	/** Present while the version is being written. */
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
 * - Chunks whose text is unchanged keep their stored vectors instead of being embedded again, and a chunk text
 *   that several documents of the run share is embedded once.
 * - Chunking, embedding and writing overlap: the chunks of many documents are embedded together, with the
 *   embedder's requests in flight, while earlier windows are written.
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
	const plans = await planDocuments(docs, namespace, options);
	await writeNewVersions(
		plans.filter((plan) => plan.toWrite && plan.result.status !== 'failed'),
		namespace,
		ingestedAt,
		options,
	);
	// Complete documents that an interrupted run left with stale versions.
	for (const plan of plans) {
		if (plan.toWrite) continue;
		options.signal?.throwIfAborted();
		await finishDocument(plan, namespace, options);
	}
	return plans.map((plan) => plan.result);
}

/** Once a document's write is over: a half-written new version goes again, a complete one replaces the old. */
async function finishDocument(plan: PlannedDocument, namespace: string, options: IngestOptions): Promise<void> {
	if (plan.result.status === 'failed' && plan.written) await removePartialVersion(plan, namespace, options);
	if (plan.result.status === 'failed' || !plan.hasStaleVersions) return;
	try {
		// Only now that the new version is complete may the old one go.
		plan.result.deleted = await options.store.deleteSource(namespace, plan.doc.sourceId, plan.result.documentHash);
	} catch (error) {
		rethrowIfAborted(error, options.signal);
		markFailed(plan, error);
	}
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
async function planDocuments(docs: LoadedDocument[], namespace: string, options: IngestOptions): Promise<PlannedDocument[]> {
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
		return guard(() => planDocument(doc, documentHash, stored.get(doc.sourceId) ?? []), doc, signal);
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
function planDocument(doc: LoadedDocument, documentHash: string, versions: StoredVersion[]): PlannedDocument {
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
		return { doc, result, toWrite: false, hasStaleVersions };
	}
	// Chunked later, window by window (see writeNewVersions), so chunks exist only while being written.
	return { doc, result, toWrite: true, hasStaleVersions, previousVersion };
}

/** Chunks a planned document; a document that cannot be chunked fails alone. */
function chunkPlanned(plan: PlannedDocument, namespace: string, ingestedAt: string, options: IngestOptions): void {
	try {
		plan.chunks = fingerprint(
			chunkDocument(plan.doc, { ...options.chunking, namespace, ingestedAt, extra: options.metadata ?? {} }),
			plan.result.documentHash as string,
			options.embedder?.model,
		);
		plan.result.chunks = plan.chunks.length;
	} catch (error) {
		rethrowIfAborted(error, options.signal);
		markFailed(plan, error);
	}
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

/**
 * Writes the new versions of documents as a pipeline of windows (see FIRST_WINDOW_CHUNKS): while the vectors of
 * one window are looked up and embedded, the next documents are chunked and earlier windows are written, in
 * order. At most MAX_PENDING_CHUNKS chunks wait between chunking and writing. Each document is finished (a
 * failed one's partial version removed, a complete one's stale versions deleted) as soon as its window is
 * written. Cancelling waits for what is in flight to settle, then throws; nothing is written after it.
 */
async function writeNewVersions(plans: PlannedDocument[], namespace: string, ingestedAt: string, options: IngestOptions): Promise<void> {
	const { signal } = options;
	/** Vectors being looked up or embedded for windows not yet written: later windows share them. */
	const inFlight = new Map<string, Promise<number[]>>();
	let writing: Promise<void> = Promise.resolve();
	/** Each dispatched window's end, oldest first, for waiting when too many chunks are pending. */
	const windowsWritten: Array<Promise<void>> = [];
	let pendingChunks = 0;
	let window: PlannedDocument[] = [];
	let windowChunks = 0;
	let windowLimit = FIRST_WINDOW_CHUNKS;

	const dispatch = () => {
		if (window.length === 0) return;
		const plansOfWindow = window;
		const chunkCount = windowChunks;
		window = [];
		windowChunks = 0;
		windowLimit = Math.min(2 * windowLimit, MAX_WINDOW_CHUNKS);
		const owned = new Map<string, Promise<number[]>>();
		const vectorsAttached = attachVectors(plansOfWindow, inFlight, owned, namespace, options);
		// Its failure is the chain's (below); this only keeps it from counting as unhandled if the chain stopped before.
		vectorsAttached.catch(() => undefined);
		writing = writing
			.then(() => vectorsAttached)
			.then(() => writeWindow(plansOfWindow, namespace, options))
			.finally(() => {
				pendingChunks -= chunkCount;
				// Written now: later windows find these vectors in the store.
				for (const [hash, vector] of owned) if (inFlight.get(hash) === vector) inFlight.delete(hash);
			});
		windowsWritten.push(writing);
	};

	try {
		let lastYield = performance.now();
		for (const plan of plans) {
			signal?.throwIfAborted();
			chunkPlanned(plan, namespace, ingestedAt, options);
			if (!plan.chunks) continue;
			// Windows stay within their size (a multiple of common batch sizes), so no request carries a few leftovers.
			if (windowChunks > 0 && windowChunks + plan.chunks.length > windowLimit) dispatch();
			window.push(plan);
			windowChunks += plan.chunks.length;
			pendingChunks += plan.chunks.length;
			if (windowChunks >= windowLimit) dispatch();
			while (pendingChunks > MAX_PENDING_CHUNKS && windowsWritten.length > 0) await windowsWritten.shift();
			if (performance.now() - lastYield > YIELD_EVERY_MS) {
				// Chunking is CPU work: let answers in and new requests out.
				await new Promise((resolve) => setImmediate(resolve));
				lastYield = performance.now();
			}
		}
		dispatch();
	} catch (error) {
		// No request or write of this call may outlive it.
		await writing.catch(() => undefined);
		throw error;
	}
	await writing;
}

/**
 * Gives each document of a window its vectors: shared with windows still in flight, else from the store (text
 * embedded before by the same model), else embedded, each distinct text once. A document whose vectors could
 * not all be had fails alone; the lookup and the embedding are registered in `inFlight` at once, so windows
 * dispatched meanwhile wait for them instead of embedding the same texts again.
 */
async function attachVectors(
	plans: PlannedDocument[],
	inFlight: Map<string, Promise<number[]>>,
	owned: Map<string, Promise<number[]>>,
	namespace: string,
	options: IngestOptions,
): Promise<void> {
	const { embedder, store, signal } = options;
	if (!embedder) return;
	const wanted = new Map<string, Chunk>();
	const settle = new Map<string, { resolve: (vector: number[]) => void; reject: (error: unknown) => void }>();
	const vectorOf = new Map<string, Promise<number[]>>();
	for (const plan of plans) {
		for (const chunk of plan.chunks ?? []) {
			const hash = chunk.metadata.contentHash;
			if (vectorOf.has(hash)) continue;
			let vector = inFlight.get(hash);
			if (!vector) {
				vector = new Promise<number[]>((resolve, reject) => settle.set(hash, { resolve, reject }));
				vector.catch(() => undefined);
				wanted.set(hash, chunk);
				inFlight.set(hash, vector);
				owned.set(hash, vector);
			}
			vectorOf.set(hash, vector);
		}
	}
	const embeddedHere = new Set<string>();
	try {
		const known = wanted.size > 0 ? await store.vectorsByContentHash(namespace, [...wanted.keys()]) : new Map<string, number[]>();
		for (const [hash, vector] of known) settle.get(hash)?.resolve(vector);
		const missing = [...wanted].filter(([hash]) => !known.has(hash));
		// The chunker counted each text's tokens already: the OpenAI-compatible embedder takes them instead of counting again.
		const embed = embedder.embed.bind(embedder) as EmbedWithTokenCounts;
		const embedded =
			missing.length > 0
				? await embed(
						missing.map(([, chunk]) => chunk.text),
						signal,
						missing.map(([, chunk]) => chunk.tokens),
					)
				: [];
		missing.forEach(([hash], index) => {
			embeddedHere.add(hash);
			settle.get(hash)?.resolve(embedded[index]);
		});
	} catch (error) {
		for (const { reject } of settle.values()) reject(error);
	}
	for (const plan of plans) {
		const hashes = [...new Set((plan.chunks ?? []).map((chunk) => chunk.metadata.contentHash))];
		const settled = await Promise.allSettled(hashes.map((hash) => vectorOf.get(hash) as Promise<number[]>));
		const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
		if (failure) {
			rethrowIfAborted(failure.reason, signal);
			markFailed(plan, failure.reason);
			continue;
		}
		plan.vectors = new Map(hashes.map((hash, index) => [hash, (settled[index] as PromiseFulfilledResult<number[]>).value]));
		for (const chunk of plan.chunks ?? []) {
			// The first chunk with a text this window embedded counts as embedded; repeats and stored vectors are reused.
			if (embeddedHere.delete(chunk.metadata.contentHash)) plan.result.embedded++;
			else plan.result.reused++;
		}
	}
}

/** `Embedder.embed`, with each text's token count as an optional third argument; embedders that do not use it ignore it. */
type EmbedWithTokenCounts = (texts: string[], signal?: AbortSignal, tokenCounts?: number[]) => Promise<number[][]>;

/** Writes one window's documents, finishes each, and lets go of their chunks and vectors. */
async function writeWindow(plans: PlannedDocument[], namespace: string, options: IngestOptions): Promise<void> {
	await writeChunks(plans, options);
	for (const plan of plans) {
		options.signal?.throwIfAborted();
		await finishDocument(plan, namespace, options);
		plan.chunks = undefined;
		plan.vectors = undefined;
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
		toWrite: false,
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
