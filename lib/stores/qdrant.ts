/**
 * Qdrant backend. One collection holds every namespace (a keyword payload index flagged `is_tenant`
 * keeps each tenant's points together); a named dense vector `dense` (Cosine) carries embeddings and a
 * sparse vector `bm25` (server-side IDF) carries client-encoded term weights for keyword search.
 * Hybrid search fuses both server-side with the Query API's reciprocal rank fusion (k = 60).
 *
 * The sparse terms follow the collection's keyword language (lib/textAnalysis.ts), recorded in the
 * collection's metadata; a collection without one (created before languages) keeps the legacy encoding. A store
 * opened with another language re-encodes every point's sparse vector once, then records it.
 */
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';

import { displayURL, redactSecrets, urlSecrets } from '../redact';
import { InputError } from '../types';
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
	type NormalizedCondition,
	type Scalar,
	type VersionRow,
} from './common';
import { RRF_K } from './fusion';
import { encodeDocument, encodeQuery, type SparseAnalysis } from './sparseEncoder';
import {
	detectKeywordLanguage,
	FALLBACK_KEYWORD_LANGUAGE,
	isKeywordLanguage,
	KEYWORD_ANALYSIS_VERSION,
	type KeywordLanguage,
	type KeywordLanguageSetting,
} from '../textAnalysis';

export interface QdrantStoreOptions {
	url: string;
	apiKey?: string;
	collection: string;
	timeoutMs?: number;
	/**
	 * Language of keyword search. `auto` (default): an existing collection keeps its language (collections
	 * created before this option keep the legacy encoding); a new one takes the language detected in its first
	 * chunks. Another language than the collection's re-encodes its sparse vectors once.
	 */
	keywordLanguage?: KeywordLanguageSetting;
}

/** Collection metadata keys recording the keyword analysis of the sparse vectors. */
const LANGUAGE_KEY = 'symbiotic_keyword_language';
const ANALYSIS_KEY = 'symbiotic_keyword_analysis';

/** How a collection's sparse vectors were encoded. */
interface KeywordState {
	analysis: SparseAnalysis;
	version: number;
}

function keywordState(metadata: Record<string, unknown> | null | undefined): KeywordState {
	const language = metadata?.[LANGUAGE_KEY];
	if (!isKeywordLanguage(language)) return { analysis: 'legacy', version: 0 };
	return { analysis: language, version: Number(metadata?.[ANALYSIS_KEY]) || 0 };
}

/** The language a collection should be re-encoded with, or undefined when it is fine as it is. */
function wantedLanguage(state: KeywordState, setting: KeywordLanguageSetting): KeywordLanguage | undefined {
	if (state.analysis === 'legacy') return setting === 'auto' ? undefined : setting;
	const language = setting === 'auto' ? state.analysis : setting;
	return language !== state.analysis || state.version !== KEYWORD_ANALYSIS_VERSION ? language : undefined;
}

function keywordMetadata(language: KeywordLanguage): Record<string, unknown> {
	return { [LANGUAGE_KEY]: language, [ANALYSIS_KEY]: KEYWORD_ANALYSIS_VERSION };
}

const DENSE = 'dense';
const SPARSE = 'bm25';
const DEFAULT_TIMEOUT_MS = 30_000;
/** Points per upsert request: keeps each request well under Qdrant's 32 MB body limit at 3,072 dimensions. */
const UPSERT_BATCH = 128;
/** Page size of scrolls and the size of content-hash lookups per request. */
const PAGE = 256;
/** Source ids per version lookup. */
const SOURCES_PER_LOOKUP = 500;
/**
 * Page size of the version lookup's scroll: its points carry three short payload fields and no vector, so
 * large pages stay small on the wire and save round trips.
 */
const VERSIONS_PAGE = 2_000;
/** Most sources listSources will rank per namespace (one facet request). */
const MAX_LISTED_SOURCES = 10_000;

type Filter = Schemas['Filter'];
type Condition = Schemas['Condition'];

interface ChunkPayload {
	text: string;
	tokens: number;
	namespace: string;
	sourceId: string;
	documentHash: string;
	contentHash: string;
	chunkIndex: number;
	chunkCount: number;
	title?: string;
	url?: string;
	headingPath: string[];
	ingestedAt: string;
	extra: UserMetadata;
}

/** Payload path of a filter target; user keys are quoted when they are not plain words (Qdrant JSON path syntax). */
function payloadKey(condition: NormalizedCondition): string {
	const { target } = condition;
	if (target.kind === 'core') return target.field;
	if (/^[A-Za-z0-9_-]+$/.test(target.key)) return `extra.${target.key}`;
	if (target.key.includes('"')) {
		throw new InputError(`The metadata key ${JSON.stringify(target.key)} contains a double quote, which Qdrant filters cannot address. Rename the key.`, 'filter');
	}
	return `extra."${target.key}"`;
}

