import { InputError } from '../types';

export const MEGABYTE = 1024 * 1024;
const GIGABYTE = 1024 * MEGABYTE;
export const DEFAULT_MAX_FILE_SIZE_MB = 25;
export const DEFAULT_MAX_BINARY_BYTES = DEFAULT_MAX_FILE_SIZE_MB * MEGABYTE;
export const DEFAULT_PARSE_TIMEOUT_MS = 60_000;

/** "12 MB" / "0.5 MB": sizes as a marketer reads them. */
export function formatMegabytes(bytes: number): string {
	const megabytes = bytes / MEGABYTE;
	return `${Number.isInteger(megabytes) ? megabytes : megabytes.toFixed(1)} MB`;
}

/** "1.2 GB", "340 MB", "0.5 MB": any size, in the unit a person expects for it. */
export function formatSize(bytes: number): string {
	if (bytes < GIGABYTE) return formatMegabytes(bytes);
	const gigabytes = bytes / GIGABYTE;
	return `${Number.isInteger(gigabytes) ? gigabytes : gigabytes.toFixed(1)} GB`;
}

export function emptyInputError(name: string): InputError {
	return new InputError(`${name} is empty; provide a file or text with content.`);
}

/**
 * Rejects empty and oversized input before any parser sees it, so a huge file fails fast instead of hanging.
 * `advice` says what the user can do about the limit, naming only options that exist.
 */
export function assertLoadableSize(name: string, size: number, maxBytes: number, advice: string): void {
	if (size === 0) throw emptyInputError(name);
	if (size > maxBytes) {
		throw new InputError(`${name} is ${formatSize(size)}, larger than the ${formatSize(maxBytes)} limit; ${advice}.`);
	}
}

/**
 * Levels of tags or brackets inside each other a document may have. Real ones stay far below (a web page has
 * about 30, a nested JSON export a handful), while the HTML parser slows down with the square of the depth
 * (20,000 levels take seconds, 100,000 minutes) and the recursive readers run out of call stack near 5,000.
 */
export const MAX_NESTING_DEPTH = 1000;

export function tooDeeplyNestedError(name: string): InputError {
	return new InputError(
		`${name} is nested more than ${MAX_NESTING_DEPTH.toLocaleString('en-US')} levels deep (tags or brackets inside each other), ` +
			'which no real document needs, so it is refused as a safety measure. If the file is genuine, flatten its structure and save it again.',
	);
}

/** A parser's error as a short reason in parentheses: its first line, spaces tidied, at most 200 characters. */
export function parserReason(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	const firstLine = message.split('\n', 1)[0].replace(/\s+/g, ' ').trim();
	return firstLine.length > 200 ? `${firstLine.slice(0, 199)}…` : firstLine;
}

export function isCallStackOverflow(error: unknown): boolean {
	return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Elements that never hold others (void), or whose end tag may be left out (the next one closes them). */
const NOT_NESTING = new Set([
	...['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr'],
	...['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'colgroup', 'caption'],
	...['rb', 'rt', 'rtc', 'rp', 'html', 'head', 'body'],
]);
/** Elements whose content is text, not tags, up to their own end tag. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes']);
const TAG_OR_COMMENT = /<!--[\s\S]*?(?:-->|$)|<(\/?)([a-zA-Z][^\s/>]*)[^>]*>/g;

/**
 * Refuses HTML nested deeper than MAX_NESTING_DEPTH before a parser spends minutes on it. The depth is
 * estimated from the tags as a parser stacks them: an end tag closes everything opened inside it, and
 * elements that do not nest (see NOT_NESTING) are not counted, so pages that leave end tags out pass.
 */
export function assertHtmlNesting(name: string, html: string | Buffer): void {
	// Tags are ASCII: any byte encoding but UTF-16 shows them as they are.
	const markup = typeof html === 'string' ? html : html.toString('latin1');
	const open: string[] = [];
	const openCount = new Map<string, number>();
	const count = (tag: string, change: number): void => {
		openCount.set(tag, (openCount.get(tag) ?? 0) + change);
	};
	let rawTextUntil: string | undefined;
	for (const [tagText, closing, tagName] of markup.matchAll(TAG_OR_COMMENT)) {
		if (!tagName) continue;
		const tag = tagName.toLowerCase();
		if (rawTextUntil) {
			if (closing && tag === rawTextUntil) rawTextUntil = undefined;
		} else if (closing) {
			// An end tag without a matching open element is ignored, as parsers do; looking it up is then free.
			if (openCount.get(tag)) open.splice(open.lastIndexOf(tag)).forEach((closed) => count(closed, -1));
		} else if (RAW_TEXT.has(tag)) {
			rawTextUntil = tag;
		} else {
			// In SVG and MathML `<path/>` closes itself; in HTML `<div/>` opens a div like `<div>`.
			const inForeign = Boolean(openCount.get('svg') || openCount.get('math'));
			if (NOT_NESTING.has(tag) || (inForeign && tagText.endsWith('/>'))) continue;
			open.push(tag);
			count(tag, 1);
			if (open.length > MAX_NESTING_DEPTH) throw tooDeeplyNestedError(name);
		}
	}
}

/** Runs a parser with a deadline; `onTimeout` releases the parser's resources. */
export async function withParseTimeout<T>(
	name: string,
	timeoutMs: number,
	work: Promise<T>,
	onTimeout: () => void,
): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			onTimeout();
			reject(parseTimeoutError(name, timeoutMs));
		}, timeoutMs);
	});
	try {
		return await Promise.race([work, deadline]);
	} finally {
		clearTimeout(timer);
	}
}

export function parseTimeoutError(name: string, timeoutMs: number): InputError {
	return new InputError(`${name} took longer than ${timeoutMs / 1000} s to read; the file may be damaged or too complex.`);
}
