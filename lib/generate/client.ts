/**
 * A chat client for any OpenAI-compatible endpoint (OpenAI, Mistral, Ollama `/v1`, vLLM, LM Studio…) on the
 * official `openai` SDK, with our own bounded retries (see retry.ts) and errors that say what to fix.
 */
import OpenAI from 'openai';
import { ModelRequestError, withRetries, type AttemptFailure } from '../modelRetry';
import { displayURL, redactSecrets, urlSecrets } from '../redact';
import { InputError } from '../types';
import type { ChatMessage } from './prompt';

export { ModelRequestError };

export interface ChatClientOptions {
	/** e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama), `http://vllm:8000/v1`. */
	baseURL: string;
	/** Omit for servers without authentication (Ollama, vLLM without --api-key): no Authorization header is sent. */
	apiKey?: string;
	model: string;
	/** Per attempt (default 60 s). */
	timeoutMs?: number;
	/**
	 * Retries after the first attempt on 429, 5xx, timeouts and connection errors (default 3); of these, at most
	 * one retry per request follows a timeout (see MAX_TIMEOUT_RETRIES).
	 */
	maxRetries?: number;
	/** First backoff delay, doubled per retry with jitter (default 500 ms). */
	retryBaseDelayMs?: number;
	/** Longest Retry-After honored; a longer one is cut to this (default 60 s). */
	maxRetryAfterMs?: number;
}

export type ResponseFormat =
	| { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict: boolean } }
	| { type: 'json_object' };

export interface ChatRequest {
	messages: ChatMessage[];
	maxTokens?: number;
	temperature?: number;
	responseFormat?: ResponseFormat;
}

export interface TokenUsage {
	promptTokens: number;
	completionTokens: number;
	totalTokens: number;
}

export interface ChatCompletionResult {
	text: string;
	/** `stop`, `length` (cut by max tokens), `content_filter`… as the server reports it. */
	finishReason: string;
	/** The model the server says answered. */
	model: string;
	usage: TokenUsage;
	/** HTTP attempts made, retries and parameter fallbacks included. */
	attempts: number;
	/** The response format actually used (a server without json_schema support is asked for json_object). */
	responseFormat?: ResponseFormat['type'];
}

export interface ChatClient {
	readonly baseURL: string;
	readonly model: string;
	/** Throws ModelRequestError (from lib/modelRetry, shared with the embedder) worded for the user. */
	complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatCompletionResult>;
}

/** A 400 caused by a parameter the server does not know; each has a portable replacement we try once. */
function unsupportedParameter(failure: AttemptFailure): 'max_tokens' | 'response_format' | undefined {
	if (failure.status !== 400 && failure.status !== 422) return undefined;
	if (/max_tokens/.test(failure.detail) && /max_completion_tokens/.test(failure.detail)) return 'max_tokens';
	if (/response_format|json_schema/.test(failure.detail)) return 'response_format';
	return undefined;
}

/**
 * Retries after a timeout, per `complete` call (parameter fallbacks included). A second timeout says the server
 * is stuck, not unlucky, and retrying every timeout would hold an item (maxRetries + 1) × timeout, 4 minutes with
 * the defaults. So a model that never answers fails an item after at most 2 × timeout plus one backoff step (at
 * most `retryBaseDelayMs`, 500 ms by default): 2 min 0.5 s with the defaults (Generate's JSON repair, a second
 * call, only follows an answer). 429, 5xx and refused connections are answers, not silence: they keep the full
 * retry budget.
 */
const MAX_TIMEOUT_RETRIES = 1;

/** Carries a failure out of `withRetries` unchanged, so `complete` can still fall back before wording it. */
class FinalFailure extends Error {
	constructor(
		readonly failure: AttemptFailure,
		readonly attempts: number,
	) {
		super(failure.detail);
	}
}

/** The body of one chat request, built per attempt with the parameter names the server accepts so far. */
export type ChatBody = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

export interface ChatSendOptions {
	/** Sets the output limit under the given name (`max_tokens`, or `max_completion_tokens` after a refusal). */
	build(tokenLimitParameter: 'max_tokens' | 'max_completion_tokens', responseFormat?: ResponseFormat): ChatBody;
	responseFormat?: ResponseFormat;
	signal?: AbortSignal;
}

/**
 * What every chat client of the pack shares (Generate's and the Symbiotic Chat Model's): the SDK set up for the
 * server, one request sent with our retry policy and the portable-parameter fallbacks, and worded errors.
 */
export interface ChatTransport {
	readonly baseURL: string;
	readonly model: string;
	send(options: ChatSendOptions): Promise<{ completion: OpenAI.Chat.ChatCompletion; attempts: number; responseFormat?: ResponseFormat }>;
}

