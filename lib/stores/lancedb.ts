/**
 * The embedded default store: one LanceDB table in a local folder.
 *
 * User metadata is stored twice: as JSON text (`extra`, read back verbatim) and, for filtering, as typed list
 * columns added by schema evolution the first time a key is seen — `x_<hex(key)>_s` (text values),
 * `_n` (numbers), `_b` (booleans). Lists make a scalar and an array value behave alike ("any element
 * matches", as in Qdrant); the hex name makes any key a safe identifier; separate types keep "5" and 5
 * apart, again as in Qdrant. Filters become a SQL predicate applied as a pre-filter to every query.
 *
 * Keyword search runs on a `keywords` column: each chunk's terms from lib/textAnalysis.ts (elisions, stop
 * words, stemming, accent folding for the table's language) joined by spaces, under a full-text index that
 * only splits on whitespace. The language (and analysis version) is the column's field metadata; a store opened
 * with another language rewrites the column and replaces the index once. Tables created before languages
 * existed have no language there and keep LanceDB's default full-text index on `text` (English stemming and
 * stop words) until a language is chosen. Queries are plain term lists (MatchQuery), never parsed: quotes,
 * operators or colons in a question are just words.
 */
import * as lancedb from '@lancedb/lancedb';
import { Bool, Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8, type DataType } from 'apache-arrow';

import {
	analyzeDocument,
	analyzeQuery,
	detectKeywordLanguage,
	FALLBACK_KEYWORD_LANGUAGE,
	isKeywordLanguage,
	KEYWORD_ANALYSIS_VERSION,
	type KeywordLanguage,
	type KeywordLanguageSetting,
} from '../textAnalysis';
import type {
	Chunk,
	SourceSummary,
	StoredChunk,
	StoredVersion,
	StoreHit,
	StoreSearchQuery,
	UserMetadata,
	VectorStore,
} from '../types';
import {
	assertNamespace,
	assertSearchQuery,
	batchDimension,
	countIntoVersions,
	dimensionMismatch,
	hybridCandidateCount,
	normalizeFilter,
	scalarsOf,
	type NormalizedCondition,
	type Scalar,
	type VersionRow,
} from './common';
import { reciprocalRankFusion } from './fusion';
import { withWriteLock } from './writeLock';

export interface LanceDbStoreOptions {
	path: string;
	table: string;
	/**
	 * Rows from which an ANN vector index (IVF-HNSW-SQ) is built. Below it a flat (exact) scan is fast
	 * enough and always correct.
	 */
	vectorIndexThreshold?: number;
	/** Vector index segments tolerated before the index is rebuilt as one (MAX_VECTOR_INDEX_SEGMENTS). */
	maxVectorIndexSegments?: number;
	/** Rows waiting for the indexes that trigger an optimisation, at the least (OPTIMIZE_AFTER_UNINDEXED_ROWS). */
	optimizeAfterUnindexedRows?: number;
	/** How old a table version must be for an optimisation to delete it (VERSION_RETENTION_MS). */
	versionRetentionMs?: number;
	/**
	 * Language of keyword search. `auto` (default): an existing table keeps its language (tables created
	 * before this option keep LanceDB's default English analysis); a new one takes the language detected in
	 * its first chunks. Another language than the table's re-indexes it once.
	 */
	keywordLanguage?: KeywordLanguageSetting;
}

/** Column holding each chunk's analysed keyword terms, and its field-metadata keys. */
const KEYWORDS = 'keywords';
const LANGUAGE_KEY = 'symbiotic:keywordLanguage';
const ANALYSIS_KEY = 'symbiotic:keywordAnalysis';
/** The terms are already analysed: the index only splits them, and keeps no positions (no phrase queries). */
const KEYWORDS_FTS: Partial<lancedb.FtsOptions> = {
	baseTokenizer: 'whitespace',
	lowercase: false,
	stem: false,
	removeStopWords: false,
	asciiFolding: false,
	withPosition: false,
};
/** Rows per write while a language change rewrites the keywords column. */
const REINDEX_BATCH = 5_000;
/** Distinct query terms searched at most: a question pasted with a whole document stays fast. */
const MAX_QUERY_TERMS = 1_000;

/** How a table's keywords are analysed: by a language (`keywords` column), or `legacy` (LanceDB's on `text`). */
type KeywordState = { language: KeywordLanguage; version: number } | { language: 'legacy' };

function keywordState(schema: Schema): KeywordState {
	const metadata = schema.fields.find((field) => field.name === KEYWORDS)?.metadata;
	const language = metadata?.get(LANGUAGE_KEY);
	if (!isKeywordLanguage(language)) return { language: 'legacy' };
	return { language, version: Number(metadata?.get(ANALYSIS_KEY)) || 0 };
}

