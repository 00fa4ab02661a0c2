/**
 * Key layout: `<prefix>:{<namespace>:<sessionId>}:messages` (list) and `…:facts` (hash). The braces are a Redis
 * Cluster hash tag: only the part inside them is hashed, so both keys of a session live in one slot and the
 * append script may touch both atomically.
 */
import type { SessionRef } from './types';

export interface SessionKeys {
	messages: string;
	facts: string;
}

export function sessionKeys(prefix: string, session: SessionRef): SessionKeys {
	const base = `${prefix}:{${session.namespace}:${session.sessionId}}`;
	return { messages: `${base}:messages`, facts: `${base}:facts` };
}

/** SCAN pattern matching every key of a namespace; prefix and namespace are validated glob-free. */
export function namespaceScanPattern(prefix: string, namespace: string): string {
	return `${prefix}:{${namespace}:*`;
}

/** The session id inside a key of `namespace`, or `undefined` for a key that is not ours. */
export function sessionIdFromKey(prefix: string, namespace: string, key: string): string | undefined {
	const start = `${prefix}:{${namespace}:`;
	if (!key.startsWith(start)) return undefined;
	for (const suffix of ['}:messages', '}:facts']) {
		if (key.endsWith(suffix)) return key.slice(start.length, key.length - suffix.length);
	}
	return undefined;
}

