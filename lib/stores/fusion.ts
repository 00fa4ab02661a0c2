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
	const fused = new Map<string, FusedItem<T>>();
	for (const list of lists) {
		list.forEach((item, index) => {
			const contribution = 1 / (k + index + 1);
			const existing = fused.get(item.id);
			if (existing) existing.score += contribution;
			else fused.set(item.id, { id: item.id, item, score: contribution });
		});
	}
	return [...fused.values()].sort((a, b) => b.score - a.score);
}