/** One Qdrant condition per value group: strings and integers match as sets, floats as point ranges. */
function matchConditions(key: string, values: Scalar[]): Condition[] {
	const strings = values.filter((value): value is string => typeof value === 'string');
	const integers = values.filter((value): value is number => typeof value === 'number' && Number.isInteger(value));
	const conditions: Condition[] = [];
	const matchSet = (set: string[] | number[]) =>
		conditions.push({ key, match: set.length === 1 ? { value: set[0] } : { any: set } });
	if (strings.length) matchSet(strings);
	if (integers.length) matchSet(integers);
	for (const value of values) {
		// Qdrant matches only strings, integers and booleans exactly; a float equals itself as a range.
		if (typeof value === 'number' && !Number.isInteger(value)) conditions.push({ key, range: { gte: value, lte: value } });
		if (typeof value === 'boolean') conditions.push({ key, match: { value } });
	}
	return conditions;
}

function toQdrantFilter(namespace: string, conditions: NormalizedCondition[], must: Condition[] = []): Filter {
	assertNamespace(namespace);
	const filter = { must: [{ key: 'namespace', match: { value: namespace } }, ...must] as Condition[], must_not: [] as Condition[] };
	for (const condition of conditions) {
		const key = payloadKey(condition);
		switch (condition.kind) {
			case 'match': {
				const alternatives = matchConditions(key, condition.values);
				if (condition.negate) filter.must_not.push(...alternatives);
				else filter.must.push(alternatives.length === 1 ? alternatives[0] : { should: alternatives });
				break;
			}
			case 'range':
				filter.must.push({ key, range: { [condition.bound]: condition.value } });
				break;
			case 'exists':
				(condition.negate ? filter.must : filter.must_not).push({ is_empty: { key } });
				break;
		}
	}
	return filter.must_not.length ? filter : { must: filter.must };
}

function payloadToChunk(id: string | number, payload: ChunkPayload): Chunk {
	return {
		id: String(id),
		text: payload.text,
		tokens: payload.tokens,
		metadata: {
			sourceId: payload.sourceId,
			namespace: payload.namespace,
			title: payload.title ?? undefined,
			url: payload.url ?? undefined,
			headingPath: payload.headingPath ?? [],
			chunkIndex: payload.chunkIndex,
			chunkCount: payload.chunkCount,
			contentHash: payload.contentHash,
			documentHash: payload.documentHash,
			ingestedAt: payload.ingestedAt,
			extra: payload.extra ?? {},
		},
	};
}

interface HttpError {
	status: number;
	data?: { status?: { error?: string } | string };
	statusText?: string;
}

function isHttpError(error: unknown): error is HttpError {
	return typeof (error as HttpError)?.status === 'number';
}

export class QdrantStore implements VectorStore {
	readonly kind = 'qdrant';
	private readonly client: QdrantClient;
	private readonly timeoutMs: number;
	/** The URL as shown in messages: without any user:password part. */
	private readonly displayUrl: string;
	/** Dense dimension of the collection (0 = keyword-only), once known; collections never change it. */
	private dimension?: number;
	/** How the collection's sparse vectors are encoded, once read. */
	private keywords?: KeywordState;
	private readonly keywordLanguage: KeywordLanguageSetting;

	constructor(private readonly options: QdrantStoreOptions) {
		let url: URL;
		try {
			url = new URL(options.url);
			if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
		} catch {
			throw new InputError(`The Qdrant URL "${displayURL(options.url)}" is not valid: use http(s)://host:6333.`, 'url');
		}
		this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
		this.keywordLanguage = options.keywordLanguage ?? 'auto';
		const prefix = url.pathname.replace(/\/+$/, '');
		this.displayUrl = url.origin + prefix;
		this.client = new QdrantClient({
			url: url.origin,
			...(prefix ? { prefix } : {}),
			port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 6333,
			timeout: this.timeoutMs,
			checkCompatibility: false,
			// Passed as a header rather than `apiKey`: same `api-key` header, without the client's console
			// warning for plain-http URLs (common on a private network).
			headers: options.apiKey ? { 'api-key': options.apiKey } : {},
		});
	}

	private get collection(): string {
		return this.options.collection;
	}

