/**
 * Client-side BM25 term weights for Qdrant's sparse vectors. Qdrant multiplies the query's term weights by
 * the document's and, with `modifier: idf`, applies inverse document frequency itself; so documents carry
 * the saturated, length-normalised term frequency and queries carry 1 per distinct term.
 *
 * Terms come from the collection's keyword language (lib/textAnalysis.ts, the analysis LanceDB indexes too);
 * `legacy` is the analysis of collections created before languages existed (folded words, no stemming).
 */
import { analyzeDocumentWords, analyzeQuery, legacyTokens, type KeywordLanguage } from '../textAnalysis';

/** A keyword language, or the analysis of collections created before languages existed. */
export type SparseAnalysis = KeywordLanguage | 'legacy';

export interface SparseVector {
	indices: number[];
	values: number[];
}

/** BM25 term-frequency saturation. */
const K1 = 1.2;
/** BM25 length normalisation strength. */
const B = 0.75;
/**
 * Average document length in tokens. The true corpus average is unknown client-side (and changes with
 * every write), so a fixed value near the chunker's typical chunk size stands in, as Qdrant's own BM25
 * encoder does.
 */
const AVERAGE_DOCUMENT_TOKENS = 256;

/** Lower-cased, accent-folded words, a few English function words removed: the legacy analysis. */
export function tokenize(text: string): string[] {
	return legacyTokens(text);
}

/** 32-bit FNV-1a of the word's UTF-8 bytes: a stable term id without a shared vocabulary. */
export function termId(word: string): number {
	let hash = 0x811c9dc5;
	for (const byte of Buffer.from(word, 'utf8')) {
		hash ^= byte;
		hash = Math.imul(hash, 0x01000193) >>> 0;
	}
	return hash >>> 0;
}

function termFrequencies(tokens: string[]): Map<number, number> {
	// Keyed by term id, not word: two words that hash alike must become one entry (Qdrant rejects
	// duplicate indices).
	const counts = new Map<number, number>();
	for (const token of tokens) {
		const id = termId(token);
		counts.set(id, (counts.get(id) ?? 0) + 1);
	}
	return counts;
}

function toSparse(weights: Map<number, number>): SparseVector {
	const indices = [...weights.keys()].sort((a, b) => a - b);
	return { indices, values: indices.map((index) => weights.get(index) as number) };
}

export function encodeDocument(text: string, analysis: SparseAnalysis = 'legacy'): SparseVector {
	let tokens: string[];
	let length: number;
	if (analysis === 'legacy') {
		tokens = tokenize(text);
		length = tokens.length;
	} else {
		// A word may index two terms (its stem with and without accents): the length counts words.
		const words = analyzeDocumentWords(text, analysis).filter((terms) => terms.length > 0);
		tokens = words.flat();
		length = words.length;
	}
	const lengthNorm = 1 - B + (B * length) / AVERAGE_DOCUMENT_TOKENS;
	const weights = new Map<number, number>();
	for (const [id, frequency] of termFrequencies(tokens)) {
		weights.set(id, (frequency * (K1 + 1)) / (frequency + K1 * lengthNorm));
	}
	return toSparse(weights);
}

export function encodeQuery(text: string, analysis: SparseAnalysis = 'legacy'): SparseVector {
	const weights = new Map<number, number>();
	const tokens = analysis === 'legacy' ? tokenize(text) : analyzeQuery(text, analysis);
	for (const id of termFrequencies(tokens).keys()) weights.set(id, 1);
	return toSparse(weights);
}
