/**
 * Retrieval evaluation: how well a ranked hit list finds the sources a question is known to need.
 *
 * Definitions (hits are ranked 1, 2, 3… in the order given; only the first k count for the @k metrics):
 * - An expected source is a source id or a URL. A hit matches it when the hit's `sourceId` equals the id
 *   (exactly, after trimming: ids are case-sensitive), or when the expected entry is an http(s) URL and its
 *   normalised form (see `normalizeUrl`) equals the normalised `url` or `sourceId` of the hit.
 * - Several chunks of one source count once: a hit is *relevant* (gain 1) when it matches at least one expected
 *   entry that no earlier hit matched; a further chunk of an already-found source has gain 0.
 * - `firstRank`: rank of the first hit matching any expected entry, over the whole list; null when none does.
 * - `hitAtK` = 1 when firstRank ≤ k, else 0.
 * - `reciprocalRank` = 1 / firstRank when firstRank ≤ k, else 0 (MRR@k once averaged).
 * - `ndcgAtK` = DCG@k / IDCG@k with DCG@k = Σ_{i ≤ min(k, hits)} gain_i / log2(i + 1) and
 *   IDCG@k = Σ_{i ≤ min(k, E)} 1 / log2(i + 1), E = the number of distinct expected entries (URLs compared
 *   normalised). List each source once, by id or by URL: one source listed both ways counts as two entries.
 * - Ties: hits with equal scores keep the order the store returned them in; nothing is re-sorted here, so a
 *   tie is broken exactly as the workflow's own search breaks it.
 * A question without any expected source cannot be scored: `evaluateRetrieval` throws an InputError for it
 * (one error item per such question), and it is left out of the summary.
 */
import { InputError } from '../types';

/** One ranked search hit, as far as evaluation needs it. */
export interface RankedHit {
	sourceId: string;
	url?: string;
	/** The chunk's id; reported back, not used for matching (a source is relevant, not a chunk). */
	chunkId?: string;
	score?: number;
}

export interface RetrievalEvaluation {
	k: number;
	/** Distinct expected entries, as first given (trimmed; URLs that normalise alike are one entry). */
	expected: string[];
	/** Expected entries matched by a hit in the top k. */
	found: string[];
	/** Expected entries not matched by any hit in the top k. */
	missing: string[];
	/** 1-based rank of the first hit from an expected source, over all hits given; null when none is. */
	firstRank: number | null;
	/** Chunk id of that hit, when known. */
	firstChunkId: string | null;
	hitAtK: 0 | 1;
	reciprocalRank: number;
	ndcgAtK: number;
}

export interface RetrievalSummary {
	/** Questions scored (questions without an expected source are not). */
	questions: number;
	/** The k of the questions, or null when they differ (or there are none). */
	k: number | null;
	/** Mean hit@k, MRR@k and mean nDCG@k; null when no question was scored. */
	meanHitAtK: number | null;
	mrr: number | null;
	meanNdcgAtK: number | null;
	/** Questions none of whose expected sources was in the top k. */
	noExpectedSourceFound: number;
}

const URL_LIKE = /^https?:\/\//i;

/**
 * A URL in comparable form: scheme and host lower case (the URL parser does it), default port and `#fragment`
 * removed, percent-encoding normalised, one trailing `/` of the path removed (`/faq/` = `/faq`; the root `/`
 * becomes empty). The query is kept as written. Text that does not parse as a URL is returned trimmed.
 */
export function normalizeUrl(value: string): string {
	const trimmed = value.trim();
	let url: URL;
	try {
		url = new URL(trimmed);
	} catch {
		return trimmed;
	}
	const path = url.pathname.replace(/\/+$/, '');
	return `${url.protocol}//${url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''}${url.host}${path}${url.search}`;
}

/** Keys an expected entry is compared by. */
function expectedKeys(entry: string): string[] {
	return URL_LIKE.test(entry) ? [`id:${entry}`, `url:${normalizeUrl(entry)}`] : [`id:${entry}`];
}

function hitKeys(hit: RankedHit): Set<string> {
	const keys = new Set<string>([`id:${hit.sourceId.trim()}`]);
	if (hit.url) keys.add(`url:${normalizeUrl(hit.url)}`);
	if (URL_LIKE.test(hit.sourceId.trim())) keys.add(`url:${normalizeUrl(hit.sourceId)}`);
	return keys;
}

/**
 * Reads the expected sources of a question: an array of strings, or one string split at line breaks, at `;`,
 * and at commas (inside a URL, a comma splits only before the next `http(s)://`). Empty entries are dropped and
 * repeats removed.
 */
