import { load } from 'cheerio';

import {
	handleReviewRequest,
	InMemoryDecisionStore,
	type DecisionStore,
	type ReviewEndpointOptions,
	type ReviewRequest,
	TOKEN_PARAM,
} from '../../lib/approval';
import {
	EXECUTION_ID,
	formTokenOf,
	getRequest,
	HOUR_MS,
	NODE_ID,
	postRequest,
	REVIEW_ID,
	reviewContent,
	reviewToken,
	SECRET,
	USER_AGENTS,
} from './support/fixtures';

function endpoint(overrides: Partial<ReviewEndpointOptions> = {}): ReviewEndpointOptions {
	return {
		secret: SECRET,
		store: new InMemoryDecisionStore(),
		content: reviewContent(),
		policy: { mode: 'first' },
		binding: { executionId: EXECUTION_ID, nodeId: NODE_ID, reviewId: REVIEW_ID },
		...overrides,
	};
}

/** Opens the page like a browser and submits the form with the given fields. */
async function decide(options: ReviewEndpointOptions, token: string, fields: Record<string, string>, userAgent?: string) {
	const page = await handleReviewRequest(getRequest(token), options);
	const textarea = load(page.body)('textarea[name="finalText"]').text();
	return handleReviewRequest(
		postRequest(token, { formToken: formTokenOf(page.body), finalText: textarea, ...fields }, userAgent),
		options,
	);
}

function headingOf(html: string): string {
	return load(html)('h1').text();
}

describe('GET never decides', () => {
	test.each(Object.entries(USER_AGENTS))('a GET with the %s user agent renders the page and records nothing', async (_name, userAgent) => {
		const store = new InMemoryDecisionStore();
		const options = endpoint({ store });
		const token = reviewToken();
		for (let visit = 0; visit < 3; visit++) {
			const response = await handleReviewRequest(getRequest(token, userAgent), options);
			expect(response.status).toBe(200);
			expect(response.decision).toBeUndefined();
			expect(response.outcome).toBeUndefined();
			expect(load(response.body)('button[value="approve"]').length).toBe(1);
		}
		expect(await store.get(REVIEW_ID)).toBeUndefined();
		// Even a GET carrying decision fields in the query does not decide.
		const sneaky: ReviewRequest = { ...getRequest(token, userAgent), query: { [TOKEN_PARAM]: token, action: 'approve', approved: 'true' } };
		expect((await handleReviewRequest(sneaky, options)).decision).toBeUndefined();
		expect(await store.get(REVIEW_ID)).toBeUndefined();
	});

	test('HEAD answers like GET with no body and decides nothing', async () => {
		const store = new InMemoryDecisionStore();
		const response = await handleReviewRequest({ ...getRequest(reviewToken()), method: 'HEAD' }, endpoint({ store }));
		expect(response).toMatchObject({ status: 200, body: '' });
		expect(await store.get(REVIEW_ID)).toBeUndefined();
	});
});

