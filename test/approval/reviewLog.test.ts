/**
 * The review log and its report: metrics on an outcome, the stored record, the per-period rows (hand-computed),
 * and the round trip through a real LanceDB folder without an embedding model (keyword-only store).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
	readReviewLog,
	reportPeriods,
	REVIEW_LOG_NAMESPACE,
	reviewLogDocument,
	reviewMetrics,
	reviewReport,
	reviewReportFromStore,
	writeReviewLog,
} from '../../lib/approval/reviewLog';
import type { DecisionRecord } from '../../lib/evaluation';
import { listSources } from '../../lib/ingest';
import { openStore } from '../../lib/stores';
import { InputError, type VectorStore } from '../../lib/types';

// Sunday 29 November 2026, 14:00 in Paris: the last day of ISO week 2026-W48 (23–29 November).
const NOW = new Date('2026-11-29T13:00:00Z');

describe('reviewMetrics', () => {
	const base = { originalDraft: 'a b c d', requestedAt: '2026-11-25T09:00:00.000Z', decidedAt: '2026-11-25T09:05:00.000Z' };

	it('gives the word edit ratio of an approval (0 when unchanged) and the seconds to decision', () => {
		expect(reviewMetrics({ ...base, decision: 'approved', finalText: 'a b x d' })).toEqual({ editRatio: 0.25, secondsToDecision: 300 });
		expect(reviewMetrics({ ...base, decision: 'approved', finalText: 'a b c d.' })).toEqual({ editRatio: 0, secondsToDecision: 300 });
		expect(reviewMetrics({ ...base, decision: 'approved', finalText: 'a b c' }).editRatio).toBe(0.25);
		// One word changed in three: rounded to four decimals.
		expect(reviewMetrics({ ...base, originalDraft: 'x y z', decision: 'approved', finalText: 'x y w' }).editRatio).toBe(0.3333);
	});

	it('gives no edit ratio for a rejection or a timeout', () => {
		expect(reviewMetrics({ ...base, decision: 'rejected', finalText: 'a b x d' })).toEqual({ editRatio: null, secondsToDecision: 300 });
		expect(reviewMetrics({ ...base, decision: 'timedOut', finalText: 'a b c d', decidedAt: '2026-11-28T09:00:00.000Z' })).toEqual({
			editRatio: null,
			secondsToDecision: 3 * 86_400,
		});
	});
});

describe('reviewLogDocument', () => {
	const entry = { reviewId: 'rv-1', title: 'Follow-up to Ada', requestedAt: '2026-11-25T09:00:00.000Z', expiresAt: '2026-11-28T09:00:00.000Z' };

	it('keeps a pending request as counting at the end of its wait', () => {
		const doc = reviewLogDocument(entry);
		expect(doc.sourceId).toBe('review:rv-1');
		expect(doc.text).toContain('Review log: pending');
		expect(doc.metadata).toEqual({
			kind: 'review-decision',
			status: 'pending',
			reviewer: '',
			requestedAt: entry.requestedAt,
			expiresAt: entry.expiresAt,
			decidedAt: '',
			decidedAtMs: Date.parse(entry.expiresAt),
			editRatio: null,
			secondsToDecision: null,
		});
	});

	it('keeps a decision with its metrics under the same source id', () => {
		const doc = reviewLogDocument({
			...entry,
			outcome: {
				decision: 'approved',
				reviewer: 'ada@example.com',
				originalDraft: 'a b c d',
				finalText: 'a b x d',
				requestedAt: entry.requestedAt,
				decidedAt: '2026-11-25T09:05:00.000Z',
			},
		});
		expect(doc.sourceId).toBe('review:rv-1');
		expect(doc.text).toBe('Review log: approved by ada@example.com on 2026-11-25T09:05:00.000Z, edit ratio 0.25, 300 seconds after the request.\nSubject: Follow-up to Ada');
		expect(doc.metadata).toMatchObject({ status: 'approved', decidedAtMs: Date.parse('2026-11-25T09:05:00.000Z'), editRatio: 0.25, secondsToDecision: 300 });
	});
});

describe('reviewReport', () => {
	const record = (decision: DecisionRecord['decision'], editRatio: number | null, secondsToDecision: number | null, decidedAt: string): DecisionRecord => ({
		decision,
		editRatio,
		secondsToDecision,
		decidedAt,
	});
	const records = [
		record('approved', 0.1, 30, '2026-11-01T09:00:00Z'), // W44: before the three weeks asked for
		record('approved', 0, 60, '2026-11-16T08:00:00Z'), // W47
		record('approved', 0.5, 300, '2026-11-18T10:00:00Z'), // W47
		record('rejected', null, 120, '2026-11-22T23:30:00Z'), // Paris Monday 23 November 00:30 → W48
		record('timedOut', null, 3600, '2026-11-24T09:00:00Z'), // W48
		record('approved', 0.2, 600, '2026-11-25T09:00:00Z'), // W48
	];
	const empty = { decisions: 0, approved: 0, rejected: 0, timedOut: 0, approvalRate: null, medianEditRatio: null, medianSecondsToDecision: null };

	it('gives one row per week, the current one last, empty weeks included', () => {
		expect(reviewReport(records, { period: 'week', periods: 3, timeZone: 'Europe/Paris', now: NOW })).toEqual([
			{ period: '2026-W46', from: '2026-11-09', to: '2026-11-15', ...empty },
			{ period: '2026-W47', from: '2026-11-16', to: '2026-11-22', decisions: 2, approved: 2, rejected: 0, timedOut: 0, approvalRate: 1, medianEditRatio: 0.25, medianSecondsToDecision: 180 },
			{ period: '2026-W48', from: '2026-11-23', to: '2026-11-29', decisions: 3, approved: 1, rejected: 1, timedOut: 1, approvalRate: 0.5, medianEditRatio: 0.2, medianSecondsToDecision: 360 },
		]);
	});

	it('in UTC the late Sunday rejection stays in W47', () => {
		const [, w47, w48] = reviewReport(records, { period: 'week', periods: 3, timeZone: 'UTC', now: NOW });
		expect([w47.decisions, w47.rejected, w47.approvalRate]).toEqual([3, 1, 0.6667]);
		expect([w48.decisions, w48.rejected, w48.approvalRate]).toEqual([2, 0, 1]);
	});

	it('gives one row per month', () => {
		expect(reviewReport(records, { period: 'month', periods: 2, timeZone: 'Europe/Paris', now: NOW })).toEqual([
			{ period: '2026-10', from: '2026-10-01', to: '2026-10-31', ...empty },
			{ period: '2026-11', from: '2026-11-01', to: '2026-11-30', decisions: 6, approved: 4, rejected: 1, timedOut: 1, approvalRate: 0.8, medianEditRatio: 0.15, medianSecondsToDecision: 120 },
		]);
	});

	it('counts periods back across a year boundary (2026 has 53 ISO weeks)', () => {
		const weeks = reportPeriods({ period: 'week', periods: 3, timeZone: 'Europe/Paris', now: new Date('2027-01-05T08:00:00Z') });
		expect(weeks).toEqual([
			{ period: '2026-W52', start: '2026-12-21', end: '2026-12-27' },
			{ period: '2026-W53', start: '2026-12-28', end: '2027-01-03' },
			{ period: '2027-W01', start: '2027-01-04', end: '2027-01-10' },
		]);
		const months = reportPeriods({ period: 'month', periods: 3, timeZone: 'Pacific/Kiritimati', now: new Date('2027-01-31T11:00:00Z') });
		// 11:00 UTC is already 1 February in Kiritimati (UTC+14).
		expect(months.map((month) => month.period)).toEqual(['2026-12', '2027-01', '2027-02']);
	});

	it('refuses a bad number of periods or an unknown time zone, naming the field', () => {
		expect(() => reportPeriods({ period: 'week', periods: 0, timeZone: 'UTC' })).toThrow(InputError);
		expect(() => reportPeriods({ period: 'week', periods: 2.5, timeZone: 'UTC' })).toThrow(/Periods/);
		expect(() => reportPeriods({ period: 'week', periods: 4, timeZone: 'Mars/Olympus' })).toThrow(/Mars\/Olympus/);
	});
});

describe('review log in a LanceDB folder (no embedding model)', () => {
	let folder: string;
	let store: VectorStore;

	beforeEach(async () => {
		folder = await mkdtemp(join(tmpdir(), 'symbiotic-review-log-'));
		store = await openStore({ kind: 'lancedb', path: folder, table: 'knowledge' });
	});
	afterEach(async () => {
		await store.close();
		await rm(folder, { recursive: true, force: true });
	});

	const request = (reviewId: string, requestedAt: string, expiresAt: string) => ({ reviewId, title: `Review ${reviewId}`, requestedAt, expiresAt });

	it('a decision replaces the pending record; a pending request counts as timed out once its wait ended', async () => {
		const write = async (entry: Parameters<typeof writeReviewLog>[0]) => expect(await writeReviewLog(entry, { store })).toMatchObject({ stored: true, namespace: REVIEW_LOG_NAMESPACE });
		// Timed out: its wait ended on Tuesday 24 November.
		await write(request('timeout', '2026-11-23T08:00:00.000Z', '2026-11-24T08:00:00.000Z'));
		// Approved with one word in four changed, five minutes after the request.
		const edited = request('edited', '2026-11-25T09:00:00.000Z', '2026-11-28T09:00:00.000Z');
		await write(edited);
		await write({
			...edited,
			outcome: { decision: 'approved', reviewer: 'ada@example.com', originalDraft: 'a b c d', finalText: 'a b x d', requestedAt: edited.requestedAt, decidedAt: '2026-11-25T09:05:00.000Z' },
		});
		// Still waiting (its wait ends after now): not counted.
		await write(request('waiting', '2026-11-29T09:00:00.000Z', '2026-12-02T09:00:00.000Z'));
		// Rejected in W47, two minutes after the request.
		const rejected = request('rejected', '2026-11-17T09:58:00.000Z', '2026-11-20T09:58:00.000Z');
		await write({
			...rejected,
			outcome: { decision: 'rejected', reviewer: 'grace@example.com', originalDraft: 'a b c d', finalText: 'a b c d', requestedAt: rejected.requestedAt, decidedAt: '2026-11-17T10:00:00.000Z' },
		});

		expect((await listSources(store, REVIEW_LOG_NAMESPACE)).map((source) => source.sourceId)).toEqual([
			'review:edited',
			'review:rejected',
			'review:timeout',
			'review:waiting',
		]);
		expect(await readReviewLog(store, REVIEW_LOG_NAMESPACE, { from: new Date('2026-11-01T00:00:00Z'), to: NOW, now: NOW })).toEqual([
			{ decision: 'rejected', editRatio: null, secondsToDecision: 120, decidedAt: '2026-11-17T10:00:00.000Z' },
			{ decision: 'timedOut', editRatio: null, secondsToDecision: 86_400, decidedAt: '2026-11-24T08:00:00.000Z' },
			{ decision: 'approved', editRatio: 0.25, secondsToDecision: 300, decidedAt: '2026-11-25T09:05:00.000Z' },
		]);
		expect(await reviewReportFromStore(store, REVIEW_LOG_NAMESPACE, { period: 'week', periods: 2, timeZone: 'Europe/Paris', now: NOW })).toEqual([
			{ period: '2026-W47', from: '2026-11-16', to: '2026-11-22', decisions: 1, approved: 0, rejected: 1, timedOut: 0, approvalRate: 0, medianEditRatio: null, medianSecondsToDecision: 120 },
			{ period: '2026-W48', from: '2026-11-23', to: '2026-11-29', decisions: 2, approved: 1, rejected: 0, timedOut: 1, approvalRate: 1, medianEditRatio: 0.25, medianSecondsToDecision: 300 },
		]);
		// Only the week asked for: the W47 rejection is outside.
		const [onlyW48] = await reviewReportFromStore(store, REVIEW_LOG_NAMESPACE, { period: 'week', periods: 1, timeZone: 'Europe/Paris', now: NOW });
		expect(onlyW48).toMatchObject({ period: '2026-W48', decisions: 2 });
	});

	it('reads nothing from another namespace and reports empty periods for an empty log', async () => {
		await writeReviewLog({ ...request('other', '2026-11-25T09:00:00.000Z', '2026-11-26T09:00:00.000Z') }, { store, namespace: 'other-log' });
		const rows = await reviewReportFromStore(store, REVIEW_LOG_NAMESPACE, { period: 'week', periods: 1, timeZone: 'Europe/Paris', now: NOW });
		expect(rows).toEqual([{ period: '2026-W48', from: '2026-11-23', to: '2026-11-29', decisions: 0, approved: 0, rejected: 0, timedOut: 0, approvalRate: null, medianEditRatio: null, medianSecondsToDecision: null }]);
	});
});
