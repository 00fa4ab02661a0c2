import type { INodeProperties } from 'n8n-workflow';

import type { HistoryOptions } from '../../../lib/memory';
import { readSession } from './session';
import type { MemoryOperation } from './types';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['getHistory'], ...extra } });

const description: INodeProperties[] = [
	{
		displayName: 'Window',
		name: 'window',
		type: 'options',
		options: [
			{ name: 'Last N Messages', value: 'lastN' },
			{ name: 'Token Budget', value: 'tokenBudget', description: 'The newest messages that fit in a number of tokens' },
			{ name: 'All Messages', value: 'all' },
		],
		default: 'lastN',
		displayOptions: show(),
	},
	{
		displayName: 'Last N Messages',
		name: 'lastN',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 10,
		displayOptions: show({ window: ['lastN'] }),
	},
	{
		displayName: 'Token Budget',
		name: 'tokenBudget',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 1500,
		description: 'Maximum tokens (cl100k_base) of the transcript, newest messages first',
		displayOptions: show({ window: ['tokenBudget'] }),
	},
	{
		displayName: 'Include Facts',
		name: 'includeFacts',
		type: 'boolean',
		default: false,
		description: "Whether to add the contact's facts to the output, next to the transcript",
		displayOptions: show(),
	},
];

export const getHistory: MemoryOperation = {
	description,
	async execute(ctx, itemIndex, memory) {
		const session = readSession(ctx, itemIndex);
		const window = ctx.getNodeParameter('window', itemIndex) as string;
		const options: HistoryOptions =
			window === 'all' ? {} : { [window]: ctx.getNodeParameter(window, itemIndex) as number };
		const history = await memory.getHistory(session, options);
		const facts = ctx.getNodeParameter('includeFacts', itemIndex, false) ? { facts: await memory.getFacts(session) } : {};
		return { ...session, ...history, ...facts };
	},
};
