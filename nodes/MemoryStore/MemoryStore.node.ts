import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { backendProperties } from './backend';
import { REDIS_CONNECTION_TEST, testRedisConnection } from '../shared/redisCredential';
import { executeMemoryStore, memoryOperations } from './execute';
import { sessionProperties } from './operations/session';

export class MemoryStore implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Memory Store',
		name: 'memoryStore',
		icon: { light: 'file:memoryStore.svg', dark: 'file:memoryStore.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["sessionId"] }}',
		description: 'Remembers each contact: the conversation so far and what you know about them',
		defaults: { name: 'Memory Store' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// As an AI Agent tool this description is what the agent's model reads (n8n's "Set Automatically" gives the
		// node's description, whatever the operation): one text for every operation, saying who decides the contact.
		usableAsTool: {
			replacements: {
				description:
					"Memory of the contact in this conversation; the workflow decides which contact, you cannot choose another. Depending on its setup it returns the conversation so far (transcript and messages) or what is known about the contact (facts), stores new messages or facts, clears that memory, or lists stored conversations.",
			},
		},
		// Literal names: the community-node linter matches a credential to its `testedBy` by reading this array.
		credentials: [
			{
				name: 'symbioticRedisApi',
				required: true,
				testedBy: 'symbioticRedisConnectionTest',
				displayOptions: { show: { backend: ['redis'] } },
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Append Messages', value: 'appendMessages', description: 'Add messages to a conversation', action: 'Append messages' },
					{ name: 'Clear Session', value: 'clearSession', description: "Forget a contact's messages and facts", action: 'Clear a session' },
					{ name: 'Get Facts', value: 'getFacts', description: 'What is known about a contact', action: 'Get facts' },
					{ name: 'Get History', value: 'getHistory', description: 'The conversation so far, as messages and a transcript', action: 'Get history' },
					{ name: 'List Sessions', value: 'listSessions', description: 'The conversations stored in a namespace', action: 'List sessions' },
					{ name: 'Set Facts', value: 'setFacts', description: 'Merge fields into what is known about a contact', action: 'Set facts' },
				],
				default: 'getHistory',
			},
			...backendProperties,
			...sessionProperties,
			...Object.values(memoryOperations).flatMap((operation) => operation.description),
		],
	};

	methods = { credentialTest: { [REDIS_CONNECTION_TEST]: testRedisConnection } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeMemoryStore(this);
	}
}
