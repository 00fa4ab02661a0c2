/**
 * Contracts shared by the core library. Nothing here imports n8n: the nodes map their UI parameters onto
 * these shapes, and every module in lib/ can be tested on its own.
 */

/** Scalar values a user may attach to a document and filter on later. */
export type MetadataValue = string | number | boolean | null;
export type UserMetadata = Record<string, MetadataValue | MetadataValue[]>;

/** A source after loading and cleaning, before chunking. */
export interface LoadedDocument {
	/** Stable identity of the source: a canonical URL, a file name or an id the user gives. */
	sourceId: string;
	/** Cleaned text; Markdown-like (headings `#`, lists `-`, tables `|`). */
	text: string;
	title?: string;
	url?: string;
	language?: string;
	description?: string;
	/** Detected type of the original bytes, e.g. `application/pdf`, `text/html`. */
	mimeType: string;
	/** Loader-provided metadata (page count, author…) merged under the user's metadata. */
	metadata: UserMetadata;
	/**
	 * What the user should know about a load that succeeded (a PDF with hardly any text, a file not in UTF-8),
	 * with what to do. Reported beside the result, never stored and not part of the document's fingerprint.
	 */
	warnings?: string[];
}

/** Metadata every stored chunk carries; it is what makes a hit citable and a source replaceable. */
export interface ChunkMetadata {
	sourceId: string;
	namespace: string;
	title?: string;
	url?: string;
	/** Markdown headings above the chunk, outermost first. */
	headingPath: string[];
	chunkIndex: number;
	chunkCount: number;
	/** sha256 of the chunk text (hex). */
	contentHash: string;
	/** sha256 of the whole cleaned document (hex): equal hashes mean an unchanged document. */
	documentHash: string;
	/** ISO-8601 time of the ingest that wrote the chunk. */
	ingestedAt: string;
	/** The user's own metadata, filterable. */
	extra: UserMetadata;
}

export interface Chunk {
	/** Deterministic UUID from (namespace, sourceId, documentHash, chunkIndex). */
	id: string;
	text: string;
	/** Token count of `text` with the chunker's tokenizer. */
	tokens: number;
	metadata: ChunkMetadata;
}

export interface StoredChunk extends Chunk {
	/** Absent in keyword-only stores (no embedding model configured). */
	vector?: number[];
}

/** Turns texts into vectors. One implementation talks to any OpenAI-compatible endpoint. */
export interface Embedder {
	readonly model: string;
	/** Returns one vector per text, in order. Honors the signal (cancelled executions). */
	embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export type FilterOperator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'exists';

/**
 * One condition on chunk metadata. `key` is a field of ChunkMetadata (`sourceId`, `title`, `url`) or a
 * key of the user's metadata (`extra.<key>` or just `<key>`).
 */
export interface FilterCondition {
	key: string;
	op: FilterOperator;
	value?: MetadataValue | MetadataValue[];
}

/** All conditions must hold (AND). */
export type MetadataFilter = FilterCondition[];

export type SearchMode = 'semantic' | 'keyword' | 'hybrid';

export interface StoreSearchQuery {
	namespace: string;
	mode: SearchMode;
	/** Required for semantic and hybrid. */
	vector?: number[];
	/** Required for keyword and hybrid. */
	text?: string;
	topK: number;
	filter?: MetadataFilter;
}

export interface StoreHit {
	chunk: Chunk;
	/** Higher is better. Semantic: cosine similarity; keyword: BM25; hybrid: reciprocal rank fusion. */
	score: number;
}

/** What the store knows of one source: one entry per document version present. */
export interface StoredVersion {
	documentHash: string;
	/** Chunks of this version actually stored. */
	storedChunks: number;
	/** Chunk count the version was written with: stored < expected means an interrupted write. */
	expectedChunks: number;
}

export interface SourceSummary {
	sourceId: string;
	title?: string;
	url?: string;
	documentHash: string;
	chunks: number;
	ingestedAt: string;
}

export interface VectorStore {
	readonly kind: 'lancedb' | 'qdrant';
	/**
	 * Writes (or overwrites, by id) chunks. Vectors must all have the collection's dimension; a store created
	 * with another dimension throws DimensionMismatchError naming both.
	 */
	upsert(chunks: StoredChunk[], signal?: AbortSignal): Promise<void>;
	/**
	 * Versions currently stored of each of these sources, for the unchanged / interrupted / stale decision.
	 * One call answers for many sources, so planning a large re-ingest costs a few store requests, not one per
	 * document. A source with nothing stored is absent from the map (read it with `?? []`).
	 */
	versions(namespace: string, sourceIds: string[]): Promise<Map<string, StoredVersion[]>>;
	/** Vectors already stored for these content hashes in a namespace (lets a changed document reuse them). */
	vectorsByContentHash(namespace: string, contentHashes: string[]): Promise<Map<string, number[]>>;
	/** Deletes a source's chunks; with `keepDocumentHash`, all versions but that one. Returns chunks deleted. */
	deleteSource(namespace: string, sourceId: string, keepDocumentHash?: string): Promise<number>;
	listSources(namespace: string, options?: { limit?: number; offset?: number }): Promise<SourceSummary[]>;
	search(query: StoreSearchQuery): Promise<StoreHit[]>;
	close(): Promise<void>;
}

/** Thrown when vectors do not fit an existing collection; the message says how to fix it. */
export class DimensionMismatchError extends Error {
	constructor(
		readonly collection: string,
		readonly expected: number,
		readonly actual: number,
	) {
		super(
			`Collection "${collection}" stores vectors of dimension ${expected}, but the embedding model returned ${actual}. ` +
				'Use the embedding model the collection was created with, set its "dimensions" option, or ingest into a new collection.',
		);
		this.name = 'DimensionMismatchError';
	}
}

/** A loader or input failure that names what was wrong and what to do. */
export class InputError extends Error {
	constructor(
		message: string,
		readonly field?: string,
	) {
		super(message);
		this.name = 'InputError';
	}
}
