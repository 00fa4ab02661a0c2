import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { isToolType } from 'n8n-workflow';

import { parseFilter, type SimpleCondition } from '../../../lib/filters';
import {
	createHttpReranker,
	DEFAULT_RERANK_CANDIDATES,
	DEFAULT_RERANK_TIMEOUT_MS,
	type RerankFormat,
} from '../../../lib/rerank';
import {
	DEFAULT_FUSION,
	DEFAULT_SEMANTIC_WEIGHT,
	formatSources,
	searchKnowledgeWithMode,
	type HybridFusion,
	type SearchHit,
	type SearchModeChoice,
} from '../../../lib/search';
import type { KnowledgeBase } from '../../shared/storeOptions';

const show = { show: { operation: ['search'] } };
/**
 * The search settings, shown for Search and for Evaluate: Evaluate must score exactly the search the
 * workflow runs, so both operations read these same parameters (and `runSearch` below).
 */
const settingsShow = { show: { operation: ['search', 'evaluate'] } };

export const RERANK_CREDENTIAL = 'symbioticRerankApi';

/** Default of "Max Results per Source": room for at least two other sources in the default top 5. */
export const DEFAULT_MAX_PER_SOURCE = 3;
const DEFAULT_RERANK_TIMEOUT_SECONDS = DEFAULT_RERANK_TIMEOUT_MS / 1000;

export const NOTHING_FOUND = 'Nothing in the knowledge base matches this query.';

export const description: INodeProperties[] = [
	{
		displayName: 'Query',
		name: 'query',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. {{ $json.question }}',
		description:
			'What to look for: a question or a few words. As an AI Agent tool, let the agent write it: {{ $fromAI("query", "the question to look up in the knowledge base") }}.',
		displayOptions: show,
	},
	{
		displayName: 'Search Mode',
		name: 'mode',
		type: 'options',
		options: [
			{
				name: 'Auto',
				value: 'auto',
				description:
					'Hybrid when a Symbiotic Model API credential with a base URL and an embedding model is selected, keyword otherwise. The output says which mode ran.',
			},
			{
				name: 'Hybrid',
				value: 'hybrid',
				description:
					'Meaning and exact words combined: the best results for most questions (needs the Symbiotic Model API credential)',
			},
			{
				name: 'Keyword',
				value: 'keyword',
				description: 'Exact words, like a search engine: works without any AI model',
			},
			{
				name: 'Semantic',
				value: 'semantic',
				description:
					'By meaning, even with different words (needs the Symbiotic Model API credential)',
			},
		],
		default: 'hybrid',
		hint: 'Without a Symbiotic Model API credential, choose Keyword or Auto',
		displayOptions: settingsShow,
	},
	{
		displayName: 'Number of Results',
		name: 'topK',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 200 },
		default: 5,
		description: 'How many passages to return, best first. Five fit comfortably in a prompt.',
		displayOptions: settingsShow,
	},
	{
		displayName: 'Max Results per Source',
		name: 'maxPerSource',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_MAX_PER_SOURCE,
		description:
			'At most this many passages of one document before passages of other documents, so one long document does not fill all the results. When no other document matches, its further passages still follow. 0 = no limit.',
		displayOptions: settingsShow,
	},
	{
		displayName: 'Rerank',
		name: 'rerank',
		type: 'boolean',
		default: false,
		description:
			'Whether to let a reranking model (Cohere, Jina, vLLM, Infinity, Text Embeddings Inference…) reorder the best candidates: slower, usually more precise. If it fails, the results keep their order and the output says why.',
		displayOptions: settingsShow,
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'One Item per Result',
				value: 'perHit',
				description: 'Each result is its own item',
			},
			{
				name: 'One Item With All Results',
				value: 'combined',
				description:
					'A single item with the list of results and a numbered "context" text ready to put in a prompt. The best choice for an AI Agent.',
			},
		],
		default: 'combined',
		displayOptions: show,
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Filter',
		default: {},
		description: 'Only search documents whose metadata matches all these conditions',
		displayOptions: settingsShow,
		options: [
			{
				name: 'conditions',
				displayName: 'Condition',
				values: [
					{
						displayName: 'Key',
						name: 'key',
						type: 'string',
						default: '',
						placeholder: 'e.g. product',
						description:
							'A metadata label given at ingest (e.g. product), or a document field such as sourceId or title',
					},
					{
						displayName: 'Operator',
						name: 'op',
						type: 'options',
						options: [
							{ name: 'Equals', value: 'eq' },
							{ name: 'Exists', value: 'exists' },
							{ name: 'Greater Than', value: 'gt' },
							{ name: 'Greater Than or Equal', value: 'gte' },
							{ name: 'Is Not One Of', value: 'nin' },
							{ name: 'Is One Of', value: 'in' },
							{ name: 'Less Than', value: 'lt' },
							{ name: 'Less Than or Equal', value: 'lte' },
							{ name: 'Not Equals', value: 'ne' },
						],
						default: 'eq',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						hint: 'For "is one of", separate values with commas',
						displayOptions: { hide: { op: ['exists'] } },
					},
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: settingsShow,
		options: [
			{
				displayName: 'Filter (JSON)',
				name: 'filterJson',
				type: 'json',
				default: '',
				placeholder: '{ "product": "boots", "year": { "$gte": 2024 } }',
				description:
					'More conditions as JSON, combined with the Filters above: {"key": value} or {"key": {"$in": [...]}}',
			},
			{
				displayName: 'Fusion',
				name: 'fusion',
				type: 'options',
				options: [
					{
						name: 'Scores',
						value: 'score',
						description:
							'Similarity and relative keyword score, weighted: a weak embedding model then barely changes the keyword ranking',
					},
					{
						name: 'Reciprocal Rank',
						value: 'rrf',
						description: 'Ranks only (weighted RRF); at weight 0.5 the classic reciprocal rank fusion',
					},
				],
				default: DEFAULT_FUSION,
				description: 'How hybrid search merges the meaning and keyword rankings',
				displayOptions: { show: { '/mode': ['hybrid', 'auto'] } },
			},
			{
				displayName: 'Minimum Score',
				name: 'minScore',
				type: 'number',
				typeOptions: { numberPrecision: 4 },
				default: 0,
				description:
					'Hide results scoring below this; 0 keeps everything. Scores are not comparable between search modes (semantic: similarity from 0 to 1; hybrid: 0 to 1; reranked: the reranker\'s relevance), so set it for the mode you use.',
			},
			{
				displayName: 'Rerank Candidates',
				name: 'rerankCandidates',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 1000 },
				default: DEFAULT_RERANK_CANDIDATES,
				description:
					'How many of the best candidates the reranking model reads (at least Number of Results). More can find more, but costs time and tokens.',
				displayOptions: { show: { '/rerank': [true] } },
			},
			{
				displayName: 'Rerank Timeout (Seconds)',
				name: 'rerankTimeout',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_RERANK_TIMEOUT_SECONDS,
				description: 'After this long without an answer, the results keep their order without reranking',
				displayOptions: { show: { '/rerank': [true] } },
			},
			{
				displayName: 'Semantic Weight',
				name: 'semanticWeight',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: DEFAULT_SEMANTIC_WEIGHT,
				description:
					'Hybrid search: how much meaning counts against exact words, from 0 (keywords only) to 1 (meaning only)',
				displayOptions: { show: { '/mode': ['hybrid', 'auto'] } },
			},
		],
	},
];

