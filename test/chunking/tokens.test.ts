import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { countTokens, decodeTokens, encodeTokens, truncateToTokens } from '../../lib/tokens';

describe('tokens (cl100k_base)', () => {
	it('counts like tiktoken cl100k_base', () => {
		expect(countTokens('')).toBe(0);
		expect(countTokens('hello world')).toBe(2);
		expect(countTokens('tiktoken is great!')).toBe(6);
		// Special-token markers in user text are plain text, never control tokens.
		expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
	});

	it('truncates to a valid prefix within the budget, also inside multi-byte characters', () => {
		for (const text of ['The quick brown fox jumps over the lazy dog.', '我们的营销平台帮助中小企业管理客户关系。', 'Emoji 🎉🎉🎉 party 👩‍👩‍👧 time']) {
			for (let max = 0; max <= countTokens(text) + 1; max++) {
				const prefix = truncateToTokens(text, max);
				expect(text.startsWith(prefix)).toBe(true);
				expect(prefix).not.toContain('\uFFFD');
				expect(countTokens(prefix)).toBeLessThanOrEqual(max);
			}
			expect(truncateToTokens(text, 1000)).toBe(text);
		}
	});

	it('stays fast and round-trips on long runs without spaces', () => {
		const run = 'x'.repeat(100_000);
		const started = Date.now();
		const tokens = encodeTokens(run);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(decodeTokens(tokens)).toBe(run);
		const cjk = '营销平台帮助中小企业'.repeat(500);
		expect(decodeTokens(encodeTokens(cjk))).toBe(cjk);
		expect(truncateToTokens(run, 10).length).toBeGreaterThan(0);
	});
});

describe('tokens agree with js-tiktoken encoding whole texts', () => {
	// The reference: the library's own encode() over the whole text, bypassing lib/tokens' per-piece cache.
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const reference = new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as ConstructorParameters<typeof Tiktoken>[0]);
	const fragment = fc.oneof(
		fc.constantFrom(' ', '  ', '\n', '\n\n', ' \n', '\t', '\r\n', "'s", "'LL", '<|endoftext|>', '|---|', '123456', 'é', '营销', '🎉', '👩‍👩‍👧'),
		fc.string({ unit: 'grapheme', maxLength: 6 }),
		fc.stringMatching(/^[A-Za-z]{1,12}$/),
	);
	// Runs of up to 128 non-space characters: longer ones are encoded in parts by design (see MAX_ENCODED_RUN).
	const text = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join('')).filter((value) => !/\S{129}/u.test(value));

	it('gives the same token ids, however often the same pieces recur', () => {
		fc.assert(
			fc.property(text, (value) => {
				const expected = reference.encode(value, [], []);
				expect(encodeTokens(value)).toEqual(expected);
				expect(countTokens(value)).toBe(expected.length);
				// Second time from the cache.
				expect(encodeTokens(value)).toEqual(expected);
			}),
			{ numRuns: 500 },
		);
	});
});
