import {
	editRatio,
	localDate,
	periodContaining,
	secondsToDecision,
	summarizeDecisions,
	type DecisionRecord,
	type PeriodSummary,
	type SummaryPeriod,
} from '../evaluation';
import { ingestDocuments } from '../ingest';
import { InputError, type Embedder, type LoadedDocument, type VectorStore } from '../types';
import { validateTimeZone } from './i18n';
import type { ApprovalOutcomeItem } from './types';

/**
 * The review log: one small record per review request in the knowledge store (namespace `review-log` by
 * default), so a report can count approvals, rejections and timeouts per week or month and follow how much
 * reviewers edit and how long they take.
 *
 * A request is logged `pending` when it is sent, with the time its wait ends; the decision replaces the record
 * (same source id). Nothing runs when a wait runs out (n8n resumes the execution with the item built at send
 * time), so a `pending` record whose wait has ended counts as timed out, at its end time. A request without a
 * time limit stays pending and is not counted.
 */

export const REVIEW_LOG_NAMESPACE = 'review-log';
/** `kind` of every review-log record: the report reads only these. */
export const REVIEW_LOG_KIND = 'review-decision';
/** Words every record's text contains: the report reads the records back with a keyword search on them. */
const RECORD_WORDS = 'review log';
/** Records one report reads at most; beyond it the report fails rather than count part of the range. */
export const MAX_REPORT_RECORDS = 10_000;

/** What the node outputs beside every outcome. */
export interface ReviewMetrics {
	/** Approved only: share of the draft's words the reviewer changed (0 = unchanged, 1 = rewritten); else null. */
	editRatio: number | null;
	/** Seconds from the request to the decision (to the end of the wait for a timeout); null when unknown. */
	secondsToDecision: number | null;
}

export function reviewMetrics(
	outcome: Pick<ApprovalOutcomeItem, 'decision' | 'originalDraft' | 'finalText' | 'requestedAt' | 'decidedAt'>,
): ReviewMetrics {
	return {
		editRatio: outcome.decision === 'approved' ? roundRatio(editRatio(outcome.originalDraft, outcome.finalText)) : null,
		secondsToDecision: secondsToDecision(outcome.requestedAt, outcome.decidedAt),
	};
}

/** Four decimals: enough for a chart, and the same number in the output, the store and the report. */
function roundRatio(value: number): number {
	return rounded(value, 10_000) as number;
}

export interface ReviewLogEntry {
	/** The approval request id: the record's source id is `review:<id>`, so the decision replaces the pending record. */
	reviewId: string;
	/** Subject of the review request. */
	title: string;
	requestedAt: string;
	/** When the wait ends (links expire); a far-future date for a request without a time limit. */
	expiresAt: string;
	/** Absent while pending. */
	outcome?: Pick<ApprovalOutcomeItem, 'decision' | 'originalDraft' | 'finalText' | 'requestedAt' | 'decidedAt' | 'reviewer'>;
}

export function reviewLogSourceId(reviewId: string): string {
	return `review:${reviewId}`;
}

