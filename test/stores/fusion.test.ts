import { reciprocalRankFusion, RRF_K, scoreFusion, weightedReciprocalRankFusion } from '../../lib/stores/fusion';
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

describe('weightedReciprocalRankFusion', () => {
	it('scales each list by its weight; weights 1 are plain RRF', () => {
		const lists = [items('a', 'b', 'c'), items('d', 'b', 'e')];
		expect(weightedReciprocalRankFusion(lists.map((list) => ({ items: list, weight: 1 })))).toEqual(reciprocalRankFusion(lists));
		const keywordHeavy = weightedReciprocalRankFusion([
			{ items: lists[0], weight: 0.2 },
			{ items: lists[1], weight: 1.8 },
		]);
		expect(keywordHeavy.map((entry) => entry.id)).toEqual(['b', 'd', 'e', 'a', 'c']);
		expect(keywordHeavy[1].score).toBeCloseTo(1.8 / (RRF_K + 1), 12);
	});
});

describe('scoreFusion', () => {
	const hits = (...entries: Array<[string, number]>) => entries.map(([id, score]) => ({ id, score }));

	it('adds weighted similarity to the keyword score relative to the best one', () => {
		const fused = scoreFusion(hits(['a', 0.9], ['b', 0.5]), hits(['b', 10], ['c', 5]), 0.5);
		expect(fused.map((entry) => entry.id)).toEqual(['b', 'c', 'a']);
		expect(fused[0].score).toBeCloseTo(0.5 * 0.5 + 0.5 * 1, 12);
		// c is missing from the semantic list: it gets that list's lowest similarity (0.5).
		expect(fused[1].score).toBeCloseTo(0.5 * 0.5 + 0.5 * 0.5, 12);
		// a has no keyword match: 0.
		expect(fused[2].score).toBeCloseTo(0.5 * 0.9, 12);
	});

	it('is the keyword order at weight 0 and the similarity order at weight 1', () => {
		const semantic = hits(['a', 0.9], ['b', 0.8], ['c', 0.1]);
		const keyword = hits(['c', 3], ['b', 2], ['d', 2]);
		expect(scoreFusion(semantic, keyword, 0).map((entry) => entry.id)).toEqual(['c', 'b', 'd', 'a']);
		expect(scoreFusion(semantic, keyword, 1).map((entry) => entry.id)).toEqual(['a', 'b', 'c', 'd']);
	});

	it('leaves the keyword order alone when the similarities say nothing (a constant model)', () => {
		const keyword = hits(['k1', 9], ['k2', 8.9], ['k3', 1]);
		const constant = hits(['x', 0.7], ['k3', 0.7], ['y', 0.7]);
		expect(scoreFusion(constant, keyword, 0.9).slice(0, 3).map((entry) => entry.id)).toEqual(['k1', 'k2', 'k3']);
	});

	it('copes with empty lists, negative similarities and non-finite scores', () => {
		expect(scoreFusion([], [], 0.5)).toEqual([]);
		expect(scoreFusion(hits(['a', -0.3]), [], 0.5)[0].score).toBe(0);
		expect(scoreFusion([], hits(['a', 0]), 0.5)[0].score).toBe(0);
		expect(scoreFusion(hits(['a', Number.NaN]), hits(['a', 2]), 0.5)[0].score).toBeCloseTo(0.5, 12);
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
