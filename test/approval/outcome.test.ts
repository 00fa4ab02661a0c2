import fc from 'fast-check';

import {
	buildOutcomeItem,
	computeWaitUntil,
	diffText,
	resolveOutcome,
	timedOutOutcome,
	type ReviewDecision,
} from '../../lib/approval';

function decision(reviewer: string, action: ReviewDecision['action'], decidedAt: string, finalText = 'text'): ReviewDecision {
	return { reviewer, action, decidedAt, userAgent: 'ua', ip: '127.0.0.1', comment: '', finalText };
}

describe('diffText', () => {
	test('reports word changes, a unified summary and the changed flag', () => {
		const diff = diffText('Hello big world\nSecond line', 'Hello small world\nSecond line');
		expect(diff.changed).toBe(true);
		expect(diff.changes).toEqual([
			{ type: 'unchanged', value: 'Hello ' },
			{ type: 'removed', value: 'big' },
			{ type: 'added', value: 'small' },
			{ type: 'unchanged', value: ' world\nSecond line' },
		]);
		expect(diff.unified).toBe('@@ -1,2 +1,2 @@\n-Hello big world\n+Hello small world\n Second line\n\\ No newline at end of file\n');
		expect(diff).toMatchObject({ addedWords: 1, removedWords: 1 });
	});

	test('identical texts (CRLF vs LF included) are unchanged', () => {
		expect(diffText('a\nb', 'a\r\nb')).toEqual({ changed: false, changes: [{ type: 'unchanged', value: 'a\nb' }], unified: '', addedWords: 0, removedWords: 0 });
		expect(diffText('', '').changes).toEqual([]);
	});

	test('property: the changes rebuild both texts', () => {
		fc.assert(
			fc.property(fc.string(), fc.string(), (before, after) => {
				const { changes, changed } = diffText(before, after);
				const original = changes.filter((change) => change.type !== 'added').map((change) => change.value).join('');
				const final = changes.filter((change) => change.type !== 'removed').map((change) => change.value).join('');
				const normalize = (text: string) => text.replace(/\r\n?/g, '\n');
				expect(original).toBe(normalize(before));
				expect(final).toBe(normalize(after));
				expect(changed).toBe(normalize(before) !== normalize(after));
			}),
			{ numRuns: 300 },
		);
	});
});

describe('resolveOutcome', () => {
	test('first wins: the earliest decision settles, whatever order they arrive in', () => {
		const late = decision('b@x.test', 'rejected', '2026-01-05T10:00:02.000Z');
		const early = decision('a@x.test', 'approved', '2026-01-05T10:00:01.000Z');
		expect(resolveOutcome([late, early], { mode: 'first' })).toMatchObject({ status: 'decided', action: 'approved', deciding: early });
		expect(resolveOutcome([], { mode: 'first' })).toEqual({ status: 'pending', waitingFor: [] });
	});

	test('all: pending until everyone approved; any rejection rejects; unlisted reviewers do not count', () => {
		const policy = { mode: 'all' as const, reviewers: ['A@x.test', 'b@x.test'] };
		const a = decision('a@x.test', 'approved', '2026-01-05T10:00:01.000Z');
		const b = decision('b@x.test', 'approved', '2026-01-05T10:00:03.000Z');
		const outsider = decision('eve@x.test', 'rejected', '2026-01-05T10:00:00.000Z');
		expect(resolveOutcome([a, outsider], policy)).toEqual({ status: 'pending', waitingFor: ['b@x.test'] });
		expect(resolveOutcome([b, a], policy)).toMatchObject({ status: 'decided', action: 'approved', deciding: b, decisions: [a, b] });
		const rejection = decision('b@x.test', 'rejected', '2026-01-05T10:00:00.500Z');
		expect(resolveOutcome([a, rejection], policy)).toMatchObject({ status: 'decided', action: 'rejected', deciding: rejection });
	});

	test('buildOutcomeItem has the documented item shape', () => {
		const deciding = decision('a@x.test', 'approved', '2026-01-05T10:00:01.000Z', 'Hi Ada, thanks!');
		const item = buildOutcomeItem({ status: 'decided', action: 'approved', deciding, decisions: [deciding] }, 'Hi Ada, thanks.', '2026-01-05T09:00:00.000Z');
		expect(Object.keys(item).sort()).toEqual(
			['changed', 'comment', 'decidedAt', 'decision', 'decisions', 'diff', 'finalText', 'ip', 'originalDraft', 'requestedAt', 'reviewer', 'userAgent'].sort(),
		);
		expect(item).toMatchObject({ decision: 'approved', changed: true, finalText: 'Hi Ada, thanks!', originalDraft: 'Hi Ada, thanks.' });
	});
});

describe('timeouts', () => {
	test('wait-until defaults to 72 hours; invalid limits are refused with the field name', () => {
		const requestedAt = new Date('2026-01-05T09:00:00.000Z');
		expect(computeWaitUntil(requestedAt).toISOString()).toBe('2026-01-08T09:00:00.000Z');
		expect(computeWaitUntil(requestedAt, 1.5).toISOString()).toBe('2026-01-05T10:30:00.000Z');
		expect(() => computeWaitUntil(requestedAt, 0)).toThrow(/"Limit wait time" must be a positive number of hours, got 0/);
		expect(() => computeWaitUntil(requestedAt, Number.NaN)).toThrow(/Limit wait time/);
	});

	test('the timed-out item keeps the draft unchanged and names no reviewer', () => {
		expect(timedOutOutcome('Draft', '2026-01-05T09:00:00.000Z', new Date('2026-01-08T09:00:00.000Z'))).toEqual({
			decision: 'timedOut',
			reviewer: null,
			comment: '',
			finalText: 'Draft',
			originalDraft: 'Draft',
			diff: { changed: false, changes: [{ type: 'unchanged', value: 'Draft' }], unified: '', addedWords: 0, removedWords: 0 },
			changed: false,
			decidedAt: '2026-01-08T09:00:00.000Z',
			requestedAt: '2026-01-05T09:00:00.000Z',
			userAgent: null,
			ip: null,
			decisions: [],
		});
	});
});
