/**
 * Grounding metrics of a generated answer: deterministic, cheap (no model call), computed from the answer text,
 * its `[n]` citations and the texts of the numbered sources the model was shown.
 *
 * Sentences (`splitSentences`), multilingual:
 * - Markdown structure first: fenced code, headings (`# …`, setext underlines) and rules are ignored; each list
 *   item, quote line marker, table row or paragraph is a block; lines of one paragraph are joined.
 * - In a block, a sentence ends after `.`, `!`, `?`, `…` (or `...`), then any closing quotes/brackets (`»`, also
 *   after a space as French writes it, `”`, `"`, `’`, `)`), then any citations (`. [1]` belongs to the sentence
 *   before it, as does `[1, 2].`), when a space follows and the next word does not start with a lower-case letter.
 * - No end after an abbreviation: a single letter (`M.`, initials, `z.B.`, `e.g.`), short parts joined by
 *   periods (`p.ex.`; a domain name like `example.com.` does end), or a listed title/abbreviation (`Mme.`,
 *   `Dr.`, `cf.`, `env.`, `p.`, `art.`, `vol.`…).
 *   `etc.` ends a sentence when the next word starts with a capital, like any word. Decimals (`29,90 €`, `3.5`)
 *   never split, having no space after the mark; nor does a German day number before a month (`am 1. Mai`).
 * - A sentence counts when, citations removed, it holds a letter or digit; a citation-only remainder joins the
 *   sentence before it. A lead-in ending with `:` and citing nothing (`Voici nos offres :`) is not counted in
 *   `sentences` (it introduces a list rather than stating a fact); its words still count for faithfulness.
 *
 * Metrics (`measureGrounding`):
 * - `citedSentenceShare` = sentences with ≥ 1 valid citation (a number among the sources shown) / sentences.
 * - `unsupportedCitations` = distinct cited numbers that matched no source (Generate removes them from a text
 *   answer and lists them in `unsupportedCitations`).
 * - `faithfulness` = content words of the answer found in the validly cited sources / content words of the
 *   answer. Words are analysed like the keyword index (lib/textAnalysis: lower case, elisions removed, stop words
 *   dropped, Snowball stem, accents folded), so `activités` in the answer matches `activite` in a source. Stop
 *   words are not content words; numbers are (a changed price is not found). Every occurrence counts. An answer
 *   that cites nothing has faithfulness 0 (none of its words is backed by a cited source).
 * - Empty answer (no sentence): shares are null. Refusal ("not enough information"): `refused` true and every
 *   share null, because the fixed refusal sentence is not an answer to measure. Never NaN.
 */
import { findCitations, type CitationMark } from '../generate/citations';
import {
	analyzeDocument,
	analyzeDocumentWords,
	detectKeywordLanguage,
	FALLBACK_KEYWORD_LANGUAGE,
	type KeywordLanguage,
	type KeywordLanguageSetting,
} from '../textAnalysis';

export interface Sentence {
	/** Offsets in the NFC-normalised answer. */
	start: number;
	end: number;
	/** The sentence as written, citations included. */
	text: string;
	/** Cited numbers in written order (valid or not). */
	citations: number[];
	/** Ends with `:` (citations aside): an introduction to what follows. */
	leadIn: boolean;
}

export interface GroundingInput {
	/** The answer text (Generate's `text`); undefined or empty for no answer. */
	answer: string | undefined | null;
	/** The numbered sources the model was shown, with their text. */
	sources: Array<{ n: number; text: string }>;
	/** Generate's `unsupportedCitations`. */
	unsupportedCitations?: number[];
	/** True when Generate replaced the answer with its "not enough information" message. */
	refused?: boolean;
	/** Language of the word analysis; `auto` (default) detects it from the answer and cited sources. */
	language?: KeywordLanguageSetting;
}

export interface GroundingMetrics {
	/** Sentences counted (headings, list markers, empty lines and uncited lead-ins ending with `:` excluded). */
	sentences: number;
	/** Sentences with at least one valid citation. */
	citedSentences: number;
	/** citedSentences / sentences; null when there is no sentence or on a refusal. */
	citedSentenceShare: number | null;
	/** Distinct cited numbers that matched no source (removed from a text answer by Generate). */
	unsupportedCitations: number;
	/** Content words of the answer (occurrences). */
	contentWords: number;
	/** Content words also found in the validly cited sources. */
	supportedContentWords: number;
	/** supportedContentWords / contentWords; null when there is no content word or on a refusal. */
	faithfulness: number | null;
	/** Up to 20 distinct answer words not found in the cited sources, for a reviewer to check. */
	unsupportedWords: string[];
	refused: boolean;
	/** Language the words were analysed in. */
	language: KeywordLanguage;
}

