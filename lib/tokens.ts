/**
 * Token counting with the `cl100k_base` BPE (js-tiktoken, pure JavaScript).
 *
 * Why cl100k_base and not o200k_base: chunk sizes exist to respect *embedding* limits, and cl100k_base is the
 * tokenizer of OpenAI's embedding models (text-embedding-3-small/-large, ada-002), whose 8191-token input limit
 * is the one most endpoints copy. For self-hosted models (nomic, bge, e5…) no BPE is exact, and cl100k_base is a
 * fair middle ground; its rank table is also half the size of o200k_base's (1 MB vs 2.3 MB), which matters
 * because it is loaded into the n8n process.
 */
import { Tiktoken } from 'js-tiktoken/lite';

type TiktokenRanks = ConstructorParameters<typeof Tiktoken>[0];

interface Encoder {
	bpe: Tiktoken;
	/** The encoding's pre-tokenizer: BPE never merges across the pieces this pattern cuts text into. */
	pieces: RegExp;
}

let encoder: Encoder | undefined;

/** Loads the rank table on first use only: nodes that never count tokens never pay for the 1 MB table. */
function getEncoder(): Encoder {
	if (!encoder) {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const ranks = require('js-tiktoken/ranks/cl100k_base') as TiktokenRanks;
		encoder = { bpe: new Tiktoken(ranks), pieces: new RegExp(ranks.pat_str, 'gu') };
	}
	return encoder;
}

/** Name of the tokenizer behind every count in this package (reported next to token figures). */
export const TOKENIZER_NAME = 'cl100k_base';

/**
 * js-tiktoken's BPE is quadratic in the length of one pre-tokenizer piece, and a run without spaces (a line of
 * dashes, a base64 blob, a long CJK sentence) is one piece: 4,000 repeated letters take 1.6 s, 128 take 2 ms. Runs longer
 * than this are encoded in parts, which shifts a count by at most a token per part and keeps decoding exact.
 */
const MAX_ENCODED_RUN = 128;
// Anchored at the start of a run: a plain `\S{129,}` retries at every offset inside each run, and that scan
// alone cost more than the cached counting it guards.
const LONG_RUN = new RegExp(`(?<!\\S)\\S{${MAX_ENCODED_RUN + 1}}`, 'u');

function encodingParts(text: string): string[] {
	if (!LONG_RUN.test(text)) return [text];
	const parts: string[] = [];
	let start = 0;
	let run = 0;
	for (let i = 0; i < text.length; i++) {
		run = /\s/.test(text[i]) ? 0 : run + 1;
		// Never between the two halves of a surrogate pair.
		if (run > MAX_ENCODED_RUN && !/[\uDC00-\uDFFF]/.test(text[i])) {
			parts.push(text.slice(start, i));
			start = i;
			run = 1;
		}
	}
	parts.push(text.slice(start));
	return parts;
}

/**
 * Token ids per pre-tokenizer piece. Text is cut into pieces (words with their leading space, numbers of up to
 * three digits, punctuation runs, whitespace) and each piece is BPE-encoded on its own, so a text's tokens are
 * exactly the concatenation of its pieces' tokens. Pieces repeat a lot (the 287 handbook pages, 403k pieces,
 * hold 28k distinct ones) and the chunker counts overlapping spans of the same text several times, so looking
 * pieces up instead of re-running js-tiktoken's BPE (a string join and map lookup per candidate pair, per merge)
 * makes counting an order of magnitude faster with identical results.
 */
const pieceTokens = new Map<string, number[]>();
/**
 * Bounds the cache at a few MB. Characters, not entries, are counted because long pieces matter most: a run of
 * table padding is one whitespace piece, and BPE is quadratic in a piece's length.
 */
const MAX_CACHED_CHARACTERS = 1_000_000;
let cachedCharacters = 0;

function tokensOfPiece(bpe: Tiktoken, piece: string): number[] {
	const cached = pieceTokens.get(piece);
	if (cached) return cached;
	// A piece matched on its own is that one piece again (the pattern's only lookahead, `\s+(?!\S)`, accepts at
	// the end of the text), so encode() here yields exactly the piece's tokens within the larger text.
	const tokens = bpe.encode(piece, [], []);
	if (cachedCharacters + piece.length > MAX_CACHED_CHARACTERS) {
		pieceTokens.clear();
		cachedCharacters = 0;
	}
	pieceTokens.set(piece, tokens);
	cachedCharacters += piece.length;
	return tokens;
}

function forEachPieceTokens(text: string, visit: (tokens: readonly number[]) => void): void {
	const { bpe, pieces } = getEncoder();
	for (const part of encodingParts(text)) {
		pieces.lastIndex = 0;
		for (let match = pieces.exec(part); match; match = pieces.exec(part)) visit(tokensOfPiece(bpe, match[0]));
	}
}

/** Token ids of `text`; special-token markers such as `<|endoftext|>` are treated as plain text. */
export function encodeTokens(text: string): number[] {
	const ids: number[] = [];
	forEachPieceTokens(text, (tokens) => {
		for (const token of tokens) ids.push(token);
	});
	return ids;
}

export function decodeTokens(tokens: number[]): string {
	return getEncoder().bpe.decode(tokens);
}

export function countTokens(text: string): number {
	if (text === '') return 0; // without loading the rank table
	let count = 0;
	forEachPieceTokens(text, (tokens) => {
		count += tokens.length;
	});
	return count;
}

/**
 * The longest prefix of `text` with at most `maxTokens` tokens. Cuts on a token boundary and drops a trailing
 * partial UTF-8 sequence (a token may hold half of a multi-byte character), so the result is always valid text.
 */
export function truncateToTokens(text: string, maxTokens: number): string {
	if (maxTokens <= 0) return '';
	// Tokens average 3-4 characters, so 32 per wanted token is plenty; encoding the rest would be wasted (and
	// quadratic) work. Even if it were not, the result stays a valid prefix within the budget.
	const tokens = encodeTokens(text.slice(0, maxTokens * 32));
	if (tokens.length <= maxTokens && text.length <= maxTokens * 32) return text;
	return decodeTokens(tokens.slice(0, maxTokens)).replace(/\uFFFD+$/u, '');
}
