/** Constant from Cormack et al. (2009): dampens the weight of the very first ranks. */
export const RRF_K = 60;

export interface FusedItem<T> {
	id: string;
	item: T;
	/** Sum over the lists of 1 / (k + rank), rank starting at 1. */
	score: number;
}

/**
 * Reciprocal rank fusion: merges ranked lists whose scores are not comparable (cosine vs BM25) using ranks
 * only. An item's first occurrence in the lists supplies the returned `item`. Ties keep first-seen order.
 */
export function reciprocalRankFusion<T extends { id: string }>(lists: T[][], k: number = RRF_K): Array<FusedItem<T>> {
	return weightedReciprocalRankFusion(
		lists.map((items) => ({ items, weight: 1 })),
		k,
	);
}

/** A ranked list, best first, and how much it counts in a fusion. */
export interface WeightedList<T> {
	items: T[];
	weight: number;
}

/**
 * Weighted reciprocal rank fusion: each list adds `weight / (k + rank)`. With weights 1 it is plain RRF. An
 * item's first occurrence supplies the returned `item`; ties keep first-seen order; a list of weight 0 only
 * contributes items that no other list has (scored 0, after all the others).
 */
export function weightedReciprocalRankFusion<T extends { id: string }>(
	lists: Array<WeightedList<T>>,
	k: number = RRF_K,
): Array<FusedItem<T>> {
	const fused = new Map<string, FusedItem<T>>();
	for (const { items, weight } of lists) {
		items.forEach((item, index) => {
			const contribution = weight / (k + index + 1);
			const existing = fused.get(item.id);
			if (existing) existing.score += contribution;
			else fused.set(item.id, { id: item.id, item, score: contribution });
		});
	}
	return [...fused.values()].sort((a, b) => b.score - a.score);
}

/** A hit of one ranked list: its id and the score that list gave it. */
export interface ScoredItem {
	id: string;
	score: number;
}

/**
 * Hybrid score fusion, a convex combination of the two lists' scores (Bruch et al. 2023, "An Analysis of
 * Fusion Functions for Hybrid Retrieval", found it better than RRF and easy to tune):
 *
 *   fused = semanticWeight × similarity + (1 − semanticWeight) × keyword score / best keyword score
 *
 * - `semantic` holds cosine similarities, used as they are (clamped to 0..1), not stretched per query
 *   (min–max): a weak or unsuitable embedding model, whose similarities barely differ from passage to passage,
 *   then barely moves the ranking — where rank fusion (RRF) or per-query min–max turns its noise into full
 *   rank differences. A model that returns the same vector for everything changes nothing at all.
 * - `keyword` scores (BM25) have no fixed scale: they count relative to the query's best keyword match (1).
 * - A passage missing from the semantic list gets that list's lowest similarity (it ranked below all of
 *   them; every passage has some similarity); one missing from the keyword list gets 0 (no matching word, or
 *   below the keyword candidates).
 *
 * Returns the union of both lists, best first; ties keep the keyword order, then the semantic order (so a
 * weight of 0 ranks exactly like keyword search). The keyword list's item is returned for an item both hold.
 */
export function scoreFusion<T extends ScoredItem>(
	semantic: T[],
	keyword: T[],
	semanticWeight: number,
): Array<FusedItem<T>> {
	const weight = Math.min(1, Math.max(0, Number.isFinite(semanticWeight) ? semanticWeight : 0.5));
	const similarity = (score: number) => Math.min(1, Math.max(0, Number.isFinite(score) ? score : 0));
	const similarities = new Map(semantic.map((item) => [item.id, similarity(item.score)]));
	const lowestSimilarity = semantic.length > 0 ? Math.min(...similarities.values()) : 0;
	const bestKeyword = Math.max(0, ...keyword.map((item) => (Number.isFinite(item.score) ? item.score : 0)));
	const keywordScores = new Map(
		keyword.map((item) => [item.id, bestKeyword > 0 && Number.isFinite(item.score) ? Math.max(0, item.score) / bestKeyword : 0]),
	);
	const fused = new Map<string, FusedItem<T>>();
	for (const item of [...keyword, ...semantic]) {
		if (fused.has(item.id)) continue;
		const score =
			weight * (similarities.get(item.id) ?? lowestSimilarity) + (1 - weight) * (keywordScores.get(item.id) ?? 0);
		fused.set(item.id, { id: item.id, item, score });
	}
	return [...fused.values()].sort((a, b) => b.score - a.score);
}
