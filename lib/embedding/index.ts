/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, Azure-style proxies, Ollama, vLLM, LM Studio, TEI…)
 * through the official `openai` SDK: batches by count and tokens, a bounded number of requests in flight,
 * order preserved, our own retry policy (see retry.ts), and vectors checked before anyone stores them.
 */
import OpenAI from 'openai';
import { InputError, type Embedder } from '../types';
import { countTokens } from '../tokens';
import { ModelRequestError, withRetries, type AttemptFailure } from '../modelRetry';

export { ModelRequestError, withRetries, describeFailure, parseRetryAfter, backoffDelay } from '../modelRetry';
export type { AttemptFailure, ModelFailureKind, RetryOptions } from '../modelRetry';

export interface OpenAIEmbedderConfig {
	/** API root, usually ending in `/v1` (e.g. `http://localhost:11434/v1` for Ollama). */
	baseURL: string;
	/** Optional: self-hosted servers often need none. */
	apiKey?: string;
	model: string;
	/** Requested vector size (text-embedding-3 models can shorten vectors); also checked on every answer. */
	dimensions?: number;
	/** Texts per request (default 96: well under OpenAI's 2,048 and the 128–256 caps of vLLM/TEI-style servers). */
	batchSize?: number;
	/**
	 * Tokens per request, counted with cl100k_base (default 8,000). Self-hosted servers commonly refuse a
	 * request larger than their batch/context budget, often 8,192 tokens; 8,000 leaves room for tokenizer
	 * differences while still carrying 20 default-sized (400-token) chunks per request.
	 */
	maxBatchTokens?: number;
	/** Requests in flight at once (default 2: faster than serial, gentle on rate limits and local GPUs). */
	concurrency?: number;
	/** Retries per request after the first attempt (default 5). */
	maxRetries?: number;
	/** Limit for one request attempt in ms (default 60,000). */
	timeoutMs?: number;
	/** First backoff step in ms (default 500); doubled per retry, with jitter. */
	retryBaseDelayMs?: number;
	/** Called before every HTTP attempt (retries included): lets callers count requests and tokens. */
	onRequest?: (request: { inputs: number; tokens: number; attempt: number }) => void;
}

export interface OpenAIEmbedder extends Embedder {
	readonly baseURL: string;
	/** Vector size seen so far (or configured); undefined before the first answer. */
	readonly dimensions: number | undefined;
}

export const DEFAULT_EMBEDDING_BATCH_SIZE = 96;
export const DEFAULT_EMBEDDING_MAX_BATCH_TOKENS = 8000;
export const DEFAULT_EMBEDDING_CONCURRENCY = 2;
export const DEFAULT_EMBEDDING_MAX_RETRIES = 5;
export const DEFAULT_EMBEDDING_TIMEOUT_MS = 60_000;

interface Batch {
	offset: number;
	texts: string[];
	tokens: number;
}

/** Consecutive batches limited by count and by tokens; a text over the token limit is an input error. */
export function makeBatches(texts: string[], batchSize: number, maxBatchTokens: number): Batch[] {
	const batches: Batch[] = [];
	let current: Batch | undefined;
	texts.forEach((text, index) => {
		if (text.trim() === '') {
			throw new InputError(`Text ${index + 1} of ${texts.length} is empty; embedding APIs cannot embed empty text.`, 'texts');
		}
		const tokens = countTokens(text);
		if (tokens > maxBatchTokens) {
			throw new InputError(
				`Text ${index + 1} of ${texts.length} has ${tokens} tokens, more than the ${maxBatchTokens} allowed per embedding request. ` +
					'Lower the chunk size.',
				'texts',
			);
		}
		if (!current || current.texts.length >= batchSize || current.tokens + tokens > maxBatchTokens) {
			current = { offset: index, texts: [], tokens: 0 };
			batches.push(current);
		}
		current.texts.push(text);
		current.tokens += tokens;
	});
	return batches;
}

/**
 * Runs `task` over items with at most `limit` in flight. On the first failure no new task starts and
 * `abort` is signalled to those running; the first error is thrown once all have settled (no stray requests).
 */
