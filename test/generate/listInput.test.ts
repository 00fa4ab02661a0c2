import { parseListInput } from '../../lib/generate/listInput';

describe('parseListInput', () => {
	it('reads nothing, lists, JSON text and a single object', () => {
		expect(parseListInput(undefined, 'sources', 'Sources')).toEqual([]);
		expect(parseListInput('', 'sources', 'Sources')).toEqual([]);
		expect(parseListInput(['a'], 'sources', 'Sources')).toEqual(['a']);
		expect(parseListInput('[{"text": "a"}]', 'sources', 'Sources')).toEqual([{ text: 'a' }]);
		expect(parseListInput({ text: 'one hit' }, 'sources', 'Sources')).toEqual([{ text: 'one hit' }]);
	});

	it('names the field when the value is not a list', () => {
		expect(() => parseListInput('[oops', 'history', 'History')).toThrow(/^History is not valid JSON: .+\{\{ \$json\.history \}\}$/);
		expect(() => parseListInput(42, 'examples', 'Examples')).toThrow('Examples must be a list, got number');
	});
});
