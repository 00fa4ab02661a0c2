/**
 * Reviewer-edit metrics: how much a reviewer changed a draft, how long the decision took, and a summary of
 * decisions per week or month.
 *
 * Definitions:
 * - Words (`editWords`): Unicode NFC, then runs of letters/digits; an apostrophe or hyphen between letters
 *   (`l'offre`, `aujourd’hui`, `peut-être`) and `.`/`,` between digits (`29,90`, `1.5`) stay inside the word.
 *   Punctuation and spacing alone are not words, so changing only them is no edit. Case counts (`Offre` ≠ `offre`).
 * - `editRatio(draft, final)` = word Levenshtein distance (insertions, deletions and substitutions of whole
 *   words, each costing 1) / max(words in draft, 1), capped at 1. Unchanged = 0; everything rewritten = 1.
 * - `secondsToDecision(requestedAt, decidedAt)` = (decidedAt − requestedAt) in seconds (milliseconds kept as
 *   decimals); null when either is missing or not a date; a negative difference (clocks of two instances) is 0.
 * - `summarizeDecisions`: records grouped by the period (ISO week `2026-W13`, or month `2026-03`) that contains
 *   `decidedAt` in the given IANA time zone. Only periods with at least one record are returned, oldest first.
 *   approvalRate = approved / (approved + rejected), timeouts excluded; medianEditRatio over approved records;
 *   medianSecondsToDecision over approved and rejected records. A median of nothing is null, never NaN.
 */
import { InputError } from '../types';

export type DecisionKind = 'approved' | 'rejected' | 'timedOut';

export interface DecisionRecord {
	decision: DecisionKind;
	/** `editRatio(originalDraft, finalText)`; null when unknown. */
	editRatio: number | null;
	/** `secondsToDecision(requestedAt, decidedAt)`; null when unknown. */
	secondsToDecision: number | null;
	/** ISO-8601 time of the decision (of the timeout for `timedOut`). */
	decidedAt: string;
}

export type SummaryPeriod = 'week' | 'month';