/** Abbreviations whose period never ends a sentence (lower case, without the period); single letters need none. */
const ABBREVIATIONS = new Set(
	(
		// French
		'mm mme mmes mlle mlles me mgr pr dr st ste cf env p pp art al av bd chap fig vol ex éd ed tél tel ' +
		'no nos n° hab min max approx réf ref ' +
		// English
		'mr mrs ms prof sr jr vs approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec ' +
		// German, Spanish, Italian, Portuguese, Dutch
		'hr hrn fr frl nr bzw ca evtl ggf inkl usw vgl sra srta dña dto pág sig dott dott.ssa ing avv sig.ra pag ' +
		'dhr mevr blz'
	).split(' '),
);
const TERMINATOR = /\.{3}|[.!?…]+/g;
const CLOSING = /^(?:[\s\u00a0\u202f]*»|[”"’')\]])*/;
const HAS_WORD = /[\p{L}\p{N}]/u;
const LOWER_START = /^\p{Ll}/u;
const MAX_UNSUPPORTED_WORDS = 20;

interface Block {
	start: number;
	end: number;
}

/** Blocks of prose (see the header), as offsets into the text. */
function proseBlocks(text: string): Block[] {
	const blocks: Block[] = [];
	let open: Block | undefined;
	let fence: string | undefined;
	let offset = 0;
	for (const line of text.split('\n')) {
		const lineStart = offset;
		const lineEnd = offset + line.length;
		offset = lineEnd + 1;
		const fenceMark = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
		if (fence !== undefined) {
			if (fenceMark && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
			continue;
		}
		if (fenceMark) {
			fence = fenceMark;
			open = undefined;
			continue;
		}
		if (!HAS_WORD.test(line) || /^ {0,3}#{1,6}(?:\s|$)/.test(line)) {
			// Blank lines, headings, rules and setext underlines end the paragraph and are not prose.
			open = undefined;
			continue;
		}
		const marker = /^\s*(?:>\s*)*(?:(?:[-*+•–]|\d{1,3}[.)]|[a-zA-Z]\))\s+)?/.exec(line)?.[0] ?? '';
		const isItem = /[-*+•–.)]\s+$/.test(marker) || line.trimStart().startsWith('|');
		if (open && !isItem) {
			open.end = lineEnd;
			continue;
		}
		open = { start: lineStart + marker.length, end: lineEnd };
		blocks.push(open);
	}
	return blocks;
}

/** Months written after a German ordinal (`am 1. Mai`), where the period is not an end. */
const GERMAN_MONTHS = new Set(
	'januar jänner februar märz april mai juni juli august september oktober november dezember'.split(' '),
);

/** True when the period at `dot` follows an abbreviation, or a German day number before a month (`1. Mai`). */
function endsAbbreviation(text: string, blockStart: number, dot: number, next: string): boolean {
	const before = text.slice(Math.max(blockStart, dot - 40), dot);
	if (/(?:^|[^\p{L}\p{N}])\d{1,2}$/u.test(before) && GERMAN_MONTHS.has(/^\p{L}+/u.exec(next)?.[0].toLowerCase() ?? '')) return true;
	const word = /([\p{L}\p{M}°.]*[\p{L}\p{M}°])$/u.exec(before)?.[1];
	if (!word) return false;
	const parts = word.split('.');
	if ([...parts[parts.length - 1]].length === 1) return true;
	// Dotted short parts (`p.ex.`, `i.e.`), not a domain name (`example.com.` ends a sentence).
	if (parts.length > 1 && parts.every((part) => [...part].length <= 3)) return true;
	return ABBREVIATIONS.has(word.toLowerCase());
}

/** The marks (sorted by start, as findCitations returns them) lying within [start, end). */
function marksWithin(marks: CitationMark[], start: number, end: number): CitationMark[] {
	let low = 0;
	let high = marks.length;
	while (low < high) {
		const middle = (low + high) >> 1;
		if (marks[middle].start < start) low = middle + 1;
		else high = middle;
	}
	const found: CitationMark[] = [];
	for (let index = low; index < marks.length && marks[index].start < end; index++) found.push(marks[index]);
	return found;
}

/** `text.slice(start, end)` with the citation marks inside replaced by `replacement`. */
function withoutMarks(text: string, marks: CitationMark[], start: number, end: number, replacement: string): string {
	let result = '';
	let copied = start;
	for (const mark of marksWithin(marks, start, end)) {
		if (mark.end > end) break;
		result += text.slice(copied, mark.start) + replacement;
		copied = mark.end;
	}
	return result + text.slice(copied, end);
}

