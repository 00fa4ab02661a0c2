/**
 * The customer's copy of a cited answer. Reviewers read `[n]` markers; customers should not, so `toCustomerText`
 * either removes every marker (`remove`) or keeps them renumbered 1…k by first use with a source list appended
 * (`footnotes`). Markers are found by `findCitations`, so whatever it refuses to read as a citation (code,
 * `items[0]`, Markdown links, `[2024]`…) is left exactly as written.
 *
 * Whitespace around a removed marker is repaired: `free [1].` → `free.`, `free [1] above` → `free above`,
 * `gratuit [1] !` → `gratuit !` (the space the author put before the punctuation is kept, as French wants),
 * `([1])` disappears with its parentheses, a marker ending a line leaves no trailing space, and a line holding
 * only markers disappears without leaving an extra blank line.
 */
import { findCitations, type CitationMark } from './citations';
import { sourcesHeading } from './languages';

export type CustomerTextStyle = 'remove' | 'footnotes';

export const CUSTOMER_TEXT_STYLES: readonly CustomerTextStyle[] = ['remove', 'footnotes'];

/**
 * A source the text's markers may cite, under the number the text uses. Generate's `sources` and `citations`
 * entries have this shape; `customerSourcesFromItem` reads them from a Generate output item.
 */
export interface CustomerTextSource {
	n: number;
	title?: string;
	url?: string;
	/** Shown when the source has neither title nor URL. */
	sourceId?: string;
}

/** Consecutive markers separated by spaces or one comma (`[1][2]`, `[1] [2]`, `[1], [2]`) form one cluster. */
interface Cluster {
	start: number;
	end: number;
	numbers: number[];
}

