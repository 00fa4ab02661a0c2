/**
 * The Symbiotic Chat Model's talk with the server: n8n's AI SDK messages and tools (mirrored here structurally,
 * lib/ imports no n8n code) mapped to and from OpenAI `chat.completions`, tool calls included, sent with exactly
 * Generate's policy — the `openai` SDK with its own retries off, lib/modelRetry's bounded retries (backoff with
 * jitter, Retry-After, at most one retry after a timeout), a per-attempt timeout, the `max_tokens` fallback, no
 * Authorization header for keyless servers, and messages worded like Generate's with the key and the URL's
 * user-info redacted.
 */
import type OpenAI from 'openai';
import { ModelRequestError } from '../modelRetry';
import { InputError } from '../types';
import { createChatTransport, type ChatBody, type ChatClientOptions, type TokenUsage } from './client';

export { ModelRequestError };

/**
 * A content part as n8n's AI SDK (`@n8n/ai-node-sdk` `MessageContent`) carries it, read field by field: `text`
 * {text}, `tool-call` {toolCallId, toolName, input}, `tool-result` {toolCallId, result}, `file` {mediaType, data,
 * providerMetadata.url}. Other kinds (reasoning, citations…) are dropped.
 */
export type ChatModelContent = { type: string };

type Fields = ChatModelContent & Record<string, unknown>;

/** `@n8n/ai-node-sdk` `Message`, structurally. */
export interface ChatModelMessage {
	role: 'system' | 'user' | 'assistant' | 'tool';
	content: readonly ChatModelContent[];
	name?: string;
}

/** A function the model may call; `parameters` is a JSON Schema (the SDK's zod schemas are converted node-side). */
export interface ChatModelTool {
	name: string;
	description?: string;
	parameters: Record<string, unknown>;
	strict?: boolean;
}

export type ChatModelFinishReason = 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'error' | 'other';

export type ChatModelOutputContent =
	| { type: 'text'; text: string }
	| { type: 'tool-call'; toolCallId: string; toolName: string; input: string };

/** Shaped like the SDK's `GenerateResult`, so the node returns it as is. */
export interface ChatModelResult {
	id?: string;
	finishReason: ChatModelFinishReason;
	usage: TokenUsage;
	message: { role: 'assistant'; content: ChatModelOutputContent[] };
	/** The model the server says answered. */
	model: string;
	/** HTTP attempts made, retries and the parameter fallback included. */
	attempts: number;
}

/** The SDK's `StreamChunk` kinds this model produces. */
export type ChatModelStreamChunk =
	| { type: 'text-delta'; delta: string }
	| { type: 'tool-call-delta'; id: string; name: string; argumentsDelta: string }
	| { type: 'finish'; finishReason: ChatModelFinishReason; usage: TokenUsage };

export interface ToolChatRequest {
	messages: readonly ChatModelMessage[];
	tools?: readonly ChatModelTool[];
	maxTokens?: number;
	temperature?: number;
	topP?: number;
	stop?: string[];
}

export interface ToolChatClient {
	readonly baseURL: string;
	readonly model: string;
	/** Throws ModelRequestError worded for the user, with the API key and URL user-info never in it. */
	chat(request: ToolChatRequest, signal?: AbortSignal): Promise<ChatModelResult>;
}

const isText = (part: ChatModelContent): part is ChatModelContent & { text: string } =>
	part.type === 'text' && typeof (part as Fields).text === 'string';

function textOf(parts: readonly ChatModelContent[]): string {
	return parts.filter(isText).map((part) => part.text).join('\n');
}

/** A tool's result as the text OpenAI wants: strings as they are, SDK content lists as their text, else JSON. */
export function toolResultText(result: unknown): string {
	if (typeof result === 'string') return result;
	if (Array.isArray(result) && result.every((part) => part && typeof part === 'object' && typeof part.type === 'string')) {
		return textOf(result as ChatModelContent[]);
	}
	return JSON.stringify(result ?? null) ?? '';
}

function imageURL(file: ChatModelContent): string | undefined {
	const part = file as Fields;
	const mediaType = typeof part.mediaType === 'string' ? part.mediaType : '';
	const url = (part.providerMetadata as { url?: unknown } | undefined)?.url;
	if (typeof url === 'string' && url) return url;
	if (!mediaType.startsWith('image/')) return undefined;
	if (typeof part.data === 'string' && part.data) {
		return part.data.startsWith('data:') ? part.data : `data:${mediaType};base64,${part.data}`;
	}
	if (part.data instanceof Uint8Array) return `data:${mediaType};base64,${Buffer.from(part.data).toString('base64')}`;
	return undefined;
}

/** A user message's parts: plain text stays a string; images become `image_url` parts; other files are refused. */
function userContent(parts: readonly ChatModelContent[]): OpenAI.Chat.ChatCompletionUserMessageParam['content'] {
	if (!parts.some((part) => part.type === 'file')) return textOf(parts);
	return parts.flatMap((part): OpenAI.Chat.ChatCompletionContentPart[] => {
		if (isText(part)) return [{ type: 'text', text: part.text }];
		if (part.type !== 'file') return [];
		const url = imageURL(part);
		if (!url) {
			throw new InputError(
				`The chat model can be sent text and images only, not a file of type "${String((part as Fields).mediaType ?? 'unknown')}"`,
				'messages',
			);
		}
		return [{ type: 'image_url', image_url: { url } }];
	});
}

/**
 * SDK messages → OpenAI chat messages. Assistant tool calls become `tool_calls` (a call without an id gets
 * `call_<n>`), each tool result its own `tool` message; reasoning, citations and invalid tool calls are dropped.
 */
