import { load } from 'cheerio';
import fc from 'fast-check';

import {
	escapeHtml,
	handleReviewRequest,
	InMemoryDecisionStore,
	renderChatWebhookPayload,
	renderReviewEmail,
	safeHttpUrl,
	type ReviewContent,
} from '../../lib/approval';
import {
	CLASSIC_XSS,
	formTokenOf,
	getRequest,
	HOUR_MS,
	injectionFindings,
	postRequest,
	reviewContent,
	reviewLink,
	reviewToken,
	SECRET,
	UNSAFE_URLS,
} from './support/fixtures';

/** Payload-shaped strings: HTML metacharacters, tag and handler fragments, bidi and control characters. */
const hostileText = fc.oneof(
	fc.constantFrom(...CLASSIC_XSS),
	fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '`', '&', '/', '=', ' ', '\n', 'script', 'img', 'onerror', 'on', 'textarea', 'javascript:', '\u202e', '\u2028', 'x', '#', ';') }),
	fc.string({ unit: 'grapheme' }),
);

/** What survives escaping and parsing: line breaks normalised to LF, control characters removed. */
function asParsed(text: string): string {
	return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').replace(/\r\n?/g, '\n');
}

function hostileContent(payload: string): ReviewContent {
	return reviewContent({
		title: payload,
		intro: payload,
		draft: payload,
		context: [
			{ label: payload, value: payload },
			{ label: 'Source', value: payload, url: payload },
		],
	});
}

async function renderAll(payload: string) {
	const options = {
		secret: SECRET,
		store: new InMemoryDecisionStore(),
		content: hostileContent(payload),
		policy: { mode: 'first' as const },
	};
	// The reviewer id comes from the signed link, so an attacker could only get one in through the sender's list.
	const token = reviewToken({ reviewerId: `${payload}@example.com` });
	const page = await handleReviewRequest(getRequest(token), options);
	const confirmation = await handleReviewRequest(
		postRequest(token, { formToken: formTokenOf(page.body), action: 'approve', finalText: payload, comment: payload }),
		options,
	);
	const alreadyDecided = await handleReviewRequest(getRequest(token), options);
	const email = renderReviewEmail({
		subject: payload,
		intro: payload,
		draft: payload,
		context: hostileContent(payload).context,
		reviewUrl: reviewLink(),
		expiresAt: new Date(Date.now() + HOUR_MS),
		reviewerName: payload,
	});
	return { page, confirmation, alreadyDecided, email };
}

describe('user content is escaped on every page and in the email', () => {
	test.each(CLASSIC_XSS)('classic payload %j comes out inert and intact', async (payload) => {
		const { page, confirmation, alreadyDecided, email } = await renderAll(payload);
		for (const html of [page.body, confirmation.body, alreadyDecided.body, email.html]) {
			expect(injectionFindings(html)).toEqual([]);
		}
		const $ = load(page.body);
		// Round trip: what the reviewer sees is exactly what was sent, not a mangled or executed version.
		expect($('textarea[name="finalText"]').text()).toBe(asParsed(payload));
		expect($('h1').text()).toBe(asParsed(payload));
		expect($('title').text()).toBe(asParsed(payload));
		expect($('dt').first().text()).toBe(asParsed(payload));
		expect(load(confirmation.body)('.draft-text').text()).toBe(asParsed(payload.trim()));
		expect(load(alreadyDecided.body)('bdi').text()).toBe(asParsed(`${payload}@example.com`.trim().toLowerCase()));
		expect(email.html).toContain(escapeHtml(payload).split('\n')[0]);
	});

	test('property: arbitrary hostile strings in draft, context, comment and reviewer never create markup', async () => {
		await fc.assert(
			fc.asyncProperty(hostileText, async (payload) => {
				const { page, confirmation, alreadyDecided, email } = await renderAll(payload);
				for (const html of [page.body, confirmation.body, alreadyDecided.body, email.html]) {
					expect(injectionFindings(html)).toEqual([]);
				}
				expect(load(page.body)('textarea[name="finalText"]').text()).toBe(asParsed(payload));
				// The page's structure does not depend on the payload: always the same elements.
				expect(load(page.body)('form, textarea, button, input').length).toBe(6);
			}),
			{ numRuns: 300 },
		);
	});

	test.each(UNSAFE_URLS)('context URL %j is shown as text, never as a link', async (url) => {
		const options = {
			secret: SECRET,
			store: new InMemoryDecisionStore(),
			content: reviewContent({ context: [{ label: 'Source', value: url, url }] }),
			policy: { mode: 'first' as const },
		};
		const page = await handleReviewRequest(getRequest(reviewToken()), options);
		const $ = load(page.body);
		expect($('a').length).toBe(0);
		expect($('dd').text()).toBe(url);
		expect(safeHttpUrl(url)).toBeUndefined();
		const link = reviewLink();
		const email = load(renderReviewEmail({ subject: 's', draft: 'd', context: options.content.context, reviewUrl: link, expiresAt: new Date() }).html);
		expect(email('a').map((_i, el) => email(el).attr('href')).get()).toEqual([link, link]);
	});

	test('the escape helper covers text and attribute contexts', () => {
		expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
		expect(escapeHtml(undefined)).toBe('');
	});

	test('email subject cannot inject headers; the email has no image and no remote resource', () => {
		const email = renderReviewEmail({
			subject: 'Review\r\nBcc: everyone@example.com',
			draft: 'd',
			context: [],
			reviewUrl: reviewLink(),
			expiresAt: new Date(),
		});
		expect(email.subject).toBe('Review Bcc: everyone@example.com');
		expect(load(email.html)('img, script, link, iframe, [src], [background]').length).toBe(0);
		expect(email.html).not.toMatch(/url\(/);
	});

	test('chat payloads carry user text as plain text and only the review links', () => {
		const url = reviewLink();
		const slack = renderChatWebhookPayload({
			format: 'slack',
			title: '<!channel> <https://evil.example|click> & more',
			intro: '*bold* [x](javascript:alert(1))',
			links: [{ reviewerName: 'Ada <script>', url }],
			expiresAt: new Date('2026-01-08T09:00:00Z'),
		});
		expect(slack.text).toBe('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more');
		expect(slack).toMatchObject({
			blocks: [
				{ type: 'section', text: { type: 'plain_text' } },
				{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Review as Ada <script>' }, url }] },
			],
		});
		const teams = renderChatWebhookPayload({ format: 'teams', title: '[x](https://evil.example)', links: [{ reviewerName: 'Ada', url }], expiresAt: new Date() });
		const card = (teams.attachments as Array<{ content: { body: Array<{ type: string }>; actions: unknown[] } }>)[0].content;
		expect(card.body.every((block) => block.type === 'RichTextBlock')).toBe(true);
		expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Review as Ada', url }]);
		expect(() => renderChatWebhookPayload({ format: 'slack', title: 't', links: [{ reviewerName: 'a', url: 'javascript:alert(1)' }], expiresAt: new Date() })).toThrow(/links\[0\]\.url.*http/);
	});
});