export function createChatTransport(options: ChatClientOptions): ChatTransport {
	const baseURL = options.baseURL?.trim().replace(/\/+$/, '');
	if (!baseURL || !/^https?:\/\/[^/]/i.test(baseURL) || !URL.canParse(baseURL)) {
		throw new InputError(
			`Base URL "${displayURL(options.baseURL ?? '')}" is not an http(s) URL; e.g. https://api.openai.com/v1 or http://localhost:11434/v1 for Ollama`,
			'baseUrl',
		);
	}
	const model = options.model?.trim();
	if (!model) throw new InputError('Chat model is empty: set the model name in the node or in the Symbiotic Model credential (e.g. gpt-4o-mini, llama3.1)', 'chatModel');
	const timeoutMs = options.timeoutMs ?? 60_000;
	const maxRetries = options.maxRetries ?? 3;
	const apiKey = options.apiKey?.trim() || undefined;
	// The SDK insists on a key; for keyless servers give it a placeholder and remove the header it would build.
	// Organization/project/admin key are pinned to null so OPENAI_* variables of the n8n host never leak in.
	const sdk = new OpenAI({
		baseURL,
		apiKey: apiKey ?? 'no-key',
		adminAPIKey: null,
		organization: null,
		project: null,
		defaultHeaders: apiKey ? undefined : { Authorization: null },
		maxRetries: 0,
		// withRetries times each attempt with its own signal; the SDK's timeout is only a backstop.
		timeout: timeoutMs + 1_000,
	});
	// Server and transport texts can quote the key or the URL they were sent (with its user:password@).
	const secrets = [apiKey, ...urlSecrets(baseURL)];
	const redact = (text: string) => redactSecrets(text, secrets);
	const where = displayURL(baseURL);
	const at = `The model server at ${where}`;

	const describe = ({ failure, attempts }: FinalFailure): ModelRequestError => {
		const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
		const status = failure.status;
		const detail = redact(failure.detail);
		switch (failure.kind) {
			case 'aborted':
				return new ModelRequestError('The request to the model was cancelled', 'aborted', undefined, attempts);
			case 'timeout':
				return new ModelRequestError(
					`${at} did not answer within ${timeoutMs} ms${tries}. Raise the timeout, use a smaller model, or check that the server is not overloaded.`,
					'timeout',
					undefined,
					attempts,
				);
			case 'connection':
				return new ModelRequestError(
					`Could not connect to the model server at ${where}${tries}: ${detail}. Check the base URL and that the server is running and reachable from n8n.`,
					'connection',
					undefined,
					attempts,
				);
			case 'auth':
				// The server's own text is left out: OpenAI and others echo part of the key in it.
				return new ModelRequestError(
					`${at} refused the API key (HTTP ${status}). Check the API key in the Symbiotic Model credential.`,
					'auth',
					status,
					attempts,
				);
			case 'not_found':
				return new ModelRequestError(
					`Model "${model}" was not found at ${where} (HTTP 404: ${detail}). Check the chat model name ` +
						'(for Ollama: run `ollama pull <model>`) and that the base URL ends with /v1.',
					'not_found',
					status,
					attempts,
				);
			case 'rate_limited':
				return new ModelRequestError(`${at} is rate limiting requests (HTTP 429${tries}: ${detail}). Try again later or lower the request rate.`, 'rate_limited', status, attempts);
			case 'server':
				return new ModelRequestError(`${at} failed with HTTP ${status}${tries}: ${detail}`, 'server', status, attempts);
			default:
				return new ModelRequestError(`${at} rejected the request (HTTP ${status}): ${detail}`, failure.kind, status, attempts);
		}
	};

	const send = async ({ build, signal, ...first }: ChatSendOptions) => {
		let tokenLimitParameter: 'max_tokens' | 'max_completion_tokens' = 'max_tokens';
		let responseFormat = first.responseFormat;
		let attempts = 0;
		let timeouts = 0;
		const attempt = () =>
			withRetries(
				(attemptSignal) => {
					attempts++;
					return sdk.chat.completions.create(build(tokenLimitParameter, responseFormat), { signal: attemptSignal });
				},
				{
					maxRetries,
					timeoutMs,
					signal,
					baseDelayMs: options.retryBaseDelayMs,
					maxRetryAfterMs: options.maxRetryAfterMs,
					giveUp: (failure) => failure.kind === 'timeout' && ++timeouts > MAX_TIMEOUT_RETRIES,
				},
				(failure) => new FinalFailure(failure, attempts),
			);
		for (;;) {
			try {
				return { completion: await attempt(), attempts, responseFormat };
			} catch (error) {
				if (!(error instanceof FinalFailure)) throw error;
				// Older or non-OpenAI servers reject some parameters: swap in the portable one, once each.
				const unsupported = unsupportedParameter(error.failure);
				if (unsupported === 'max_tokens' && tokenLimitParameter === 'max_tokens') {
					tokenLimitParameter = 'max_completion_tokens';
					continue;
				}
				if (unsupported === 'response_format' && responseFormat?.type === 'json_schema') {
					responseFormat = { type: 'json_object' };
					continue;
				}
				throw describe(error);
			}
		}
	};

	return { baseURL, model, send };
}

export function createChatClient(options: ChatClientOptions): ChatClient {
	const transport = createChatTransport(options);
	const complete = async (request: ChatRequest, signal?: AbortSignal): Promise<ChatCompletionResult> => {
		const { completion, attempts, responseFormat } = await transport.send({
			responseFormat: request.responseFormat,
			signal,
			build: (tokenLimitParameter, format) => {
				const body: ChatBody = { model: transport.model, messages: request.messages };
				if (request.maxTokens !== undefined) body[tokenLimitParameter] = request.maxTokens;
				if (request.temperature !== undefined) body.temperature = request.temperature;
				if (format) body.response_format = format;
				return body;
			},
		});
		const choice = completion.choices?.[0];
		const usage = completion.usage;
		return {
			text: choice?.message?.content ?? choice?.message?.refusal ?? '',
			finishReason: choice?.finish_reason ?? 'unknown',
			model: completion.model ?? transport.model,
			usage: {
				promptTokens: usage?.prompt_tokens ?? 0,
				completionTokens: usage?.completion_tokens ?? 0,
				totalTokens: usage?.total_tokens ?? 0,
			},
			attempts,
			responseFormat: responseFormat?.type,
		};
	};
	return { baseURL: transport.baseURL, model: transport.model, complete };
}
