import { parseFilter } from '../../lib/filters';
import { checkNamespace } from '../../lib/namespace';
import { InputError } from '../../lib/types';

describe('parseFilter', () => {
	it('turns the UI list into typed conditions', () => {
		expect(
			parseFilter([
				{ key: 'lang', op: 'eq', value: 'en' },
				{ key: 'price', op: 'lte', value: '20' },
				{ key: 'featured', op: 'eq', value: 'true' },
				{ key: 'tags', op: 'in', value: 'a, b' },
				{ key: 'author', op: 'exists', value: 'ignored' },
				{ key: '  ', op: 'eq', value: 'blank rows are skipped' },
			]),
		).toEqual([
			{ key: 'lang', op: 'eq', value: 'en' },
			{ key: 'price', op: 'lte', value: 20 },
			{ key: 'featured', op: 'eq', value: true },
			{ key: 'tags', op: 'in', value: ['a', 'b'] },
			{ key: 'author', op: 'exists' },
		]);
	});

	it('keeps text that would change as a number: leading zeros, long ids, trailing zeros', () => {
		expect(
			parseFilter([
				{ key: 'zip', op: 'eq', value: '02134' },
				{ key: 'crmId', op: 'eq', value: '12345678901234567891' },
				{ key: 'price', op: 'eq', value: '1.50' },
				{ key: 'score', op: 'gte', value: '-2.5' },
			]).map((condition) => condition.value),
		).toEqual(['02134', '12345678901234567891', '1.50', -2.5]);
	});

	it('accepts raw JSON as a shorthand object or a list, after the UI conditions', () => {
		expect(parseFilter([{ key: 'lang', op: 'eq', value: 'en' }], '{"price": {"$gte": 5, "$lt": 9}, "tags": ["x"], "sku": "A1"}')).toEqual([
			{ key: 'lang', op: 'eq', value: 'en' },
			{ key: 'price', op: 'gte', value: 5 },
			{ key: 'price', op: 'lt', value: 9 },
			{ key: 'tags', op: 'in', value: ['x'] },
			{ key: 'sku', op: 'eq', value: 'A1' },
		]);
		expect(parseFilter([], '[{"key": "lang", "op": "ne", "value": "de"}]')).toEqual([{ key: 'lang', op: 'ne', value: 'de' }]);
	});

	it.each([
		['{"price": ', /not valid JSON/],
		['"lang"', /must be an object/],
		['{"price": {"$near": 3}}', /unknown operator "\$near"/],
		['[{"key": "lang", "op": "like", "value": "x"}]', /item 1 is not a valid filter/],
		['{"price": {"$gt": [1, 2]}}', /compares one value/],
		['{"price": {"$gt": true}}', /needs a number or a date/],
		['[{"key": "tags", "op": "in", "value": "x"}]', /needs a list/],
	])('refuses %s with a message saying what is wrong', (raw, message) => {
		expect(() => parseFilter([], raw)).toThrow(InputError);
		expect(() => parseFilter([], raw)).toThrow(message);
	});
});

describe('checkNamespace', () => {
	it('keeps a valid namespace and trims it', () => {
		expect(checkNamespace(' acme-corp ')).toBe('acme-corp');
	});
	it.each(['', '   ', '-leading', 'has space', 'x'.repeat(129), 'a/b'])('refuses %p', (namespace) => {
		expect(() => checkNamespace(namespace)).toThrow(/Namespace .* is not valid/);
	});
});
