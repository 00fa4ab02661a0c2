import { checkNamespace } from './namespace';
import {
	DEFAULT_RERANK_CANDIDATES,
	MAX_RERANK_CANDIDATES,
	rerankItems,
	type Reranker,
	type RerankOutcome,
} from './rerank';
import { hybridCandidateCount } from './stores/common';
import { scoreFusion, weightedReciprocalRankFusion } from './stores/fusion';
import type { ChunkMetadata, Embedder, MetadataFilter, SearchMode, StoreHit, VectorStore } from './types';
import { DimensionMismatchError, InputError } from './types';

/** A search mode as a user picks it: one of the store's modes, or `auto` (hybrid when a model is there). */
export type SearchModeChoice = SearchMode | 'auto';

export interface SearchOptions {
	store: VectorStore;
	/** Needed for semantic and hybrid search; keyword search works without one. */
	embedder?: Embedder;
	namespace: string;
	query: string;
	mode: SearchMode;
	topK: number;
	/**
	 * Hits scoring below are dropped. Scores depend on the mode: cosine similarity (semantic), BM25
	 * (keyword), the fused score (hybrid) or, once reranked, the reranker's relevance score, so a threshold is
	 * only meaningful within one mode.
	 */
	minScore?: number;
	filter?: MetadataFilter;
	signal?: AbortSignal;
	/**
	 * Hybrid only: how much meaning counts against exact words, from 0 (keyword ranking only) to 1 (semantic
	 * only). Default DEFAULT_SEMANTIC_WEIGHT.
	 */
	semanticWeight?: number;
	/** Hybrid only: how the two rankings are merged. Default `score` (see `scoreFusion`). */
	fusion?: HybridFusion;
	/**
	 * At most this many hits of one source (`sourceId`) before the hits of other sources; 0 or absent = no
	 * limit. Demotes, never drops: when the other sources cannot fill `topK`, the held-back hits follow, best
	 * first, so a knowledge base of one long document still gets `topK` hits.
	 */
	maxPerSource?: number;
	/** Reorders the best candidates with a reranking model; on failure the order is kept and the result says why. */
	rerank?: { reranker: Reranker; candidates?: number };
}

/**
 * `score`: convex combination of cosine similarity and relative BM25 (`scoreFusion`); `rrf`: weighted
 * reciprocal rank fusion (equal weights at 0.5 = plain RRF).
 */
export type HybridFusion = 'score' | 'rrf';

/**
 * Default weight of meaning against words in hybrid search. With score fusion a weak embedding model moves the
 * ranking in proportion to how much its similarities differ, so at this weight hybrid stays at least as good
 * as keyword search alone with a poor model (test/search/hybridWeighting.test.ts) and above it with a good one.
 */
export const DEFAULT_SEMANTIC_WEIGHT = 0.5;
export const DEFAULT_FUSION: HybridFusion = 'score';

/** One search result, ready to be cited as `[index]` in a generated answer. */
export interface SearchHit {
	citation: string;
	index: number;
	text: string;
	score: number;
	sourceId: string;
	title?: string;
	url?: string;
	headingPath: string[];
	chunkIndex: number;
	metadata: ChunkMetadata;
	/** Once reranked: the retrieval score the hit had before (`score` is then the reranker's relevance). */
	retrievalScore?: number;
}

const MAX_TOP_K = 200;
/** Most candidates fetched per ranked list (the stores cap hybrid depth at 1000 too). */
const MAX_CANDIDATES = 1000;

export interface SearchResult {
	hits: SearchHit[];
	/** Present when reranking was asked for: whether it happened, and why not. */
	rerank?: RerankOutcome;
}

export interface ModeResult extends SearchResult {
	/** The mode that actually ran. */
	mode: SearchMode;
	/** Why `auto` ran keyword search, when it did. */
	modeReason?: string;
}

/**
 * Whether model settings can embed: an http(s) base URL and an embedding model. A credential still holding a
 * placeholder ("OPENAI_BASE_URL is not set: …", as the example credentials do) or an empty model is not.
 */
export function isEmbeddingModelConfigured(settings: { baseUrl?: unknown; embeddingModel?: unknown }): boolean {
	if (!String(settings.embeddingModel ?? '').trim()) return false;
	try {
		const { protocol } = new URL(String(settings.baseUrl ?? '').trim());
		return protocol === 'http:' || protocol === 'https:';
	} catch {
		return false;
	}
}

