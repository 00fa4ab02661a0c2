import { evaluateRetrieval, normalizeUrl, parseExpectedSources, summarizeRetrieval, type RankedHit } from '../../lib/evaluation';
import { InputError } from '../../lib/types';

const hit = (sourceId: string, chunkId = `${sourceId}#0`, extra: Partial<RankedHit> = {}): RankedHit => ({ sourceId, chunkId, ...extra });
const L3 = Math.log2(3); // discount of rank 2 is 1 / log2(3) ≈ 0.6309

describe('evaluateRetrieval', () => {
	it('scores the first expected source at rank 2 with one of two expected sources found', () => {
		const result = evaluateRetrieval([hit('A', 'a1'), hit('B', 'b1'), hit('A', 'a2'), hit('C', 'c1')], ['B', 'C'], 3);
		expect(result.firstRank).toBe(2);
		expect(result.firstChunkId).toBe('b1');
		expect(result.hitAtK).toBe(1);
		expect(result.reciprocalRank).toBe(0.5);
		// DCG = 1/log2(3); IDCG (2 expected) = 1 + 1/log2(3)
		expect(result.ndcgAtK).toBeCloseTo(1 / L3 / (1 + 1 / L3), 10);
		expect(result.ndcgAtK).toBeCloseTo(0.386853, 5);
		expect(result.found).toEqual(['B']);
		expect(result.missing).toEqual(['C']);
	});

	it('counts several chunks of one source once (first occurrence)', () => {
		const hits = [hit('A', 'a1'), hit('A', 'a2'), hit('B', 'b1')];
		expect(evaluateRetrieval(hits, ['A'], 3).ndcgAtK).toBe(1);
		// DCG = 1 (rank 1) + 0 (rank 2, A again) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
		const both = evaluateRetrieval(hits, ['A', 'B'], 3);
		expect(both.ndcgAtK).toBeCloseTo(1.5 / (1 + 1 / L3), 10);
		expect(both.ndcgAtK).toBeCloseTo(0.919721, 5);
		expect(both.reciprocalRank).toBe(1);
	});

	it('gives zeros and null when no expected source is returned', () => {
		const result = evaluateRetrieval([hit('X'), hit('Y')], ['Z'], 5);
		expect(result).toMatchObject({ firstRank: null, firstChunkId: null, hitAtK: 0, reciprocalRank: 0, ndcgAtK: 0, found: [], missing: ['Z'] });
	});

	it('handles k larger than the number of hits', () => {
		const result = evaluateRetrieval([hit('X'), hit('A')], ['A'], 10);
		expect(result).toMatchObject({ firstRank: 2, hitAtK: 1, reciprocalRank: 0.5 });
		expect(result.ndcgAtK).toBeCloseTo(1 / L3, 10);
	});

	it('caps the ideal DCG at k when more sources are expected than k', () => {
		// k = 1, three expected, A first: DCG = 1, IDCG = 1
		expect(evaluateRetrieval([hit('A'), hit('B')], ['A', 'B', 'C'], 1).ndcgAtK).toBe(1);
	});

	it('reports the rank beyond k but scores it as a miss', () => {
		const result = evaluateRetrieval([hit('X'), hit('Y'), hit('A')], ['A'], 2);
		expect(result).toMatchObject({ firstRank: 3, hitAtK: 0, reciprocalRank: 0, ndcgAtK: 0, missing: ['A'] });
	});

	it('keeps the store order for equal scores (ties are not re-sorted)', () => {
		const tied = [hit('X', 'x', { score: 0.5 }), hit('A', 'a', { score: 0.5 })];
		expect(evaluateRetrieval(tied, ['A'], 2).firstRank).toBe(2);
		expect(evaluateRetrieval([...tied].reverse(), ['A'], 2).firstRank).toBe(1);
	});

	it('matches URLs after normalisation (host case, trailing slash, fragment), against url or a URL source id', () => {
		const hits = [hit('doc-1', 'c1', { url: 'https://example.com/Guide' }), hit('https://shop.example.com/faq/', 'c2')];
		expect(evaluateRetrieval(hits, ['HTTPS://Example.COM/Guide/#pricing'], 2).firstRank).toBe(1);
		expect(evaluateRetrieval(hits, ['https://SHOP.example.com/faq'], 2).firstRank).toBe(2);
		// The path is case-sensitive, and so are ids.
		expect(evaluateRetrieval(hits, ['https://example.com/guide'], 2).firstRank).toBeNull();
		expect(evaluateRetrieval(hits, ['DOC-1'], 2).firstRank).toBeNull();
		expect(evaluateRetrieval(hits, [' doc-1 '], 2).firstRank).toBe(1);
	});

	it('counts an expected source listed twice once', () => {
		const result = evaluateRetrieval([hit('A')], ['A', 'A'], 3);
		expect(result.expected).toEqual(['A']);
		expect(result.ndcgAtK).toBe(1);
	});

	it('treats two spellings of one URL as one expected source', () => {
		const result = evaluateRetrieval([hit('doc', 'c', { url: 'https://a.com/x' })], ['https://a.com/x/', 'HTTPS://A.COM/x#top'], 3);
		expect(result.expected).toEqual(['https://a.com/x/']);
		expect(result.ndcgAtK).toBe(1);
	});

	it('rejects a question without expected source and a bad k', () => {
		expect(() => evaluateRetrieval([hit('A')], [], 3)).toThrow(InputError);
		expect(() => evaluateRetrieval([hit('A')], [' '], 3)).toThrow(/no expected source/);
		expect(() => evaluateRetrieval([hit('A')], ['A'], 0)).toThrow(/k must be/);
		expect(() => evaluateRetrieval([hit('A')], ['A'], 1.5)).toThrow(InputError);
	});

	it('scores an empty hit list as a miss', () => {
		expect(evaluateRetrieval([], ['A'], 5)).toMatchObject({ firstRank: null, hitAtK: 0, reciprocalRank: 0, ndcgAtK: 0 });
	});
});

