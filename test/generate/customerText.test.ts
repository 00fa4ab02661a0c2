import fc from 'fast-check';

import { findCitations } from '../../lib/generate/citations';
import { customerSourcesFromItem, toCustomerJson, toCustomerText, type CustomerTextSource } from '../../lib/generate/customerText';

const sources: CustomerTextSource[] = [
	{ n: 1, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping' },
	{ n: 2, sourceId: 'kb/gift.md', title: 'Gift cards' },
	{ n: 3, sourceId: 'kb/returns.md', title: 'Returns', url: 'https://acme.test/returns' },
	{ n: 4, sourceId: 'kb/faq.md', title: 'FAQ', url: 'https://acme.test/faq' },
];
const remove = (text: string) => toCustomerText(text, sources, 'remove');
const footnotes = (text: string, language?: string) => toCustomerText(text, sources, 'footnotes', language);

describe("toCustomerText 'remove'", () => {
	it.each([
		['at a sentence end', 'Shipping is free above 50 EUR [1].', 'Shipping is free above 50 EUR.'],
		['glued to the word', 'It costs 5 EUR per month[1].', 'It costs 5 EUR per month.'],
		['mid-sentence', 'Shipping is free [1] above 50 EUR.', 'Shipping is free above 50 EUR.'],
		['glued mid-sentence', 'Shipping is free[1] above 50 EUR.', 'Shipping is free above 50 EUR.'],
		['grouped', 'Returns are free [1][3].', 'Returns are free.'],
		['grouped with spaces', 'Returns are free [1] [3], and fast.', 'Returns are free, and fast.'],
		['as a list', 'Returns are free [1, 3]; shipping too [2; 4].', 'Returns are free; shipping too.'],
		['as comma-separated markers', 'Returns are free [1], [3] and fast.', 'Returns are free and fast.'],
		['as a range', 'Everything is free [1-3] today [2–4]!', 'Everything is free today!'],
		['before a comma', 'Free [1], fast [2], and kind [3].', 'Free, fast, and kind.'],
		['before a question mark', 'Did you know [2]?', 'Did you know?'],
		['before a closing parenthesis', 'Free (above 50 EUR [1]) today.', 'Free (above 50 EUR) today.'],
		['in parentheses', 'Free ([1]) today and tomorrow ([2], [3]).', 'Free today and tomorrow.'],
		['after an opening parenthesis', 'Free ([1] above 50 EUR).', 'Free (above 50 EUR).'],
		['before a closing quote', 'They call it “free [1]” here.', 'They call it “free” here.'],
		['after a closing quote', 'They call it "free" [1] here.', 'They call it "free" here.'],
		['with French spacing', 'La livraison est gratuite [1] ! Vraiment [2] ?', 'La livraison est gratuite ! Vraiment ?'],
		['with no-break spaces', 'Gratuite\u00a0[1]\u00a0!', 'Gratuite\u00a0!'],
		['at a line end', 'Free shipping [1]\nFree returns [3]  \nThanks.', 'Free shipping\nFree returns\nThanks.'],
		['at the text end with a trailing newline', 'Free shipping [1]\n', 'Free shipping\n'],
		['in several paragraphs', 'Free shipping [1].\n\nFree returns [3].\n\nBest regards', 'Free shipping.\n\nFree returns.\n\nBest regards'],
		['with Windows line breaks', 'Free [1]\r\n\r\nReturns [3].\r\n', 'Free\r\n\r\nReturns.\r\n'],
		['at a line start', 'Intro:\n[1] Free shipping.\n  [2] Gift cards.', 'Intro:\nFree shipping.\n  Gift cards.'],
		['in a list item', '- Free shipping [1]\n- Gift cards [2]', '- Free shipping\n- Gift cards'],
		['alone on a line', 'Free shipping.\n[1][3]\nThanks.', 'Free shipping.\nThanks.'],
		['alone in a paragraph', 'Free shipping.\n\n[1]\n\nThanks.', 'Free shipping.\n\nThanks.'],
		['alone at the end', 'Free shipping.\n\n[1, 3]', 'Free shipping.'],
		['alone at the start', '[1]\n\nFree shipping.', 'Free shipping.'],
		['citing an unknown source', 'Free on Mars [9].', 'Free on Mars.'],
		['everywhere', '[1]', ''],
	])('removes a marker %s', (_name, text, expected) => {
		expect(remove(text)).toBe(expected);
	});

	it.each([
		['code-like indexes', 'Use items[0] and row_2[1] or data.items[2].'],
		['inline code', 'Call `rows[1]` then `matrix[0][2]`.'],
		['a fenced block', 'Example:\n```js\nconst x = list[1];\n```\nDone.'],
		['a Markdown link', 'See [1](https://acme.test/one) and [the guide][2].'],
		['checkboxes', '- [x] done\n- [ ] to do'],
		['a year and a footnote', 'In [2024] we grew[^1].'],
		['plain text with odd spacing', 'No  markers here ,  really !\n\n\n  Indented.   '],
		['an empty text', ''],
	])('leaves %s untouched', (_name, text) => {
		expect(remove(text)).toBe(text);
		expect(footnotes(text)).toBe(text);
	});

	it('removes the citations around code without touching the code', () => {
		expect(remove('Use `items[1]` [2] and see [docs](https://x.test) [1].')).toBe('Use `items[1]` and see [docs](https://x.test).');
	});

	it('is idempotent', () => {
		const once = remove('Free [1].\n\nReturns ([2]) [3]!');
		expect(remove(once)).toBe(once);
	});
});

describe("toCustomerText 'footnotes'", () => {
	it('renumbers by first use and lists only the cited sources, with links when they have one', () => {
		expect(footnotes('Returns are free [3]. Shipping too [1][3]. See the FAQ [4].')).toBe(
			'Returns are free [1]. Shipping too [2, 1]. See the FAQ [3].\n\n' +
				'Sources:\n[1] Returns — https://acme.test/returns\n[2] Shipping — https://acme.test/shipping\n[3] FAQ — https://acme.test/faq',
		);
	});

	it('shows the title only for a source without URL, and expands ranges', () => {
		expect(footnotes('Gift cards [2-3].')).toBe('Gift cards [1, 2].\n\nSources:\n[1] Gift cards\n[2] Returns — https://acme.test/returns');
	});

	it('removes markers citing unknown sources and keeps the known part of a group', () => {
		expect(footnotes('Free on Mars [9]. Free here [9, 3].')).toBe('Free on Mars. Free here [1].\n\nSources:\n[1] Returns — https://acme.test/returns');
		expect(footnotes('Free on Mars [9].')).toBe('Free on Mars.');
	});

	it('falls back to the URL or the source id when a source has no title', () => {
		const bare: CustomerTextSource[] = [{ n: 1, url: 'https://acme.test/a' }, { n: 2, sourceId: 'kb/b.md' }, { n: 3 }];
		expect(toCustomerText('A [1], B [2], C [3].', bare, 'footnotes')).toBe('A [1], B [2], C [3].\n\nSources:\n[1] https://acme.test/a\n[2] kb/b.md\n[3]');
	});

	it('puts the list after the last paragraph without trailing blank lines', () => {
		expect(footnotes('Free shipping [1].\n\nBest regards\n\n')).toBe('Free shipping [1].\n\nBest regards\n\nSources:\n[1] Shipping — https://acme.test/shipping');
	});

	it.each([
		['English', 'Sources:'],
		['fr', 'Sources\u00a0:'],
		['Deutsch', 'Quellen:'],
		['es-MX', 'Fuentes:'],
		['Italian', 'Fonti:'],
		['pt_BR', 'Fontes:'],
		['Nederlands', 'Bronnen:'],
		['Klingon', 'Sources:'],
		[undefined, 'Sources:'],
	])('heads the list for language %j with %j', (language, heading) => {
		expect(footnotes('Free [2].', language)).toBe(`Free [1].\n\n${heading}\n[1] Gift cards`);
	});
});

describe('toCustomerJson', () => {
	it('removes markers from every string value, leaving keys, other values and code-like strings alone', () => {
		expect(toCustomerJson({ subject: 'Free shipping [1]', 'key [1]': [{ sku: 'item[3]', body: 'Yes [2].', qty: 2 }], ok: true, none: null })).toEqual({
			subject: 'Free shipping',
			'key [1]': [{ sku: 'item[3]', body: 'Yes.', qty: 2 }],
			ok: true,
			none: null,
		});
	});
});

describe('customerSourcesFromItem', () => {
	it('reads the sources and citations of a Generate output item', () => {
		const item = {
			text: 'Free [2].',
			citations: [{ n: 2, sourceId: 'kb/gift.md', title: 'Gift cards' }],
			sources: [
				{ n: 1, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping', score: 0.9, inputIndex: 0, truncated: false },
				{ n: 2, sourceId: 'kb/gift.md', title: 'Gift cards', inputIndex: 1, truncated: false },
			],
		};
		const read = customerSourcesFromItem(item);
		expect(read).toEqual([
			{ n: 1, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping' },
			{ n: 2, sourceId: 'kb/gift.md', title: 'Gift cards' },
		]);
		// A reviewer may cite a source the model was shown but did not cite.
		expect(toCustomerText('Free [1] and gifts [2].', read, 'footnotes')).toBe(
			'Free [1] and gifts [2].\n\nSources:\n[1] Shipping — https://acme.test/shipping\n[2] Gift cards',
		);
	});

	it('falls back to the citations, and ignores what is not a numbered source', () => {
		expect(customerSourcesFromItem({ citations: [{ n: '3', title: 'Returns', url: '' }, { n: 0 }, 'x', null, { title: 'no n' }] })).toEqual([
			{ n: 3, title: 'Returns' },
		]);
		expect(customerSourcesFromItem(undefined)).toEqual([]);
		expect(customerSourcesFromItem({ sources: 'none' })).toEqual([]);
	});
});

describe("toCustomerText 'remove' (properties)", () => {
	const fragment = fc.oneof(
		{ weight: 6, arbitrary: fc.constantFrom('Shipping', 'is', 'free', '50 EUR', 'réseau', 'gratuit', '营销', 'Q3', '42%') },
		{ weight: 3, arbitrary: fc.constantFrom('.', ',', '!', '?', ';', ':', '(', ')', '"', '«', '»', '-', '—') },
		{
			weight: 4,
			arbitrary: fc.constantFrom('[1]', '[2][3]', '[1, 2]', '[2;4]', '[1-3]', '[ 4 ]', '[9]', '([1])', '[1], [2]'),
		},
		{
			weight: 2,
			arbitrary: fc.constantFrom('items[0]', 'row_2[1]', 'data.items[2]', '`arr[1]`', '[link](https://acme.test)', '[x]', '[2024]', '[^1]', '[0]'),
		},
	);
	const separator = fc.constantFrom(' ', ' ', ' ', '', '\n', '\n\n', '  ', '\u00a0', '\t');
	const text = fc
		.array(fc.tuple(fragment, separator), { maxLength: 40 })
		.chain((parts) => fc.tuple(fc.constant(parts.map(([part, sep]) => part + sep).join('')), separator))
		.map(([body, lead]) => lead + body);

	it('leaves no citation marker', () => {
		fc.assert(
			fc.property(text, (input) => {
				expect(findCitations(remove(input))).toEqual([]);
			}),
			{ numRuns: 500 },
		);
	});

	/** The input without its markers, the commas joining consecutive markers (`[1], [2]`) and parentheses left empty. */
	const withoutMarkersOnce = (input: string) => {
		let result = input;
		const marks = findCitations(input);
		let end = marks.length ? marks[marks.length - 1].end : 0;
		for (let i = marks.length - 1; i >= 0; i--) {
			if (i > 0 && /^[^\S\r\n]*,?[^\S\r\n]*$/.test(input.slice(marks[i - 1].end, marks[i].start))) continue;
			const emptied = /\(([^\S\r\n]*)$/.test(result.slice(0, marks[i].start)) && /^[^\S\r\n]*\)/.test(result.slice(end));
			result = emptied
				? result.slice(0, marks[i].start).replace(/\([^\S\r\n]*$/, '') + result.slice(end).replace(/^[^\S\r\n]*\)/, '')
				: result.slice(0, marks[i].start) + result.slice(end);
			if (i > 0) end = marks[i - 1].end;
		}
		return result;
	};
	/** Removing a marker can turn what was not one into one (`[1]([1])`: a link until `([1])` goes), so repeat. */
	const withoutMarkers = (input: string) => {
		let result = input;
		while (findCitations(result).length) result = withoutMarkersOnce(result);
		return result;
	};

	it('removes the markers and nothing but the whitespace and parentheses around them', () => {
		const words = (value: string) => value.replace(/[\s()]/g, '');
		fc.assert(
			fc.property(text, (input) => {
				expect(words(remove(input))).toBe(words(withoutMarkers(input)));
			}),
			{ numRuns: 500 },
		);
	});

	it('adds no double space, no trailing space, and no space before punctuation the author did not write', () => {
		fc.assert(
			fc.property(text, (input) => {
				const output = remove(input);
				if (!/ {2}/.test(input)) expect(output).not.toMatch(/ {2}/);
				if (!/[ \t]$/m.test(input)) expect(output).not.toMatch(/[ \t]$/m);
				// `gratuit [1] !` keeps the space its author put before the `!`; `free [1].` gets none.
				if (!/ [.,;:!?]/.test(withoutMarkers(input))) expect(output).not.toMatch(/ [.,;:!?]/);
			}),
			{ numRuns: 500 },
		);
	});

	it('never changes a text without markers, and is idempotent', () => {
		fc.assert(
			fc.property(fc.oneof(text, fc.string({ maxLength: 200 })), (input) => {
				const output = remove(input);
				if (findCitations(input).length === 0) expect(output).toBe(input);
				expect(remove(output)).toBe(output);
			}),
			{ numRuns: 500 },
		);
	});
});
