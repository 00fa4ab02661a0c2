import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { load } from 'cheerio';
import nodemailer from 'nodemailer';
import { type Browser, type Page } from 'playwright-core';

import { createReviewLink, InMemoryDecisionStore, renderReviewEmail, type ReviewEndpointOptions, type ReviewLocale } from '../../lib/approval';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';
import { CLASSIC_XSS, EXECUTION_ID, HOUR_MS, NODE_ID, REVIEW_ID, reviewContent, SECRET, USER_AGENTS } from './support/fixtures';
import { startReviewServer, type ReviewServer } from './support/reviewServer';
import { launchChromium } from '../support/chromium';

const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');
const MOBILE_VIEWPORT = { width: 412, height: 915 };

let browser: Browser;
let smtp: SmtpCapture;
let server: ReviewServer;
let options: ReviewEndpointOptions;

beforeAll(async () => {
	mkdirSync(SCREENSHOTS, { recursive: true });
	browser = await launchChromium();
	smtp = await startSmtpCapture();
});

afterAll(async () => {
	await browser?.close();
	await smtp?.close();
});

afterEach(() => server?.close());

async function serve(overrides: Partial<ReviewEndpointOptions> = {}): Promise<ReviewServer> {
	options = {
		secret: SECRET,
		store: new InMemoryDecisionStore(),
		content: reviewContent(),
		policy: { mode: 'first' },
		binding: { executionId: EXECUTION_ID, nodeId: NODE_ID, reviewId: REVIEW_ID },
		...overrides,
	};
	server = await startReviewServer(options);
	return server;
}

function link(baseUrl: string, reviewerId = 'ada.reviewer@example.com', expiresAt = Date.now() + 72 * HOUR_MS): string {
	return createReviewLink({ baseUrl, reviewId: REVIEW_ID, executionId: EXECUTION_ID, nodeId: NODE_ID, reviewerId, expiresAt, secret: SECRET });
}

/** A page that records everything that would betray an injection or a third-party request. */
async function watchedPage(origin: string): Promise<{ page: Page; problems: string[] }> {
	const page = await browser.newPage({ viewport: MOBILE_VIEWPORT, userAgent: USER_AGENTS.chrome });
	const problems: string[] = [];
	page.on('dialog', (dialog) => {
		problems.push(`dialog: ${dialog.message()}`);
		void dialog.dismiss();
	});
	page.on('console', (message) => {
		if (message.type() === 'error') problems.push(`console: ${message.text()}`);
	});
	page.on('request', (request) => {
		if (!request.url().startsWith(origin)) problems.push(`request: ${request.url()}`);
	});
	return { page, problems };
}

test('reviewer opens the emailed link, edits the draft, approves; the outcome carries the edit and the diff', async () => {
	const running = await serve();
	const personalLink = link(running.baseUrl);
	const content = reviewContent();

	// Deliver the link the way the node will: rendered email through real SMTP.
	const email = renderReviewEmail({
		subject: 'Review: follow-up to Ada Lovelace',
		intro: content.intro,
		draft: content.draft,
		context: content.context,
		reviewUrl: personalLink,
		expiresAt: new Date(Date.now() + 72 * HOUR_MS),
		reviewerName: 'Ada',
	});
	const messageNumber = smtp.messages.length + 1;
	const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, connectionTimeout: 5000 });
	await transport.sendMail({ from: 'n8n@example.com', to: 'ada.reviewer@example.com', ...email });
	transport.close();
	const mail = await smtp.waitForMessage(messageNumber);
	const $mail = load(mail.html as string);
	const reviewHref = $mail('a').filter((_index, element) => $mail(element).text() === 'Review').attr('href') as string;
	expect(reviewHref).toBe(personalLink);

	// Link scanners fetch it first: a mail client's link check, Slack's unfurler, curl, a browser-like prefetch.
	for (const userAgent of Object.values(USER_AGENTS)) {
		const scan = await fetch(reviewHref, { headers: { 'user-agent': userAgent } });
		expect(scan.status).toBe(200);
	}
	expect(running.responses.filter((response) => response.decision)).toEqual([]);

	const emailView = await browser.newPage({ viewport: { width: 680, height: 900 } });
	await emailView.setContent(mail.html as string);
	await emailView.screenshot({ path: join(SCREENSHOTS, 'approval-email.png'), fullPage: true });
	await emailView.close();

	const { page, problems } = await watchedPage(new URL(running.baseUrl).origin);
	await page.goto(reviewHref);
	await expect(page.locator('h1').textContent()).resolves.toBe(content.title);
	await page.screenshot({ path: join(SCREENSHOTS, 'approval-page.png'), fullPage: true });

	const edited = content.draft.replace('here is our pricing overview.', 'here is our pricing overview and the case study you asked for.');
	await page.fill('#finalText', edited);
	await page.fill('#comment', 'Added the case study link.');
	await Promise.all([page.waitForURL(reviewHref), page.click('button[value="approve"]')]);
	await expect(page.locator('h1').textContent()).resolves.toBe('Approved');

	expect(running.outcomes).toHaveLength(1);
	const outcome = running.outcomes[0];
	expect(outcome).toMatchObject({
		decision: 'approved',
		reviewer: 'ada.reviewer@example.com',
		comment: 'Added the case study link.',
		finalText: edited,
		originalDraft: content.draft,
		changed: true,
		ip: '127.0.0.1',
	});
	expect(outcome.userAgent).toBe(USER_AGENTS.chrome);
	expect(outcome.diff.changes.filter((change) => change.type === 'added').map((change) => change.value).join('')).toContain('the case study you asked for');
	expect(outcome.diff.unified).toContain('+thanks for the call today. As promised, here is our pricing overview and the case study you asked for.');

	// Back, reload, resubmit: the browser re-posts the same form; the page says who decided and when.
	await page.goBack();
	await page.reload();
	await expect(page.locator('h1').textContent()).resolves.toBe('This review is already decided');
	await expect(page.locator('p').first().textContent()).resolves.toMatch(/^Approved with edits by ada\.reviewer@example\.com on /);
	expect(running.outcomes).toHaveLength(1);
	expect(problems).toEqual([]);
	await page.close();
});

