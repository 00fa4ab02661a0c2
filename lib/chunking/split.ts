/**
 * Token-aware recursive splitting and packing. A section is cut into *units* — the largest pieces of its
 * structure that fit in a chunk (block, then line, then sentence, then word; a single word longer than a
 * chunk, such as a base64 blob, is the only thing ever cut between tokens) — and units are packed greedily into
 * chunks. Sentence and word boundaries come from Intl.Segmenter (ICU), which also finds word boundaries in
 * Chinese, Japanese and Thai text that has no spaces.
 */
import { countTokens, truncateToTokens } from '../tokens';
import { blockLines, type Span } from './markdown';

export interface Unit extends Span {
	tokens: number;
	/** A whole code block or table: an overlap may repeat it entirely but never start inside it. */
	atomic?: boolean;
}

/** A packed chunk: `start..end` in the document text; units `first..last` are its new (non-overlap) content. */
export interface PackedChunk extends Span {
	firstUnit: number;
	lastUnit: number;
	/** Exact token count of `start..end`, measured while packing (so callers need not count the text again). */
	tokens: number;
}

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

function trimSpan(text: string, span: Span): Span | undefined {
	let { start, end } = span;
	while (start < end && /\s/.test(text[start])) start++;
	while (end > start && /\s/.test(text[end - 1])) end--;
	return start < end ? { start, end } : undefined;
}

/** Absolute offsets where segments start inside `span` (word segmentation: only where a word starts). */
function segmentStarts(text: string, span: Span, segmenter: Intl.Segmenter): number[] {
	const starts: number[] = [];
	for (const segment of segmenter.segment(text.slice(span.start, span.end))) {
		if (segmenter === wordSegmenter && segment.isWordLike === false && segment.index > 0) continue;
		starts.push(span.start + segment.index);
	}
	return starts;
}

/** Offsets where a whitespace-separated word starts: hyphenated words and URLs stay whole. */
function spacedWordStarts(text: string, span: Span): number[] {
	const starts: number[] = [span.start];
	for (let i = span.start + 1; i < span.end; i++) {
		if (/\s/.test(text[i - 1]) && !/\s/.test(text[i])) starts.push(i);
	}
	return starts;
}

function spansFromStarts(starts: number[], end: number): Span[] {
	return starts.map((start, index) => ({ start, end: starts[index + 1] ?? end }));
}

/** Coarse to fine; ICU words are only reached by runs without spaces (Chinese, Japanese, Thai). */
const SPLITTERS: Array<(text: string, span: Span) => Span[]> = [
	(text, span) => blockLines(text, span),
	(text, span) => spansFromStarts(segmentStarts(text, span, sentenceSegmenter), span.end),
	(text, span) => spansFromStarts(spacedWordStarts(text, span), span.end),
	(text, span) => spansFromStarts(segmentStarts(text, span, wordSegmenter), span.end),
];

/** Last resort for a single word longer than a chunk: consecutive pieces of at most maxTokens tokens. */
function splitByTokens(text: string, span: Span, maxTokens: number): Unit[] {
	const units: Unit[] = [];
	let start = span.start;
	while (start < span.end) {
		const rest = text.slice(start, span.end);
		const piece = truncateToTokens(rest, maxTokens) || String.fromCodePoint(rest.codePointAt(0)!);
		units.push({ start, end: start + piece.length, tokens: countTokens(piece) });
		start += piece.length;
	}
	return units;
}

/** Units of a block: the block itself when it fits, else its lines, sentences, words — recursively. */
export function unitsOf(text: string, span: Span, maxTokens: number, level = 0): Unit[] {
	const trimmed = trimSpan(text, span);
	if (!trimmed) return [];
	const tokens = countTokens(text.slice(trimmed.start, trimmed.end));
	if (tokens <= maxTokens) return [{ ...trimmed, tokens }];
	if (level >= SPLITTERS.length) return splitByTokens(text, trimmed, maxTokens);
	const pieces = SPLITTERS[level](text, trimmed);
	if (pieces.length <= 1) return unitsOf(text, trimmed, maxTokens, level + 1);
	return pieces.flatMap((piece) => unitsOf(text, piece, maxTokens, level + 1));
}

/**
 * Where the next chunk starts so that it repeats the end of the previous one: the longest run of whole
 * sentences (else whole words) ending the previous chunk with at most `budget` tokens.
 */
