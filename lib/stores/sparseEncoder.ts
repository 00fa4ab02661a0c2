/**
 * Client-side BM25 term weights for Qdrant's sparse vectors. Qdrant multiplies the query's term weights by
 * the document's and, with `modifier: idf`, applies inverse document frequency itself; so documents carry
 * the saturated, length-normalised term frequency and queries carry 1 per distinct term.
 */

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

/**
 * Very common English function words only: enough to keep them from dominating long queries, light enough
 * that product names and phrases in other languages are never lost.
 */
const STOP_WORDS = new Set(
	(
		'a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or our ' +
		'she so than that the their them then there these they this to was we were what when where which who will with you your'
	).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const COMBINING_MARKS = /\p{M}+/gu;

/** Lower-cased, accent-folded words, stop-words removed. */
export function tokenize(text: string): string[] {
	const folded = text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
	return (folded.match(WORD) ?? []).filter((word) => !STOP_WORDS.has(word));
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

export function encodeDocument(text: string): SparseVector {
	const tokens = tokenize(text);
	const lengthNorm = 1 - B + (B * tokens.length) / AVERAGE_DOCUMENT_TOKENS;
	const weights = new Map<number, number>();
	for (const [id, frequency] of termFrequencies(tokens)) {
		weights.set(id, (frequency * (K1 + 1)) / (frequency + K1 * lengthNorm));
	}
	return toSparse(weights);
}

export function encodeQuery(text: string): SparseVector {
	const weights = new Map<number, number>();
	for (const id of termFrequencies(tokenize(text)).keys()) weights.set(id, 1);
	return toSparse(weights);
}
