import type { INodeProperties } from 'n8n-workflow';

import type { MemoryOperation } from './types';

const show = { show: { operation: ['listSessions'] } };

const description: INodeProperties[] = [
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		hint: 'About this many: continue with the returned cursor for more',
		displayOptions: show,
	},
	{
		displayName: 'Cursor',
		name: 'cursor',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.nextCursor }}',
		description: 'Leave empty to start; pass "nextCursor" of the previous run to continue',
		displayOptions: show,
	},
];

export const listSessions: MemoryOperation = {
	description,
	async execute(ctx, itemIndex, memory) {
		const namespace = ctx.getNodeParameter('namespace', itemIndex) as string;
		const cursor = (ctx.getNodeParameter('cursor', itemIndex, '') as string).trim();
		const listing = await memory.listSessions({
			namespace,
			limit: ctx.getNodeParameter('limit', itemIndex) as number,
			cursor: cursor || undefined,
		});
		return { namespace, ...listing, count: listing.sessionIds.length };
	},
};
