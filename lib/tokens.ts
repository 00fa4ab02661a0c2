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

let encoder: Tiktoken | undefined;

/** Loads the rank table on first use only: nodes that never count tokens never pay for the 1 MB table. */
function getEncoder(): Tiktoken {
	if (!encoder) {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const ranks = require('js-tiktoken/ranks/cl100k_base') as TiktokenRanks;
		encoder = new Tiktoken(ranks);
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
const LONG_RUN = new RegExp(`\\S{${MAX_ENCODED_RUN + 1},}`, 'u');

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

/** Token ids of `text`; special-token markers such as `<|endoftext|>` are treated as plain text. */
export function encodeTokens(text: string): number[] {
	const encoder = getEncoder();
	return encodingParts(text).flatMap((part) => encoder.encode(part, [], []));
}

export function decodeTokens(tokens: number[]): string {
	return getEncoder().decode(tokens);
}

export function countTokens(text: string): number {
	return text === '' ? 0 : encodeTokens(text).length;
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
