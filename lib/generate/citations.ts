/**
 * Finding `[n]` citations in a model's answer and checking them against the numbered sources it was shown.
 *
 * Accepted citation syntax (outside code):
 *   `[1]`   `[1][3]`   `[1, 3]`   `[1; 3]`   `[1-3]` / `[1–3]` (a range, expanded to 1, 2, 3)
 * Not citations:
 *   - anything inside inline code or fenced code blocks (`arr[1]`, `matrix[0][2]`)
 *   - Markdown links and images `[1](https://…)`, reference definitions `[1]: https://…` at a line start,
 *     and the reference half of a reference link `[label][1]`
 *   - escaped brackets `\[1]`, footnotes `[^1]`
 *   - numbers of four digits or more (`[2024]` is a year, not source 2024)
 *   - ranges spanning more than MAX_RANGE_SPAN numbers (`[1-500]` is not a plausible citation)
 *   - groups containing 0 (sources are numbered from 1, so `[0]` is an index such as `items[0]`)
 *   - an index glued to an identifier: the bracket follows a letter or digit AND that word either starts the
 *     text (`item[3]` as a whole JSON value) or contains `_`, `.` or `$` (`row_2[1]`, `data.items[2]`).
 *     A citation glued to an ordinary word inside prose stays a citation, because models often write
 *     `…per month[1].`; `the arr[1] value` is therefore still read as citing source 1.
 */

export interface CitationMark {
	/** Offsets of the whole bracket group in the text. */
	start: number;
	end: number;
	/** Cited numbers in written order, ranges expanded. */
	numbers: number[];
}

const MAX_RANGE_SPAN = 20;

// One number or a range, then more separated by `,` or `;`. At most three digits per number (see above).
const CITATION_GROUP = /\[\s*(\d{1,3}(?:\s*[-–]\s*\d{1,3})?(?:\s*[,;]\s*\d{1,3}(?:\s*[-–]\s*\d{1,3})?)*)\s*\]/g;

/** Offsets covered by fenced code blocks and inline code spans; citations are never looked for there. */
function codeRanges(text: string): Array<[number, number]> {
	const ranges: Array<[number, number]> = [];
	// A fence opens with ``` or ~~~ at a line start and closes with the same run (or the end of the text).
	const fence = /^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|(?![\s\S]))/gm;
	for (const match of text.matchAll(fence)) ranges.push([match.index, match.index + match[0].length]);
	const inline = /(`+)[^`][\s\S]*?\1/g;
	for (const match of text.matchAll(inline)) {
		const start = match.index;
		if (!ranges.some(([from, to]) => start >= from && start < to)) ranges.push([start, start + match[0].length]);
	}
	return ranges;
}

/** True when the bracket at `start` indexes an identifier rather than citing a source (see the header). */
function indexesIdentifier(text: string, start: number): boolean {
	if (!/[\p{L}\p{N}]/u.test(text[start - 1] ?? '')) return false;
	// Walk back over the word by hand: a `…+$` regex on the text before would retry from every offset.
	let wordStart = start;
	while (wordStart > 0 && /[\p{L}\p{N}_.$]/u.test(text[wordStart - 1])) wordStart--;
	return wordStart === 0 || /[_.$]/.test(text.slice(wordStart, start));
}

function expandGroup(body: string): number[] | undefined {
	const numbers: number[] = [];
	for (const part of body.split(/[,;]/)) {
		const [from, to] = part.split(/[-–]/).map((bound) => Number(bound.trim()));
		if (to === undefined) {
			numbers.push(from);
			continue;
		}
		if (to < from || to - from >= MAX_RANGE_SPAN) return undefined;
		for (let n = from; n <= to; n++) numbers.push(n);
	}
	return numbers;
}

/** Every citation group in `text`, in order of appearance. */
export function findCitations(text: string): CitationMark[] {
	const code = codeRanges(text);
	const marks: CitationMark[] = [];
	for (const match of text.matchAll(CITATION_GROUP)) {
		const start = match.index;
		const end = start + match[0].length;
		if (code.some(([from, to]) => start >= from && start < to)) continue;
		const before = text[start - 1];
		const after = text[end];
		if (before === '\\' || before === '!' || after === '(') continue;
		if (after === ':' && (start === 0 || text[start - 1] === '\n')) continue;
		// `[label][1]` is a reference link; `[1][2]` is two citations (the left bracket was itself a citation).
		if (before === ']' && marks[marks.length - 1]?.end !== start) continue;
		if (indexesIdentifier(text, start)) continue;
		const numbers = expandGroup(match[1]);
		if (numbers && !numbers.includes(0)) marks.push({ start, end, numbers });
	}
	return marks;
}

export interface CheckedCitations {
	/** The text with citations of unknown numbers removed (a group keeps its valid numbers). */
	text: string;
	/** Valid cited numbers, unique, in order of first appearance. */
	cited: number[];
	/** Cited numbers with no source, unique, ascending. */
	unsupported: number[];
}

/**
 * Keeps citations whose number `isKnown` accepts and removes the others from the text. A group that loses some
 * numbers is rewritten as `[a, b]`; a group that loses all of them disappears with the space before it.
 */
export function checkCitations(text: string, isKnown: (n: number) => boolean): CheckedCitations {
	const cited: number[] = [];
	const unsupported = new Set<number>();
	let result = '';
	let copiedUpTo = 0;
	for (const mark of findCitations(text)) {
		const known = [...new Set(mark.numbers.filter(isKnown))];
		mark.numbers.filter((n) => !isKnown(n)).forEach((n) => unsupported.add(n));
		for (const n of known) if (!cited.includes(n)) cited.push(n);
		if (known.length === mark.numbers.length) continue;
		let cut = mark.start;
		if (known.length === 0) while (cut > copiedUpTo && (text[cut - 1] === ' ' || text[cut - 1] === '\t')) cut--;
		result += text.slice(copiedUpTo, cut) + (known.length ? `[${known.join(', ')}]` : '');
		copiedUpTo = mark.end;
	}
	result += text.slice(copiedUpTo);
	return { text: result, cited, unsupported: [...unsupported].sort((a, b) => a - b) };
}