describe('summarizeRetrieval', () => {
	it('averages hit@k, reciprocal rank and nDCG and counts complete misses', () => {
		const results = [
			evaluateRetrieval([hit('A'), hit('B'), hit('C')], ['B', 'C'], 3), // hit 1, RR 0.5, nDCG (1/log2 3 + 1/2) / (1 + 1/log2 3)
			evaluateRetrieval([hit('A')], ['A'], 3), // 1, 1, 1
			evaluateRetrieval([hit('X')], ['A'], 3), // 0, 0, 0
		];
		const first = (1 / L3 + 0.5) / (1 + 1 / L3);
		const summary = summarizeRetrieval(results);
		expect(summary.questions).toBe(3);
		expect(summary.k).toBe(3);
		expect(summary.meanHitAtK).toBeCloseTo(2 / 3, 10);
		expect(summary.mrr).toBeCloseTo(0.5, 10);
		expect(summary.meanNdcgAtK).toBeCloseTo((first + 1) / 3, 10);
		expect(summary.noExpectedSourceFound).toBe(1);
	});

	it('gives nulls for no question and k null for mixed k', () => {
		expect(summarizeRetrieval([])).toEqual({ questions: 0, k: null, meanHitAtK: null, mrr: null, meanNdcgAtK: null, noExpectedSourceFound: 0 });
		expect(summarizeRetrieval([evaluateRetrieval([], ['A'], 3), evaluateRetrieval([], ['A'], 5)]).k).toBeNull();
	});
});

describe('normalizeUrl and parseExpectedSources', () => {
	it.each([
		['HTTPS://Example.COM/', 'https://example.com'],
		['https://example.com:443/a/#top', 'https://example.com/a'],
		['https://example.com/a?b=1#x', 'https://example.com/a?b=1'],
		['https://example.com/caf%C3%A9/', 'https://example.com/caf%C3%A9'],
		['  not a url ', 'not a url'],
	])('%s → %s', (input, expected) => {
		expect(normalizeUrl(input)).toBe(expected);
	});

	it('splits strings, keeps commas inside URLs, drops repeats and empties', () => {
		expect(parseExpectedSources('a, b\nc;;a')).toEqual(['a', 'b', 'c']);
		expect(parseExpectedSources('https://x.com/a?x=1,2, https://y.com/b')).toEqual(['https://x.com/a?x=1,2', 'https://y.com/b']);
		expect(parseExpectedSources(['a', ' a ', 7])).toEqual(['a', '7']);
		expect(parseExpectedSources(undefined)).toEqual([]);
		expect(() => parseExpectedSources({ id: 'a' })).toThrow(InputError);
		expect(() => parseExpectedSources([{ id: 'a' }])).toThrow(InputError);
	});
});