const SPACE = /[^\S\r\n]/;
const JOINS_MARKS = /^[^\S\r\n]*,?[^\S\r\n]*$/;
/** Punctuation that closes what comes before it: no space is wanted between it and the preceding word. */
const CLOSING = /[.,;:!?…)\]}»”’]/;
/** Closing only when glued to the marker: after a space an ASCII quote more likely opens a quotation. */
const AMBIGUOUS_QUOTE = /["']/;
const OPENING = /[([{«“‘¿¡"']/;
const WORD = /[\p{L}\p{N}]/u;

function clusters(text: string, marks: CitationMark[]): Cluster[] {
	const result: Cluster[] = [];
	for (const mark of marks) {
		const last = result[result.length - 1];
		if (last && JOINS_MARKS.test(text.slice(last.end, mark.start))) {
			last.end = mark.end;
			last.numbers.push(...mark.numbers);
		} else {
			result.push({ start: mark.start, end: mark.end, numbers: [...mark.numbers] });
		}
	}
	return result;
}

const isLineBreak = (char: string | undefined) => char === '\n' || char === '\r';

/** `text` with the markers at [start, end) removed and the whitespace around them repaired (see the header). */
function cutMarker(text: string, start: number, end: number): string {
	let from = start;
	let to = end;
	// `([1])` or `( [1], [2] )`: the parentheses go too.
	let open = from;
	while (open > 0 && SPACE.test(text[open - 1])) open--;
	let close = to;
	while (close < text.length && SPACE.test(text[close])) close++;
	if (text[open - 1] === '(' && text[close] === ')') {
		from = open - 1;
		to = close + 1;
	}
	let spaceStart = from;
	while (spaceStart > 0 && SPACE.test(text[spaceStart - 1])) spaceStart--;
	let spaceEnd = to;
	while (spaceEnd < text.length && SPACE.test(text[spaceEnd])) spaceEnd++;
	const previous = text[spaceStart - 1];
	const next = text[spaceEnd];
	const atLineStart = spaceStart === 0 || isLineBreak(previous);
	const atLineEnd = spaceEnd === text.length || isLineBreak(next);

	if (atLineStart && atLineEnd) {
		// A line of markers only: drop the line with one line break, and a blank line it would leave doubled.
		const breakAfter = /^\r?\n/.exec(text.slice(spaceEnd))?.[0] ?? '';
		if (breakAfter) {
			let after = spaceEnd + breakAfter.length;
			const before = text.slice(0, spaceStart);
			if ((before === '' || /\n\r?\n$/.test(before)) && /^\r?\n/.test(text.slice(after))) after += /^\r?\n/.exec(text.slice(after))![0].length;
			return before + text.slice(after);
		}
		// The last line: drop it with the line breaks before it.
		return text.slice(0, spaceStart).trimEnd() + text.slice(spaceEnd);
	}
	if (atLineEnd) return text.slice(0, spaceStart) + text.slice(spaceEnd);
	// At a line start the indentation stays, unless punctuation follows (` [1] .` would become ` .`).
	if (atLineStart) return text.slice(0, CLOSING.test(next) ? spaceStart : from) + text.slice(spaceEnd);
	if (CLOSING.test(next) || (AMBIGUOUS_QUOTE.test(next) && spaceEnd === to)) return text.slice(0, spaceStart) + text.slice(to);
	// Glued to an opening bracket or quote: `([1] above)` → `(above)`.
	if (OPENING.test(previous) && spaceStart === from) return text.slice(0, from) + text.slice(spaceEnd);
	// Between two words: keep one of the spaces around the marker, or put one in when it was glued to both.
	if (spaceStart < from) return text.slice(0, from) + text.slice(spaceEnd);
	if (spaceEnd > to) return text.slice(0, spaceStart) + text.slice(to);
	return text.slice(0, from) + (WORD.test(previous) && WORD.test(next) ? ' ' : '') + text.slice(to);
}

function removeMarkers(text: string): string {
	let result = text;
	// Removing a marker can, rarely, complete another (`[[1]2]` leaves `[2]`): repeat until none is left.
	for (let pass = 0; pass < 10; pass++) {
		const found = clusters(result, findCitations(result));
		if (found.length === 0) break;
		// Right to left, so the offsets of the clusters still to cut stay valid.
		for (const cluster of found.reverse()) result = cutMarker(result, cluster.start, cluster.end);
	}
	return result;
}

const oneLine = (value: string | undefined) => value?.replace(/\s+/g, ' ').trim() ?? '';

function sourceLine(n: number, source: CustomerTextSource): string {
	const title = oneLine(source.title);
	const url = oneLine(source.url);
	const label = [title || (url ? '' : oneLine(source.sourceId)), url && url !== title ? url : ''].filter(Boolean).join(' — ');
	return `[${n}]${label ? ` ${label}` : ''}`;
}

function footnotes(text: string, sources: readonly CustomerTextSource[], language: unknown): string {
	const byNumber = new Map<number, CustomerTextSource>();
	for (const source of sources) if (!byNumber.has(source.n)) byNumber.set(source.n, source);
	const found = clusters(text, findCitations(text));
	// New numbers by first use, counting only numbers that have a source.
	const renumbered = new Map<number, number>();
	for (const cluster of found) {
		for (const n of cluster.numbers) if (byNumber.has(n) && !renumbered.has(n)) renumbered.set(n, renumbered.size + 1);
	}
	let result = text;
	for (const cluster of [...found].reverse()) {
		const kept = [...new Set(cluster.numbers.filter((n) => renumbered.has(n)).map((n) => renumbered.get(n)!))];
		result = kept.length
			? result.slice(0, cluster.start) + `[${kept.join(', ')}]` + result.slice(cluster.end)
			: cutMarker(result, cluster.start, cluster.end);
	}
	if (renumbered.size === 0) return result;
	const list = [...renumbered].map(([n, customerN]) => sourceLine(customerN, byNumber.get(n)!));
	const body = result.trimEnd();
	return `${body}${body ? '\n\n' : ''}${sourcesHeading(language)}\n${list.join('\n')}`;
}

/**
 * The text a customer reads. `remove` drops every citation marker; `footnotes` renumbers the markers 1…k in
 * order of first use and appends the cited sources ("Sources:" then `[1] Title — https://url`; title only when
 * the source has no URL), the heading in `language` (free text such as `French` or `fr-FR`, English when not
 * recognised). Markers citing a number absent from `sources` are removed in both styles. Text without markers
 * comes back unchanged.
 */
export function toCustomerText(
	text: string,
	sources: readonly CustomerTextSource[],
	style: CustomerTextStyle = 'remove',
	language?: string,
): string {
	if (findCitations(text).length === 0) return text;
	return style === 'footnotes' ? footnotes(text, sources, language) : removeMarkers(text);
}

/** Every string value of a JSON value with its citation markers removed (object keys are left alone). */
export function toCustomerJson(value: unknown): unknown {
	if (typeof value === 'string') return removeMarkers(value);
	if (Array.isArray(value)) return value.map(toCustomerJson);
	if (value && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toCustomerJson(entry)]));
	}
	return value;
}

function readSources(list: unknown): CustomerTextSource[] {
	if (!Array.isArray(list)) return [];
	return list.flatMap((entry): CustomerTextSource[] => {
		if (!entry || typeof entry !== 'object') return [];
		const { n, title, url, sourceId } = entry as Record<string, unknown>;
		const number = typeof n === 'string' && /^\s*\d+\s*$/.test(n) ? Number(n) : n;
		if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) return [];
		const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value : undefined);
		return [{ n: number, title: text(title), url: text(url), sourceId: text(sourceId) }];
	});
}

/**
 * The numbered sources of a Generate output item (its `json`), for `toCustomerText(editedText, sources, style)`
 * in a later node: every source the model was shown (`sources`), so a reviewer may also cite one the model did
 * not, completed by `citations` for items that only carry those. Anything else gives an empty list.
 */
export function customerSourcesFromItem(item: unknown): CustomerTextSource[] {
	if (!item || typeof item !== 'object') return [];
	const { sources, citations } = item as Record<string, unknown>;
	const byNumber = new Map<number, CustomerTextSource>();
	for (const source of [...readSources(sources), ...readSources(citations)]) {
		const known = byNumber.get(source.n);
		byNumber.set(source.n, known ? { ...source, ...Object.fromEntries(Object.entries(known).filter(([, value]) => value !== undefined)) } : source);
	}
	return [...byNumber.values()].sort((a, b) => a.n - b.n);
}
