import type { INodeProperties } from 'n8n-workflow';

import { MESSAGE_ROLES, parseJsonInput } from '../../../lib/memory';
import type { MessageInput } from '../../../lib/memory';
import { readSession } from './session';
import type { MemoryOperation } from './types';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['appendMessages'], ...extra } });

const description: INodeProperties[] = [
	{
		displayName: 'Messages',
		name: 'messagesInput',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Question and Answer', value: 'turn', description: "The contact's message and the reply sent" },
			{ name: 'One Message', value: 'single', description: 'A single message with its role' },
			{ name: 'List (JSON)', value: 'json', description: 'An array of { role, content, metadata?, at? }' },
		],
		default: 'turn',
		displayOptions: show(),
	},
	{
		displayName: 'User Message',
		name: 'userMessage',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		placeholder: 'e.g. {{ $json.question }}',
		description: 'What the contact said; left out when empty',
		displayOptions: show({ messagesInput: ['turn'] }),
	},
	{
		displayName: 'Assistant Reply',
		name: 'assistantMessage',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		placeholder: 'e.g. {{ $json.text }}',
		description: 'What was answered; left out when empty',
		displayOptions: show({ messagesInput: ['turn'] }),
	},
	{
		displayName: 'Role',
		name: 'role',
		type: 'options',
		options: MESSAGE_ROLES.map((role) => ({ name: role[0].toUpperCase() + role.slice(1), value: role })),
		default: 'user',
		displayOptions: show({ messagesInput: ['single'] }),
	},
	{
		displayName: 'Content',
		name: 'content',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		displayOptions: show({ messagesInput: ['single'] }),
	},
	{
		displayName: 'Messages (JSON)',
		name: 'messagesJson',
		type: 'json',
		default: '[\n  { "role": "user", "content": "Hello" }\n]',
		description: 'Roles: user, assistant, system, tool. Time ("at", ISO-8601) defaults to now.',
		displayOptions: show({ messagesInput: ['json'] }),
	},
	{
		displayName: 'Metadata (JSON)',
		name: 'metadata',
		type: 'json',
		default: '{}',
		description: 'Stored with each message of this item, e.g. { "channel": "email" }',
		displayOptions: show({ messagesInput: ['turn', 'single'] }),
	},
];

export const appendMessages: MemoryOperation = {
	description,
	async execute(ctx, itemIndex, memory) {
		const session = readSession(ctx, itemIndex);
		const input = ctx.getNodeParameter('messagesInput', itemIndex) as string;
		let messages: MessageInput[];
		if (input === 'json') {
			messages = parseJsonInput(ctx.getNodeParameter('messagesJson', itemIndex), 'messagesJson', 'Messages (JSON)') as MessageInput[];
		} else {
			const metadata = parseJsonInput(ctx.getNodeParameter('metadata', itemIndex, '{}'), 'metadata', 'Metadata (JSON)') as Record<string, unknown>;
			const withMetadata = Object.keys(metadata ?? {}).length > 0 ? { metadata } : {};
			messages =
				input === 'single'
					? [{ role: ctx.getNodeParameter('role', itemIndex) as MessageInput['role'], content: String(ctx.getNodeParameter('content', itemIndex)), ...withMetadata }]
					: (
							[
								['user', ctx.getNodeParameter('userMessage', itemIndex)],
								['assistant', ctx.getNodeParameter('assistantMessage', itemIndex)],
							] as const
						)
							.filter(([, content]) => String(content ?? '') !== '')
							.map(([role, content]) => ({ role, content: String(content), ...withMetadata }));
		}
		const { storedMessages } = await memory.appendMessages(session, messages);
		return { ...session, appended: messages.length, storedMessages, storage: memory.description };
	},
};
