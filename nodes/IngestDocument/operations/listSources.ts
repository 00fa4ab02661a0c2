import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { listSources } from '../../../lib/ingest';
import type { SourceSummary, VectorStore } from '../../../lib/types';
import type { KnowledgeBase } from '../../shared/storeOptions';

export const description: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: { show: { operation: ['listSources'] } },
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { operation: ['listSources'], returnAll: [false] } },
	},
];

/** Sources read per request when returning all: bounded so a huge knowledge base is not one giant read. */
const PAGE_SIZE = 500;

export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, namespace }: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const sources = (ctx.getNodeParameter('returnAll', itemIndex) as boolean)
		? await allSources(store, namespace)
		: await listSources(store, namespace, {
				limit: ctx.getNodeParameter('limit', itemIndex) as number,
				offset: 0,
			});
	return sources.map((source) => ({ json: { ...source, namespace } }));
}

async function allSources(store: VectorStore, namespace: string): Promise<SourceSummary[]> {
	const sources: SourceSummary[] = [];
	for (;;) {
		const page = await listSources(store, namespace, { limit: PAGE_SIZE, offset: sources.length });
		sources.push(...page);
		if (page.length < PAGE_SIZE) return sources;
	}
}
