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
