import { load } from 'cheerio';
import nodemailer from 'nodemailer';

import { escapeHtml, renderReviewEmail } from '../../lib/approval';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { CLASSIC_XSS, HOUR_MS, injectionFindings, reviewContent, reviewLink } from './support/fixtures';

describe('review email over real SMTP', () => {
	let smtp: SmtpCapture;
	beforeAll(async () => {
		smtp = await startSmtpCapture();
	});
	afterAll(() => smtp.close());

	test('both parts carry the personal link and the escaped content; no images, no approve action', async () => {
		const link = reviewLink({ baseUrl: 'https://n8n.example.com/webhook-waiting/4711/review?lang=en' });
		const hostile = CLASSIC_XSS.slice(0, 3).join(' ');
		const content = reviewContent();
		const email = renderReviewEmail({
			subject: `Review: follow-up to Ada ${hostile}`,
			intro: content.intro,
			draft: `${content.draft}\n\nP.S. ${hostile}`,
			context: [...content.context, { label: 'Note', value: hostile, url: 'javascript:alert(1)' }],
			reviewUrl: link,
			expiresAt: new Date(Date.UTC(2026, 0, 8, 9, 0, 0)),
			reviewerName: 'Ada <b>Lovelace</b>',
		});
		const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, connectionTimeout: 5000 });
		await transport.sendMail({ from: 'n8n@example.com', to: 'ada.reviewer@example.com', ...email });
		transport.close();

		const mail = await smtp.waitForMessage(1);
		expect(mail.subject).toBe(email.subject);
		const html = mail.html as string;
		const text = mail.text as string;

		// Personal link: in the text part verbatim, in the HTML part as the button's and the fallback's href.
		expect(text).toContain(link);
		const $ = load(html);
		const hrefs = $('a').map((_index, element) => $(element).attr('href')).get();
		expect(hrefs).toEqual([content.context[2].url, link, link]);
		expect($('a').filter((_index, element) => $(element).text() === 'Review').attr('href')).toBe(link);
		expect(html).toContain(escapeHtml(link)); // the & between query parameters is escaped in the attribute

		// Escaped content: visible as text, never as markup.
		expect(injectionFindings(html)).toEqual([]);
		expect(html).toContain(escapeHtml(hostile));
		expect($('body').text()).toContain(`P.S. ${hostile}`);
		expect($('p').first().text()).toBe('Hello Ada <b>Lovelace</b>,');
		expect(text).toContain(`P.S. ${hostile}`);
		expect(text).toContain('Source: Pricing page <https://example.com/pricing>');
		expect(text).toContain(`Note: ${hostile}\n`);
		expect(text).not.toContain('javascript:alert(1)');
		expect(text).toMatch(/expires on Thursday, 8 January 2026 at 09:00 UTC/);

		// A GET must never decide, so the email offers no approve/reject link and loads nothing remote.
		expect($('img, [src], [background], link').length).toBe(0);
		expect($('[style]').map((_index, element) => $(element).attr('style')).get().join(' ')).not.toMatch(/url\(/i);
		expect(hrefs.some((href) => /approve|reject|action=/i.test(href ?? ''))).toBe(false);
		expect(mail.attachments).toEqual([]);
		// The plain-text part is text, not the HTML with tags stripped badly.
		expect(text).not.toMatch(/<\/?(table|td|div|br)\b/);
	});

	test('a link that is not http(s) is refused with the field name', () => {
		expect(() =>
			renderReviewEmail({ subject: 's', draft: 'd', context: [], reviewUrl: 'javascript:alert(1)', expiresAt: new Date(Date.now() + HOUR_MS) }),
		).toThrow(/reviewUrl: the review link "javascript:alert\(1\)" must be an absolute http\(s\) URL/);
	});
});