export const AUTO_NO_MODEL = 'no embedding model configured';
export const AUTO_NO_VECTORS = 'the collection was stored without vectors (ingest it again with the model to search by meaning)';

/**
 * Searches like `searchKnowledge`, and resolves `auto`: hybrid when an embedder is given, keyword when not — or
 * when the collection holds no vectors (it was ingested before a model was configured), instead of failing.
 * Says which mode ran.
 */
export async function searchKnowledgeWithMode(
	options: Omit<SearchOptions, 'mode'> & { mode: SearchModeChoice },
): Promise<ModeResult> {
	if (options.mode !== 'auto') {
		return { ...(await searchWithDetails({ ...options, mode: options.mode })), mode: options.mode };
	}
	if (!options.embedder) {
		return { ...(await searchWithDetails({ ...options, mode: 'keyword' })), mode: 'keyword', modeReason: AUTO_NO_MODEL };
	}
	try {
		return { ...(await searchWithDetails({ ...options, mode: 'hybrid' })), mode: 'hybrid' };
	} catch (error) {
		if (!(error instanceof DimensionMismatchError) || error.expected !== 0) throw error;
		return { ...(await searchWithDetails({ ...options, mode: 'keyword' })), mode: 'keyword', modeReason: AUTO_NO_VECTORS };
	}
}

export async function searchKnowledge(options: SearchOptions): Promise<SearchHit[]> {
	return (await searchWithDetails(options)).hits;
}

function checkRankingOptions(options: SearchOptions): void {
	const { semanticWeight, maxPerSource, fusion, rerank } = options;
	if (semanticWeight !== undefined && !(Number.isFinite(semanticWeight) && semanticWeight >= 0 && semanticWeight <= 1)) {
		throw new InputError(`Semantic Weight must be a number from 0 to 1 (got ${semanticWeight})`, 'semanticWeight');
	}
	if (maxPerSource !== undefined && !(Number.isInteger(maxPerSource) && maxPerSource >= 0)) {
		throw new InputError(`Max Results per Source must be a whole number, 0 for no limit (got ${maxPerSource})`, 'maxPerSource');
	}
	if (fusion !== undefined && fusion !== 'score' && fusion !== 'rrf') {
		throw new InputError(`Unknown fusion "${String(fusion)}": use "score" or "rrf"`, 'fusion');
	}
	const candidates = rerank?.candidates;
	if (candidates !== undefined && !(Number.isInteger(candidates) && candidates >= 1 && candidates <= MAX_RERANK_CANDIDATES)) {
		throw new InputError(`Rerank Candidates must be a whole number from 1 to ${MAX_RERANK_CANDIDATES} (got ${candidates})`, 'rerankCandidates');
	}
}

/** How many ranked candidates the steps after retrieval (reranking, the per-source limit) need. */
function candidatePool(options: SearchOptions): number {
	let pool = options.topK;
	if (options.maxPerSource) pool = Math.max(pool, options.topK * 4, 20);
	if (options.rerank) pool = Math.max(pool, options.rerank.candidates ?? DEFAULT_RERANK_CANDIDATES);
	return Math.min(pool, MAX_CANDIDATES);
}

/**
 * Hybrid search fused here rather than in the store: both rankings are fetched on their own and merged with
 * the chosen fusion and weight, the same way for every store backend.
 */
async function hybridSearch(
	options: SearchOptions,
	namespace: string,
	query: string,
	vector: number[],
	pool: number,
): Promise<StoreHit[]> {
	const depth = hybridCandidateCount(pool);
	const common = { namespace, topK: depth, filter: options.filter };
	const [semantic, keyword] = await Promise.all([
		options.store.search({ ...common, mode: 'semantic', vector }),
		options.store.search({ ...common, mode: 'keyword', text: query }),
	]);
	const weight = options.semanticWeight ?? DEFAULT_SEMANTIC_WEIGHT;
	const ranked = (hits: StoreHit[]) => hits.map((hit) => ({ id: hit.chunk.id, score: hit.score, hit }));
	const fused =
		(options.fusion ?? DEFAULT_FUSION) === 'rrf'
			? weightedReciprocalRankFusion([
					{ items: ranked(semantic), weight: 2 * weight },
					{ items: ranked(keyword), weight: 2 * (1 - weight) },
				])
			: scoreFusion(ranked(semantic), ranked(keyword), weight);
	return fused.slice(0, pool).map(({ item, score }) => ({ chunk: item.hit.chunk, score }));
}

