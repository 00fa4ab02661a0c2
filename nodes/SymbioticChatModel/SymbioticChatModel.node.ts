import type * as AiNodeSdk from '@n8n/ai-node-sdk';
import type { INodeType, INodeTypeDescription, ISupplyDataFunctions, SupplyData } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { redactSecrets, urlSecrets } from '../../lib/redact';
import { modelRequestOptions } from '../shared/modelOptions';
import { createSymbioticChatModel } from './model';

/** Same credential as Generate and the knowledge-base nodes. */
const MODEL_CREDENTIAL = 'symbioticModelApi';

interface ChatModelNodeOptions {
	maxOutputTokens?: number;
	maxRetries?: number;
	temperature?: number;
	timeoutSeconds?: number;
	topP?: number;
}

/**
 * n8n's AI node SDK, loaded only when the node runs: n8n 2.16+ bundles it, and a static import would stop the
 * whole package (credentials included) from loading on an older n8n.
 */
async function loadAiNodeSdk(ctx: ISupplyDataFunctions): Promise<typeof AiNodeSdk> {
	try {
		return await import('@n8n/ai-node-sdk');
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			'The Symbiotic Chat Model needs n8n 2.16.0 or later, which brings the AI node SDK (@n8n/ai-node-sdk)',
			{ description: error instanceof Error ? error.message : String(error) },
		);
	}
}

export class SymbioticChatModel implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Symbiotic Chat Model',
		name: 'symbioticChatModel',
		icon: { light: 'file:symbioticChatModel.svg', dark: 'file:symbioticChatModel.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["model"] || "Model from the credential" }}',
		description:
			'Chat model for AI Agents and chains on any OpenAI-compatible server (OpenAI, Mistral, Ollama, vLLM), with tool calling and the retries and timeout of Generate',
		defaults: { name: 'Symbiotic Chat Model' },
		codex: {
			categories: ['AI'],
			subcategories: {
				AI: ['Language Models', 'Root Nodes'],
				'Language Models': ['Chat Models (Recommended)'],
			},
			resources: {
				primaryDocumentation: [{ url: 'https://www.npmjs.com/package/n8n-nodes-symbiotic#symbiotic-chat-model' }],
			},
		},
		inputs: [],
		outputs: [NodeConnectionTypes.AiLanguageModel],
		outputNames: ['Model'],
		credentials: [{ name: MODEL_CREDENTIAL, required: true }],
		properties: [
			{
				displayName: 'Model',
				name: 'model',
				type: 'string',
				default: '',
				placeholder: 'e.g. gpt-4o-mini, mistral-small-latest, llama3.1',
				description: "The model to chat with. Leave empty for the credential's chat model. It must support tool calling to be used by an AI Agent with tools.",
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					...modelRequestOptions({
						maxOutputTokens: "Longest answer in tokens; longer answers are cut. Not set: the server's own limit.",
						timeout:
							'Longest wait for one answer from the model. One retry follows a timeout, so a model that never answers fails after about twice this.',
					}),
					{
						displayName: 'Top P',
						name: 'topP',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
						default: 1,
						description: 'Nucleus sampling: only the most likely tokens whose probabilities add up to this are considered',
					},
				],
			},
		],
	};

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		const sdk = await loadAiNodeSdk(this);
		const credentials = await this.getCredentials(MODEL_CREDENTIAL, itemIndex);
		const model = (this.getNodeParameter('model', itemIndex, '') as string).trim();
		const options = this.getNodeParameter('options', itemIndex, {}) as ChatModelNodeOptions;
		const baseURL = String(credentials.baseUrl ?? '');
		const apiKey = (credentials.apiKey as string) || undefined;
		let chatModel: AiNodeSdk.ChatModel;
		try {
			chatModel = createSymbioticChatModel(sdk, this, {
				client: {
					baseURL,
					apiKey,
					model: model || String(credentials.chatModel ?? ''),
					timeoutMs: (options.timeoutSeconds ?? 60) * 1000,
					maxRetries: options.maxRetries ?? 3,
				},
				maxTokens: options.maxOutputTokens,
				temperature: options.temperature,
				topP: options.topP,
			});
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			throw new NodeOperationError(this.getNode(), redactSecrets(message, [apiKey, ...urlSecrets(baseURL)]), { itemIndex });
		}
		// The SDK is typed against its own n8n-workflow copy; at run time both are n8n's.
		const ctx = this as unknown as Parameters<typeof sdk.supplyModel>[0];
		return sdk.supplyModel(ctx, chatModel as AiNodeSdk.BaseChatModel);
	}
}