describe('the review page', () => {
	test('sends a strict CSP and no-referrer/no-store/no-frame headers; the style nonce matches', async () => {
		const response = await handleReviewRequest(getRequest(reviewToken()), endpoint());
		const csp = response.headers['Content-Security-Policy'];
		expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
		expect(response.headers).toMatchObject({
			'X-Frame-Options': 'DENY',
			'Referrer-Policy': 'no-referrer',
			'Cache-Control': 'no-store',
			'X-Content-Type-Options': 'nosniff',
			'Content-Type': 'text/html; charset=utf-8',
		});
		const $ = load(response.body);
		expect(csp).toContain(`'nonce-${$('style').attr('nonce')}'`);
		expect($('script, link, img').length).toBe(0);
		expect(response.body).not.toMatch(/src=|url\(/);
	});

	test('shows draft, context, an editable text area, a comment field and both buttons — and no internal id or secret', async () => {
		const token = reviewToken();
		const response = await handleReviewRequest(getRequest(token), endpoint());
		const $ = load(response.body);
		expect($('h1').text()).toBe('Follow-up email to Ada Lovelace');
		expect($('textarea[name="finalText"]').text()).toBe(reviewContent().draft);
		expect($('textarea[name="comment"]').length).toBe(1);
		expect($('dd').map((_i, el) => $(el).text()).get()).toEqual(['Ada Lovelace', 'Analytical Engines Ltd', 'Pricing page']);
		expect($('a').attr('href')).toBe('https://example.com/pricing');
		expect($('form').attr('method')).toBe('post');
		expect($('form').attr('action')).toBeUndefined();
		for (const hidden of [SECRET, token, EXECUTION_ID, NODE_ID, REVIEW_ID]) expect(response.body).not.toContain(hidden);
	});

	test('without "allow edits" the draft is shown read-only and a posted edit is ignored', async () => {
		const options = endpoint({ content: reviewContent({ allowEdits: false }) });
		const token = reviewToken();
		const page = await handleReviewRequest(getRequest(token), options);
		expect(load(page.body)('textarea[name="finalText"]').length).toBe(0);
		expect(load(page.body)('.draft-text').text()).toBe(reviewContent().draft);
		const response = await handleReviewRequest(
			postRequest(token, { formToken: formTokenOf(page.body), action: 'approve', finalText: 'Buy now!!!' }),
			options,
		);
		expect(response.outcome).toMatchObject({ finalText: reviewContent().draft, changed: false });
	});
});

describe('deciding with POST', () => {
	test('approve with an edit: confirmation page, decision recorded with reviewer, time, UA, IP, comment; outcome carries the diff', async () => {
		const store = new InMemoryDecisionStore();
		const now = new Date('2026-01-05T10:30:00.000Z');
		const options = endpoint({ store, now: () => now });
		const edited = reviewContent().draft.replace('pricing overview', 'pricing overview and a case study').replace(/\n/g, '\r\n');
		const response = await decide(options, reviewToken({ expiresAt: now.getTime() + HOUR_MS }), {
			action: 'approve',
			finalText: edited,
			comment: '  Added the case study. ',
		});
		expect(response.status).toBe(200);
		expect(headingOf(response.body)).toBe('Approved');
		const decision = {
			action: 'approved',
			reviewer: 'ada.reviewer@example.com',
			decidedAt: '2026-01-05T10:30:00.000Z',
			userAgent: USER_AGENTS.chrome,
			ip: '203.0.113.7',
			comment: 'Added the case study.',
			finalText: edited.replace(/\r\n/g, '\n'),
		};
		expect(response.decision).toEqual(decision);
		expect(await store.get(REVIEW_ID)).toEqual(decision);
		expect(response.outcome).toMatchObject({
			decision: 'approved',
			reviewer: 'ada.reviewer@example.com',
			originalDraft: reviewContent().draft,
			finalText: decision.finalText,
			changed: true,
			requestedAt: '2026-01-05T09:00:00.000Z',
			decidedAt: '2026-01-05T10:30:00.000Z',
			diff: { changed: true, addedWords: 4, removedWords: 0 },
		});
		expect(response.outcome?.diff.changes).toContainEqual({ type: 'added', value: ' and a case study' });
		expect(response.outcome?.diff.unified).toContain('+thanks for the call today. As promised, here is our pricing overview and a case study.');
	});

	test('an untouched draft submitted by a browser (CRLF line breaks) counts as unchanged', async () => {
		const response = await decide(endpoint(), reviewToken(), { action: 'approve', finalText: reviewContent().draft.replace(/\n/g, '\r\n') });
		expect(response.outcome).toMatchObject({ changed: false, finalText: reviewContent().draft, diff: { unified: '' } });
	});

	test('reject is recorded as rejected', async () => {
		const response = await decide(endpoint(), reviewToken(), { action: 'reject', comment: 'Wrong tone.' });
		expect(headingOf(response.body)).toBe('Rejected');
		expect(response.outcome).toMatchObject({ decision: 'rejected', comment: 'Wrong tone.' });
	});

	test('replay: any later GET or POST shows "already decided by X at T", never decides again', async () => {
		const store = new InMemoryDecisionStore();
		const options = endpoint({ store });
		const token = reviewToken();
		const page = await handleReviewRequest(getRequest(token), options);
		const post = postRequest(token, { formToken: formTokenOf(page.body), action: 'approve', finalText: reviewContent().draft });
		expect((await handleReviewRequest(post, options)).status).toBe(200);

		const replayedPost = await handleReviewRequest({ ...post, body: { ...post.body, action: 'reject' } }, options);
		expect(replayedPost.status).toBe(409);
		expect(replayedPost.decision).toBeUndefined();
		expect(headingOf(replayedPost.body)).toBe('This review is already decided');
		expect(load(replayedPost.body)('p').first().text()).toMatch(/^Approved by ada\.reviewer@example\.com on \d+ \w+ 2\d{3}, \d\d:\d\d UTC\.$/);

		const laterGet = await handleReviewRequest(getRequest(reviewToken({ reviewerId: 'bob@example.com' })), options);
		expect(laterGet.status).toBe(200);
		expect(headingOf(laterGet.body)).toBe('This review is already decided');
		expect(load(laterGet.body)('form').length).toBe(0);
		expect((await store.get(REVIEW_ID))?.action).toBe('approved');
	});

	test('an expired link of a decided review still shows who decided; of an open review, 410', async () => {
		const store = new InMemoryDecisionStore();
		const expiresAt = Date.now() + HOUR_MS;
		const token = reviewToken({ expiresAt });
		const afterExpiry = endpoint({ store, now: () => new Date(expiresAt) });
		const expired = await handleReviewRequest(getRequest(token), afterExpiry);
		expect(expired.status).toBe(410);
		expect(headingOf(expired.body)).toBe('This review link has expired');

		await decide(endpoint({ store }), token, { action: 'approve' });
		const late = await handleReviewRequest(getRequest(token), afterExpiry);
		expect(late.status).toBe(200);
		expect(headingOf(late.body)).toBe('This review is already decided');
	});
});

describe('refused requests answer with an explained page and decide nothing', () => {
	const token = reviewToken();
	const tampered = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);

	test.each([
		['tampered link', () => getRequest(tampered), 403, 'This link is not valid'],
		['tampered link on POST', () => postRequest(tampered, { action: 'approve' }), 403, 'This link is not valid'],
		['no token', () => ({ ...getRequest(''), query: {} }), 400, 'This link is incomplete'],
		['truncated token', () => getRequest(token.slice(0, 40)), 400, 'This link is incomplete'],
		['token given twice', () => ({ ...getRequest(token), query: { [TOKEN_PARAM]: [token, token] } }), 400, 'This link is incomplete'],
		['link of another execution', () => getRequest(reviewToken({ executionId: '4712' })), 403, 'This link is not valid'],
		// A loop sends the node's review again in the same execution: the earlier review's link must not decide this one.
		['link of an earlier review on the same node', () => postRequest(reviewToken({ reviewId: 'earlier-review' }), { action: 'approve' }), 403, 'This link is not valid'],
		['POST without form token', () => postRequest(token, { action: 'approve' }), 403, 'This form was not sent from your review page'],
		['POST with a forged form token', () => postRequest(token, { action: 'approve', formToken: 'A'.repeat(64) }), 403, 'This form was not sent from your review page'],
		['POST with the link token as form token', () => postRequest(token, { action: 'approve', formToken: token }), 403, 'This form was not sent from your review page'],
		['PUT', () => ({ ...getRequest(token), method: 'PUT' }), 405, 'Method not allowed'],
		['DELETE', () => ({ ...getRequest(token), method: 'DELETE' }), 405, 'Method not allowed'],
	] as Array<[string, () => ReviewRequest, number, string]>)('%s is refused', async (_name, request, status, heading) => {
		const store = new InMemoryDecisionStore();
		const response = await handleReviewRequest(request(), endpoint({ store }));
		expect(response.status).toBe(status);
		expect(headingOf(response.body)).toBe(heading);
		expect(response.decision).toBeUndefined();
		expect(await store.get(REVIEW_ID)).toBeUndefined();
		expect(response.headers['Content-Security-Policy']).toContain("default-src 'none'");
	});

	test.each([
		['no action', { action: undefined }, 400, 'No decision received'],
		['unknown action', { action: 'approve-all' }, 400, 'No decision received'],
		['action given twice', { action: ['approve', 'reject'] }, 400, 'No decision received'],
		['comment too long', { action: 'approve', comment: 'x'.repeat(5001) }, 400, 'Comment too long'],
		['text too long', { action: 'approve', finalText: 'x'.repeat(200_001) }, 400, 'Text too long'],
		['draft field missing', { action: 'approve', finalText: undefined }, 400, 'The draft is missing'],
	])('%s is refused', async (_name, fields, status, heading) => {
		const store = new InMemoryDecisionStore();
		const options = endpoint({ store });
		const token = reviewToken();
		const page = await handleReviewRequest(getRequest(token), options);
		const response = await handleReviewRequest(
			postRequest(token, { formToken: formTokenOf(page.body), finalText: reviewContent().draft, ...fields }),
			options,
		);
		expect(response.status).toBe(status);
		expect(headingOf(response.body)).toBe(heading);
		expect(await store.get(REVIEW_ID)).toBeUndefined();
	});

	test('a failing store gives a plain 500 page without message or stack, and the error reaches onError', async () => {
		const failure = new Error('ECONNREFUSED 127.0.0.1:6379 at RedisDecisionStore.get (/srv/lib/approval/redisDecisionStore.ts:42)');
		const broken: DecisionStore = {
			decideOnce: () => Promise.reject(failure),
			get: () => Promise.reject(failure),
		};
		const seen: unknown[] = [];
		const response = await handleReviewRequest(getRequest(reviewToken()), endpoint({ store: broken, onError: (error) => seen.push(error) }));
		expect(response.status).toBe(500);
		expect(headingOf(response.body)).toBe('Something went wrong');
		expect(response.body).not.toMatch(/ECONNREFUSED|redis|\.ts|at \w+|Error/i);
		expect(seen).toEqual([failure]);
	});
});

