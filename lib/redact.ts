/**
 * Keeping secrets out of messages. Servers and transports quote what they were sent in their error texts (the
 * URL with its `user:password@`, sometimes the API key), and our messages quote those texts: whatever reaches a
 * user, a log or an output item goes through here first.
 */

/** Shorter secrets are left in place: masking them would mangle ordinary words, and they protect nothing. */
const MIN_SECRET_LENGTH = 4;

// Both greedy up to the last `@` before the path, so an unencoded `@` in a password is still removed whole.
const USER_INFO_IN_TEXT = /\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#]*@/gi;
const USER_INFO_OF_URL = /^([a-z][a-z\d+.-]*:\/\/)[^/?#\\]*@/i;

/** `text` without the user-info (`user:password@`) of any URL in it. */
export function withoutUserInfo(text: string): string {
	return text.replace(USER_INFO_IN_TEXT, '$1');
}

/**
 * One URL as typed, without its user-info, otherwise exactly as written (not normalised). Unlike in free text,
 * everything up to the `@` counts, spaces included: a mistyped URL is still one URL.
 */
export function urlWithoutUserInfo(url: string): string {
	return url.replace(USER_INFO_OF_URL, '$1');
}

/**
 * The URL as shown in messages: no user-info, query or fragment, which could carry secrets. Text that is no
 * http(s) URL (as typed into a wrong field) is shown as typed, minus those parts.
 */
export function displayURL(url: string): string {
	try {
		const parsed = new URL(url);
		if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
			return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
		}
	} catch {
		// not a URL at all: shown as typed, below
	}
	return urlWithoutUserInfo(url).replace(/[?#].*$/s, '');
}

/** Percent-decodes a URL part; a malformed escape such as `%E0%A4%A` is kept as written rather than fatal. */
export function decodeOrKeep(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

/** What a URL carries that must not be shown: user name and password (as written and decoded) and the query. */
export function urlSecrets(url: string): string[] {
	try {
		const { username, password, search } = new URL(url);
		return [username, password, decodeOrKeep(username), decodeOrKeep(password), search.slice(1)];
	} catch {
		return [];
	}
}

/** `text` without URL user-info and with every given secret replaced by `***`. */
export function redactSecrets(text: string, secrets: Array<string | undefined>): string {
	let redacted = withoutUserInfo(text);
	// Longest first, so a secret containing another is masked whole.
	const masked = secrets.filter((secret): secret is string => (secret?.length ?? 0) >= MIN_SECRET_LENGTH);
	for (const secret of masked.sort((a, b) => b.length - a.length)) redacted = redacted.split(secret).join('***');
	return redacted;
}
