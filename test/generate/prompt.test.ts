import fc from 'fast-check';
import { buildPrompt, NOT_IN_SOURCES_SENTINEL, type PromptInput } from '../../lib/generate/prompt';
import { countTokens } from '../../lib/tokens';
import { InputError } from '../../lib/types';

/** `label` then about `tokens` tokens (cl100k_base: " alpha" is one token). */
const filler = (label: string, tokens: number) => label + ' alpha'.repeat(tokens);

const hits = [
	{ text: 'Shipping is free above 50 EUR.', sourceId: 'faq#shipping', title: 'FAQ', url: 'https://shop.test/faq', score: 0.9, citation: 1 },
	{ text: 'Returns are accepted within 30 days.', sourceId: 'faq#returns', title: 'Returns', score: 0.7, citation: 2 },
];

describe('buildPrompt layout', () => {
	const built = buildPrompt({
		instructions: 'You write replies for ACME support.',
		prompt: 'Can I return shoes after three weeks?',
		sources: [...hits, 'A plain string source.'],
		history: [
			{ role: 'human', content: 'Hi, I bought shoes.' },
			{ role: 'ai', content: 'Great, how can I help?' },
		],
		examples: [{ input: 'Do you ship to Austria?', output: 'Yes, we ship to Austria [1].' }, 'Dear customer, thanks for asking.'],
		language: 'German',
		tone: 'friendly',
		answerOnlyFromSources: true,
	});
	const [system, ...rest] = built.messages;

	it('puts instructions, rules and style samples in the single leading system message', () => {
		expect(system.role).toBe('system');
		expect(system.content).toMatch(/^You write replies for ACME support\./);
		expect(system.content).toContain('[1] or [1][3]');
		expect(system.content).toContain(`reply with exactly ${NOT_IN_SOURCES_SENTINEL}`);
		expect(system.content).toContain('Write the answer in German.');
		expect(system.content).toContain('Use a friendly tone.');
		expect(system.content).toContain('Dear customer, thanks for asking.');
		expect(rest.every((message) => message.role !== 'system')).toBe(true);
	});

	it('orders example pair, history (oldest first, roles mapped), then sources and prompt', () => {
		expect(rest.map((m) => [m.role, m.content.slice(0, 19)])).toEqual([
			['user', 'Do you ship to Aust'],
			['assistant', 'Yes, we ship to Aus'],
			['user', 'Hi, I bought shoes.'],
			['assistant', 'Great, how can I he'],
			['user', 'Sources:\n\n[1] FAQ —'],
		]);
		const last = rest[rest.length - 1].content;
		expect(last).toContain('[1] FAQ — https://shop.test/faq\nShipping is free above 50 EUR.');
		expect(last).toContain('[2] Returns\nReturns are accepted within 30 days.');
		expect(last).toContain('[3]\nA plain string source.');
		expect(last.endsWith('Can I return shoes after three weeks?')).toBe(true);
	});

	it('reports the numbering with the input positions and a token count within budget', () => {
		expect(built.sources.map(({ n, sourceId, inputIndex, originalCitation }) => ({ n, sourceId, inputIndex, originalCitation }))).toEqual([
			{ n: 1, sourceId: 'faq#shipping', inputIndex: 0, originalCitation: 1 },
			{ n: 2, sourceId: 'faq#returns', inputIndex: 1, originalCitation: 2 },
			{ n: 3, sourceId: 'source-3', inputIndex: 2, originalCitation: undefined },
		]);
		const contentTokens = built.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
		expect(built.promptTokens).toBeGreaterThan(contentTokens);
		expect(built.promptTokens).toBeLessThanOrEqual(built.budgetTokens);
		expect(built.trimmed).toEqual({ sources: [], truncatedSources: [], historyMessages: 0, examples: [] });
	});

	it('sends no system message when there are no instructions and nothing to cite', () => {
		const plain = buildPrompt({ prompt: 'Write a slogan.' });
		expect(plain.messages).toEqual([{ role: 'user', content: 'Write a slogan.' }]);
	});
});