/** The stored record of one review request (pending or decided). */
export function reviewLogDocument(entry: ReviewLogEntry): LoadedDocument {
	const requestedMs = Date.parse(entry.requestedAt);
	const expiresMs = Date.parse(entry.expiresAt);
	if (Number.isNaN(requestedMs) || Number.isNaN(expiresMs)) {
		throw new InputError('The review request has no valid request or expiry time.', 'requestedAt');
	}
	const { outcome } = entry;
	const metrics = outcome ? reviewMetrics(outcome) : { editRatio: null, secondsToDecision: null };
	const decidedMs = outcome ? Date.parse(outcome.decidedAt) : expiresMs;
	const status = outcome?.decision ?? 'pending';
	const summary = outcome
		? `Review log: ${status}${outcome.reviewer ? ` by ${outcome.reviewer}` : ''} on ${outcome.decidedAt}` +
			(metrics.editRatio === null ? '' : `, edit ratio ${metrics.editRatio}`) +
			(metrics.secondsToDecision === null ? '' : `, ${Math.round(metrics.secondsToDecision)} seconds after the request`)
		: `Review log: pending since ${entry.requestedAt}, wait ends ${entry.expiresAt}`;
	return {
		sourceId: reviewLogSourceId(entry.reviewId),
		text: `${summary}.\nSubject: ${entry.title}`,
		title: entry.title,
		mimeType: 'text/plain',
		metadata: {
			kind: REVIEW_LOG_KIND,
			status,
			reviewer: outcome?.reviewer ?? '',
			requestedAt: entry.requestedAt,
			expiresAt: entry.expiresAt,
			decidedAt: outcome?.decidedAt ?? '',
			// When the request counts: its decision, or (pending) the end of its wait — a timeout then.
			decidedAtMs: Number.isNaN(decidedMs) ? expiresMs : decidedMs,
			editRatio: metrics.editRatio,
			secondsToDecision: metrics.secondsToDecision,
		},
	};
}

export interface ReviewLogWriteResult {
	stored: boolean;
	namespace: string;
	sourceId: string;
	error?: string;
}

/** Writes (or replaces) the record of one review request; a failure is reported, never thrown. */
export async function writeReviewLog(
	entry: ReviewLogEntry,
	options: { store: VectorStore; embedder?: Embedder; namespace?: string; signal?: AbortSignal },
): Promise<ReviewLogWriteResult> {
	const namespace = options.namespace?.trim() || REVIEW_LOG_NAMESPACE;
	const sourceId = reviewLogSourceId(entry.reviewId);
	try {
		const [result] = await ingestDocuments([reviewLogDocument(entry)], {
			store: options.store,
			embedder: options.embedder,
			namespace,
			signal: options.signal,
		});
		if (result.status === 'failed') return { stored: false, namespace, sourceId, error: result.error };
		return { stored: true, namespace, sourceId };
	} catch (error) {
		return { stored: false, namespace, sourceId, error: error instanceof Error ? error.message : String(error) };
	}
}

/**
 * The decisions logged between two instants (decision time, or end of the wait for a timeout), as the
 * evaluation summary reads them. Pending requests whose wait has not ended by `now` are left out.
 */
export async function readReviewLog(
	store: VectorStore,
	namespace: string,
	range: { from: Date; to: Date; now?: Date },
): Promise<DecisionRecord[]> {
	const now = (range.now ?? new Date()).getTime();
	const hits = await store.search({
		namespace,
		mode: 'keyword',
		text: RECORD_WORDS,
		topK: MAX_REPORT_RECORDS,
		filter: [
			{ key: 'kind', op: 'eq', value: REVIEW_LOG_KIND },
			{ key: 'decidedAtMs', op: 'gte', value: range.from.getTime() },
			{ key: 'decidedAtMs', op: 'lte', value: Math.min(range.to.getTime(), now) },
		],
	});
	if (hits.length >= MAX_REPORT_RECORDS) {
		throw new InputError(
			`More than ${MAX_REPORT_RECORDS} review decisions fall in the range: ask for fewer periods.`,
			'periods',
		);
	}
	// One record per request: an interrupted update may leave an older version beside the newest.
	const newest = new Map<string, (typeof hits)[number]['chunk']>();
	for (const { chunk } of hits) {
		const known = newest.get(chunk.metadata.sourceId);
		if (!known || chunk.metadata.ingestedAt > known.metadata.ingestedAt) newest.set(chunk.metadata.sourceId, chunk);
	}
	const records: DecisionRecord[] = [];
	for (const chunk of newest.values()) {
		const record = toDecisionRecord(chunk.metadata.extra);
		if (record) records.push(record);
	}
	return records.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt));
}