/** Splits an answer into sentences (see the header); citations are attached to the sentence they close. */
export function splitSentences(answer: string, marks: CitationMark[] = findCitations(answer.normalize('NFC'))): Sentence[] {
	const text = answer.normalize('NFC');
	const markAt = new Map(marks.map((mark) => [mark.start, mark]));
	const sentences: Sentence[] = [];
	const push = (start: number, end: number, blockSentences: Sentence[]) => {
		while (start < end && /\s/.test(text[start])) start++;
		while (end > start && /\s/.test(text[end - 1])) end--;
		if (start >= end) return;
		const citations = marksWithin(marks, start, end).flatMap((mark) => mark.numbers);
		const words = withoutMarks(text, marks, start, end, '');
		const previous = blockSentences[blockSentences.length - 1];
		if (!HAS_WORD.test(words)) {
			if (previous && citations.length) {
				previous.end = end;
				previous.text = text.slice(previous.start, end);
				previous.citations.push(...citations);
			}
			return;
		}
		blockSentences.push({ start, end, text: text.slice(start, end), citations, leadIn: /:\s*$/.test(words) });
	};
	for (const block of proseBlocks(text)) {
		const blockSentences: Sentence[] = [];
		const body = text.slice(block.start, block.end);
		let sentenceStart = block.start;
		for (const match of body.matchAll(TERMINATOR)) {
			const markEnd = block.start + match.index + match[0].length;
			if (markEnd <= sentenceStart) continue;
			// Windows of text after the mark, not the rest of the block: a long answer stays linear.
			const ahead = (from: number) => text.slice(from, Math.min(block.end, from + 80));
			let end = markEnd + (CLOSING.exec(ahead(markEnd))?.[0].length ?? 0);
			for (;;) {
				const gap = /^[ \t\u00a0\u202f]*/.exec(ahead(end))?.[0].length ?? 0;
				const mark = markAt.get(end + gap);
				if (!mark) break;
				end = mark.end;
			}
			if (end >= block.end) break;
			const rest = ahead(end);
			const space = /^\s+/.exec(rest)?.[0].length ?? 0;
			if (space === 0) continue;
			if (LOWER_START.test(rest.slice(space))) continue;
			if (match[0] === '.' && endsAbbreviation(text, block.start, block.start + match.index, rest.slice(space))) continue;
			push(sentenceStart, end, blockSentences);
			sentenceStart = end;
		}
		push(sentenceStart, block.end, blockSentences);
		sentences.push(...blockSentences);
	}
	return sentences;
}

/**
 * Grounding numbers for one answer. For a marketer: `citedSentenceShare` is the share of sentences that point to
 * a source, `unsupportedCitations` how many made-up source numbers were removed, `faithfulness` the share of the
 * answer's meaningful words that also appear in the sources it cites (low = possibly invented), and `refused`
 * whether the assistant declined to answer for lack of information.
 */
export function measureGrounding(input: GroundingInput): GroundingMetrics {
	const answer = (input.answer ?? '').normalize('NFC');
	const unsupportedCitations = new Set(input.unsupportedCitations ?? []).size;
	const sourceText = new Map(input.sources.map((source) => [source.n, source.text ?? '']));
	const marks = findCitations(answer);
	const sentences = input.refused ? [] : splitSentences(answer, marks);
	const cited = [...new Set(sentences.flatMap((sentence) => sentence.citations).filter((n) => sourceText.has(n)))];
	const citedTexts = cited.map((n) => sourceText.get(n) ?? '');
	const language: KeywordLanguage =
		input.language && input.language !== 'auto'
			? input.language
			: (detectKeywordLanguage([answer, ...citedTexts]) ?? FALLBACK_KEYWORD_LANGUAGE);
	const base = { unsupportedCitations, language, refused: input.refused === true };
	if (input.refused) {
		return {
			...base,
			sentences: 0,
			citedSentences: 0,
			citedSentenceShare: null,
			contentWords: 0,
			supportedContentWords: 0,
			faithfulness: null,
			unsupportedWords: [],
		};
	}

	const isCited = (sentence: Sentence) => sentence.citations.some((n) => sourceText.has(n));
	const counted = sentences.filter((sentence) => isCited(sentence) || !sentence.leadIn);
	const citedSentences = counted.filter(isCited).length;
	const sourceTerms = new Set(citedTexts.flatMap((text) => analyzeDocument(text, language)));
	let contentWords = 0;
	let supportedContentWords = 0;
	const unsupportedWords = new Set<string>();
	for (const sentence of sentences) {
		const prose = withoutMarks(answer, marks, sentence.start, sentence.end, ' ');
		// Token by token, so each unsupported word can be shown as written.
		for (const token of prose.split(/\s+/)) {
			for (const terms of analyzeDocumentWords(token, language)) {
				if (terms.length === 0) continue;
				contentWords++;
				if (terms.some((term) => sourceTerms.has(term))) supportedContentWords++;
				else if (unsupportedWords.size < MAX_UNSUPPORTED_WORDS) unsupportedWords.add(token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''));
			}
		}
	}
	return {
		...base,
		sentences: counted.length,
		citedSentences,
		citedSentenceShare: counted.length ? citedSentences / counted.length : null,
		contentWords,
		supportedContentWords,
		faithfulness: contentWords ? supportedContentWords / contentWords : null,
		unsupportedWords: [...unsupportedWords],
	};
}

/**
 * Whether a Generate result is its "not enough information" refusal: only refusals carry the `modelReply` key
 * (possibly undefined when the model was not asked), or report `finishReason` `not_called`.
 */
export function isRefusal(result: { finishReason?: string; modelReply?: string }): boolean {
	return Object.prototype.hasOwnProperty.call(result, 'modelReply') || result.finishReason === 'not_called';
}