test('in a real browser, hostile content renders as text: no dialog, no script, no foreign request, CSP blocks nothing', async () => {
	const payload = CLASSIC_XSS.join('\n');
	const running = await serve({
		content: reviewContent({
			title: CLASSIC_XSS[1],
			draft: payload,
			context: CLASSIC_XSS.map((value, index) => ({ label: `Field ${index}`, value, url: index % 2 ? 'javascript:alert(1)' : value })),
		}),
	});
	const personalLink = link(running.baseUrl, '"><img src=x onerror=alert(1)>@example.com');
	const { page, problems } = await watchedPage(new URL(running.baseUrl).origin);
	await page.goto(personalLink);
	await expect(page.inputValue('#finalText')).resolves.toBe(payload.replace(/\u0000/g, ''));
	await expect(page.locator('h1').textContent()).resolves.toBe(CLASSIC_XSS[1]);
	await expect(page.locator('script, img, iframe, svg, base, meta[http-equiv]').count()).resolves.toBe(0);
	await expect(page.locator('a').count()).resolves.toBe(0);

	await page.fill('#comment', CLASSIC_XSS[0]);
	await Promise.all([page.waitForURL(personalLink), page.click('button[value="reject"]')]);
	await expect(page.locator('h1').textContent()).resolves.toBe('Rejected');
	await expect(page.locator('.draft-text').textContent()).resolves.toBe(CLASSIC_XSS[0]);
	expect(problems).toEqual([]);
	expect(running.outcomes[0]).toMatchObject({ decision: 'rejected', comment: CLASSIC_XSS[0], changed: false });
	await page.close();
});

test('in French (Europe/Paris): the e-mail and the page read in French, with accents, French dates and the zone; screenshots', async () => {
	const locale: ReviewLocale = { language: 'fr', timeZone: 'Europe/Paris' };
	const content = reviewContent({
		title: 'Relance\u00a0: Ada Lovelace (Moteurs Analytiques)',
		intro: 'Merci de vérifier la relance avant l’envoi\u00a0: le tarif et le ton.',
		draft:
			'Bonjour Ada,\n\nmerci pour notre échange d’aujourd’hui. Comme promis, voici notre grille tarifaire\u00a0: l’offre Essentiel coûte 29 € par mois pour cinq postes.\n\nÀ très bientôt,\nÉlodie',
		context: [
			{ label: 'Contact', value: 'Ada Lovelace' },
			{ label: 'Société', value: 'Moteurs Analytiques SARL' },
			{ label: 'Source', value: 'Page Tarifs', url: 'https://example.com/tarifs' },
		],
		requestedAt: '2026-12-03T13:05:00.000Z',
	});
	const running = await serve({ content, locale });
	// 2026-12-06 13:05 UTC is 14:05 in Paris (winter time).
	const expiresAt = Date.parse('2026-12-06T13:05:00.000Z');
	const now = new Date('2026-12-03T13:10:00.000Z');
	options.now = () => now;
	const personalLink = link(running.baseUrl, 'elodie@example.fr', expiresAt);

	const email = renderReviewEmail(
		{
			subject: content.title,
			intro: content.intro,
			draft: content.draft,
			context: content.context,
			reviewUrl: personalLink,
			expiresAt: new Date(expiresAt),
			reviewerName: 'Élodie',
		},
		locale,
	);
	expect(email.html).toContain('<html lang="fr">');
	expect(email.text).toContain('Ce lien personnel expire le dimanche 6 décembre 2026 à 14:05 (Europe/Paris)\u202f; merci de ne pas le transférer.');
	const emailView = await browser.newPage({ viewport: { width: 680, height: 900 } });
	await emailView.setContent(email.html);
	await expect(emailView.locator('a', { hasText: 'Relire le brouillon' }).getAttribute('href')).resolves.toBe(personalLink);
	await emailView.screenshot({ path: join(SCREENSHOTS, 'approval-email-fr.png'), fullPage: true });
	await emailView.close();

	const { page, problems } = await watchedPage(new URL(running.baseUrl).origin);
	await page.goto(personalLink);
	await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
	await expect(page.locator('h1').textContent()).resolves.toBe(content.title);
	await expect(page.locator('p.muted').first().textContent()).resolves.toBe('Demande envoyée le 3 déc. 2026 à 14:05 (Europe/Paris)');
	await expect(page.locator('button[value="approve"]').textContent()).resolves.toBe('Approuver');
	await expect(page.locator('button[value="reject"]').textContent()).resolves.toBe('Refuser');
	await page.screenshot({ path: join(SCREENSHOTS, 'approval-page-fr.png'), fullPage: true });

	await page.fill('#comment', 'Très bien, on envoie.');
	await Promise.all([page.waitForURL(personalLink), page.click('button[value="approve"]')]);
	await expect(page.locator('h1').textContent()).resolves.toBe('Approuvé');
	await expect(page.locator('p.muted').textContent()).resolves.toBe('Approuvé par elodie@example.fr le 3 déc. 2026 à 14:10 (Europe/Paris).');
	expect(running.outcomes[0]).toMatchObject({ decision: 'approved', comment: 'Très bien, on envoie.', finalText: content.draft, changed: false });
	expect(problems).toEqual([]);
	await page.close();
});
