import { decisionRecord, editRatio, editWords, median, secondsToDecision, summarizeDecisions, type DecisionRecord } from '../../lib/evaluation';
import { InputError } from '../../lib/types';

describe('editWords', () => {
	it('keeps French elisions, hyphenated words and decimals whole and drops punctuation', () => {
		expect(editWords('L\'offre à 29,90 € — aujourd’hui, « peut-être » ! Version 1.5.')).toEqual([
			"L'offre",
			'à',
			'29,90',
			'aujourd’hui',
			'peut-être',
			'Version',
			'1.5',
		]);
	});

	it('reads a decomposed accent as one letter (NFC)', () => {
		expect(editWords('cafe\u0301')).toEqual(['café']);
	});
});

describe('editRatio', () => {
	it.each([
		['unchanged', 'Le prix est bas.', 'Le prix est bas.', 0],
		['punctuation and spacing only', 'Bonjour, Marie.', 'Bonjour   Marie !', 0],
		['one word replaced out of four', 'Le prix est bas', 'Le prix est élevé', 0.25],
		['one word inserted', 'a b c d', 'a b x c d', 0.25],
		['two words deleted', 'a b c d', 'a d', 0.5],
		['two words swapped (two substitutions)', 'a b c d', 'b a c d', 0.5],
		['case counts', "l'offre tient", "L'offre tient", 0.5],
		['accent counts', 'a ete', 'a été', 0.5],
		['rewrite longer than the draft is capped at 1', 'a b', 'c d e f g', 1],
		['empty draft, some final text', '', 'Nouveau texte', 1],
		['both empty', '', '  ', 0],
		['everything deleted', 'a b c', '', 1],
	])('%s', (_, draft, final, expected) => {
		expect(editRatio(draft, final)).toBeCloseTo(expected, 10);
	});

	it('handles long texts with a common prefix and suffix', () => {
		const words = Array.from({ length: 3000 }, (_, i) => `w${i}`);
		const edited = [...words];
		edited[1500] = 'changé';
		expect(editRatio(words.join(' '), edited.join(' '))).toBeCloseTo(1 / 3000, 12);
	});
});

describe('secondsToDecision', () => {
	it('measures seconds between two ISO times, offsets included', () => {
		expect(secondsToDecision('2026-03-29T10:00:00Z', '2026-03-29T10:02:30.500Z')).toBe(150.5);
		expect(secondsToDecision('2026-03-29T12:00:00+02:00', '2026-03-29T10:00:30Z')).toBe(30);
		// Across the Paris DST change: 01:30 CET to 03:30 CEST is one hour.
		expect(secondsToDecision('2026-03-29T01:30:00+01:00', '2026-03-29T03:30:00+02:00')).toBe(3600);
	});

	it('gives null for missing or invalid times and 0 for a negative difference', () => {
		expect(secondsToDecision(undefined, '2026-03-29T10:00:00Z')).toBeNull();
		expect(secondsToDecision('2026-03-29T10:00:00Z', null)).toBeNull();
		expect(secondsToDecision('yesterday', '2026-03-29T10:00:00Z')).toBeNull();
		expect(secondsToDecision('2026-03-29T10:00:05Z', '2026-03-29T10:00:00Z')).toBe(0);
	});
});

describe('median', () => {
	it.each([
		[[], null],
		[[5], 5],
		[[3, 1, 2], 2],
		[[4, 1, 3, 2], 2.5],
	])('%j → %j', (values, expected) => {
		expect(median(values)).toBe(expected);
	});
});

describe('decisionRecord', () => {
	it('builds the stored record from a Human Approval outcome', () => {
		expect(
			decisionRecord({
				decision: 'approved',
				originalDraft: 'Le prix est bas',
				finalText: 'Le prix est élevé',
				requestedAt: '2026-03-29T10:00:00Z',
				decidedAt: '2026-03-29T10:05:00Z',
			}),
		).toEqual({ decision: 'approved', editRatio: 0.25, secondsToDecision: 300, decidedAt: '2026-03-29T10:05:00Z' });
	});
});