/** The language a table should be (re-)indexed with, or undefined when it is fine as it is. */
function wantedLanguage(state: KeywordState, setting: KeywordLanguageSetting): KeywordLanguage | undefined {
	if (state.language === 'legacy') return setting === 'auto' ? undefined : setting;
	const language = setting === 'auto' ? state.language : setting;
	return language !== state.language || state.version !== KEYWORD_ANALYSIS_VERSION ? language : undefined;
}

function keywordMetadata(language: KeywordLanguage): Record<string, string> {
	return { [LANGUAGE_KEY]: language, [ANALYSIS_KEY]: String(KEYWORD_ANALYSIS_VERSION) };
}

export const DEFAULT_VECTOR_INDEX_THRESHOLD = 10_000;
/**
 * Rows written since the indexes last took them in before `optimize()` folds them in: at least this many, and
 * at least OPTIMIZE_FRACTION of the table. LanceDB still searches unindexed rows (by flat scan), so this bounds
 * latency, not correctness; growing with the table keeps the number of optimisations (each one a compaction
 * and, for the vector index, one more index segment) logarithmic in the table's size.
 */
const OPTIMIZE_AFTER_UNINDEXED_ROWS = 2_000;
const OPTIMIZE_FRACTION = 0.05;
/**
 * Table versions kept by each optimisation. Every write is a version, and compaction rewrites data files that
 * old versions still reference: with LanceDB's default (7 days) a 20,000-document ingest left 255 MB on disk
 * for 91 MB of data. Ten minutes outlasts any read this pack makes, in any process.
 */
const VERSION_RETENTION_MS = 10 * 60_000;
/**
 * `optimize()` adds each batch of new rows to the vector index as a segment of its own, and every segment is
 * searched on its own: 49 of them made semantic search 4× slower at 120,000 chunks. Past this many the index
 * is rebuilt as one, in the background (the ingest that triggers it does not wait), while writes go on.
 */
const MAX_VECTOR_INDEX_SEGMENTS = 10;
/**
 * HNSW graph construction breadth. LanceDB's default (300) took 67 s for 124,000 384-dimension vectors on
 * 2 cores; 100 takes 21 s and found the same top 10 as an exact scan in bench/searchAtScale.ts (recall printed).
 */
const HNSW_EF_CONSTRUCTION = 100;
/**
 * Vector search breadth and exact re-scoring. With LanceDB's defaults the index found 56 % of an exact scan's top
 * 10 on bench/searchAtScale.ts (50,000 chunks); a wider HNSW search (ef) and re-ranking up to 200 rows (5× the
 * requested 40) on their full-precision vectors (the index compares 8-bit quantised ones) raised it to 89 % for ~3 ms.
 */
const HNSW_SEARCH_EF = 200;
const REFINED_ROWS = 200;

/**
 * A vector query of `depth` rows searched wide enough and re-scored on full vectors. Refining multiplies the rows
 * the index must return, so deep candidate lists (hybrid) are refined less; ef must cover what it returns.
 */
export function tunedVectorQuery(query: lancedb.VectorQuery, depth: number): lancedb.VectorQuery {
	return query.refineFactor(Math.max(1, Math.floor(REFINED_ROWS / depth))).ef(Math.max(HNSW_SEARCH_EF, depth));
}
/**
 * Scalar indexes: the namespace every query filters on (a bitmap: few distinct values) and the columns ingest
 * looks rows up by. Without them each lookup, each merge-insert and each query's namespace pre-filter scanned
 * the whole column, so every ingest call and every search got slower as the table grew.
 */
const SCALAR_INDEXES: Array<[column: string, config: () => lancedb.Index]> = [
	['namespace', () => lancedb.Index.bitmap()],
	['id', () => lancedb.Index.btree()],
	['sourceId', () => lancedb.Index.btree()],
	['contentHash', () => lancedb.Index.btree()],
];
/**
 * One cache for all LanceDB tables of the process. LanceDB's defaults (6 GB for index data, 1 GB for file
 * metadata) let n8n's RSS grow with every table version an ingest creates (1.9 GB after 124,000 chunks).
 * SYMBIOTIC_LANCEDB_CACHE_MB sets the index cache for knowledge bases of millions of chunks.
 */
