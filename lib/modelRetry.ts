/**
 * Bounded retries for calls to OpenAI-compatible endpoints, written here rather than left to the SDK
 * (`maxRetries: 0` on the client) so the policy is explicit, testable and shared: exponential backoff with
 * jitter, Retry-After honoured, a per-attempt timeout of our own, cancellation through an AbortSignal.
 * Generic over the operation, so the chat (Generate) code can use it too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { APIError } from 'openai';

export type ModelFailureKind =
	| 'aborted'
	| 'timeout'
	| 'rate_limited'
	| 'server'
	| 'connection'
	| 'auth'
	| 'not_found'
	| 'bad_request'
	| 'invalid_response';

/** Why one attempt failed. */
export interface AttemptFailure {
	kind: ModelFailureKind;
	retryable: boolean;
	status?: number;
	/** The server's own words (or the transport's), for the final message. */
	detail: string;
	/** From Retry-After / retry-after-ms, when the server said how long to wait. */
	retryAfterMs?: number;
	/** The API error's `code` field, e.g. `model_not_found`. */
	code?: string;
}

export interface RetryOptions {
	/** Retries after the first attempt (so at most maxRetries + 1 attempts). */
	maxRetries: number;
	/** Limit for one attempt, in ms. */
	timeoutMs: number;
	signal?: AbortSignal;
	/** First backoff step (default 500 ms), doubled per retry. */
	baseDelayMs?: number;
	/** Ceiling of a backoff step (default 20 s). */
	maxDelayMs?: number;
	/** Ceiling for a server-requested Retry-After (default 60 s), so a misbehaving server cannot stall a run. */
	maxRetryAfterMs?: number;
	onRetry?: (info: { attempt: number; delayMs: number; failure: AttemptFailure }) => void;
	/**
	 * Asked before each retry; true throws the failure at once, through `toError`, instead. For failures the
	 * caller handles itself (the embedder sends a batch that timed out again in halves) or bounds more tightly
	 * than `maxRetries` (the chat client retries a timeout once).
	 */
	giveUp?: (failure: AttemptFailure) => boolean;
}

/** Thrown by `withRetries` (through `toError`) and by callers; `kind` lets code and tests tell causes apart. */
export class ModelRequestError extends Error {
	constructor(
		message: string,
		readonly kind: ModelFailureKind | 'dimension_mismatch',
		readonly status?: number,
		readonly attempts?: number,
	) {
		super(message);
		this.name = 'ModelRequestError';
	}
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); `retry-after-ms` is OpenAI's. */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
	const milliseconds = Number(headers?.get('retry-after-ms') ?? NaN);
	if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
	const value = headers?.get('retry-after')?.trim();
	if (!value) return undefined;
	if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so parallel clients spread out. */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
	const step = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
	return Math.round(step / 2 + (random() * step) / 2);
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429]);

/** Classifies an error thrown by the `openai` SDK (or by fetch underneath it). */
export function describeFailure(error: unknown): AttemptFailure {
	if (error instanceof APIError && error.status !== undefined) {
		const status = error.status;
		const detail = (error.error as { message?: string } | undefined)?.message ?? error.message;
		const code = typeof error.code === 'string' ? error.code : undefined;
		const failure = { status, detail, code, retryAfterMs: parseRetryAfter(error.headers) };
		if (status === 429) return { ...failure, kind: 'rate_limited', retryable: true };
		if (status >= 500 || RETRYABLE_STATUS.has(status)) return { ...failure, kind: 'server', retryable: true };
		if (status === 401 || status === 403) return { ...failure, kind: 'auth', retryable: false };
		if (status === 404) return { ...failure, kind: 'not_found', retryable: false };
		return { ...failure, kind: 'bad_request', retryable: false };
	}
	// No HTTP status: the connection failed (refused, reset, DNS, TLS) before an answer arrived.
	const cause = (error as { cause?: unknown })?.cause;
	const detail = [error instanceof Error ? error.message : String(error), cause instanceof Error ? cause.message : '']
		.filter(Boolean)
		.join(': ');
	return { kind: 'connection', retryable: true, detail };
}

/**
 * Runs `operation` until it succeeds, a failure is not retryable, retries are exhausted or `signal` aborts.
 * Each attempt gets its own signal, aborted on timeout or cancellation. Failures become errors via `toError`.
 */
export async function withRetries<T>(
	operation: (attemptSignal: AbortSignal, attempt: number) => Promise<T>,
	options: RetryOptions,
	toError: (failure: AttemptFailure, attempts: number) => Error,
): Promise<T> {
	const { maxRetries, timeoutMs, signal, baseDelayMs = 500, maxDelayMs = 20_000, maxRetryAfterMs = 60_000 } = options;
	for (let attempt = 1; ; attempt++) {
		if (signal?.aborted) throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, attempt - 1);
		const timeout = new AbortController();
		const timer = setTimeout(() => timeout.abort(), timeoutMs);
		const attemptSignal = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
		let failure: AttemptFailure;
		try {
			return await operation(attemptSignal, attempt);
		} catch (error) {
			if (signal?.aborted) failure = { kind: 'aborted', retryable: false, detail: 'cancelled' };
			else if (timeout.signal.aborted) failure = { kind: 'timeout', retryable: true, detail: `no answer within ${timeoutMs} ms` };
			else if (error instanceof ModelRequestError) throw error;
			else failure = describeFailure(error);
		} finally {
			clearTimeout(timer);
		}
		if (!failure.retryable || attempt > maxRetries || options.giveUp?.(failure)) throw toError(failure, attempt);
		const delayMs =
			failure.retryAfterMs !== undefined
				? Math.min(failure.retryAfterMs, maxRetryAfterMs)
				: backoffDelay(attempt - 1, baseDelayMs, maxDelayMs);
		options.onRetry?.({ attempt, delayMs, failure });
		try {
			await sleep(delayMs, undefined, { signal });
		} catch {
			throw toError({ kind: 'aborted', retryable: false, detail: 'cancelled' }, attempt);
		}
	}
}
