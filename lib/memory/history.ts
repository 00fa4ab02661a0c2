/**
 * Turning the stored tail of a conversation into what a prompt needs: the newest messages that fit a count and
 * a token budget, and a `User: …` transcript. Shared by every backend so they window identically.
 */
import { countTokens } from '../tokens';
import type { History, HistoryOptions, MessageInput, MessageRole, StoredMessage } from './types';

const ROLE_LABELS: Record<MessageRole, string> = {
	user: 'User',
	assistant: 'Assistant',
	system: 'System',
	tool: 'Tool',
};

function transcriptLine(message: StoredMessage): string {
	return `${ROLE_LABELS[message.role]}: ${message.content}`;
}

/**
 * How many of the newest messages a backend must read to answer `options` (`undefined`: all of them).
 * Every transcript line costs at least two tokens (`User` and `:`), so a budget of B tokens never fits more
 * than B/2 messages: one bounded read answers a budget, with no paging through a long history.
 */
export function messagesToRead(options: HistoryOptions): number | undefined {
	const byBudget = options.tokenBudget === undefined ? Infinity : Math.floor(options.tokenBudget / 2) + 1;
	const limit = Math.min(options.lastN ?? Infinity, byBudget);
	return Number.isFinite(limit) ? limit : undefined;
}

/**
 * Windows `tail` (the newest stored messages, oldest first) to `options`. The window is contiguous: it ends at
 * the first message, going back in time, that does not fit the budget, rather than skipping it and
 * presenting older messages out of context.
 */
export function buildHistory(tail: StoredMessage[], totalStored: number, options: HistoryOptions): History {
	let messages = options.lastN === undefined ? tail : tail.slice(-options.lastN);
	if (options.tokenBudget !== undefined) messages = newestWithinBudget(messages, options.tokenBudget);
	const transcript = toTranscript(messages);
	return {
		messages,
		transcript,
		transcriptTokens: countTokens(transcript),
		omittedMessages: Math.max(0, totalStored - messages.length),
	};
}

function toTranscript(messages: StoredMessage[]): string {
	return messages.map(transcriptLine).join('\n');
}

/**
 * The longest run of newest messages whose transcript fits `budget`. Lines tokenize differently once joined
 * (a trailing space and the line break merge into one token), so the answer is found by counting joined
 * transcripts; summed line counts only bound the candidates, keeping the counting work near the budget.
 */
function newestWithinBudget(messages: StoredMessage[], budget: number): StoredMessage[] {
	let lineTokens = 0;
	let candidates = 0;
	while (candidates < messages.length) {
		lineTokens += countTokens(transcriptLine(messages[messages.length - 1 - candidates]));
		if (lineTokens > budget) break;
		candidates++;
	}
	const pool = messages.slice(messages.length - candidates);
	// Smallest start whose transcript fits; `high` always points at a verified fit (the empty one at worst).
	let low = 0;
	let high = pool.length;
	while (low < high) {
		const middle = Math.floor((low + high) / 2);
		if (countTokens(toTranscript(pool.slice(middle))) <= budget) high = middle;
		else low = middle + 1;
	}
	return pool.slice(high);
}

/** The stored form of a message: `at` defaults to `now`, and only the known fields are kept. */
export function toStoredMessage(message: MessageInput, now: Date): StoredMessage {
	return {
		role: message.role,
		content: message.content,
		at: message.at ?? now.toISOString(),
		...(message.metadata !== undefined && { metadata: message.metadata }),
	};
}

/** Parses a stored list element; an element some other writer left behind is reported, not guessed at. */
export function parseStoredMessage(raw: string): StoredMessage {
	try {
		const parsed = JSON.parse(raw) as StoredMessage;
		if (typeof parsed.role === 'string' && typeof parsed.content === 'string') return parsed;
	} catch {
		// reported below
	}
	throw new Error(
		`A stored message is not in Memory Store format (${raw.slice(0, 60)}…): the key was written by another program; use another key prefix or namespace`,
	);
}