describe('buildPrompt trimming', () => {
	const base: PromptInput = {
		instructions: 'INSTRUCTIONS stay.',
		prompt: 'PROMPT stays.',
		sources: [
			{ text: filler('S0', 100), sourceId: 's0', score: 0.5 },
			{ text: filler('S1', 100), sourceId: 's1', score: 0.9 },
			{ text: filler('S2', 100), sourceId: 's2', score: 0.2 },
			{ text: filler('S3', 100), sourceId: 's3', score: 0.7 },
		],
		history: [1, 2, 3].map((i) => ({ role: i % 2 ? 'user' : 'assistant', content: filler(`H${i}`, 100) })),
		examples: [1, 2].map((i) => ({ input: `E${i} request`, output: filler(`E${i}`, 100) })),
	};
	const full = buildPrompt(base, { contextWindow: 100_000, reservedOutputTokens: 1000 }).promptTokens;
	const withBudget = (tokens: number) => buildPrompt(base, { contextWindow: tokens + 500, reservedOutputTokens: 500 });

	it('drops the lowest-scored sources first and renumbers the rest in input order', () => {
		const built = withBudget(full - 150);
		expect(built.trimmed.sources).toEqual([2, 0]);
		expect(built.sources.map(({ n, sourceId, inputIndex }) => [n, sourceId, inputIndex])).toEqual([
			[1, 's1', 1],
			[2, 's3', 3],
		]);
		const last = built.messages[built.messages.length - 1].content;
		expect(last).toMatch(/\[1\]\nS1 /);
		expect(last).toMatch(/\[2\]\nS3 /);
		expect(last).not.toContain('S0 alpha');
		expect(built.trimmed.historyMessages).toBe(0);
		expect(built.promptTokens).toBeLessThanOrEqual(built.budgetTokens);
	});

	it('then the oldest history, then extra examples, keeping the best source', () => {
		const built = withBudget(full - 6 * 106 - 60);
		expect(built.trimmed.sources).toEqual([2, 0, 3]);
		expect(built.trimmed.historyMessages).toBe(3);
		expect(built.trimmed.examples).toEqual([1]);
		expect(built.sources.map((s) => s.sourceId)).toEqual(['s1']);
		const contents = built.messages.map((m) => m.content).join('\n');
		expect(contents).toContain('E1 request');
		expect(contents).not.toContain('E2 alpha');
		expect(contents).not.toContain('H1 alpha');
	});

	it('cuts the best source last, and says so', () => {
		const minimal = buildPrompt({ ...base, sources: [], history: [], examples: [] }).promptTokens;
		// The citation rule and the Sources header cost about 60 tokens; leave about 60 more for the source text.
		const built = withBudget(minimal + 120);
		expect(built.trimmed.examples).toEqual([1, 0]);
		expect(built.trimmed.truncatedSources).toEqual([1]);
		expect(built.sources).toEqual([expect.objectContaining({ n: 1, sourceId: 's1', truncated: true })]);
		expect(built.messages[built.messages.length - 1].content).toMatch(/\[1\]\nS1( alpha)+…\n/);
		expect(built.promptTokens).toBeLessThanOrEqual(built.budgetTokens);
	});

	it('never drops the instructions: when they and the prompt do not fit, the error says so', () => {
		const call = () => buildPrompt({ instructions: filler('I', 300), prompt: 'PROMPT' }, { contextWindow: 400, reservedOutputTokens: 200 });
		expect(call).toThrow(InputError);
		expect(call).toThrow(/instructions and the prompt alone take \d+ tokens, more than the 200 available/);
	});

	it('always fits the budget and keeps the instructions (property)', () => {
		fc.assert(
			fc.property(fc.integer({ min: 60, max: full + 50 }), (budget) => {
				const built = withBudget(budget);
				expect(built.promptTokens).toBeLessThanOrEqual(budget);
				expect(built.messages[0].content).toContain('INSTRUCTIONS stay.');
				expect(built.messages[built.messages.length - 1].content).toContain('PROMPT stays.');
			}),
			{ numRuns: 40 },
		);
	});
});

describe('buildPrompt input errors', () => {
	it.each([
		[{ prompt: ' ' }, /Prompt is empty/],
		[{ prompt: 'x', sources: [{ title: 'no text' }] }, /Source 1 has no text/],
		[{ prompt: 'x', history: [{ role: 'robot', content: 'beep' }] }, /History message 1 needs a role/],
		[{ prompt: 'x', examples: [{ input: 'q' }] }, /Example 1 needs an "output"/],
	])('rejects %j', (input, message) => {
		expect(() => buildPrompt(input as PromptInput)).toThrow(message);
	});
});