describe('"require all reviewers" policy', () => {
	const reviewers = ['ada@example.com', 'Bob@Example.com', 'cy@example.com'];

	test('approval needs every reviewer; only the last decision carries the outcome', async () => {
		const options = endpoint({ policy: { mode: 'all', reviewers } });
		const first = await decide(options, reviewToken({ reviewerId: 'ada@example.com' }), { action: 'approve' });
		expect(first.outcome).toBeUndefined();
		expect(load(first.body)('p').first().text()).toContain('2 more reviewers must still approve');

		const again = await handleReviewRequest(getRequest(reviewToken({ reviewerId: 'ada@example.com' })), options);
		expect(headingOf(again.body)).toBe('You have already decided');

		expect((await decide(options, reviewToken({ reviewerId: 'bob@example.com' }), { action: 'approve' })).outcome).toBeUndefined();
		const last = await decide(options, reviewToken({ reviewerId: 'cy@example.com' }), { action: 'approve', comment: 'ok' });
		expect(last.outcome).toMatchObject({ decision: 'approved', reviewer: 'cy@example.com', comment: 'ok' });
		expect(last.outcome?.decisions.map((decision) => decision.reviewer)).toEqual(['ada@example.com', 'bob@example.com', 'cy@example.com']);
	});

	test('one rejection settles it as rejected; later reviewers see "already decided"', async () => {
		const options = endpoint({ policy: { mode: 'all', reviewers } });
		await decide(options, reviewToken({ reviewerId: 'ada@example.com' }), { action: 'approve' });
		const rejection = await decide(options, reviewToken({ reviewerId: 'bob@example.com' }), { action: 'reject', comment: 'No.' });
		expect(rejection.outcome).toMatchObject({ decision: 'rejected', reviewer: 'bob@example.com', comment: 'No.' });
		const late = await handleReviewRequest(getRequest(reviewToken({ reviewerId: 'cy@example.com' })), options);
		expect(headingOf(late.body)).toBe('This review is already decided');
		expect(load(late.body)('p').first().text()).toMatch(/^Rejected by bob@example\.com/);
	});

	test('the draft is read-only even with "allow edits": no reviewer\'s edit can be silently dropped', async () => {
		const options = endpoint({ content: reviewContent({ allowEdits: true }), policy: { mode: 'all', reviewers } });
		const edits = { 'ada@example.com': 'Ada version', 'bob@example.com': 'Bob version', 'cy@example.com': 'Cy version' };
		let last;
		for (const [reviewerId, finalText] of Object.entries(edits)) {
			const token = reviewToken({ reviewerId });
			const page = await handleReviewRequest(getRequest(token), options);
			expect(load(page.body)('textarea[name="finalText"]').length).toBe(0);
			expect(load(page.body)('.draft-text').text()).toBe(reviewContent().draft);
			last = await handleReviewRequest(postRequest(token, { formToken: formTokenOf(page.body), action: 'approve', finalText }), options);
		}
		expect(last?.outcome).toMatchObject({ decision: 'approved', finalText: reviewContent().draft, changed: false });
		expect(last?.outcome?.decisions.map((decision) => decision.finalText)).toEqual(Array(3).fill(reviewContent().draft));
	});

	test('a valid link of someone who is not a listed reviewer is refused', async () => {
		const response = await handleReviewRequest(getRequest(reviewToken({ reviewerId: 'eve@example.com' })), endpoint({ policy: { mode: 'all', reviewers } }));
		expect(response.status).toBe(403);
		expect(headingOf(response.body)).toBe('You are not a reviewer of this request');
	});
});