const INDEX_CACHE_BYTES = BigInt(Math.max(16, Number(process.env.SYMBIOTIC_LANCEDB_CACHE_MB) || 256)) * 1_048_576n;
const METADATA_CACHE_BYTES = 64n * 1_048_576n;
let session: lancedb.Session | undefined;
// LanceDB warns on every indexStats() of a vector index unless this choice is made; centroids are not needed.
process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
/** Values per `IN (...)` predicate when looking up content hashes or source ids. */
const LOOKUP_BATCH = 500;
/**
 * Other processes (queue-mode workers, the webhook process) commit to the same table: LanceDB then rejects the
 * later commit as a conflict, or the write carries a schema another process has just extended. Both succeed
 * when the write is redone on a freshly opened table, after a jittered wait so the writers stop colliding.
 */
const WRITE_ATTEMPTS = 5;
const WRITE_RETRY_BASE_MS = 50;
const RETRYABLE_WRITE_ERROR = /Retryable commit conflict|Incompatible transaction|Provided schema does not match existing table schema/i;

const EXTRA_TYPES = {
	s: () => new List(new Field('item', new Utf8(), true)),
	n: () => new List(new Field('item', new Float64(), true)),
	b: () => new List(new Field('item', new Bool(), true)),
} as const;
type ExtraType = keyof typeof EXTRA_TYPES;

/** The columns a search reads for each hit. */
export const RESULT_COLUMNS = [
	'id',
	'text',
	'tokens',
	'namespace',
	'sourceId',
	'documentHash',
	'contentHash',
	'chunkIndex',
	'chunkCount',
	'title',
	'url',
	'headingPath',
	'ingestedAt',
	'extra',
];

function baseFields(dimension: number, language: KeywordLanguage): Field[] {
	const text = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
	const fields: Field[] = [
		text('id'),
		text('text'),
		new Field('tokens', new Int32(), false),
		text('namespace'),
		text('sourceId'),
		text('documentHash'),
		text('contentHash'),
		new Field('chunkIndex', new Int32(), false),
		new Field('chunkCount', new Int32(), false),
		text('title', true),
		text('url', true),
		text('headingPath'),
		text('ingestedAt'),
		text('extra'),
		new Field(KEYWORDS, new Utf8(), true, new Map(Object.entries(keywordMetadata(language)))),
	];
	if (dimension > 0) fields.push(new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false));
	return fields;
}

function vectorIndexConfig(): lancedb.Index {
	return lancedb.Index.hnswSq({ distanceType: 'cosine', efConstruction: HNSW_EF_CONSTRUCTION });
}

const PRIMARY_KEY_METADATA = 'lance-schema:unenforced-primary-key:position';

function hasPrimaryKey(schema: Schema): boolean {
	return schema.fields.some((field) => field.name === 'id' && field.metadata.has(PRIMARY_KEY_METADATA));
}

/**
 * Declares `id` the table's primary key. LanceDB then checks concurrent merge-inserts against each other's keys:
 * without it, two queue-mode workers writing the same new chunks at the same moment both inserted them
 * (test/reliability/queueWorkers.e2e.test.ts saw 1,500 rows for 1,000 chunks). Tables created before this are
 * given it on their next write. Another process may set it first ("already set"), or at the same moment: that
 * commit conflict is retried with the whole write, which then finds the key set.
 */
async function setPrimaryKey(table: lancedb.Table): Promise<void> {
	try {
		await table.setUnenforcedPrimaryKey('id');
	} catch (error) {
		if (!/already set/i.test(String(error))) throw error;
	}
}

function extraColumn(key: string, type: ExtraType): string {
	return `x_${Buffer.from(key, 'utf8').toString('hex')}_${type}`;
}

function scalarType(value: Scalar): ExtraType {
	return typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
}

/** Typed list values of one chunk's user metadata, keyed by column name. */
function extraColumnValues(extra: UserMetadata): Map<string, Scalar[]> {
	const columns = new Map<string, Scalar[]>();
	for (const [key, value] of Object.entries(extra ?? {})) {
		for (const scalar of scalarsOf(value)) {
			const column = extraColumn(key, scalarType(scalar));
			const values = columns.get(column) ?? [];
			values.push(scalar);
			columns.set(column, values);
		}
	}
	return columns;
}

function vectorDimension(schema: Schema): number {
	const field = schema.fields.find((candidate) => candidate.name === 'vector');
	return field ? (field.type as FixedSizeList).listSize : 0;
}

const sql = {
	string: (value: string): string => `'${value.replace(/'/g, "''")}'`,
	identifier: (name: string): string => `\`${name.replace(/`/g, '``')}\``,
	scalar(value: Scalar): string {
		if (typeof value === 'string') return sql.string(value);
		if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
		if (!Number.isFinite(value)) throw new Error(`Not a finite number: ${value}`);
		return String(value);
	},
	or: (parts: string[]): string => (parts.length ? `(${parts.join(' OR ')})` : 'FALSE'),
};