async function runBounded<T>(items: T[], limit: number, task: (item: T, signal: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
	const stop = new AbortController();
	const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
	let next = 0;
	let firstError: unknown;
	const worker = async () => {
		while (next < items.length && !combined.aborted) {
			const item = items[next++];
			try {
				await task(item, combined);
			} catch (error) {
				if (firstError === undefined) firstError = error;
				stop.abort();
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	if (firstError !== undefined) throw firstError;
}

function positiveInteger(value: number | undefined, fallback: number, field: string, minimum = 1): number {
	const resolved = value ?? fallback;
	if (!Number.isInteger(resolved) || resolved < minimum) {
		throw new InputError(`Embedding option "${field}" must be a whole number of at least ${minimum}, got ${value}.`, field);
	}
	return resolved;
}

/** The base URL as shown in messages: no user-info, query or fragment, which could carry secrets. */
function displayURL(baseURL: string): string {
	try {
		const url = new URL(baseURL);
		return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
	} catch {
		return baseURL;
	}
}

export function createOpenAIEmbedder(config: OpenAIEmbedderConfig): OpenAIEmbedder {
	if (!config.model?.trim()) throw new InputError('Choose an embedding model (e.g. text-embedding-3-small or nomic-embed-text).', 'model');
	try {
		new URL(config.baseURL);
	} catch {
		throw new InputError(`The base URL "${config.baseURL}" is not a valid URL; use e.g. https://api.openai.com/v1.`, 'baseURL');
	}
	const batchSize = positiveInteger(config.batchSize, DEFAULT_EMBEDDING_BATCH_SIZE, 'batchSize');
	const maxBatchTokens = positiveInteger(config.maxBatchTokens, DEFAULT_EMBEDDING_MAX_BATCH_TOKENS, 'maxBatchTokens');
	const concurrency = positiveInteger(config.concurrency, DEFAULT_EMBEDDING_CONCURRENCY, 'concurrency');
	const maxRetries = positiveInteger(config.maxRetries, DEFAULT_EMBEDDING_MAX_RETRIES, 'maxRetries', 0);
	const timeoutMs = positiveInteger(config.timeoutMs, DEFAULT_EMBEDDING_TIMEOUT_MS, 'timeoutMs');
	if (config.dimensions !== undefined) positiveInteger(config.dimensions, 0, 'dimensions');

	const { model, apiKey } = config;
	const where = displayURL(config.baseURL);
	const client = new OpenAI({
		baseURL: config.baseURL,
		// The SDK refuses to start without a key; keyless self-hosted servers ignore the header.
		apiKey: apiKey || 'no-key',
		maxRetries: 0,
		// Our own per-attempt timer decides; the SDK's is only a backstop.
		timeout: timeoutMs + 1000,
	});
	let knownDimension = config.dimensions;

	const redact = (text: string) => (apiKey ? text.split(apiKey).join('***') : text);

	const toError = (failure: AttemptFailure, attempts: number): Error => {
		const status = failure.status !== undefined ? `HTTP ${failure.status}: ` : '';
		const detail = redact(`${status}${failure.detail}`);
		const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
		switch (failure.kind) {
			case 'aborted':
				return new ModelRequestError('Embedding was cancelled before it finished.', 'aborted', undefined, attempts);
			case 'auth':
				// The server's own text is left out: some echo part of the key.
				return new ModelRequestError(
					`The API key was refused by ${where} (HTTP ${failure.status}). Check the API key in the model credential.`,
					'auth',
					failure.status,
					attempts,
				);
			case 'not_found':
				return new ModelRequestError(
					`The embedding model '${model}' was not found at ${where} (${detail}). Check the model name ` +
						'(on Ollama, pull it first) and that the base URL is the API root, usually ending in /v1.',
					'not_found',
					failure.status,
					attempts,
				);
			case 'bad_request':
				return new ModelRequestError(`${where} rejected the embedding request for model '${model}' (${detail}).`, 'bad_request', failure.status, attempts);
			case 'timeout':
				return new ModelRequestError(
					`The embedding request to ${where} timed out${tries} (${detail}). Raise the timeout or lower the batch size.`,
					'timeout',
					undefined,
					attempts,
				);
			default:
				return new ModelRequestError(
					`Embedding with model '${model}' at ${where} failed${tries} (${detail}). ` +
						(failure.kind === 'rate_limited' ? 'The server is rate limiting: lower the concurrency or try later.' : 'Check that the server is running and reachable.'),
					failure.kind,
					failure.status,
					attempts,
				);
		}
	};

	const checkVectors = (vectors: unknown[], expectedCount: number): number[][] => {
		if (vectors.length !== expectedCount) {
			throw new ModelRequestError(`${where} returned ${vectors.length} embeddings for ${expectedCount} texts (model '${model}').`, 'invalid_response');
		}
		return vectors.map((vector) => {
			if (!Array.isArray(vector) || vector.length === 0 || !vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
				throw new ModelRequestError(`${where} returned an embedding that is not a list of numbers (model '${model}').`, 'invalid_response');
			}
			if (knownDimension === undefined) knownDimension = vector.length;
			if (vector.length !== knownDimension) {
				const expected = config.dimensions !== undefined ? `the configured dimensions ${config.dimensions}` : `the ${knownDimension} it returned before`;
				throw new ModelRequestError(
					`The embedding model '${model}' at ${where} returned a vector of dimension ${vector.length}, not ${expected}. ` +
						(config.dimensions !== undefined
							? 'This server or model may ignore the "dimensions" option: remove it, or choose a model that supports it.'
							: 'Check that the base URL always serves the same model.'),
					'dimension_mismatch',
				);
			}
			return vector as number[];
		});
	};

	const embedBatch = async (batch: Batch, signal: AbortSignal): Promise<number[][]> =>
		withRetries(
			async (attemptSignal, attempt) => {
				config.onRequest?.({ inputs: batch.texts.length, tokens: batch.tokens, attempt });
				const response = await client.embeddings.create(
					{
						model,
						input: batch.texts,
						// Float, not the SDK's base64 default: several self-hosted servers do not implement base64.
						encoding_format: 'float',
						...(config.dimensions !== undefined ? { dimensions: config.dimensions } : {}),
					},
					{ signal: attemptSignal },
				);
				if (!Array.isArray(response?.data)) {
					throw new ModelRequestError(`${where} answered the embedding request without a "data" list (model '${model}').`, 'invalid_response');
				}
				const ordered = [...response.data].sort((a, b) => a.index - b.index);
				return checkVectors(
					ordered.map((item) => item.embedding),
					batch.texts.length,
				);
			},
			{ maxRetries, timeoutMs, signal, baseDelayMs: config.retryBaseDelayMs },
			toError,
		);

	return {
		model,
		baseURL: where,
		get dimensions() {
			return knownDimension;
		},
		async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
			if (signal?.aborted) throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, 0);
			const batches = makeBatches(texts, batchSize, maxBatchTokens);
			const vectors = new Array<number[]>(texts.length);
			await runBounded(
				batches,
				concurrency,
				async (batch, batchSignal) => {
					const batchVectors = await embedBatch(batch, batchSignal);
					batchVectors.forEach((vector, index) => (vectors[batch.offset + index] = vector));
				},
				signal,
			);
			// Workers stop quietly when the caller aborts between two batches, leaving holes: report the cancellation.
			if (signal?.aborted) throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, 0);
			return vectors;
		},
	};
}