export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	knowledgeBase: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const query = ctx.getNodeParameter('query', itemIndex) as string;
	const { hits, ran } = await runSearch(ctx, itemIndex, knowledgeBase, query);
	if (ctx.getNodeParameter('output', itemIndex) === 'perHit') {
		return hits.map((hit) => ({ json: { query, ...ran, ...hit } }));
	}
	if (isToolType(ctx.getNode().type)) return [{ json: toolAnswer(query, hits) }];
	return [{ json: { query, ...ran, count: hits.length, hits, context: formatSources(hits) } }];
}

/**
 * The search an item's settings describe (mode, Number of Results, Max Results per Source, filters, options,
 * rerank), for `query`: the one code path of Search and Evaluate. `ran` says which mode ran and whether
 * reranking happened (and why not).
 */
export async function runSearch(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, embedder, namespace }: KnowledgeBase,
	query: string,
): Promise<{ hits: SearchHit[]; ran: IDataObject }> {
	const options = ctx.getNodeParameter('options', itemIndex, {}) as {
		filterJson?: string | object;
		minScore?: number;
		fusion?: HybridFusion;
		semanticWeight?: number;
		rerankCandidates?: number;
		rerankTimeout?: number;
	};
	const conditions = ctx.getNodeParameter('filters.conditions', itemIndex, []) as SimpleCondition[];
	// A JSON parameter arrives parsed when an expression produced an object.
	const filterJson =
		typeof options.filterJson === 'object'
			? JSON.stringify(options.filterJson)
			: options.filterJson;
	const { hits, mode, modeReason, rerank } = await searchKnowledgeWithMode({
		store,
		embedder,
		namespace,
		query,
		mode: ctx.getNodeParameter('mode', itemIndex) as SearchModeChoice,
		topK: ctx.getNodeParameter('topK', itemIndex) as number,
		minScore: options.minScore || undefined,
		filter: parseFilter(conditions, filterJson),
		signal: ctx.getExecutionCancelSignal?.(),
		semanticWeight: options.semanticWeight,
		fusion: options.fusion,
		maxPerSource: ctx.getNodeParameter('maxPerSource', itemIndex, DEFAULT_MAX_PER_SOURCE) as number,
		rerank: (ctx.getNodeParameter('rerank', itemIndex, false) as boolean)
			? await reranker(ctx, itemIndex, options)
			: undefined,
	});
	// Which mode ran: with Auto it depends on the credential, and keyword scores differ from hybrid ones.
	const ran: IDataObject = modeReason ? { mode, modeReason } : { mode };
	// Reranking never fails the search: whether it happened, and why not, is in the output.
	if (rerank) Object.assign(ran, rerank.reranked ? { reranked: true } : { reranked: false, rerankReason: rerank.reason });
	return { hits, ran };
}

async function reranker(
	ctx: IExecuteFunctions,
	itemIndex: number,
	options: { rerankCandidates?: number; rerankTimeout?: number },
) {
	const credentials = await ctx.getCredentials(RERANK_CREDENTIAL, itemIndex);
	return {
		reranker: createHttpReranker({
			baseUrl: String(credentials.baseUrl ?? ''),
			apiKey: (credentials.apiKey as string) || undefined,
			model: String(credentials.model ?? ''),
			format: (credentials.apiFormat as RerankFormat) || 'documents',
			timeoutMs: (options.rerankTimeout || DEFAULT_RERANK_TIMEOUT_SECONDS) * 1000,
		}),
		candidates: options.rerankCandidates,
	};
}

/**
 * What an AI Agent reads: the agent's model gets the JSON of every output item, and the passages are in
 * `context` already, so `sources` only names them for citing instead of repeating text and store metadata.
 * An explicit "nothing found" keeps the model from answering from an empty string as if it were knowledge.
 */
function toolAnswer(query: string, hits: SearchHit[]): IDataObject {
	return {
		query,
		count: hits.length,
		context: hits.length > 0 ? formatSources(hits) : NOTHING_FOUND,
		sources: hits.map(({ citation, sourceId, title, url }) => ({ citation, sourceId, title, url })),
	};
}