export function toOpenAIMessages(messages: readonly ChatModelMessage[]): OpenAI.Chat.ChatCompletionMessageParam[] {
	let generatedIds = 0;
	return messages.flatMap((message): OpenAI.Chat.ChatCompletionMessageParam[] => {
		const name = message.name ? { name: message.name } : {};
		switch (message.role) {
			case 'system':
				return [{ role: 'system', content: textOf(message.content), ...name }];
			case 'assistant': {
				const toolCalls = (message.content as readonly Fields[])
					.filter((part) => part.type === 'tool-call' && typeof part.toolName === 'string')
					.map((part): OpenAI.Chat.ChatCompletionMessageToolCall => ({
						id: typeof part.toolCallId === 'string' && part.toolCallId ? part.toolCallId : `call_${generatedIds++}`,
						type: 'function',
						function: { name: part.toolName as string, arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}) },
					}));
				const text = textOf(message.content);
				return [
					{
						role: 'assistant',
						// OpenAI wants null, not '', next to tool calls; some servers reject '' there.
						content: text || (toolCalls.length ? null : ''),
						...(toolCalls.length ? { tool_calls: toolCalls } : {}),
						...name,
					},
				];
			}
			case 'tool':
				return (message.content as readonly Fields[])
					.filter((part) => part.type === 'tool-result')
					.map((part) => ({ role: 'tool', tool_call_id: String(part.toolCallId ?? ''), content: toolResultText(part.result) }));
			default:
				return [{ role: 'user', content: userContent(message.content), ...name }];
		}
	});
}

export function toOpenAITools(tools: readonly ChatModelTool[]): OpenAI.Chat.ChatCompletionFunctionTool[] {
	return tools.map((tool) => ({
		type: 'function',
		function: {
			name: tool.name,
			...(tool.description ? { description: tool.description } : {}),
			parameters: tool.parameters,
			...(tool.strict !== undefined ? { strict: tool.strict } : {}),
		},
	}));
}

export function toFinishReason(reason: string | null | undefined): ChatModelFinishReason {
	switch (reason) {
		case 'stop':
			return 'stop';
		case 'length':
			return 'length';
		case 'content_filter':
			return 'content-filter';
		case 'tool_calls':
		case 'function_call':
			return 'tool-calls';
		default:
			return 'other';
	}
}

/** An OpenAI completion → the SDK's result shape: text first, then one `tool-call` part per call. */
export function fromOpenAICompletion(
	completion: OpenAI.Chat.ChatCompletion,
	fallbackModel: string,
	attempts = 1,
): ChatModelResult {
	const choice = completion.choices?.[0];
	const message = choice?.message;
	const content: ChatModelOutputContent[] = [];
	const text = message?.content ?? message?.refusal ?? '';
	if (text) content.push({ type: 'text', text });
	(message?.tool_calls ?? []).forEach((call, index) => {
		if (call.type !== 'function' || !call.function) return;
		content.push({
			type: 'tool-call',
			toolCallId: call.id || `call_${index}`,
			toolName: call.function.name,
			input: call.function.arguments || '{}',
		});
	});
	const hasToolCalls = content.some((part) => part.type === 'tool-call');
	// Some servers (older Ollama, vLLM parsers) say `stop` next to tool calls; the agent needs to know.
	const finishReason = hasToolCalls ? 'tool-calls' : toFinishReason(choice?.finish_reason);
	const usage = completion.usage;
	return {
		...(completion.id ? { id: completion.id } : {}),
		finishReason,
		usage: {
			promptTokens: usage?.prompt_tokens ?? 0,
			completionTokens: usage?.completion_tokens ?? 0,
			totalTokens: usage?.total_tokens ?? 0,
		},
		message: { role: 'assistant', content },
		model: completion.model || fallbackModel,
		attempts,
	};
}

/**
 * A finished answer as stream chunks: the text, then each tool call whole (its own id, so n8n's LangChain
 * adapter, which gives every call index 0, keeps parallel calls apart), then `finish` with the usage.
 */
export function toStreamChunks(result: ChatModelResult): ChatModelStreamChunk[] {
	const chunks: ChatModelStreamChunk[] = [];
	for (const part of result.message.content) {
		if (part.type === 'text') chunks.push({ type: 'text-delta', delta: part.text });
		else chunks.push({ type: 'tool-call-delta', id: part.toolCallId, name: part.toolName, argumentsDelta: part.input });
	}
	chunks.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
	return chunks;
}

/**
 * A chat client like Generate's (the same transport: options, defaults, retries, fallbacks and errors) that also
 * sends tools and returns tool calls.
 */
export function createToolChatClient(options: ChatClientOptions): ToolChatClient {
	const transport = createChatTransport(options);
	const chat = async (request: ToolChatRequest, signal?: AbortSignal): Promise<ChatModelResult> => {
		const messages = toOpenAIMessages(request.messages);
		const tools = request.tools?.length ? toOpenAITools(request.tools) : undefined;
		const { completion, attempts } = await transport.send({
			signal,
			build: (tokenLimitParameter) => {
				const body: ChatBody = { model: transport.model, messages };
				if (tools) body.tools = tools;
				if (request.maxTokens !== undefined) body[tokenLimitParameter] = request.maxTokens;
				if (request.temperature !== undefined) body.temperature = request.temperature;
				if (request.topP !== undefined) body.top_p = request.topP;
				if (request.stop?.length) body.stop = request.stop;
				return body;
			},
		});
		return fromOpenAICompletion(completion, transport.model, attempts);
	};
	return { baseURL: transport.baseURL, model: transport.model, chat };
}
