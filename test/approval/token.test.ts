import fc from 'fast-check';

import {
	assertApprovalSecret,
	createFormToken,
	createReviewLink,
	newReviewId,
	openSealedState,
	sealState,
	TOKEN_PARAM,
	verifyFormToken,
	verifyReviewToken,
} from '../../lib/approval';
import { EXECUTION_ID, HOUR_MS, NODE_ID, REVIEW_ID, reviewLink, reviewToken, SECRET } from './support/fixtures';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('review link tokens', () => {
	test('a fresh link verifies and yields exactly the claims it was made with', () => {
		const expiresAt = Date.now() + HOUR_MS;
		const link = reviewLink({ reviewerId: '  Ada.Reviewer@Example.COM ', expiresAt });
		const token = new URL(link).searchParams.get(TOKEN_PARAM) as string;
		expect(verifyReviewToken(token, SECRET)).toEqual({
			ok: true,
			claims: { reviewId: REVIEW_ID, executionId: EXECUTION_ID, nodeId: NODE_ID, reviewerId: 'ada.reviewer@example.com', expiresAt },
		});
	});

	test('the token is opaque: neither the execution id, node id nor reviewer address can be read from the link', () => {
		const link = reviewLink({ reviewerId: 'ada.reviewer@lovelace.test', executionId: 'exec-SECRET-ID-98765' });
		const token = new URL(link).searchParams.get(TOKEN_PARAM) as string;
		const decoded = Buffer.from(token, 'base64url').toString('latin1');
		for (const hidden of ['exec-SECRET-ID-98765', NODE_ID, 'ada.reviewer', 'lovelace.test', REVIEW_ID]) {
			expect(link).not.toContain(hidden);
			expect(decoded).not.toContain(hidden);
		}
		expect(link).not.toContain(SECRET);
		// Compact enough for any mail client: well under the 2,000 characters some clients cut links at.
		expect(token.length).toBeLessThan(250);
	});

	test('property: changing any character of a token never verifies (tampered or malformed)', () => {
		const token = reviewToken();
		fc.assert(
			fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...BASE64URL, '=', '.', '+', '/', ' ', '%'), (index, replacement) => {
				fc.pre(token[index] !== replacement);
				const changed = token.slice(0, index) + replacement + token.slice(index + 1);
				const result = verifyReviewToken(changed, SECRET);
				expect(result.ok).toBe(false);
				expect(['tampered', 'malformed']).toContain(!result.ok && result.error);
			}),
			{ numRuns: 2000 },
		);
	});

	test('every other spelling of the last character fails (Node decodes non-canonical base64url to the same bytes)', () => {
		// Three reviewer lengths give three byte lengths mod 3, so the last character has 0, 2 and 4 unused bits.
		for (const reviewerId of ['a@example.com', 'ab@example.com', 'abc@example.com']) {
			const token = reviewToken({ reviewerId });
			for (const replacement of BASE64URL) {
				if (replacement === token[token.length - 1]) continue;
				expect(verifyReviewToken(token.slice(0, -1) + replacement, SECRET).ok).toBe(false);
			}
		}
	});

	test('property: flipping any bit of the decoded bytes is detected as tampered or malformed', () => {
		const bytes = Buffer.from(reviewToken(), 'base64url');
		fc.assert(
			fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
				const changed = Buffer.from(bytes);
				changed[index] ^= 1 << bit;
				const result = verifyReviewToken(changed.toString('base64url'), SECRET);
				expect(result.ok).toBe(false);
				// Only the version byte can turn it "malformed"; any other bit breaks the signature.
				expect(result).toMatchObject({ error: index === 0 ? 'malformed' : 'tampered' });
			}),
			{ numRuns: 1000 },
		);
	});

	test('property: truncated, extended or random strings never verify', () => {
		const token = reviewToken();
		fc.assert(
			fc.property(fc.oneof(fc.nat({ max: token.length - 1 }).map((cut) => token.slice(0, cut)), fc.string({ minLength: 1 }).map((tail) => token + tail), fc.string()), (candidate) => {
				expect(verifyReviewToken(candidate, SECRET).ok).toBe(false);
			}),
			{ numRuns: 1000 },
		);
	});

	test('a token signed with another secret is tampered; a non-string is malformed', () => {
		const other = createReviewLink({
			baseUrl: 'https://n8n.example.com/r',
			reviewId: REVIEW_ID,
			executionId: EXECUTION_ID,
			nodeId: NODE_ID,
			reviewerId: 'a@example.com',
			expiresAt: Date.now() + HOUR_MS,
			secret: `${SECRET}-rotated`,
		});
		expect(verifyReviewToken(new URL(other).searchParams.get(TOKEN_PARAM), SECRET)).toEqual({ ok: false, error: 'tampered' });
		expect(verifyReviewToken(undefined, SECRET)).toEqual({ ok: false, error: 'malformed' });
		expect(verifyReviewToken(['a', 'b'], SECRET)).toEqual({ ok: false, error: 'malformed' });
	});

	test('expiry boundary: valid 1 ms before expiresAt, expired at and after it (claims kept for the decided page)', () => {
		const expiresAt = Date.UTC(2026, 0, 8, 9, 0, 0);
		const token = reviewToken({ expiresAt });
		expect(verifyReviewToken(token, SECRET, expiresAt - 1).ok).toBe(true);
		expect(verifyReviewToken(token, SECRET, expiresAt)).toMatchObject({ ok: false, error: 'expired', claims: { reviewId: REVIEW_ID } });
		expect(verifyReviewToken(token, SECRET, new Date(expiresAt + 1))).toMatchObject({ ok: false, error: 'expired' });
	});

	test('property: any expiry is honoured to the millisecond', () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 2 ** 47 }), fc.integer({ min: -5000, max: 5000 }), (expiresAt, offset) => {
				const result = verifyReviewToken(reviewToken({ expiresAt }), SECRET, expiresAt + offset);
				expect(result.ok).toBe(offset < 0);
			}),
			{ numRuns: 300 },
		);
	});

	test('secrets under 32 bytes are refused with a message that says what to do', () => {
		expect(() => assertApprovalSecret('short-secret')).toThrow(/12 bytes; it needs at least 32.*openssl rand/);
		expect(() => verifyReviewToken('abc', 'x'.repeat(31))).toThrow(/at least 32/);
		expect(() => assertApprovalSecret('é'.repeat(16))).not.toThrow(); // 32 bytes in UTF-8
	});

	test('links need an absolute http(s) base URL and a real date', () => {
		const input = { reviewId: REVIEW_ID, executionId: EXECUTION_ID, nodeId: NODE_ID, reviewerId: 'a@example.com', secret: SECRET };
		expect(() => createReviewLink({ ...input, baseUrl: 'javascript:alert(1)', expiresAt: Date.now() + HOUR_MS })).toThrow(/http:\/\/ or https:\/\//);
		expect(() => createReviewLink({ ...input, baseUrl: '/relative', expiresAt: Date.now() + HOUR_MS })).toThrow(/not an absolute URL/);
		expect(() => createReviewLink({ ...input, baseUrl: 'https://x.example', expiresAt: new Date('nope') })).toThrow(/not a valid date/);
		expect(createReviewLink({ ...input, baseUrl: 'https://x.example/w?keep=1', expiresAt: Date.now() + HOUR_MS })).toMatch(
			/^https:\/\/x\.example\/w\?keep=1&token=[A-Za-z0-9_-]+$/,
		);
	});

	test('review ids are random and URL-safe', () => {
		const ids = new Set(Array.from({ length: 100 }, newReviewId));
		expect(ids.size).toBe(100);
		for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
	});
});

