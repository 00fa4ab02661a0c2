import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { deleteSource } from '../../../lib/ingest';
import type { KnowledgeBase } from '../../shared/storeOptions';

export const description: INodeProperties[] = [
	{
		displayName: 'Source ID',
		name: 'sourceId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. https://example.com/old-offer or brochure.pdf',
		description:
			'The source to remove from the knowledge base: a page URL, a file name or the ID given when the text was ingested',
		displayOptions: { show: { operation: ['deleteSource'] } },
	},
];

export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, namespace }: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const sourceId = (ctx.getNodeParameter('sourceId', itemIndex) as string).trim();
	const result = await deleteSource(store, namespace, sourceId);
	return [{ json: { ...result, namespace } }];
}
