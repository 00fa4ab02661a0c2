/**
 * Checks of everything a caller hands the memory, before anything is written. Each failure is an InputError
 * naming the field and saying what to do.
 */
import { checkNamespace } from '../namespace';
import { InputError } from '../types';
import type { FactsUpdate, HistoryOptions, MessageInput, RetentionPolicy, SessionRef } from './types';
import { MESSAGE_ROLES } from './types';

export const DEFAULT_KEY_PREFIX = 'symbiotic';
export const MAX_SESSION_ID_LENGTH = 256;

// Glob characters would break the SCAN pattern; braces would break the hash tag.
const PREFIX_PATTERN = /^[A-Za-z0-9._-][A-Za-z0-9._:-]{0,63}$/;
const CONTROL_CHARACTER = /\p{Cc}/u;
const EMAIL_LIKE = /^[^\s@]+@[^\s@]+$/;

export function checkKeyPrefix(prefix: string | undefined): string {
	const value = (prefix ?? DEFAULT_KEY_PREFIX).trim();
	if (!PREFIX_PATTERN.test(value)) {
		throw new InputError(
			`Key prefix "${value}" is not valid: use 1–64 letters, digits, ".", "_", "-" or ":" (for example "symbiotic")`,
			'keyPrefix',
		);
	}
	return value;
}

/**
 * Session ids usually come from expressions such as the lead's email, so the same contact must map to the
 * same key however the value was typed: trimmed, Unicode NFC, and e-mail addresses lower-cased.
 */
export function normalizeSessionId(sessionId: unknown): string {
	if (typeof sessionId !== 'string' && typeof sessionId !== 'number') {
		throw new InputError(
			`Session ID must be text (for example the contact's email), got ${sessionId === null ? 'null' : typeof sessionId}`,
			'sessionId',
		);
	}
	let value = String(sessionId).trim().normalize('NFC');
	if (value === '') {
		throw new InputError(
			"Session ID is empty: map it to a value that identifies the contact, for example {{ $json.email }}",
			'sessionId',
		);
	}
	if (CONTROL_CHARACTER.test(value)) {
		throw new InputError('Session ID contains control characters (such as a line break): remove them', 'sessionId');
	}
	const length = [...value].length;
	if (length > MAX_SESSION_ID_LENGTH) {
		throw new InputError(
			`Session ID is ${length} characters long; the maximum is ${MAX_SESSION_ID_LENGTH}. Use a shorter identifier such as the contact's email or id`,
			'sessionId',
		);
	}
	if (EMAIL_LIKE.test(value)) value = value.toLowerCase();
	return value;
}

export function normalizeSession(session: SessionRef): SessionRef {
	return { namespace: checkNamespace(session.namespace), sessionId: normalizeSessionId(session.sessionId) };
}

/** Checks messages before anything is written, naming the offending message and field. */
export function checkMessages(messages: MessageInput[]): void {
	if (!Array.isArray(messages) || messages.length === 0) {
		throw new InputError('No messages to append: give at least one message with a role and content', 'messages');
	}
	messages.forEach((message, index) => {
		const where = `Message ${index + 1}`;
		if (!MESSAGE_ROLES.includes(message?.role)) {
			throw new InputError(
				`${where} has role "${String(message?.role)}"; use one of ${MESSAGE_ROLES.join(', ')}`,
				'role',
			);
		}
		if (typeof message.content !== 'string') {
			throw new InputError(`${where} has no text content: map "content" to a text value`, 'content');
		}
		if (message.at !== undefined && Number.isNaN(Date.parse(message.at))) {
			throw new InputError(`${where} has time "${message.at}", which is not an ISO-8601 date`, 'at');
		}
		if (message.metadata !== undefined && (typeof message.metadata !== 'object' || Array.isArray(message.metadata))) {
			throw new InputError(`${where} has metadata that is not an object of fields`, 'metadata');
		}
	});
}

export const MAX_FACT_NAME_LENGTH = 256;

export function checkFactsUpdate(update: FactsUpdate): void {
	if (update === null || typeof update !== 'object' || Array.isArray(update)) {
		throw new InputError('Facts must be an object of field names to values, for example { "company": "Acme" }', 'facts');
	}
	for (const [name, value] of Object.entries(update)) {
		if (name.trim() === '' || name.length > MAX_FACT_NAME_LENGTH) {
			throw new InputError(`Fact name "${name}" must be 1–${MAX_FACT_NAME_LENGTH} characters`, 'facts');
		}
		const scalar = value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);
		if (!scalar) {
			throw new InputError(
				`Fact "${name}" must be text, a number, true/false, or null to delete it; got ${Array.isArray(value) ? 'a list' : typeof value}`,
				'facts',
			);
		}
	}
}

export const DEFAULT_RETENTION: RetentionPolicy = { ttlMs: 30 * 24 * 60 * 60 * 1000, maxMessages: 0 };

export function checkRetention(retention: Partial<RetentionPolicy> | undefined): RetentionPolicy {
	const policy = { ...DEFAULT_RETENTION, ...retention };
	if (!Number.isFinite(policy.ttlMs) || policy.ttlMs < 0) {
		throw new InputError(`Time to live must be 0 (keep forever) or a positive duration, got ${policy.ttlMs}`, 'ttl');
	}
	if (!Number.isInteger(policy.maxMessages) || policy.maxMessages < 0) {
		throw new InputError(`Max messages must be 0 (keep all) or a positive whole number, got ${policy.maxMessages}`, 'maxMessages');
	}
	return { ttlMs: Math.round(policy.ttlMs), maxMessages: policy.maxMessages };
}

export function checkHistoryOptions(options: HistoryOptions): void {
	if (options.lastN !== undefined && (!Number.isInteger(options.lastN) || options.lastN < 1)) {
		throw new InputError(`Last N must be a whole number of at least 1, got ${options.lastN}`, 'lastN');
	}
	if (options.tokenBudget !== undefined && (!Number.isInteger(options.tokenBudget) || options.tokenBudget < 1)) {
		throw new InputError(`Token budget must be a whole number of at least 1, got ${options.tokenBudget}`, 'tokenBudget');
	}
}

/** Parses a JSON parameter that may arrive as text or, from an expression, already as a value. */
export function parseJsonInput(value: unknown, field: string, label: string): unknown {
	if (typeof value !== 'string') return value;
	try {
		return JSON.parse(value);
	} catch (error) {
		throw new InputError(`${label} is not valid JSON: ${(error as Error).message}`, field);
	}
}