	/** Runs one Qdrant call and turns its failure into a message that names the cause and never the key. */
	private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
		try {
			return await request();
		} catch (error) {
			throw this.explain(operation, error);
		}
	}

	private explain(operation: string, error: unknown): Error {
		const where = this.displayUrl;
		let message: string;
		if (isHttpError(error) && (error.status === 401 || error.status === 403)) {
			message = `Qdrant refused the API key (HTTP ${error.status}) at ${where}. Check the API key in the Qdrant credential.`;
		} else if (isHttpError(error)) {
			const detail = typeof error.data?.status === 'object' ? error.data.status.error : error.data?.status;
			message = `Qdrant could not ${operation} in collection "${this.collection}" (HTTP ${error.status}): ${detail ?? error.statusText ?? 'no detail'}`;
		} else if (['QdrantClientTimeoutError', 'AbortError', 'TimeoutError'].includes((error as Error)?.name)) {
			// The client aborts slow requests itself; under some runtimes its own wrapper is bypassed and the
			// raw AbortError arrives instead.
			message = `Qdrant at ${where} did not answer within ${this.timeoutMs} ms while trying to ${operation}. Check the server, or raise the timeout.`;
		} else if (error instanceof Error && error.message.startsWith('Unexpected Response:')) {
			message = `Qdrant could not ${operation} in collection "${this.collection}": ${error.message.split('\n')[0]}`;
		} else {
			const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
			message = `Could not reach Qdrant at ${where}: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)}`;
		}
		// Server and transport texts may quote the key, or the URL with its user:password@ or query.
		return new Error(redactSecrets(message, [this.options.apiKey, ...urlSecrets(this.options.url)]));
	}

	/** The collection's dense dimension (0 = keyword-only), or undefined when it does not exist yet. */
	private async storedDimension(): Promise<number | undefined> {
		if (this.dimension !== undefined) return this.dimension;
		try {
			const info = await this.client.getCollection(this.collection);
			const vectors = info.config.params.vectors as Record<string, { size: number }> | undefined;
			this.keywords = keywordState(info.config.metadata as Record<string, unknown> | null | undefined);
			this.dimension = vectors?.[DENSE]?.size ?? 0;
			return this.dimension;
		} catch (error) {
			if (isHttpError(error) && error.status === 404) return undefined;
			throw this.explain('read the collection', error);
		}
	}

	private async ensureCollection(dimension: number, chunks: StoredChunk[]): Promise<void> {
		let stored = await this.storedDimension();
		if (stored === undefined) {
			const language =
				this.keywordLanguage !== 'auto'
					? this.keywordLanguage
					: (detectKeywordLanguage(chunks.map((chunk) => chunk.text)) ?? FALLBACK_KEYWORD_LANGUAGE);
			await this.call('create the collection', async () => {
				try {
					await this.client.createCollection(this.collection, {
						...(dimension > 0 ? { vectors: { [DENSE]: { size: dimension, distance: 'Cosine' } } } : {}),
						sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
						metadata: keywordMetadata(language),
					});
				} catch (error) {
					// Another writer created it first: its dimension is checked below like any other.
					if (!(isHttpError(error) && error.status === 409)) throw error;
				}
				const indexes: Array<[string, Schemas['PayloadFieldSchema']]> = [
					['namespace', { type: 'keyword', is_tenant: true }],
					['sourceId', 'keyword'],
					['documentHash', 'keyword'],
					['contentHash', 'keyword'],
					['ingestedAt', 'datetime'],
				];
				for (const [field_name, field_schema] of indexes) {
					await this.client.createPayloadIndex(this.collection, { field_name, field_schema, wait: true });
				}
			});
			stored = await this.storedDimension();
		}
		if (stored !== dimension) throw dimensionMismatch(this.collection, stored ?? 0, dimension);
	}

	/** The collection's keyword analysis after any language change this store asks for. */
	private async keywordAnalysis(): Promise<SparseAnalysis> {
		const state = this.keywords ?? { analysis: 'legacy', version: 0 };
		const language = wantedLanguage(state, this.keywordLanguage);
		if (!language) return state.analysis;
		await this.reencode(language);
		return language;
	}

	/**
	 * Re-encodes every point's sparse vector with another language, page by page, then records the language
	 * (last, so an interrupted change is redone by the next call that asks for it).
	 */
	private async reencode(language: KeywordLanguage): Promise<void> {
		let offset: Schemas['ExtendedPointId'] | undefined;
		do {
			const page = await this.call('re-index keywords', () =>
				this.client.scroll(this.collection, {
					limit: UPSERT_BATCH,
					...(offset !== undefined ? { offset } : {}),
					with_payload: { include: ['text'] },
					with_vector: false,
				}),
			);
			const points = page.points.map((point) => ({
				id: point.id,
				vector: { [SPARSE]: encodeDocument(String((point.payload as Partial<ChunkPayload> | null)?.text ?? ''), language) },
			}));
			if (points.length) await this.call('re-index keywords', () => this.client.updateVectors(this.collection, { wait: true, points }));
			offset = (page.next_page_offset ?? undefined) as Schemas['ExtendedPointId'] | undefined;
		} while (offset !== undefined);
		await this.call('record the keyword language', () =>
			this.client.updateCollection(this.collection, { metadata: keywordMetadata(language) }),
		);
		this.keywords = { analysis: language, version: KEYWORD_ANALYSIS_VERSION };
	}

	async upsert(chunks: StoredChunk[], signal?: AbortSignal): Promise<void> {
		if (!chunks.length) return;
		const dimension = batchDimension(this.collection, chunks);
		signal?.throwIfAborted();
		await this.ensureCollection(dimension, chunks);
		const analysis = await this.keywordAnalysis();
		for (let start = 0; start < chunks.length; start += UPSERT_BATCH) {
			signal?.throwIfAborted();
			const points = chunks.slice(start, start + UPSERT_BATCH).map((chunk) => {
				const { metadata } = chunk;
				const payload: ChunkPayload = {
					text: chunk.text,
					tokens: chunk.tokens,
					namespace: metadata.namespace,
					sourceId: metadata.sourceId,
					documentHash: metadata.documentHash,
					contentHash: metadata.contentHash,
					chunkIndex: metadata.chunkIndex,
					chunkCount: metadata.chunkCount,
					...(metadata.title !== undefined ? { title: metadata.title } : {}),
					...(metadata.url !== undefined ? { url: metadata.url } : {}),
					headingPath: metadata.headingPath ?? [],
					ingestedAt: metadata.ingestedAt,
					extra: metadata.extra ?? {},
				};
				const vector: Record<string, number[] | { indices: number[]; values: number[] }> = {
					[SPARSE]: encodeDocument(chunk.text, analysis),
				};
				if (chunk.vector) vector[DENSE] = chunk.vector;
				return { id: chunk.id, vector, payload: payload as unknown as Record<string, unknown> };
			});
			await this.call('store chunks', () => this.client.upsert(this.collection, { wait: true, points }));
		}
	}

	/** All points matching a filter, page by page (payload fields and vectors as asked). */
	private async scrollAll(
		filter: Filter,
		withPayload: string[],
		withVector: boolean,
		pageSize = PAGE,
	): Promise<Array<{ id: string | number; payload?: Record<string, unknown> | null; vector?: unknown }>> {
		const points = [];
		let offset: Schemas['ExtendedPointId'] | undefined;
		do {
			const page = await this.call('read chunks', () =>
				this.client.scroll(this.collection, {
					filter,
					limit: pageSize,
					...(offset !== undefined ? { offset } : {}),
					with_payload: { include: withPayload },
					with_vector: withVector ? [DENSE] : false,
				}),
			);
			points.push(...page.points);
			offset = (page.next_page_offset ?? undefined) as Schemas['ExtendedPointId'] | undefined;
		} while (offset !== undefined);
		return points;
	}

	async versions(namespace: string, sourceIds: string[]): Promise<Map<string, StoredVersion[]>> {
		assertNamespace(namespace);
		const versions = new Map<string, StoredVersion[]>();
		const unique = [...new Set(sourceIds)];
		if (!unique.length || (await this.storedDimension()) === undefined) return versions;
		for (let start = 0; start < unique.length; start += SOURCES_PER_LOOKUP) {
			const filter = toQdrantFilter(namespace, [], [{ key: 'sourceId', match: { any: unique.slice(start, start + SOURCES_PER_LOOKUP) } }]);
			const points = await this.scrollAll(filter, ['sourceId', 'documentHash', 'chunkCount'], false, VERSIONS_PAGE);
			for (const { payload } of points) countIntoVersions(versions, payload as unknown as VersionRow);
		}
		return versions;
	}

	async vectorsByContentHash(namespace: string, contentHashes: string[]): Promise<Map<string, number[]>> {
		assertNamespace(namespace);
		const vectors = new Map<string, number[]>();
		if (!contentHashes.length || !(await this.storedDimension())) return vectors;
		const unique = [...new Set(contentHashes)];
		for (let start = 0; start < unique.length; start += PAGE) {
			const filter = toQdrantFilter(namespace, [], [{ key: 'contentHash', match: { any: unique.slice(start, start + PAGE) } }]);
			for (const point of await this.scrollAll(filter, ['contentHash'], true)) {
				const dense = (point.vector as Record<string, number[]> | undefined)?.[DENSE];
				if (dense) vectors.set((point.payload as unknown as ChunkPayload).contentHash, dense);
			}
		}
		return vectors;
	}

	async deleteSource(namespace: string, sourceId: string, keepDocumentHash?: string): Promise<number> {
		const filter = toQdrantFilter(namespace, [], [{ key: 'sourceId', match: { value: sourceId } }]);
		if (keepDocumentHash !== undefined) filter.must_not = [{ key: 'documentHash', match: { value: keepDocumentHash } }];
		if ((await this.storedDimension()) === undefined) return 0;
		const { count } = await this.call('count chunks', () => this.client.count(this.collection, { filter, exact: true }));
		if (count > 0) await this.call('delete chunks', () => this.client.delete(this.collection, { wait: true, filter }));
		return count;
	}

	async listSources(namespace: string, options: { limit?: number; offset?: number } = {}): Promise<SourceSummary[]> {
		const filter = toQdrantFilter(namespace, []);
		if ((await this.storedDimension()) === undefined) return [];
		const facet = await this.call('list sources', () =>
			this.client.facet(this.collection, { key: 'sourceId', filter, limit: MAX_LISTED_SOURCES, exact: true }),
		);
		const offset = options.offset ?? 0;
		const page = facet.hits
			.map((hit) => ({ sourceId: String(hit.value), chunks: hit.count }))
			.sort((a, b) => (a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0))
			.slice(offset, offset + (options.limit ?? 100));
		if (!page.length) return [];
		// One batched request: each source's newest chunk describes it (an older version may linger after
		// an interrupted update).
		const newest = await this.call('list sources', () =>
			this.client.queryBatch(this.collection, {
				searches: page.map(({ sourceId }) => ({
					query: { order_by: { key: 'ingestedAt', direction: 'desc' as const } },
					filter: toQdrantFilter(namespace, [], [{ key: 'sourceId', match: { value: sourceId } }]),
					limit: 1,
					with_payload: { include: ['title', 'url', 'documentHash', 'ingestedAt'] },
				})),
			}),
		);
		return page.map(({ sourceId, chunks }, index) => {
			const payload = (newest[index]?.points[0]?.payload ?? {}) as Partial<ChunkPayload>;
			return {
				sourceId,
				title: payload.title ?? undefined,
				url: payload.url ?? undefined,
				documentHash: payload.documentHash ?? '',
				chunks,
				ingestedAt: payload.ingestedAt ?? '',
			};
		});
	}

	async search(query: StoreSearchQuery): Promise<StoreHit[]> {
		assertSearchQuery(query);
		const filter = toQdrantFilter(query.namespace, normalizeFilter(query.filter));
		const stored = await this.storedDimension();
		if (stored === undefined) return [];
		if (query.mode !== 'keyword' && stored !== query.vector?.length) {
			throw dimensionMismatch(this.collection, stored, query.vector?.length ?? 0);
		}
		// Plain terms of the collection's language: a user's quotes, operators or emoji never reach Qdrant.
		const sparse = query.mode === 'semantic' ? undefined : encodeQuery(query.text ?? '', await this.keywordAnalysis());
		const hasTerms = (sparse?.indices.length ?? 0) > 0;
		const common = { filter, limit: query.topK, with_payload: true };
		let request: Parameters<QdrantClient['query']>[1];
		if (query.mode === 'semantic') request = { ...common, query: query.vector, using: DENSE };
		else if (query.mode === 'keyword') {
			if (!hasTerms) return [];
			request = { ...common, query: sparse, using: SPARSE };
		} else {
			const depth = hybridCandidateCount(query.topK);
			const prefetch: Schemas['Prefetch'][] = [{ query: query.vector, using: DENSE, filter, limit: depth }];
			if (hasTerms) prefetch.push({ query: sparse, using: SPARSE, filter, limit: depth });
			// k = 60 (not Qdrant's default 2, under which one list's top hit outranks a chunk both lists rank
			// third) keeps hybrid scores on the same scale as the LanceDB backend. Needs Qdrant >= 1.16.
			request = { ...common, prefetch, query: { rrf: { k: RRF_K } } };
		}
		const response = await this.call('search', () => this.client.query(this.collection, request));
		return response.points.map((point) => ({
			chunk: payloadToChunk(point.id, point.payload as unknown as ChunkPayload),
			score: point.score,
		}));
	}

	async close(): Promise<void> {
		// The REST client holds no connection that needs closing; pooled sockets time out on their own.
	}
}