function overlapStart(text: string, units: Unit[], previous: PackedChunk, nextUnitStart: number, budget: number): number {
	if (budget <= 0) return nextUnitStart;
	const region = { start: previous.start, end: previous.end };
	const atomic = units.slice(0, previous.lastUnit + 1).filter((unit) => unit.atomic && unit.end > previous.start);
	const fits = (start: number) =>
		!atomic.some((unit) => unit.start < start && start < unit.end) && countTokens(text.slice(start, previous.end)) <= budget;
	const longestFitting = (candidates: number[]): number | undefined => {
		let best: number | undefined;
		for (let i = candidates.length - 1; i >= 0; i--) {
			if (candidates[i] <= previous.start || !fits(candidates[i])) break;
			best = candidates[i];
		}
		return best;
	};
	const sentences = segmentStarts(text, region, sentenceSegmenter);
	const lastSentence = { start: sentences[sentences.length - 1] ?? previous.start, end: previous.end };
	const words = spacedWordStarts(text, lastSentence);
	const lastWord = { start: words[words.length - 1], end: previous.end };
	return (
		longestFitting(sentences) ??
		longestFitting(words) ??
		longestFitting(segmentStarts(text, lastWord, wordSegmenter)) ??
		nextUnitStart
	);
}

/** Tokens a join adds between two units: a line break is usually a token of its own. */
function gapTokens(text: string, units: Unit[], index: number): number {
	return index > 0 && text.slice(units[index - 1].end, units[index].start).includes('\n') ? 1 : 0;
}

/**
 * Greedy packing of units[from..to) into chunks of at most `size` tokens (counted exactly on the final text),
 * each starting with up to `overlap` tokens repeated from the previous chunk. `targetNewTokens` caps the new
 * content of a chunk (used to balance a tiny tail). `firstStart` lets a repack keep an existing overlap.
 */
export function pack(
	text: string,
	units: Unit[],
	options: { size: number; overlap: number; from?: number; to?: number; firstStart?: number; targetNewTokens?: number },
): PackedChunk[] {
	const { size, overlap, from = 0, to = units.length, targetNewTokens = size } = options;
	const chunks: PackedChunk[] = [];
	let unit = from;
	let start = options.firstStart ?? units[from]?.start;
	while (unit < to) {
		const overlapTokens = start < units[unit].start ? countTokens(text.slice(start, units[unit].start)) : 0;
		let estimate = overlapTokens + units[unit].tokens;
		let newTokens = units[unit].tokens;
		let next = unit + 1;
		while (next < to) {
			const added = units[next].tokens + gapTokens(text, units, next);
			if (estimate + added > size || newTokens + added > targetNewTokens) break;
			estimate += added;
			newTokens += added;
			next++;
		}
		// The estimate ignores how tokens merge across joins; the exact count decides.
		let tokens = countTokens(text.slice(start, units[next - 1].end));
		while (tokens > size) {
			if (next - 1 > unit) next--;
			else if (start < units[unit].start) start = units[unit].start;
			else break; // a lone unit was measured to fit on its own; re-measuring cannot shrink it further
			tokens = countTokens(text.slice(start, units[next - 1].end));
		}
		const chunk = { start, end: units[next - 1].end, firstUnit: unit, lastUnit: next - 1, tokens };
		chunks.push(chunk);
		unit = next;
		if (unit < to) start = overlapStart(text, units, chunk, units[unit].start, Math.min(overlap, size - units[unit].tokens - 1));
	}
	return chunks;
}

function newContentTokens(units: Unit[], chunk: PackedChunk): number {
	let tokens = 0;
	for (let i = chunk.firstUnit; i <= chunk.lastUnit; i++) tokens += units[i].tokens;
	return tokens;
}

/**
 * Packs a section, then avoids a tiny last chunk (fewer than `minTailTokens` new tokens): merged into the one
 * before when both fit together, otherwise the last two chunks share their units evenly.
 */
export function packSection(text: string, units: Unit[], size: number, overlap: number, minTailTokens: number): PackedChunk[] {
	const chunks = pack(text, units, { size, overlap });
	if (chunks.length < 2) return chunks;
	const last = chunks[chunks.length - 1];
	const previous = chunks[chunks.length - 2];
	const tailTokens = newContentTokens(units, last);
	if (tailTokens >= minTailTokens) return chunks;

	const mergedTokens = countTokens(text.slice(previous.start, last.end));
	if (mergedTokens <= size) {
		chunks.splice(-2, 2, { start: previous.start, end: last.end, firstUnit: previous.firstUnit, lastUnit: last.lastUnit, tokens: mergedTokens });
		return chunks;
	}
	const shared = newContentTokens(units, previous) + tailTokens;
	const balanced = pack(text, units, {
		size,
		overlap,
		from: previous.firstUnit,
		to: last.lastUnit + 1,
		firstStart: previous.start,
		targetNewTokens: Math.ceil(shared / 2),
	});
	if (balanced.length === 2 && newContentTokens(units, balanced[1]) > tailTokens) chunks.splice(-2, 2, ...balanced);
	return chunks;
}