export function parseExpectedSources(value: unknown, field = 'expectedSources'): string[] {
	let parts: string[];
	if (value === undefined || value === null) parts = [];
	else if (Array.isArray(value)) {
		parts = value.map((entry) => {
			if (typeof entry !== 'string' && typeof entry !== 'number') {
				throw new InputError(`Expected sources must be source ids or URLs (text), got ${JSON.stringify(entry)}.`, field);
			}
			return String(entry);
		});
	} else if (typeof value === 'string' || typeof value === 'number') {
		parts = String(value)
			.split(/[\r\n;]+/)
			.flatMap((part) => (part.includes('://') ? part.split(/,(?=\s*https?:\/\/)/i) : part.split(',')));
	} else {
		throw new InputError(`Expected sources must be a list of source ids or URLs, got ${JSON.stringify(value)}.`, field);
	}
	return [...new Set(parts.map((part) => part.trim()).filter((part) => part !== ''))];
}

function validateK(k: number): void {
	if (!Number.isInteger(k) || k < 1) throw new InputError(`k must be a whole number of at least 1, got ${k}.`, 'k');
}

/** Discount of rank i (1-based) in DCG. */
const discount = (rank: number) => 1 / Math.log2(rank + 1);

/**
 * Scores one question's ranked hits against its expected sources. For a marketer: `hitAtK` says whether the
 * right document was among the first k results at all, `reciprocalRank` how close to the top it came (1 = first,
 * 0.5 = second…), and `ndcgAtK` how well all the right documents are ranked (1 = all of them first).
 */
export function evaluateRetrieval(hits: RankedHit[], expectedSources: string[], k: number): RetrievalEvaluation {
	validateK(k);
	// Repeats removed, URLs compared normalised: `https://a.com/x/` and `https://A.com/x` are one source.
	const canonical = new Map<string, string>();
	for (const entry of expectedSources.map((source) => source.trim()).filter((source) => source !== '')) {
		const key = URL_LIKE.test(entry) ? `url:${normalizeUrl(entry)}` : `id:${entry}`;
		if (!canonical.has(key)) canonical.set(key, entry);
	}
	const expected = [...canonical.values()];
	if (expected.length === 0) {
		throw new InputError(
			'This question has no expected source: give at least one source id or URL the answer should come from.',
			'expectedSources',
		);
	}
	const keys = expected.map(expectedKeys);
	const matchedBy = (hit: RankedHit) => {
		const own = hitKeys(hit);
		return expected.map((_, index) => index).filter((index) => keys[index].some((key) => own.has(key)));
	};

	let firstRank: number | null = null;
	let firstChunkId: string | null = null;
	const credited = new Set<number>();
	let dcg = 0;
	hits.forEach((hit, position) => {
		const rank = position + 1;
		const matches = matchedBy(hit);
		if (matches.length === 0) return;
		if (firstRank === null) {
			firstRank = rank;
			firstChunkId = hit.chunkId ?? null;
		}
		if (rank > k) return;
		const fresh = matches.filter((index) => !credited.has(index));
		if (fresh.length === 0) return;
		fresh.forEach((index) => credited.add(index));
		dcg += discount(rank);
	});
	let idcg = 0;
	for (let rank = 1; rank <= Math.min(k, expected.length); rank++) idcg += discount(rank);
	const rank = firstRank as number | null;
	const inTop = rank !== null && rank <= k;
	return {
		k,
		expected,
		found: expected.filter((_, index) => credited.has(index)),
		missing: expected.filter((_, index) => !credited.has(index)),
		firstRank: rank,
		firstChunkId,
		hitAtK: inTop ? 1 : 0,
		reciprocalRank: inTop ? 1 / (rank as number) : 0,
		ndcgAtK: dcg / idcg,
	};
}

const mean = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);

/**
 * Averages scored questions. For a marketer: `meanHitAtK` is the share of questions whose right document was
 * found in the first k results, `mrr` how near the top it typically is, `meanNdcgAtK` the overall ranking quality
 * (0 to 1), and `noExpectedSourceFound` how many questions the search missed completely.
 */
export function summarizeRetrieval(results: RetrievalEvaluation[]): RetrievalSummary {
	const ks = new Set(results.map((result) => result.k));
	return {
		questions: results.length,
		k: ks.size === 1 ? results[0].k : null,
		meanHitAtK: mean(results.map((result) => result.hitAtK)),
		mrr: mean(results.map((result) => result.reciprocalRank)),
		meanNdcgAtK: mean(results.map((result) => result.ndcgAtK)),
		noExpectedSourceFound: results.filter((result) => result.hitAtK === 0).length,
	};
}