export interface PeriodSummary {
	/** `2026-W13` (ISO week) or `2026-03` (calendar month). */
	period: string;
	/** First and last local day of the period, `YYYY-MM-DD`. */
	from: string;
	to: string;
	decisions: number;
	approved: number;
	rejected: number;
	timedOut: number;
	approvalRate: number | null;
	medianEditRatio: number | null;
	medianSecondsToDecision: number | null;
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:(?:['\u2019\u02bc-](?=[\p{L}\p{M}])|[.,](?=\p{N}))[\p{L}\p{M}\p{N}]+)*/gu;

/** The words an edit is measured on (see the header). */
export function editWords(text: string): string[] {
	return text.normalize('NFC').match(WORD) ?? [];
}

function wordDistance(a: string[], b: string[]): number {
	let start = 0;
	while (start < a.length && start < b.length && a[start] === b[start]) start++;
	let endA = a.length;
	let endB = b.length;
	while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
		endA--;
		endB--;
	}
	const left = a.slice(start, endA);
	const right = b.slice(start, endB);
	if (left.length === 0) return right.length;
	if (right.length === 0) return left.length;
	let previous = new Uint32Array(right.length + 1).map((_, j) => j);
	let current = new Uint32Array(right.length + 1);
	for (let i = 1; i <= left.length; i++) {
		current[0] = i;
		for (let j = 1; j <= right.length; j++) {
			const substitution = previous[j - 1] + (left[i - 1] === right[j - 1] ? 0 : 1);
			current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
		}
		[previous, current] = [current, previous];
	}
	return previous[right.length];
}

/**
 * Share of the draft the reviewer changed, in words (0 = sent as drafted, 0.25 = about one word in four
 * changed, 1 = rewritten). Levenshtein distance on words / max(draft words, 1), capped at 1.
 */
export function editRatio(draft: string, final: string): number {
	const before = editWords(draft);
	const distance = wordDistance(before, editWords(final));
	return Math.min(1, distance / Math.max(before.length, 1));
}

/** How long the reviewer took to decide, in seconds (null when a time is missing or invalid). */
export function secondsToDecision(requestedAt: string | undefined | null, decidedAt: string | undefined | null): number | null {
	if (!requestedAt || !decidedAt) return null;
	const from = Date.parse(requestedAt);
	const to = Date.parse(decidedAt);
	if (Number.isNaN(from) || Number.isNaN(to)) return null;
	return Math.max(0, (to - from) / 1000);
}

/** The record the approved-versions store keeps, from a Human Approval outcome. */
export function decisionRecord(outcome: {
	decision: DecisionKind;
	originalDraft: string;
	finalText: string;
	requestedAt: string;
	decidedAt: string;
}): DecisionRecord {
	return {
		decision: outcome.decision,
		editRatio: editRatio(outcome.originalDraft, outcome.finalText),
		secondsToDecision: secondsToDecision(outcome.requestedAt, outcome.decidedAt),
		decidedAt: outcome.decidedAt,
	};
}

/** Middle value (mean of the two middle ones for an even count); null for no values. */
export function median(values: number[]): number | null {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
const isoDay = (date: Date) => `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;

function localDayFormatter(timeZone: string): Intl.DateTimeFormat {
	try {
		return new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
	} catch {
		throw new InputError(`Unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as Europe/Paris.`, 'timeZone');
	}
}

/** The local calendar day of an instant, as a UTC-midnight Date (plain date arithmetic from there on). */
function localDay(instant: Date, format: Intl.DateTimeFormat): Date {
	const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
	return new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
}

function periodOf(day: Date, period: SummaryPeriod): { key: string; from: string; to: string } {
	if (period === 'month') {
		const year = day.getUTCFullYear();
		const month = day.getUTCMonth();
		return {
			key: `${year}-${pad(month + 1)}`,
			from: isoDay(new Date(Date.UTC(year, month, 1))),
			to: isoDay(new Date(Date.UTC(year, month + 1, 0))),
		};
	}
	// ISO 8601: weeks start on Monday; week 1 is the one containing the year's first Thursday.
	const weekday = (day.getUTCDay() + 6) % 7;
	const monday = new Date(day.getTime() - weekday * 86_400_000);
	const thursday = new Date(monday.getTime() + 3 * 86_400_000);
	const weekYear = thursday.getUTCFullYear();
	const week = Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * 86_400_000)) + 1;
	return { key: `${weekYear}-W${pad(week)}`, from: isoDay(monday), to: isoDay(new Date(monday.getTime() + 6 * 86_400_000)) };
}

/** The local calendar day (`YYYY-MM-DD`) of an instant in an IANA time zone. */
export function localDate(instant: Date, timeZone: string): string {
	return isoDay(localDay(instant, localDayFormatter(timeZone)));
}

/** The week or month containing a calendar day (`YYYY-MM-DD`): its key as `summarizeDecisions` names it, first and last day. */
export function periodContaining(day: string, period: SummaryPeriod): { period: string; start: string; end: string } {
	const { key, from, to } = periodOf(new Date(`${day}T00:00:00Z`), period);
	return { period: key, start: from, end: to };
}

/**
 * Decisions per week or month. For a marketer: how many drafts were reviewed, the share approved, how much
 * reviewers typically changed an approved draft (median edit ratio) and how long they typically took to decide.
 * Records whose `decidedAt` is not a date are an error (InputError).
 */
export function summarizeDecisions(
	records: DecisionRecord[],
	options: { period: SummaryPeriod; timeZone: string },
): PeriodSummary[] {
	if (options.period !== 'week' && options.period !== 'month') {
		throw new InputError(`Unknown period ${JSON.stringify(options.period)}: use week or month.`, 'period');
	}
	const format = localDayFormatter(options.timeZone);
	const groups = new Map<string, { from: string; to: string; records: DecisionRecord[] }>();
	for (const record of records) {
		const instant = new Date(record.decidedAt);
		if (Number.isNaN(instant.getTime())) {
			throw new InputError(`Decision time ${JSON.stringify(record.decidedAt)} is not an ISO-8601 date.`, 'decidedAt');
		}
		const { key, from, to } = periodOf(localDay(instant, format), options.period);
		const group = groups.get(key) ?? { from, to, records: [] };
		group.records.push(record);
		groups.set(key, group);
	}
	return [...groups.entries()]
		.sort(([a], [b]) => a.localeCompare(b))
		.map(([period, group]) => {
			const count = (kind: DecisionKind) => group.records.filter((record) => record.decision === kind).length;
			const approved = count('approved');
			const rejected = count('rejected');
			const known = (value: number | null): value is number => typeof value === 'number' && Number.isFinite(value);
			return {
				period,
				from: group.from,
				to: group.to,
				decisions: group.records.length,
				approved,
				rejected,
				timedOut: count('timedOut'),
				approvalRate: approved + rejected ? approved / (approved + rejected) : null,
				medianEditRatio: median(
					group.records.filter((record) => record.decision === 'approved').map((record) => record.editRatio).filter(known),
				),
				medianSecondsToDecision: median(
					group.records
						.filter((record) => record.decision !== 'timedOut')
						.map((record) => record.secondsToDecision)
						.filter(known),
				),
			};
		});
}
