/**
 * The chat model handed to n8n's AI nodes: a `BaseChatModel` of n8n's AI SDK over lib/generate/chatModel, so
 * calls follow Generate's retry/time-out policy and errors carry no key. The SDK is passed in (loaded lazily by
 * the node), never imported as a value here: on n8n without the SDK the package must still load.
 */
import type * as AiNodeSdk from '@n8n/ai-node-sdk';
import type { ChatModelConfig, GenerateResult, Message, StreamChunk, Tool } from '@n8n/ai-node-sdk';
import { NodeOperationError, type ISupplyDataFunctions } from 'n8n-workflow';

import {
	createToolChatClient,
	toStreamChunks,
	type ChatModelResult,
	type ChatModelTool,
	type ToolChatClient,
} from '../../lib/generate/chatModel';
import type { ChatClientOptions } from '../../lib/generate/client';
import { redactSecrets, urlSecrets } from '../../lib/redact';

export const CHAT_MODEL_PROVIDER = 'symbiotic';

/** What LangChain (through n8n's adapter) passes as call options, besides the SDK's own config. */
type CallConfig = ChatModelConfig & { signal?: AbortSignal; stop?: string[] };

/** A tool's input schema as JSON Schema; zod schemas (n8n's tools) are converted with the SDK's helper. */
function toChatModelTool(sdk: typeof AiNodeSdk, tool: Tool): ChatModelTool {
	if (tool.type !== 'function') {
		throw new Error(`The Symbiotic Chat Model cannot use the provider tool "${tool.name}"; only function tools`);
	}
	let schema: unknown = sdk.getParametersJsonSchema(tool);
	// In n8n, tools and the SDK share one zod. A zod schema the SDK did not recognise (another zod copy) is
	// converted only when it can convert itself (`toJSONSchema`, which the SDK tries too); else a clear error.
	if (schema && typeof schema === 'object' && ('_def' in schema || '_zod' in schema)) {
		const convert = (schema as { toJSONSchema?: () => unknown }).toJSONSchema;
		schema = typeof convert === 'function' ? convert.call(schema) : undefined;
	}
	if (!schema || typeof schema !== 'object') {
		throw new Error(`The input schema of tool "${tool.name}" could not be turned into JSON Schema`);
	}
	return {
		name: tool.name,
		description: tool.description,
		parameters: schema as Record<string, unknown>,
		...(tool.strict !== undefined ? { strict: tool.strict } : {}),
	};
}

export interface SymbioticChatModelSettings {
	client: ChatClientOptions;
	maxTokens?: number;
	temperature?: number;
	topP?: number;
}

/**
 * Builds the model for one supplyData call. Errors reach the agent as NodeOperationError of this (the
 * configuration) node, worded by lib and stripped of the key and URL user-info whatever their origin.
 */
export function createSymbioticChatModel(
	sdk: typeof AiNodeSdk,
	ctx: ISupplyDataFunctions,
	settings: SymbioticChatModelSettings,
): AiNodeSdk.ChatModel {
	const client: ToolChatClient = createToolChatClient(settings.client);
	const secrets = [settings.client.apiKey?.trim(), ...urlSecrets(settings.client.baseURL)];
	const executionSignal = () => ctx.getExecutionCancelSignal?.();

	const toNodeError = (error: unknown): NodeOperationError => {
		// lib's ModelRequestError is already worded and redacted; anything else (a mapping error) is redacted here.
		const message = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
		return new NodeOperationError(ctx.getNode(), message, { functionality: 'configuration-node' });
	};

	class SymbioticChatModel extends sdk.BaseChatModel<ChatModelConfig> {
		constructor() {
			super(CHAT_MODEL_PROVIDER, client.model, {
				maxTokens: settings.maxTokens,
				temperature: settings.temperature,
				topP: settings.topP,
			});
		}

		async generate(messages: Message[], config?: CallConfig): Promise<GenerateResult> {
			const result = await this.call(messages, config);
			return {
				...(result.id ? { id: result.id } : {}),
				finishReason: result.finishReason,
				usage: result.usage,
				message: result.message,
				providerMetadata: { model: result.model, attempts: result.attempts },
			};
		}

		/**
		 * The whole answer, replayed as chunks: like Generate's, a request is retried only until it answers, so
		 * nothing is streamed half and then sent again.
		 */
		async *stream(messages: Message[], config?: CallConfig): AsyncIterable<StreamChunk> {
			yield* toStreamChunks(await this.call(messages, config));
		}

		private async call(messages: Message[], config?: CallConfig): Promise<ChatModelResult> {
			const merged = this.mergeConfig(config);
			const signals = [config?.signal, merged.abortSignal, executionSignal()].filter(
				(signal): signal is AbortSignal => signal !== undefined,
			);
			try {
				return await client.chat(
					{
						messages,
						tools: this.tools.map((tool) => toChatModelTool(sdk, tool)),
						maxTokens: merged.maxTokens,
						temperature: merged.temperature,
						topP: merged.topP,
						stop: config?.stop ?? merged.stopSequences,
					},
					signals.length > 1 ? AbortSignal.any(signals) : signals[0],
				);
			} catch (error) {
				throw toNodeError(error);
			}
		}
	}

	return new SymbioticChatModel();
}