function toDecisionRecord(extra: Record<string, unknown>): DecisionRecord | undefined {
	const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
	const decidedAtMs = number(extra.decidedAtMs);
	if (decidedAtMs === null) return undefined;
	switch (extra.status) {
		case 'approved':
		case 'rejected':
			return {
				decision: extra.status,
				editRatio: extra.status === 'approved' ? number(extra.editRatio) : null,
				secondsToDecision: number(extra.secondsToDecision),
				decidedAt: new Date(decidedAtMs).toISOString(),
			};
		case 'pending':
		case 'timedOut': {
			const decidedAt = new Date(decidedAtMs).toISOString();
			return {
				decision: 'timedOut',
				editRatio: null,
				secondsToDecision: secondsToDecision(typeof extra.requestedAt === 'string' ? extra.requestedAt : null, decidedAt),
				decidedAt,
			};
		}
		default:
			return undefined;
	}
}

/** A report row is a period summary; every period of the range has one, also without decisions. */
export type ReportRow = PeriodSummary;

export interface ReportOptions {
	period: SummaryPeriod;
	timeZone: string;
	/** How many periods, the current one included (default 12). */
	periods: number;
	now?: Date;
}

/**
 * The last `periods` weeks or months in the time zone, the current one included, oldest first — one row each,
 * also for a period without decisions (counts 0, rates and medians null), so a chart has no gaps.
 */
export function reportPeriods(options: ReportOptions): Array<{ period: string; start: string; end: string }> {
	if (!Number.isInteger(options.periods) || options.periods < 1 || options.periods > 520) {
		throw new InputError(`"Periods" must be a whole number from 1 to 520, got ${String(options.periods)}.`, 'periods');
	}
	const timeZone = validateTimeZone(options.timeZone, 'timeZone');
	const today = localDate(options.now ?? new Date(), timeZone);
	const current = periodContaining(today, options.period);
	const starts: string[] = [];
	for (let back = options.periods - 1; back >= 0; back--) {
		const start = new Date(`${current.start}T12:00:00Z`);
		if (options.period === 'week') start.setUTCDate(start.getUTCDate() - 7 * back);
		else start.setUTCMonth(start.getUTCMonth() - back, 1);
		starts.push(start.toISOString().slice(0, 10));
	}
	return starts.map((start) => periodContaining(start, options.period));
}

/** Report rows from logged decisions (see `reportPeriods`); rates and medians rounded as `rounded` says. */
export function reviewReport(records: DecisionRecord[], options: ReportOptions): ReportRow[] {
	const periods = reportPeriods(options);
	const summaries = new Map(
		summarizeDecisions(records, { period: options.period, timeZone: validateTimeZone(options.timeZone, 'timeZone') }).map((row) => [row.period, row]),
	);
	return periods.map(({ period, start, end }) => {
		const summary = summaries.get(period);
		return {
			period,
			from: start,
			to: end,
			decisions: summary?.decisions ?? 0,
			approved: summary?.approved ?? 0,
			rejected: summary?.rejected ?? 0,
			timedOut: summary?.timedOut ?? 0,
			approvalRate: rounded(summary?.approvalRate, 10_000),
			medianEditRatio: rounded(summary?.medianEditRatio, 10_000),
			medianSecondsToDecision: rounded(summary?.medianSecondsToDecision, 1000),
		};
	});
}

/** Ratios to four decimals, seconds to the millisecond: what a chart or a table shows, without float noise. */
function rounded(value: number | null | undefined, scale: number): number | null {
	return typeof value === 'number' ? Math.round(value * scale) / scale : null;
}

/** Reads the log for the report's periods and summarises it. */
export async function reviewReportFromStore(store: VectorStore, namespace: string, options: ReportOptions): Promise<ReportRow[]> {
	const now = options.now ?? new Date();
	const [first] = reportPeriods({ ...options, now });
	// The local start day begins at most 14 hours before (UTC+14) its UTC midnight; earlier records fall out below.
	const from = new Date(Date.parse(`${first.start}T00:00:00Z`) - 14 * 3_600_000);
	const records = await readReviewLog(store, namespace, { from, to: now, now });
	return reviewReport(records, { ...options, now });
}
