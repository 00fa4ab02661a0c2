import type { INodeProperties } from 'n8n-workflow';

import { parseJsonInput, type FactsUpdate } from '../../../lib/memory';
import { readSession } from './session';
import type { MemoryOperation } from './types';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['setFacts'], ...extra } });

const description: INodeProperties[] = [
	{
		displayName: 'Facts',
		name: 'factsInput',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Fields', value: 'fields' },
			{ name: 'JSON', value: 'json', description: 'An object; a field set to null is deleted' },
		],
		default: 'fields',
		displayOptions: show(),
	},
	{
		displayName: 'Fields to Set',
		name: 'facts',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Fact',
		default: {},
		description: 'Merged into what is already known: other fields stay',
		options: [
			{
				displayName: 'Fact',
				name: 'fact',
				values: [
					{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'e.g. company' },
					{ displayName: 'Value', name: 'value', type: 'string', default: '', placeholder: 'e.g. {{ $json.company }}' },
				],
			},
		],
		displayOptions: show({ factsInput: ['fields'] }),
	},
	{
		displayName: 'Fields to Remove',
		name: 'removeFacts',
		type: 'string',
		default: '',
		placeholder: 'e.g. phone, budget',
		description: 'Comma-separated names of facts to delete',
		displayOptions: show({ factsInput: ['fields'] }),
	},
	{
		displayName: 'Facts (JSON)',
		name: 'factsJson',
		type: 'json',
		default: '{\n  "company": "Acme",\n  "stage": "qualified"\n}',
		displayOptions: show({ factsInput: ['json'] }),
	},
];

export const setFacts: MemoryOperation = {
	description,
	async execute(ctx, itemIndex, memory) {
		const session = readSession(ctx, itemIndex);
		let update: FactsUpdate;
		if (ctx.getNodeParameter('factsInput', itemIndex) === 'json') {
			update = parseJsonInput(ctx.getNodeParameter('factsJson', itemIndex), 'facts', 'Facts (JSON)') as FactsUpdate;
		} else {
			const fields = (ctx.getNodeParameter('facts.fact', itemIndex, []) as { name: string; value: FactsUpdate[string] }[]) ?? [];
			const removals = String(ctx.getNodeParameter('removeFacts', itemIndex, ''))
				.split(',')
				.map((name) => name.trim())
				.filter(Boolean);
			update = Object.fromEntries([
				...fields.map(({ name, value }) => [name.trim(), value] as const),
				...removals.map((name) => [name, null] as const),
			]);
		}
		return { ...session, facts: await memory.setFacts(session, update) };
	},
};
