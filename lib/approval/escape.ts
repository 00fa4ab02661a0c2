const HTML_ESCAPES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;',
	'`': '&#96;',
};

/** Control characters other than tab and line breaks: parse errors in HTML that parsers drop or replace inconsistently. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are removed.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

export function stripControlCharacters(text: string): string {
	return text.replace(CONTROL_CHARACTERS, '');
}

/**
 * Escapes text for HTML element content AND quoted attribute values (we always quote attributes with `"`),
 * so one helper serves every context on our pages and emails. Control characters are removed.
 */
export function escapeHtml(value: unknown): string {
	return stripControlCharacters(String(value ?? '')).replace(/[&<>"'`]/g, (char) => HTML_ESCAPES[char]);
}

/** Escaped text whose line breaks survive in HTML clients that ignore `white-space: pre-wrap` (Outlook). */
export function escapeMultiline(value: string): string {
	return escapeHtml(value).replace(/\r\n?|\n/g, '<br>');
}

/**
 * Returns the normalised URL when it is an absolute http(s) URL, otherwise undefined. Parsing with WHATWG URL
 * (not a regex) means tricks such as `java\tscript:` or leading spaces are judged the way a browser judges them.
 */
export function safeHttpUrl(value: string | undefined): string | undefined {
	if (!value) return undefined;
	try {
		const url = new URL(value.trim());
		return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
	} catch {
		return undefined;
	}
}