/** Renders one condition; `columns` are the table's columns, so keys never written match nothing. */
function conditionSql(condition: NormalizedCondition, columns: Set<string>): string {
	const { target } = condition;
	if (target.kind === 'core') {
		const column = sql.identifier(target.field);
		switch (condition.kind) {
			case 'match': {
				const list = condition.values.map(sql.scalar).join(', ');
				return condition.negate ? `(${column} IS NULL OR ${column} NOT IN (${list}))` : `${column} IN (${list})`;
			}
			case 'range':
				return `${column} ${RANGE_OPERATORS[condition.bound]} ${sql.scalar(condition.value)}`;
			case 'exists':
				return `${column} IS ${condition.negate ? '' : 'NOT '}NULL`;
		}
	}
	const present = (type: ExtraType) => {
		const name = extraColumn(target.key, type);
		return columns.has(name) ? sql.identifier(name) : undefined;
	};
	switch (condition.kind) {
		case 'match': {
			const parts: string[] = [];
			for (const type of Object.keys(EXTRA_TYPES) as ExtraType[]) {
				const values = condition.values.filter((value) => scalarType(value) === type);
				const column = present(type);
				if (values.length && column) {
					parts.push(`coalesce(array_has_any(${column}, [${values.map(sql.scalar).join(', ')}]), FALSE)`);
				}
			}
			return condition.negate ? `NOT ${sql.or(parts)}` : sql.or(parts);
		}
		case 'range': {
			const column = present('n');
			if (!column) return 'FALSE';
			// "Any element beyond the bound" equals "the extreme element is beyond it".
			const extreme = condition.bound.startsWith('g') ? 'array_max' : 'array_min';
			return `coalesce(${extreme}(${column}) ${RANGE_OPERATORS[condition.bound]} ${sql.scalar(condition.value)}, FALSE)`;
		}
		case 'exists': {
			const parts = (Object.keys(EXTRA_TYPES) as ExtraType[])
				.map(present)
				.filter((column): column is string => column !== undefined)
				.map((column) => `${column} IS NOT NULL`);
			return condition.negate ? `NOT ${sql.or(parts)}` : sql.or(parts);
		}
	}
}

const RANGE_OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

interface ChunkRow {
	id: string;
	text: string;
	tokens: number;
	namespace: string;
	sourceId: string;
	documentHash: string;
	contentHash: string;
	chunkIndex: number;
	chunkCount: number;
	title: string | null;
	url: string | null;
	headingPath: string;
	ingestedAt: string;
	extra: string;
	vector?: ArrayLike<number>;
	_distance?: number;
	_score?: number;
}

/** Every query is confined to one namespace: the tenant boundary. */
function namespaceWhere(namespace: string, conditions: string[] = []): string {
	assertNamespace(namespace);
	return [`namespace = ${sql.string(namespace)}`, ...conditions].join(' AND ');
}

function rowToChunk(row: ChunkRow): Chunk {
	return {
		id: row.id,
		text: row.text,
		tokens: row.tokens,
		metadata: {
			sourceId: row.sourceId,
			namespace: row.namespace,
			title: row.title ?? undefined,
			url: row.url ?? undefined,
			headingPath: JSON.parse(row.headingPath) as string[],
			chunkIndex: row.chunkIndex,
			chunkCount: row.chunkCount,
			contentHash: row.contentHash,
			documentHash: row.documentHash,
			ingestedAt: row.ingestedAt,
			extra: JSON.parse(row.extra) as UserMetadata,
		},
	};
}

/** One connection per folder per process: n8n runs many nodes against the same folder. */
interface SharedConnection {
	connection: Promise<lancedb.Connection>;
	users: number;
	/** Tail of the write queue per table; writes (schema evolution above all) must not interleave. */
	writeQueues: Map<string, Promise<unknown>>;
	/** Vector index rebuilds running in the background, per table; the connection stays open until they end. */
	indexBuilds: Map<string, Promise<void>>;
}
const sharedConnections = new Map<string, SharedConnection>();

function acquireConnection(path: string): SharedConnection {
	let shared = sharedConnections.get(path);
	if (!shared) {
		// Interval 0: every read sees writes made through other handles and other processes (queue-mode workers).
		session ??= new lancedb.Session(INDEX_CACHE_BYTES, METADATA_CACHE_BYTES);
		shared = {
			connection: lancedb.connect(path, { readConsistencyInterval: 0, session }),
			users: 0,
			writeQueues: new Map(),
			indexBuilds: new Map(),
		};
		sharedConnections.set(path, shared);
	}
	shared.users += 1;
	return shared;
}

export class LanceDbStore implements VectorStore {
	readonly kind = 'lancedb';
	private readonly shared: SharedConnection;
	private readonly vectorIndexThreshold: number;
	private readonly keywordLanguage: KeywordLanguageSetting;
	private table?: lancedb.Table;
	private closed = false;

