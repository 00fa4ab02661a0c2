import { backoffDelay, parseRetryAfter } from '../../lib/modelRetry';

describe('retry policy helpers', () => {
	it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms first', () => {
		const now = Date.parse('2025-01-01T00:00:00Z');
		expect(parseRetryAfter(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
		expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
		expect(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now)).toBe(7000);
		expect(parseRetryAfter(new Headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now)).toBe(0);
		expect(parseRetryAfter(new Headers({ 'retry-after': '2', 'retry-after-ms': '250' }), now)).toBe(250);
		expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
		expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
	});

	it('doubles the backoff per retry, jitters within [half, full] and caps it', () => {
		expect(backoffDelay(0, 500, 20_000, () => 0)).toBe(250);
		expect(backoffDelay(0, 500, 20_000, () => 1)).toBe(500);
		expect(backoffDelay(3, 500, 20_000, () => 1)).toBe(4000);
		expect(backoffDelay(10, 500, 20_000, () => 1)).toBe(20_000);
		expect(backoffDelay(10, 500, 20_000, () => 0)).toBe(10_000);
	});
});
