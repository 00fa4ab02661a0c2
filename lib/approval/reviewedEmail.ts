/**
 * The e-mail an AI agent proposes and a reviewer approves, edits or rejects (the Send Email After Review node):
 * the text the review page shows and reads back, and the tool's answer the agent's model reads next.
 */

/*
 * The e-mail a reviewer sees and may edit, as one text: "To:" and "Subject:" lines, a blank line, then the body.
 * The review page edits one text, so every argument of the tool call is in it, and the edited text is read back.
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

export function formatEmailDraft(email: EmailArguments): string {
	return `To: ${email.to}\nSubject: ${email.subject}\n\n${email.body}`;
}

/**
 * Reads an approved text back into the e-mail's arguments. Header lines run up to the first blank line; "To" and
 * "Subject" (any case) are required once each. Returns an error sentence instead when the reviewer's edit broke
 * the format or the recipient, so nothing is sent.
 */
export function parseEmailDraft(text: string): { email: EmailArguments } | { error: string } {
	const normalized = text.replace(/\r\n?/g, '\n');
	const split = normalized.indexOf('\n\n');
	const head = split === -1 ? normalized : normalized.slice(0, split);
	const body = split === -1 ? '' : normalized.slice(split + 2);
	const headers: Record<string, string> = {};
	for (const line of head.split('\n')) {
		const match = /^\s*(to|subject)\s*:(.*)$/i.exec(line);
		if (!match) return { error: `the line "${line.trim()}" is neither "To:" nor "Subject:" (keep a blank line before the body)` };
		const name = match[1].toLowerCase();
		if (name in headers) return { error: `"${match[1]}:" appears twice` };
		headers[name] = match[2].trim();
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