describe('form tokens', () => {
	test('bound to the link token they were rendered for', () => {
		const token = reviewToken();
		const form = createFormToken(token, SECRET);
		expect(verifyFormToken(form, token, SECRET)).toBe(true);
		expect(verifyFormToken(form, reviewToken(), SECRET)).toBe(false);
		expect(verifyFormToken(form, token, `${SECRET}-other`)).toBe(false);
		expect(verifyFormToken(undefined, token, SECRET)).toBe(false);
		expect(createFormToken(token, SECRET)).not.toBe(form);
	});

	test('property: any changed character of a form token fails', () => {
		const token = reviewToken();
		const form = createFormToken(token, SECRET);
		fc.assert(
			fc.property(fc.nat({ max: form.length - 1 }), fc.constantFrom(...BASE64URL), (index, replacement) => {
				fc.pre(form[index] !== replacement);
				expect(verifyFormToken(form.slice(0, index) + replacement + form.slice(index + 1), token, SECRET)).toBe(false);
			}),
			{ numRuns: 1000 },
		);
	});

	test('a link token is not accepted as a form token, and vice versa', () => {
		const token = reviewToken();
		expect(verifyFormToken(token, token, SECRET)).toBe(false);
		expect(verifyReviewToken(createFormToken(token, SECRET), SECRET).ok).toBe(false);
	});
});

describe('sealed state (what a waiting execution carries but the agent\'s model must not read)', () => {
	const state = { id: 'r1', reviewers: ['grace@example.com'], context: [{ label: 'Lead', value: 'Ada « l’analyste »' }] };

	it('opens with the same secret only, and hides what it carries', () => {
		const sealed = sealState(state, SECRET);
		expect(sealed).toMatch(/^sealed1\.[A-Za-z0-9_-]+$/);
		expect(sealed).not.toContain('grace');
		expect(openSealedState(sealed, SECRET)).toEqual(state);
		expect(openSealedState(sealed, `${SECRET}-rotated`)).toBeUndefined();
		// Two seals of the same value differ (fresh IV), so equal requests are not recognisable.
		expect(sealState(state, SECRET)).not.toBe(sealed);
	});

	it('refuses anything changed, truncated or not sealed', () => {
		const sealed = sealState(state, SECRET);
		fc.assert(
			fc.property(fc.integer({ min: 'sealed1.'.length, max: sealed.length - 1 }), (index) => {
				const flipped = sealed[index] === 'A' ? 'B' : 'A';
				return openSealedState(sealed.slice(0, index) + flipped + sealed.slice(index + 1), SECRET) === undefined;
			}),
		);
		for (const bad of [sealed.slice(0, 30), 'sealed1.', JSON.stringify(state), undefined, 42, { sealed }]) {
			expect(openSealedState(bad, SECRET)).toBeUndefined();
		}
	});
});
