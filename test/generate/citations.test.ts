import { checkCitations, findCitations } from '../../lib/generate/citations';

const numbersIn = (text: string) => findCitations(text).map((mark) => mark.numbers);

describe('findCitations', () => {
	it.each([
		['Plain [1].', [[1]]],
		['Adjacent [1][3] and glued word[2].', [[1], [3], [2]]],
		['It costs 5 EUR per month[1].', [[1]]],
		['Revenue grew in Q3[2].', [[2]]],
		['Lists [1, 3] and [2;4]', [[1, 3], [2, 4]]],
		['Ranges [2-4] and [1–2]', [[2, 3, 4], [1, 2]]],
		['Spaces [ 5 ]', [[5]]],
	])('reads %j', (text, expected) => {
		expect(numbersIn(text)).toEqual(expected);
	});

	it.each([
		['a Markdown link', 'See [1](https://example.com/one).'],
		['an image', '![2](img.png)'],
		['a reference definition', 'Text.\n[1]: https://example.com'],
		['a reference link', 'Read [the guide][1].'],
		['inline code', 'Use `items[1]` to get the second.'],
		['a fenced block', '```js\nconst x = rows[0][2];\n```'],
		['a tilde fence left open', '~~~\nmatrix[1][2]\n'],
		['an escaped bracket', 'Literally \\[1] here'],
		['a footnote', 'Claim[^1]'],
		['a year', 'In [2024] we grew'],
		['a huge range', 'All of [1-500]'],
		['a reversed range', '[5-2]'],
		['an index at 0', 'Zero [0] and items[0]'],
		['a group with 0', 'See [0, 2] and [0-2]'],
		['an identifier that is the whole text', 'item[3]'],
		['an identifier at the start of the text', 'Item[2] is sold out'],
		['an identifier with an underscore', 'Read row_2[1] first'],
		['a dotted path', 'Use data.items[2] and $rows[1]'],
		['a second index after an identifier', 'matrix[1][2] cell'],
	])('ignores %s', (_name, text) => {
		expect(numbersIn(text)).toEqual([]);
	});

	it('still finds citations after a code block', () => {
		expect(numbersIn('```\na[1]\n```\nSo the answer is 42 [2].')).toEqual([[2]]);
	});
});

describe('checkCitations', () => {
	const known = (n: number) => n >= 1 && n <= 3;

	it('keeps valid citations in order of first appearance and leaves the text alone', () => {
		const text = 'Price is 10 € [2]. Delivery takes a day [1][2].';
		expect(checkCitations(text, known)).toEqual({ text, cited: [2, 1], unsupported: [] });
	});

	it('removes an unknown citation with the space before it and reports it', () => {
		expect(checkCitations('We ship worldwide [9]. Returns are free [1].', known)).toEqual({
			text: 'We ship worldwide. Returns are free [1].',
			cited: [1],
			unsupported: [9],
		});
	});

	it('keeps the valid part of a mixed group and of a range', () => {
		expect(checkCitations('A [1, 7]. B [2-5].', known)).toEqual({ text: 'A [1]. B [2, 3].', cited: [1, 2, 3], unsupported: [4, 5, 7] });
	});

	it('leaves indexes and code untouched', () => {
		const text = 'Zero [0], row_2[7] and `list[9]` stay; Mars [9] goes.';
		expect(checkCitations(text, known)).toEqual({ text: 'Zero [0], row_2[7] and `list[9]` stay; Mars goes.', cited: [], unsupported: [9] });
	});
});
