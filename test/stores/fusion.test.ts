import { reciprocalRankFusion, RRF_K } from '../../lib/stores/fusion';
import { encodeDocument, encodeQuery, termId, tokenize } from '../../lib/stores/sparseEncoder';

const items = (...ids: string[]) => ids.map((id) => ({ id }));

describe('reciprocalRankFusion', () => {
	it('rewards agreement between lists over a single top rank', () => {
		const fused = reciprocalRankFusion([items('a', 'b', 'c'), items('d', 'b', 'e')], RRF_K);
		expect(fused.map((entry) => entry.id)).toEqual(['b', 'a', 'd', 'c', 'e']);
		expect(fused[0].score).toBeCloseTo(2 / (RRF_K + 2), 12);
		expect(fused[1].score).toBeCloseTo(1 / (RRF_K + 1), 12);
		expect(reciprocalRankFusion([items('a', 'b'), items('b', 'a')], 1).map((entry) => entry.score)).toEqual([1 / 2 + 1 / 3, 1 / 2 + 1 / 3]);
	});

	it('handles empty lists and keeps the first-seen item', () => {
		expect(reciprocalRankFusion([[], []])).toEqual([]);
		const first = { id: 'x', from: 'vector' };
		const fused = reciprocalRankFusion([[first], [{ id: 'x', from: 'keyword' }]]);
		expect(fused).toEqual([{ id: 'x', item: first, score: 2 / (RRF_K + 1) }]);
	});
});

describe('sparse encoder', () => {
	it('tokenizes lower-cased, accent-folded unicode words without common stop-words', () => {
		expect(tokenize('The Café in Zürich — is OPEN 24/7, naïve façade!')).toEqual(['cafe', 'zurich', 'open', '24', '7', 'naive', 'facade']);
		expect(tokenize('東京 ist schön')).toEqual(['東京', 'ist', 'schon']);
	});

	it('hashes terms to stable unsigned 32-bit ids (FNV-1a)', () => {
		expect(termId('')).toBe(0x811c9dc5);
		expect(termId('a')).toBe(0xe40c292c);
		expect(termId('foobar')).toBe(0xbf9cf968);
	});

	it('weights documents with saturated, length-normalised term frequency', () => {
		const short = encodeDocument('pricing pricing plan');
		const pricing = short.indices.indexOf(termId('pricing'));
		const plan = short.indices.indexOf(termId('plan'));
		expect(short.values[pricing]).toBeGreaterThan(short.values[plan]);
		expect(short.values[pricing]).toBeLessThan(2 * short.values[plan]);
		const long = encodeDocument(`plan ${'filler '.repeat(500)}`);
		expect(long.values[long.indices.indexOf(termId('plan'))]).toBeLessThan(short.values[plan]);
		expect([...short.indices].sort((a, b) => a - b)).toEqual(short.indices);
	});

	it('gives each distinct query term weight 1 and nothing for stop-words only', () => {
		expect(encodeQuery('plan the plan')).toEqual({ indices: [termId('plan')], values: [1] });
		expect(encodeQuery('the of and')).toEqual({ indices: [], values: [] });
	});
});
