/**
 * The e-mail an AI agent proposes and a reviewer approves, edits or rejects (the Send Email After Review node):
 * the text the review page shows and reads back, and the tool's answer the agent's model reads next.
 */

import { formatText, MESSAGES, messagesFor, type ReviewLocale } from './i18n';

/*
 * The e-mail a reviewer sees and may edit, as one text: "To:" and "Subject:" lines (named in the review's
 * language, as the reviewer's mail program names them: "À :" and "Objet :" in French), a blank line, then the
 * body. The review page edits one text, so every argument of the tool call is in it, and the edited text is read back.
 */

export interface EmailArguments {
	to: string;
	subject: string;
	body: string;
}

/** One plain address (no display name, no list): what reviewers' and recipients' fields accept. */
export function isEmailAddress(value: string): boolean {
	return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(value);
}

export function formatEmailDraft(email: EmailArguments, locale?: Partial<ReviewLocale>): string {
	const { emailHeaders, labelValue } = messagesFor(locale);
	const line = (label: string, value: string) => formatText(labelValue, { label, value });
	return `${line(emailHeaders.to, email.to)}\n${line(emailHeaders.subject, email.subject)}\n\n${email.body}`;
}

/** Header names compared without case or accents ("a" for "À"), so a reviewer's retyped line still reads. */
const foldHeaderName = (name: string) => name.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();

/** Every language's header names: the text read back may have been written in any of them. */
const HEADER_FIELDS = new Map<string, 'to' | 'subject'>(
	Object.values(MESSAGES).flatMap(({ emailHeaders }): Array<[string, 'to' | 'subject']> => [
		[foldHeaderName(emailHeaders.to), 'to'],
		[foldHeaderName(emailHeaders.subject), 'subject'],
	]),
);

/**
 * Reads an approved text back into the e-mail's arguments. Header lines run up to the first blank line; "To" and
 * "Subject" (in any of the review languages, any case) are required once each. Returns an error sentence instead
 * when the reviewer's edit broke the format or the recipient, so nothing is sent.
 */
export function parseEmailDraft(text: string): { email: EmailArguments } | { error: string } {
	const normalized = text.replace(/\r\n?/g, '\n');
	const split = normalized.indexOf('\n\n');
	const head = split === -1 ? normalized : normalized.slice(0, split);
	const body = split === -1 ? '' : normalized.slice(split + 2);
	const headers: Partial<Record<'to' | 'subject', string>> = {};
	for (const line of head.split('\n')) {
		const match = /^([^:]*):(.*)$/.exec(line);
		const field = match ? HEADER_FIELDS.get(foldHeaderName(match[1])) : undefined;
		if (!match || !field) return { error: `the line "${line.trim()}" is neither "To:" nor "Subject:" (keep a blank line before the body)` };
		if (field in headers) return { error: `"${match[1].trim()}:" appears twice` };
		headers[field] = match[2].trim();
	}
	if (!headers.to) return { error: 'the "To:" line is missing or empty' };
	if (!isEmailAddress(headers.to)) return { error: `the recipient "${headers.to}" is not one e-mail address` };
	if (headers.subject === undefined) return { error: 'the "Subject:" line is missing' };
	if (!body.trim()) return { error: 'the body is empty' };
	return { email: { to: headers.to, subject: headers.subject, body } };
}

/** Which arguments the reviewer changed, by name, for the message the agent reads. */
export function changedArguments(before: EmailArguments, after: EmailArguments): Array<keyof EmailArguments> {
	return (['to', 'subject', 'body'] as const).filter((key) => before[key].trim() !== after[key].trim());
}

/** What the node outputs — for an AI Agent, the tool's answer its model reads next. */
export interface ReviewedEmailResult {
	/** `sent` only after a reviewer approved and the mail server accepted the e-mail. */
	status: 'sent' | 'rejected' | 'timedOut' | 'notSent';
	sent: boolean;
	/** One plain sentence for the agent's model: what happened and what to do about it. */
	message: string;
	/** The e-mail as the agent proposed it. */
	proposed: EmailArguments;
	/** The e-mail that was sent (with the reviewer's edits); absent when nothing was sent. */
	email?: EmailArguments;
	/** Arguments the reviewer changed before approving. */
	changed: string[];
	reviewer: string | null;
	comment: string;
	decidedAt: string;
	messageId?: string;
}

const quoted = (text: string) => `"${text.trim().replace(/\s+/g, ' ')}"`;

export function sentResult(input: {
	proposed: EmailArguments;
	email: EmailArguments;
	changed: string[];
	reviewer: string;
	comment: string;
	decidedAt: string;
	messageId?: string;
}): ReviewedEmailResult {
	const edits = input.changed.length
		? ` The reviewer changed the ${input.changed.join(', ')} before sending; "email" holds what was sent.`
		: '';
	const comment = input.comment.trim() ? ` Reviewer's comment: ${quoted(input.comment)}.` : '';
	return {
		status: 'sent',
		sent: true,
		message: `The reviewer approved and the e-mail was sent to ${input.email.to} with the subject ${quoted(input.email.subject)}.${edits}${comment}`,
		...input,
	};
}

export function rejectedResult(input: { proposed: EmailArguments; reviewer: string; comment: string; decidedAt: string }): ReviewedEmailResult {
	const reason = input.comment.trim() ? `: ${quoted(input.comment)}` : ' without a comment';
	return {
		status: 'rejected',
		sent: false,
		message:
			`The reviewer rejected the e-mail to ${input.proposed.to}${reason}. Nothing was sent. ` +
			'Do not send it again unchanged: address the comment, or tell the user the e-mail was rejected.',
		changed: [],
		...input,
	};
}

export function notSentResult(input: {
	proposed: EmailArguments;
	reason: string;
	reviewer: string;
	comment: string;
	decidedAt: string;
	changed: string[];
}): ReviewedEmailResult {
	const { reason, ...rest } = input;
	return {
		status: 'notSent',
		sent: false,
		message: `The reviewer approved, but the e-mail could not be sent: ${reason}. Nothing was sent.`,
		...rest,
	};
}

export function timedOutResult(proposed: EmailArguments, expiresAt: Date): ReviewedEmailResult {
	return {
		status: 'timedOut',
		sent: false,
		message: `No decision in time: no reviewer decided by ${expiresAt.toISOString()}, so nothing was sent to ${proposed.to}.`,
		proposed,
		changed: [],
		reviewer: null,
		comment: '',
		decidedAt: expiresAt.toISOString(),
	};
}
