import { checkNamespace } from './namespace';
import type { ChunkMetadata, Embedder, MetadataFilter, SearchMode, VectorStore } from './types';
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
	 * (keyword) or reciprocal rank fusion (hybrid), so a threshold is only meaningful within one mode.
	 */
	minScore?: number;
	filter?: MetadataFilter;
	signal?: AbortSignal;
}

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
}

const MAX_TOP_K = 200;

export interface ModeResult {
	hits: SearchHit[];
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
		return { hits: await searchKnowledge({ ...options, mode: options.mode }), mode: options.mode };
	}
	if (!options.embedder) {
		return { hits: await searchKnowledge({ ...options, mode: 'keyword' }), mode: 'keyword', modeReason: AUTO_NO_MODEL };
	}
	try {
		return { hits: await searchKnowledge({ ...options, mode: 'hybrid' }), mode: 'hybrid' };
	} catch (error) {
		if (!(error instanceof DimensionMismatchError) || error.expected !== 0) throw error;
		return { hits: await searchKnowledge({ ...options, mode: 'keyword' }), mode: 'keyword', modeReason: AUTO_NO_VECTORS };
	}
}

export async function searchKnowledge(options: SearchOptions): Promise<SearchHit[]> {
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
	const vector = options.mode === 'keyword' ? undefined : (await options.embedder!.embed([query], options.signal))[0];
	const hits = await options.store.search({
		namespace,
		mode: options.mode,
		vector,
		text: query,
		topK: options.topK,
		filter: options.filter,
	});
	return hits
		.filter((hit) => options.minScore === undefined || hit.score >= options.minScore)
		.map((hit, position) => {
			const { metadata } = hit.chunk;
			return {
				citation: `[${position + 1}]`,
				index: position + 1,
				text: hit.chunk.text,
				score: hit.score,
				sourceId: metadata.sourceId,
				title: metadata.title,
				url: metadata.url,
				headingPath: metadata.headingPath,
				chunkIndex: metadata.chunkIndex,
				metadata,
			};
		});
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
