/**
 * An AI Agent's memory (sub-node) on the Memory Store's storage: the agent's conversation is the contact's
 * Memory Store session, and the contact's facts are offered to the agent. See lib/memory/chatHistory.ts for
 * the storage format, the facts message and what "clear" forgets.
 *
 * Built on `@n8n/ai-node-sdk`, which n8n (2.16 and later) provides to community packages. It is imported
 * lazily, in `supplyData`: on an older n8n only this node fails, with a message, instead of the whole package.
 */
import type { ChatMemory } from '@n8n/ai-node-sdk';
import type { INodeType, INodeTypeDescription, ISupplyDataFunctions, SupplyData } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { SessionChatHistory, SessionChatMemory } from '../../lib/memory';
import { InputError } from '../../lib/types';
import { refuseAgentChosenParameters } from '../shared/agentGuard';
import { REDIS_CONNECTION_TEST, testRedisConnection } from '../shared/redisCredential';
import { chatMemoryProperties, fieldLabels, openBackend, ownerParameters, readSettings } from './settings';

type AiNodeSdk = typeof import('@n8n/ai-node-sdk');

/** The SDK n8n provides; a clear error where n8n is too old to provide it. */
async function loadSdk(ctx: ISupplyDataFunctions): Promise<AiNodeSdk> {
	try {
		return await import('@n8n/ai-node-sdk');
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			'Symbiotic Chat Memory needs n8n 2.16.0 or later, which provides @n8n/ai-node-sdk to community nodes',
			{ description: `Loading @n8n/ai-node-sdk failed: ${(error as Error).message}. Update n8n, or use Memory Store in the workflow instead.` },
		);
	}
}

/** The error shown on the node, keeping lib's message (n8n would replace one naming ECONNREFUSED and the like). */
function nodeError(ctx: ISupplyDataFunctions, error: unknown, itemIndex: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	const field = error instanceof InputError ? error.field : undefined;
	const description = field ? `Check the "${fieldLabels[field] ?? field}" parameter.` : undefined;
	const cause = error instanceof Error ? error : new Error(String(error));
	const nodeOperationError = new NodeOperationError(ctx.getNode(), cause, { itemIndex, description });
	nodeOperationError.message = cause.message;
	return nodeOperationError;
}

export class SymbioticChatMemory implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Symbiotic Chat Memory',
		name: 'symbioticChatMemory',
		icon: { light: 'file:symbioticChatMemory.svg', dark: 'file:symbioticChatMemory.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ ($parameter["backend"] === "redis" ? "Redis" : "In-process") + ": " + $parameter["namespace"] }}',
		description: "An AI agent's memory of each contact, shared with Memory Store: the conversation and the contact's facts",
		defaults: { name: 'Symbiotic Chat Memory' },
		codex: {
			categories: ['AI'],
			subcategories: { AI: ['Memory'], Memory: ['Other memories'] },
			resources: {
				primaryDocumentation: [{ url: 'https://www.npmjs.com/package/n8n-nodes-symbiotic#symbiotic-chat-memory' }],
			},
		},
		inputs: [],
		outputs: [NodeConnectionTypes.AiMemory],
		outputNames: ['Memory'],
		// Literal names: the community-node linter matches a credential to its `testedBy` by reading this array.
		credentials: [
			{
				name: 'symbioticRedisApi',
				required: true,
				testedBy: 'symbioticRedisConnectionTest',
				displayOptions: { show: { backend: ['redis'] } },
			},
		],
		properties: chatMemoryProperties,
	};

	methods = { credentialTest: { [REDIS_CONNECTION_TEST]: testRedisConnection } };

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		let settings;
		try {
			refuseAgentChosenParameters(this.getNode(), ownerParameters);
			settings = readSettings(this, itemIndex);
		} catch (error) {
			throw nodeError(this, error, itemIndex);
		}
		// Before connecting: a connection opened for a node that then cannot work would never be closed.
		const { supplyMemory } = await loadSdk(this);
		let backend;
		try {
			backend = await openBackend(this, settings);
		} catch (error) {
			throw nodeError(this, error, itemIndex);
		}
		const opened = backend;
		const memory: ChatMemory = new SessionChatMemory(new SessionChatHistory(opened, settings.session), settings.memory);
		// In n8n the SDK and this node share n8n's n8n-workflow; the development copy of the SDK brings its own
		// version, whose context type differs only nominally.
		const context = this as unknown as Parameters<AiNodeSdk['supplyMemory']>[0];
		return supplyMemory(context, memory, { closeFunction: async () => await opened.close() });
	}
}
