import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { isToolType } from 'n8n-workflow';

import { parseFilter, type SimpleCondition } from '../../../lib/filters';
import {
	formatSources,
	searchKnowledgeWithMode,
	type SearchHit,
	type SearchModeChoice,
} from '../../../lib/search';
import type { KnowledgeBase } from '../../shared/storeOptions';

const show = { show: { operation: ['search'] } };

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
		displayOptions: show,
	},
	{
		displayName: 'Number of Results',
		name: 'topK',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 200 },
		default: 5,
		description: 'How many passages to return, best first. Five fit comfortably in a prompt.',
		displayOptions: show,
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
		displayOptions: show,
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
		displayOptions: show,
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
				displayName: 'Minimum Score',
				name: 'minScore',
				type: 'number',
				typeOptions: { numberPrecision: 4 },
				default: 0,
				description:
					'Hide results scoring below this; 0 keeps everything. Scores are not comparable between search modes (semantic: similarity from 0 to 1), so set it for the mode you use.',
			},
		],
	},
];

export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, embedder, namespace }: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const query = ctx.getNodeParameter('query', itemIndex) as string;
	const options = ctx.getNodeParameter('options', itemIndex, {}) as {
		filterJson?: string | object;
		minScore?: number;
	};
	const conditions = ctx.getNodeParameter('filters.conditions', itemIndex, []) as SimpleCondition[];
	// A JSON parameter arrives parsed when an expression produced an object.
	const filterJson =
		typeof options.filterJson === 'object'
			? JSON.stringify(options.filterJson)
			: options.filterJson;
	const { hits, mode, modeReason } = await searchKnowledgeWithMode({
		store,
		embedder,
		namespace,
		query,
		mode: ctx.getNodeParameter('mode', itemIndex) as SearchModeChoice,
		topK: ctx.getNodeParameter('topK', itemIndex) as number,
		minScore: options.minScore || undefined,
		filter: parseFilter(conditions, filterJson),
		signal: ctx.getExecutionCancelSignal?.(),
	});
	// Which mode ran: with Auto it depends on the credential, and keyword scores differ from hybrid ones.
	const ran: IDataObject = modeReason ? { mode, modeReason } : { mode };
	if (ctx.getNodeParameter('output', itemIndex) === 'perHit') {
		return hits.map((hit) => ({ json: { query, ...ran, ...hit } }));
	}
	if (isToolType(ctx.getNode().type)) return [{ json: toolAnswer(query, hits) }];
	return [{ json: { query, ...ran, count: hits.length, hits, context: formatSources(hits) } }];
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