/**
 * At most `maxPerSource` hits of each source first, best first; then, while fewer than `limit`, the hits held
 * back, best first. 0 = no limit.
 */
export function limitPerSource<T extends { sourceId: string }>(hits: T[], maxPerSource: number, limit: number): T[] {
	if (!maxPerSource) return hits.slice(0, limit);
	const kept: T[] = [];
	const heldBack: T[] = [];
	const counts = new Map<string, number>();
	for (const hit of hits) {
		if (kept.length === limit) break;
		const count = counts.get(hit.sourceId) ?? 0;
		if (count < maxPerSource) {
			kept.push(hit);
			counts.set(hit.sourceId, count + 1);
		} else heldBack.push(hit);
	}
	return [...kept, ...heldBack].slice(0, limit);
}

/** Like `searchKnowledge`, and says whether reranking happened. */
export async function searchWithDetails(options: SearchOptions): Promise<SearchResult> {
	const namespace = checkNamespace(options.namespace);
	const query = options.query?.trim() ?? '';
	if (!query) throw new InputError('Query is empty: give the question or words to search for', 'query');
	if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > MAX_TOP_K) {
		throw new InputError(`Limit must be a whole number from 1 to ${MAX_TOP_K} (got ${options.topK})`, 'topK');
	}
	if (options.mode !== 'keyword' && !options.embedder) {
		throw new InputError(
			`${options.mode === 'hybrid' ? 'Hybrid' : 'Semantic'} search needs an embedding model: select a Model credential, or use Keyword mode`,
			'mode',
		);
	}
	checkRankingOptions(options);
	const pool = candidatePool(options);
	const vector = options.mode === 'keyword' ? undefined : (await options.embedder!.embed([query], options.signal))[0];
	let candidates: Array<{ hit: StoreHit; score: number; retrievalScore?: number }> = (
		options.mode === 'hybrid'
			? await hybridSearch(options, namespace, query, vector!, pool)
			: await options.store.search({
					namespace,
					mode: options.mode,
					vector,
					text: query,
					topK: pool,
					filter: options.filter,
				})
	).map((hit) => ({ hit, score: hit.score }));
	let rerank: RerankOutcome | undefined;
	if (options.rerank) {
		const window = candidates.slice(0, Math.max(options.rerank.candidates ?? DEFAULT_RERANK_CANDIDATES, options.topK));
		const { ranking, outcome } = await rerankItems(
			options.rerank.reranker,
			query,
			window,
			(candidate) => candidate.hit.chunk.text,
			options.signal,
		);
		rerank = outcome;
		if (outcome.reranked) {
			candidates = ranking.map(({ item, score }) => ({ hit: item.hit, score: score as number, retrievalScore: item.score }));
		}
	}
	const passing = candidates.filter((candidate) => options.minScore === undefined || candidate.score >= options.minScore);
	const limited = limitPerSource(
		passing.map((candidate) => ({ ...candidate, sourceId: candidate.hit.chunk.metadata.sourceId })),
		options.maxPerSource ?? 0,
		options.topK,
	);
	const hits = limited.map(({ hit, score, retrievalScore }, position): SearchHit => {
		const { metadata } = hit.chunk;
		return {
			citation: `[${position + 1}]`,
			index: position + 1,
			text: hit.chunk.text,
			score,
			sourceId: metadata.sourceId,
			title: metadata.title,
			url: metadata.url,
			headingPath: metadata.headingPath,
			chunkIndex: metadata.chunkIndex,
			metadata,
			...(retrievalScore !== undefined ? { retrievalScore } : {}),
		};
	});
	return rerank ? { hits, rerank } : { hits };
}

/** Numbered sources as one text block, the form a prompt (or a human) can cite from. */
export function formatSources(hits: SearchHit[]): string {
	return hits
		.map((hit) => {
			// The first heading often repeats the title: "Pricing › Pricing" helps no one.
			const heading = [...new Set([hit.title, ...hit.headingPath].filter(Boolean))].join(' › ');
			const origin = hit.url ?? hit.sourceId;
			return `${hit.citation} ${heading ? `${heading} — ` : ''}${origin}\n${hit.text}`;
		})
		.join('\n\n');
}