describe('summarizeDecisions', () => {
	const record = (decision: DecisionRecord['decision'], editRatio: number | null, secondsToDecision: number | null, decidedAt: string): DecisionRecord => ({
		decision,
		editRatio,
		secondsToDecision,
		decidedAt,
	});
	// Paris springs forward on Sunday 2026-03-29 (CET +01:00 → CEST +02:00).
	const spring = [
		record('approved', 0, 30, '2026-03-22T22:30:00Z'), // Paris Sun 22 Mar 23:30 CET → W12
		record('timedOut', 0, 259200, '2026-03-22T23:30:00Z'), // Paris Mon 23 Mar 00:30 CET → W13 (UTC: still W12)
		record('approved', 0.4, 300, '2026-03-29T00:30:00Z'), // Paris Sun 29 Mar 01:30 CET → W13
		record('approved', 0.2, 60, '2026-03-29T21:30:00Z'), // Paris Sun 29 Mar 23:30 CEST → W13
		record('rejected', 0.9, 120, '2026-03-29T22:30:00Z'), // Paris Mon 30 Mar 00:30 CEST → W14 (UTC: still W13)
	];

	it('groups by ISO week in Europe/Paris across the spring DST change', () => {
		expect(summarizeDecisions(spring, { period: 'week', timeZone: 'Europe/Paris' })).toEqual([
			{ period: '2026-W12', from: '2026-03-16', to: '2026-03-22', decisions: 1, approved: 1, rejected: 0, timedOut: 0, approvalRate: 1, medianEditRatio: 0, medianSecondsToDecision: 30 },
			{
				period: '2026-W13',
				from: '2026-03-23',
				to: '2026-03-29',
				decisions: 3,
				approved: 2,
				rejected: 0,
				timedOut: 1,
				approvalRate: 1,
				medianEditRatio: expect.closeTo(0.3, 10),
				medianSecondsToDecision: 180,
			},
			{ period: '2026-W14', from: '2026-03-30', to: '2026-04-05', decisions: 1, approved: 0, rejected: 1, timedOut: 0, approvalRate: 0, medianEditRatio: null, medianSecondsToDecision: 120 },
		]);
	});

	it('groups the same records differently in UTC', () => {
		const weeks = summarizeDecisions(spring, { period: 'week', timeZone: 'UTC' });
		expect(weeks.map((week) => [week.period, week.decisions, week.approvalRate])).toEqual([
			['2026-W12', 2, 1],
			['2026-W13', 3, 2 / 3],
		]);
	});

	it('puts the night of the autumn DST change (25 Oct 2026) in the right week', () => {
		const weeks = summarizeDecisions(
			[
				record('approved', 0.1, 10, '2026-10-25T22:30:00Z'), // Paris Sun 25 Oct 23:30 CET → W43
				record('approved', 0.3, 20, '2026-10-25T23:30:00Z'), // Paris Mon 26 Oct 00:30 CET → W44
				record('approved', 0.5, 40, '2026-10-25T00:30:00Z'), // Paris Sun 25 Oct 02:30 CEST (before the change) → W43
			],
			{ period: 'week', timeZone: 'Europe/Paris' },
		);
		expect(weeks.map((week) => [week.period, week.from, week.to, week.decisions, week.medianEditRatio, week.medianSecondsToDecision])).toEqual([
			['2026-W43', '2026-10-19', '2026-10-25', 2, 0.3, 25],
			['2026-W44', '2026-10-26', '2026-11-01', 1, 0.3, 20],
		]);
	});

	it('uses the ISO week-year at the turn of the year (2026 has 53 weeks)', () => {
		const records = [record('approved', 0, 1, '2026-12-31T23:30:00Z'), record('approved', 0, 1, '2027-01-03T22:59:59Z'), record('approved', 0, 1, '2027-01-03T23:00:00Z')];
		expect(summarizeDecisions(records, { period: 'week', timeZone: 'Europe/Paris' }).map((week) => [week.period, week.from, week.decisions])).toEqual([
			['2026-W53', '2026-12-28', 2],
			['2027-W01', '2027-01-04', 1],
		]);
		expect(summarizeDecisions(records, { period: 'month', timeZone: 'Europe/Paris' }).map((month) => [month.period, month.decisions])).toEqual([['2027-01', 3]]);
	});

	it('groups by calendar month in the time zone, periods without decisions absent', () => {
		const months = summarizeDecisions(
			[
				record('approved', 0.5, 100, '2026-02-28T23:30:00Z'), // Paris 1 Mar 00:30
				record('rejected', null, 50, '2026-03-31T22:30:00Z'), // Paris 1 Apr 00:30 CEST
				record('approved', 0.1, 10, '2026-01-10T10:00:00Z'),
				record('timedOut', 0, 999, '2026-03-15T10:00:00Z'),
			],
			{ period: 'month', timeZone: 'Europe/Paris' },
		);
		expect(months.map((month) => [month.period, month.from, month.to, month.approved, month.rejected, month.timedOut, month.approvalRate])).toEqual([
			['2026-01', '2026-01-01', '2026-01-31', 1, 0, 0, 1],
			['2026-03', '2026-03-01', '2026-03-31', 1, 0, 1, 1],
			['2026-04', '2026-04-01', '2026-04-30', 0, 1, 0, 0],
		]);
		// Only timeouts in a period: no approval rate, no medians (null, not NaN).
		expect(summarizeDecisions([record('timedOut', 0, 99, '2026-05-05T10:00:00Z')], { period: 'month', timeZone: 'Europe/Paris' })[0]).toMatchObject({
			approvalRate: null,
			medianEditRatio: null,
			medianSecondsToDecision: null,
		});
	});

	it('returns nothing for no records and rejects bad input', () => {
		expect(summarizeDecisions([], { period: 'week', timeZone: 'Europe/Paris' })).toEqual([]);
		expect(() => summarizeDecisions([], { period: 'week', timeZone: 'Europe/Nowhere' })).toThrow(InputError);
		expect(() => summarizeDecisions([record('approved', 0, 1, 'soon')], { period: 'week', timeZone: 'UTC' })).toThrow(/not an ISO-8601 date/);
		expect(() => summarizeDecisions([], { period: 'day' as 'week', timeZone: 'UTC' })).toThrow(InputError);
	});
});