	constructor(private readonly options: LanceDbStoreOptions) {
		this.shared = acquireConnection(options.path);
		this.vectorIndexThreshold = options.vectorIndexThreshold ?? DEFAULT_VECTOR_INDEX_THRESHOLD;
		this.keywordLanguage = options.keywordLanguage ?? 'auto';
	}

	private get tableName(): string {
		return this.options.table;
	}

	private async openTable(): Promise<lancedb.Table | undefined> {
		if (this.closed) throw new Error('This LanceDB store was closed; open a new one.');
		if (this.table) return this.table;
		const connection = await this.shared.connection;
		if (!(await connection.tableNames()).includes(this.tableName)) return undefined;
		this.table = await connection.openTable(this.tableName);
		return this.table;
	}

	/** One write at a time per table: in this process by a queue, across processes by a lock in the folder. */
	private serializeWrite<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
		const previous = this.shared.writeQueues.get(this.tableName) ?? Promise.resolve();
		const run = previous.then(() =>
			withWriteLock({ folder: this.options.path, table: this.tableName, signal }, () => this.retryConflicts(work)),
		);
		this.shared.writeQueues.set(
			this.tableName,
			run.catch(() => undefined),
		);
		return run;
	}

	/** Redoes a whole write (each one is idempotent) while it loses to concurrent writers, then gives up clearly. */
	private async retryConflicts<T>(work: () => Promise<T>): Promise<T> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await work();
			} catch (error) {
				const message = error instanceof Error ? error.message : String(error);
				if (!RETRYABLE_WRITE_ERROR.test(message)) throw error;
				if (attempt >= WRITE_ATTEMPTS) {
					throw new Error(
						`Could not write to LanceDB table "${this.tableName}" in ${this.options.path}: other processes kept ` +
							`writing to it at the same moment (${WRITE_ATTEMPTS} attempts). Run the workflow again, or let fewer ` +
							`workflows write to this table at once. Last error: ${message.split('\n')[0]}`,
					);
				}
				// The cached handle may hold the schema and version that lost; reopen to read the winner's.
				this.table?.close();
				this.table = undefined;
				const delay = WRITE_RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
				await new Promise((resolve) => setTimeout(resolve, delay));
			}
		}
	}

	async upsert(chunks: StoredChunk[], signal?: AbortSignal): Promise<void> {
		if (!chunks.length) return;
		const dimension = batchDimension(this.tableName, chunks);
		signal?.throwIfAborted();
		await this.serializeWrite(async () => {
			signal?.throwIfAborted();
			const extraValues = chunks.map((chunk) => extraColumnValues(chunk.metadata.extra));
			const table = await this.tableForWrite(dimension, extraValues, chunks);
			const schema = await table.schema();
			const state = keywordState(schema);
			const hasKeywords = schema.fields.some((field) => field.name === KEYWORDS);
			const extraColumns = schema.fields.map((field) => field.name).filter((name) => name.startsWith('x_'));
			const rows = chunks.map((chunk, index) => {
				const { metadata } = chunk;
				const row: Record<string, unknown> = {
					id: chunk.id,
					text: chunk.text,
					tokens: chunk.tokens,
					namespace: metadata.namespace,
					sourceId: metadata.sourceId,
					documentHash: metadata.documentHash,
					contentHash: metadata.contentHash,
					chunkIndex: metadata.chunkIndex,
					chunkCount: metadata.chunkCount,
					title: metadata.title ?? null,
					url: metadata.url ?? null,
					headingPath: JSON.stringify(metadata.headingPath ?? []),
					ingestedAt: metadata.ingestedAt,
					extra: JSON.stringify(metadata.extra ?? {}),
				};
				if (dimension > 0) row.vector = chunk.vector;
				if (hasKeywords) row[KEYWORDS] = state.language === 'legacy' ? null : analyzeDocument(chunk.text, state.language).join(' ');
				// Every column is written (null when absent) so an overwritten chunk loses keys it no longer has.
				for (const column of extraColumns) row[column] = extraValues[index].get(column) ?? null;
				return row;
			});
			await table
				.mergeInsert('id')
				.whenMatchedUpdateAll()
				.whenNotMatchedInsertAll()
				.execute(lancedb.makeArrowTable(rows, { schema }));
			// After the write, so a language change also covers these rows and never indexes an empty table.
			const language = wantedLanguage(state, this.keywordLanguage);
			if (language) await this.reindexKeywords(table, language);
			await this.maintainIndexes(table, dimension, language ? keywordState(await table.schema()) : state);
		}, signal);
	}

	/** Opens or creates the table, checks the dimension and adds columns for metadata keys not seen before. */
	private async tableForWrite(
		dimension: number,
		extraValues: Array<Map<string, Scalar[]>>,
		chunks: StoredChunk[],
	): Promise<lancedb.Table> {
		const wanted = new Map<string, DataType>();
		for (const values of extraValues) {
			for (const column of values.keys()) wanted.set(column, EXTRA_TYPES[column.slice(-1) as ExtraType]());
		}
		let table = await this.openTable();
		if (!table) {
			const connection = await this.shared.connection;
			const language =
				this.keywordLanguage !== 'auto'
					? this.keywordLanguage
					: (detectKeywordLanguage(chunks.map((chunk) => chunk.text)) ?? FALLBACK_KEYWORD_LANGUAGE);
			const fields: Field[] = [...baseFields(dimension, language), ...[...wanted].map(([name, type]) => new Field(name, type, true))];
			// existOk: another process may create the same table at the same moment. Stable row ids (only possible
			// at creation) spare the indexes a remap when compaction moves rows: without them the first optimize
			// after a vector index rebuild cost as much as the rebuild itself.
			table = await connection.createEmptyTable(this.tableName, new Schema(fields), {
				mode: 'create',
				existOk: true,
				storageOptions: { new_table_enable_stable_row_ids: 'true' },
			});
			this.table = table;
		}
		let schema = await table.schema();
		if (!hasPrimaryKey(schema)) {
			await setPrimaryKey(table);
			schema = await table.schema();
		}
		const stored = vectorDimension(schema);
		if (stored !== dimension) throw dimensionMismatch(this.tableName, stored, dimension);
		const existing = new Set(schema.fields.map((field) => field.name));
		const missing = [...wanted].filter(([name]) => !existing.has(name)).map(([name, type]) => new Field(name, type, true));
		if (missing.length) await table.addColumns(missing);
		return table;
	}

	/**
	 * Rewrites every row's keywords for another language, records it, and replaces the full-text index (and
	 * drops the legacy one on `text`). The language is recorded only once all rows are rewritten, so an
	 * interrupted change is redone by the next write or search that asks for it.
	 */
	private async reindexKeywords(table: lancedb.Table, language: KeywordLanguage): Promise<void> {
		if (!(await table.schema()).fields.some((field) => field.name === KEYWORDS)) {
			await table.addColumns([new Field(KEYWORDS, new Utf8(), true)]);
		}
		const ids: string[] = [];
		const keywords: string[] = [];
		for await (const batch of table.query().select(['id', 'text'])) {
			const idColumn = batch.getChild('id');
			const textColumn = batch.getChild('text');
			for (let index = 0; index < batch.numRows; index++) {
				ids.push(String(idColumn?.get(index)));
				keywords.push(analyzeDocument(String(textColumn?.get(index) ?? ''), language).join(' '));
			}
		}
		const schema = new Schema([new Field('id', new Utf8(), false), new Field(KEYWORDS, new Utf8(), true)]);
		for (let start = 0; start < ids.length; start += REINDEX_BATCH) {
			const rows = ids.slice(start, start + REINDEX_BATCH).map((id, offset) => ({ id, [KEYWORDS]: keywords[start + offset] }));
			await table.mergeInsert('id').whenMatchedUpdateAll().execute(lancedb.makeArrowTable(rows, { schema }));
		}
		await table.updateFieldMetadata([{ path: KEYWORDS, metadata: keywordMetadata(language) }]);
		// An empty table gets its index with its first rows (maintainIndexes).
		if (!ids.length) return;
		await table.createIndex(KEYWORDS, { config: lancedb.Index.fts(KEYWORDS_FTS), replace: true });
		for (const index of await table.listIndices()) {
			if (index.indexType === 'FTS' && index.columns.includes('text')) await table.dropIndex(index.name);
		}
	}

	private async maintainIndexes(table: lancedb.Table, dimension: number, keywords: KeywordState): Promise<void> {
		const indices = await table.listIndices();
		const indexOn = (column: string) => indices.find((index) => index.columns.includes(column));
		if (keywords.language === 'legacy') {
			if (!indexOn('text')) await table.createIndex('text', { config: lancedb.Index.fts() });
		} else if (!indexOn(KEYWORDS)) {
			await table.createIndex(KEYWORDS, { config: lancedb.Index.fts(KEYWORDS_FTS) });
		}
		for (const [column, config] of SCALAR_INDEXES) {
			if (!indexOn(column)) await table.createIndex(column, { config: config() });
		}
		const rows = await table.countRows();
		const vectorIndex = indexOn('vector');
		if (dimension > 0 && !vectorIndex && rows >= this.vectorIndexThreshold) {
			await table.createIndex('vector', { config: vectorIndexConfig() });
			return;
		}
		// Compaction during a rebuild would make the rebuild's commit conflict and its work lost.
		if (this.shared.indexBuilds.has(this.tableName)) return;
		if (vectorIndex && ((await table.indexStats(vectorIndex.name))?.numIndices ?? 0) > (this.options.maxVectorIndexSegments ?? MAX_VECTOR_INDEX_SEGMENTS)) {
			this.rebuildVectorIndexInBackground(table);
			return;
		}
		const keywordIndex = indexOn(keywords.language === 'legacy' ? 'text' : KEYWORDS);
		const unindexed = keywordIndex ? ((await table.indexStats(keywordIndex.name))?.numUnindexedRows ?? 0) : 0;
		const optimizeAfter = this.options.optimizeAfterUnindexedRows ?? OPTIMIZE_AFTER_UNINDEXED_ROWS;
		if (unindexed >= Math.max(optimizeAfter, rows * OPTIMIZE_FRACTION)) {
			const retention = this.options.versionRetentionMs ?? VERSION_RETENTION_MS;
			await table.optimize({ cleanupOlderThan: new Date(Date.now() - retention) });
		}
	}

	/**
	 * Replaces the vector index by one built over the whole table, without holding up the write that asked for
	 * it: rows written meanwhile stay searchable (unindexed, scanned) and are folded in by a later optimize.
	 * A failed or interrupted rebuild leaves the old index in place, and the next write tries again.
	 */
	private rebuildVectorIndexInBackground(table: lancedb.Table): void {
		const builds = this.shared.indexBuilds;
		const build = table
			.createIndex('vector', { config: vectorIndexConfig(), replace: true })
			.catch(() => undefined)
			.finally(() => builds.delete(this.tableName));
		builds.set(this.tableName, build);
	}

	async versions(namespace: string, sourceIds: string[]): Promise<Map<string, StoredVersion[]>> {
		assertNamespace(namespace);
		const versions = new Map<string, StoredVersion[]>();
		const table = await this.openTable();
		if (!table) return versions;
		const unique = [...new Set(sourceIds)];
		for (let start = 0; start < unique.length; start += LOOKUP_BATCH) {
			const list = unique.slice(start, start + LOOKUP_BATCH).map(sql.string).join(', ');
			// Three short columns only: reading every column (text, vector) doubled this query's time on a
			// 2,900-chunk table with 256-dimension vectors, and the gap grows with the dimension.
			const rows = (await table
				.query()
				.where(namespaceWhere(namespace, [`sourceId IN (${list})`]))
				.select(['sourceId', 'documentHash', 'chunkCount'])
				.toArray()) as VersionRow[];
			for (const row of rows) countIntoVersions(versions, row);
		}
		return versions;
	}

	async vectorsByContentHash(namespace: string, contentHashes: string[]): Promise<Map<string, number[]>> {
		assertNamespace(namespace);
		const vectors = new Map<string, number[]>();
		const table = await this.openTable();
		if (!table || !contentHashes.length || vectorDimension(await table.schema()) === 0) return vectors;
		const unique = [...new Set(contentHashes)];
		for (let start = 0; start < unique.length; start += LOOKUP_BATCH) {
			const list = unique.slice(start, start + LOOKUP_BATCH).map(sql.string).join(', ');
			const rows = (await table
				.query()
				.where(namespaceWhere(namespace, [`contentHash IN (${list})`]))
				.select(['contentHash', 'vector'])
				.toArray()) as Array<Pick<ChunkRow, 'contentHash' | 'vector'>>;
			for (const row of rows) if (row.vector) vectors.set(row.contentHash, Array.from(row.vector));
		}
		return vectors;
	}

	async deleteSource(namespace: string, sourceId: string, keepDocumentHash?: string): Promise<number> {
		assertNamespace(namespace);
		return this.serializeWrite(async () => {
			const table = await this.openTable();
			if (!table) return 0;
			const conditions = [`sourceId = ${sql.string(sourceId)}`];
			if (keepDocumentHash !== undefined) conditions.push(`documentHash <> ${sql.string(keepDocumentHash)}`);
			const result = await table.delete(namespaceWhere(namespace, conditions));
			return result.numDeletedRows;
		});
	}

	async listSources(namespace: string, options: { limit?: number; offset?: number } = {}): Promise<SourceSummary[]> {
		assertNamespace(namespace);
		const table = await this.openTable();
		if (!table) return [];
		const rows = (await table
			.query()
			.where(namespaceWhere(namespace))
			.select(['sourceId', 'title', 'url', 'documentHash', 'ingestedAt'])
			.toArray()) as Array<Pick<ChunkRow, 'sourceId' | 'title' | 'url' | 'documentHash' | 'ingestedAt'>>;
		const sources = new Map<string, SourceSummary>();
		for (const row of rows) {
			const known = sources.get(row.sourceId);
			// The newest version describes the source; an older one is a leftover of an interrupted update.
			if (!known || row.ingestedAt > known.ingestedAt) {
				sources.set(row.sourceId, {
					sourceId: row.sourceId,
					title: row.title ?? undefined,
					url: row.url ?? undefined,
					documentHash: row.documentHash,
					chunks: known?.chunks ?? 0,
					ingestedAt: row.ingestedAt,
				});
			}
			(sources.get(row.sourceId) as SourceSummary).chunks += 1;
		}
		const offset = options.offset ?? 0;
		return [...sources.values()]
			.sort((a, b) => (a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0))
			.slice(offset, offset + (options.limit ?? 100));
	}

	async search(query: StoreSearchQuery): Promise<StoreHit[]> {
		assertSearchQuery(query);
		const conditions = normalizeFilter(query.filter);
		let table = await this.openTable();
		if (!table) return [];
		let schema = await table.schema();
		const language = query.mode === 'semantic' ? undefined : wantedLanguage(keywordState(schema), this.keywordLanguage);
		if (language) {
			await this.serializeWrite(async () => {
				// Another writer may have done it meanwhile.
				const current = (await this.openTable()) as lancedb.Table;
				if (wantedLanguage(keywordState(await current.schema()), this.keywordLanguage)) await this.reindexKeywords(current, language);
			});
			table = (await this.openTable()) as lancedb.Table;
			schema = await table.schema();
		}
		const keywords = keywordState(schema);
		const columns = new Set(schema.fields.map((field) => field.name));
		const where = namespaceWhere(
			query.namespace,
			conditions.map((condition) => conditionSql(condition, columns)),
		);
		if (query.mode !== 'keyword') {
			const stored = vectorDimension(schema);
			const given = query.vector?.length ?? 0;
			if (stored !== given) throw dimensionMismatch(this.tableName, stored, given);
		}
		const depth = query.mode === 'hybrid' ? hybridCandidateCount(query.topK) : query.topK;
		const semantic = async () =>
			(await tunedVectorQuery(table.query().nearestTo(query.vector as number[]).distanceType('cosine'), depth)
				.where(where)
				.select([...RESULT_COLUMNS, '_distance'])
				.limit(depth)
				.toArray()) as ChunkRow[];
		const keyword = async () => {
			// Plain terms, never LanceDB's query syntax: a user's quotes, AND/OR or colons cannot break the search.
			let match: lancedb.MatchQuery;
			if (keywords.language === 'legacy') {
				if (!query.text?.trim()) return [];
				match = new lancedb.MatchQuery(query.text, 'text', { operator: lancedb.Operator.Or });
			} else {
				const terms = [...new Set(analyzeQuery(query.text ?? '', keywords.language))].slice(0, MAX_QUERY_TERMS);
				if (!terms.length) return [];
				match = new lancedb.MatchQuery(terms.join(' '), KEYWORDS, { operator: lancedb.Operator.Or });
			}
			return (await table
				.query()
				.fullTextSearch(match)
				.where(where)
				.select([...RESULT_COLUMNS, '_score'])
				.limit(depth)
				.toArray()) as ChunkRow[];
		};
		switch (query.mode) {
			case 'semantic':
				// Cosine distance is 1 - cosine similarity; report the similarity, as Qdrant does.
				return (await semantic()).map((row) => ({ chunk: rowToChunk(row), score: 1 - (row._distance ?? 1) }));
			case 'keyword':
				return (await keyword()).map((row) => ({ chunk: rowToChunk(row), score: row._score ?? 0 }));
			case 'hybrid': {
				const [vectorRows, keywordRows] = await Promise.all([semantic(), keyword()]);
				return reciprocalRankFusion([vectorRows, keywordRows])
					.slice(0, query.topK)
					.map(({ item, score }) => ({ chunk: rowToChunk(item), score }));
			}
		}
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await this.shared.writeQueues.get(this.tableName);
		const release = async () => {
			this.table?.close();
			this.shared.users -= 1;
			if (this.shared.users === 0 && sharedConnections.get(this.options.path) === this.shared) {
				sharedConnections.delete(this.options.path);
				(await this.shared.connection).close();
			}
		};
		// An index rebuild in the background keeps its table and connection until it ends (n8n's process lives on).
		const build = this.shared.indexBuilds.get(this.tableName);
		if (build) void build.then(release);
		else await release();
	}
}
