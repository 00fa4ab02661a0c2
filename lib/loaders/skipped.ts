/**
 * What a load left out, and how to include it. Every rule that drops input — a page limit, a duplicate, a
 * row without values, values the CSV header has no column for — reports here instead of discarding silently,
 * so the user learns how many, why, and what to change. The report travels beside the documents, never in
 * them: it does not enter document fingerprints, so an unchanged re-ingest still costs nothing.
 */

/** One kind of input left out: what the Ingest Document output shows under `skipped`. */
export interface Skipped {
	/** How many were left out (all of them, not only the examples). */
	count: number;
	/** Why, e.g. `beyond Max Pages 50`. */
	reason: string;
	/** What to do to include them, naming only options the node really has (or saying that none exists). */
	advice: string;
	/** Up to MAX_SKIP_EXAMPLES of them: URLs, `file.csv#row`, sitemap entries. */
	examples: string[];
}

/** What is counted, for the one-line summary ("65 pages skipped …"). */
export type SkipUnit = 'page' | 'URL' | 'sitemap' | 'entry' | 'row';

const PLURAL: Record<SkipUnit, string> = { page: 'pages', URL: 'URLs', sitemap: 'sitemaps', entry: 'entries', row: 'rows' };

export const MAX_SKIP_EXAMPLES = 5;

export interface SkipInput {
	unit: SkipUnit;
	reason: string;
	advice: string;
	/** Examples; at most MAX_SKIP_EXAMPLES are kept. */
	examples?: string[];
	/** Defaults to the number of examples given. */
	count?: number;
	/** Parts of each were left out (e.g. values of a CSV row), not the whole: the summary says "cut". */
	partial?: boolean;
}

interface Entry extends Skipped {
	unit: SkipUnit;
	partial: boolean;
}

/**
 * Collects skips during a load. Entries with the same unit and reason add up (two CSV files with empty rows
 * give one entry), keeping the first advice.
 */
export class SkipReport {
	private readonly entries: Entry[] = [];

	add(skip: SkipInput): void {
		const examples = skip.examples ?? [];
		const count = skip.count ?? examples.length;
		if (count <= 0) return;
		const existing = this.entries.find((entry) => entry.unit === skip.unit && entry.reason === skip.reason);
		if (existing) {
			existing.count += count;
			existing.examples.push(...examples.slice(0, MAX_SKIP_EXAMPLES - existing.examples.length));
			return;
		}
		this.entries.push({
			count,
			reason: skip.reason,
			advice: skip.advice,
			examples: examples.slice(0, MAX_SKIP_EXAMPLES),
			unit: skip.unit,
			partial: skip.partial ?? false,
		});
	}

	/** The entries as the node outputs them (`skipped`); empty when nothing was left out. */
	list(): Skipped[] {
		return this.entries.map(({ count, reason, advice, examples }) => ({ count, reason, advice, examples: [...examples] }));
	}

	/** One line for people, e.g. `65 pages skipped (beyond Max Pages 50) — raise "Max Pages" to 115 to include them`; '' when nothing. */
	summary(): string {
		return this.entries
			.map((entry) => {
				const unit = entry.count === 1 ? entry.unit : PLURAL[entry.unit];
				const advice = entry.advice.charAt(0).toLowerCase() + entry.advice.slice(1);
				return `${entry.count} ${unit} ${entry.partial ? 'cut' : 'skipped'} (${entry.reason}) — ${advice}`;
			})
			.join('; ');
	}

	get isEmpty(): boolean {
		return this.entries.length === 0;
	}
}
