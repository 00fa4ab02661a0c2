import { randomBytes } from 'node:crypto';

import { escapeHtml, safeHttpUrl } from './escape';
import {
	formatHtml,
	formatNumber,
	messagesFor,
	pluralText,
	resolveReviewLocale,
	timeHtml,
	type ErrorPageKey,
	type Messages,
	type ReviewLocale,
} from './i18n';
import type { ReviewContent, ReviewContextField, ReviewDecision } from './types';

/**
 * Review pages: complete, self-contained HTML documents. No script, no remote resource; the one inline
 * stylesheet is allowed by a per-response CSP nonce. Every piece of user content goes through escapeHtml, and so
 * does the static text of the message catalogue (formatHtml). Every renderer takes an optional `locale`
 * (language and time zone; English and UTC by default): `<html lang>`, texts and dates follow it.
 */

export const MAX_COMMENT_CHARS = 5_000;

export interface HtmlResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
}

const STYLES = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2328;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:720px;margin:0 auto;padding:16px}
.card{background:#fff;border:1px solid #d8dde3;border-radius:12px;padding:20px;margin-bottom:16px}
h1{font-size:1.4rem;margin:0 0 8px}
h2{font-size:1rem;margin:0 0 8px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
p{margin:0 0 12px}
dl{display:grid;grid-template-columns:minmax(90px,max-content) 1fr;gap:6px 16px;margin:0}
dt{color:#57606a}
dd{margin:0;overflow-wrap:anywhere}
a{color:#0b5cad}
label{display:block;font-weight:600;margin:12px 0 6px}
textarea{width:100%;font:inherit;padding:10px;border:1px solid #b6bec8;border-radius:8px;resize:vertical}
textarea.draft{min-height:16rem}
.draft-text{white-space:pre-wrap;overflow-wrap:anywhere;padding:10px;border:1px solid #d8dde3;border-radius:8px;background:#fafbfc}
.actions{display:flex;gap:12px;margin:16px 0 12px;flex-wrap:wrap}
form label:first-of-type{margin-top:0}
button{flex:1 1 140px;font:inherit;font-weight:600;padding:14px;border:0;border-radius:8px;cursor:pointer;color:#fff}
.approve{background:#1a7f37}
.reject{background:#cf222e}
.muted{color:#57606a;font-size:.9rem}
.status{font-size:2.2rem;line-height:1;margin-bottom:8px}
`;

/** Security headers of every review response; the CSP nonce must match the page's <style>. */
export function securityHeaders(styleNonce: string): Record<string, string> {
	return {
		'Content-Type': 'text/html; charset=utf-8',
		'Content-Security-Policy':
			`default-src 'none'; style-src 'nonce-${styleNonce}'; form-action 'self'; ` +
			"frame-ancestors 'none'; base-uri 'none'",
		'X-Frame-Options': 'DENY',
		'X-Content-Type-Options': 'nosniff',
		'Referrer-Policy': 'no-referrer',
		'Cache-Control': 'no-store',
		'X-Robots-Tag': 'noindex, nofollow',
	};
}

function htmlResponse(status: number, title: string, mainHtml: string, locale?: Partial<ReviewLocale>): HtmlResponse {
	const nonce = randomBytes(16).toString('base64');
	const { language } = resolveReviewLocale(locale);
	const body =
		`<!DOCTYPE html><html lang="${escapeHtml(language)}"><head><meta charset="utf-8">` +
		'<meta name="viewport" content="width=device-width, initial-scale=1">' +
		'<meta name="robots" content="noindex, nofollow">' +
		`<title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLES}</style></head>` +
		`<body><main>${mainHtml}</main></body></html>`;
	return { status, headers: securityHeaders(nonce), body };
}

/** User text isolated with <bdi> so right-to-left override characters cannot flip the sentence around it. */
function userText(value: string): string {
	return `<bdi>${escapeHtml(value)}</bdi>`;
}

export function renderContextValue(field: ReviewContextField): string {
	const href = safeHttpUrl(field.url);
	return href
		? `<a href="${escapeHtml(href)}" rel="noopener noreferrer nofollow">${escapeHtml(field.value || href)}</a>`
		: escapeHtml(field.value);
}

function contextCard(context: ReviewContextField[], text: Messages): string {
	if (!context.length) return '';
	const rows = context.map((field) => `<dt>${escapeHtml(field.label)}</dt><dd>${renderContextValue(field)}</dd>`).join('');
	return `<section class="card"><h2>${escapeHtml(text.review.context)}</h2><dl>${rows}</dl></section>`;
}

export interface ReviewPageInput {
	content: ReviewContent;
	reviewerId: string;
	formToken: string;
	expiresAt: number;
}

export function renderReviewPage(
	{ content, reviewerId, formToken, expiresAt }: ReviewPageInput,
	locale?: ReviewLocale,
): HtmlResponse {
	const text = messagesFor(locale);
	// The HTML parser drops one newline right after <textarea>; writing one ourselves keeps a leading newline of
	// the draft, so an untouched draft comes back unchanged.
	const draft = content.allowEdits
		? `<label for="finalText">${escapeHtml(text.review.draftEditable)}</label>` +
			`<textarea class="draft" id="finalText" name="finalText">\n${escapeHtml(content.draft)}</textarea>`
		: `<h2>${escapeHtml(text.review.draft)}</h2><div class="draft-text">${escapeHtml(content.draft)}</div>`;
	const main =
		`<section class="card"><h1>${escapeHtml(content.title)}</h1>` +
		(content.intro ? `<p>${escapeHtml(content.intro)}</p>` : '') +
		`<p class="muted">${formatHtml(text.review.requestedOn, { date: timeHtml(content.requestedAt, locale) })}</p></section>` +
		contextCard(content.context, text) +
		// No action attribute: the form posts back to this very URL, signed token included.
		`<form class="card" method="post"><input type="hidden" name="formToken" value="${escapeHtml(formToken)}">` +
		draft +
		`<label for="comment">${escapeHtml(text.review.comment)}</label>` +
		`<textarea id="comment" name="comment" rows="3" maxlength="${MAX_COMMENT_CHARS}"></textarea>` +
		`<div class="actions"><button type="submit" name="action" value="approve" class="approve">${escapeHtml(text.review.approve)}</button>` +
		`<button type="submit" name="action" value="reject" class="reject">${escapeHtml(text.review.reject)}</button></div>` +
		`<p class="muted">${formatHtml(text.review.reviewingAs, { reviewer: userText(reviewerId), date: timeHtml(expiresAt, locale) })}</p></form>`;
	return htmlResponse(200, content.title, main, locale);
}

/**
 * A recorded decision as the pages show it. `edited` says whether the approved text differs from the draft; only
 * the caller knows the draft, so without it an approval reads plainly "Approved".
 */
export type ShownDecision = ReviewDecision & { edited?: boolean };

function actionLabel(decision: ShownDecision, text: Messages): string {
	return decision.action === 'approved' ? text.decision.approved : text.decision.rejected;
}

/** "Approved by X on T." — who, which decision, when; the reviewer isolated in <bdi>, the date in <time>. */
function decidedLine(decision: ShownDecision, text: Messages, locale?: ReviewLocale): string {
	const template =
		decision.action === 'rejected'
			? text.decision.rejectedBy
			: decision.edited
				? text.decision.approvedWithEditsBy
				: text.decision.approvedBy;
	return formatHtml(template, { reviewer: userText(decision.reviewer), date: timeHtml(decision.decidedAt, locale) });
}

export function renderConfirmationPage(decision: ShownDecision, waitingFor: number, locale?: ReviewLocale): HtmlResponse {
	const text = messagesFor(locale);
	const next = waitingFor
		? formatHtml(pluralText(text.confirmation.waitingFor, waitingFor, locale), { count: escapeHtml(formatNumber(waitingFor, locale)) })
		: escapeHtml(text.confirmation.done);
	const label = actionLabel(decision, text);
	const main =
		`<section class="card"><div class="status">${decision.action === 'approved' ? '✓' : '✗'}</div>` +
		`<h1>${escapeHtml(label)}</h1><p>${next}</p>` +
		(decision.comment
			? `<h2>${escapeHtml(text.confirmation.yourComment)}</h2><p class="draft-text">${escapeHtml(decision.comment)}</p>`
			: '') +
		`<p class="muted">${decidedLine(decision, text, locale)}</p></section>`;
	return htmlResponse(200, label, main, locale);
}

/** "Already decided by X at T" — for replays, late visits and the losers of a race. */
export function renderAlreadyDecidedPage(
	status: number,
	decision: ShownDecision,
	ownDecisionOnly: boolean,
	locale?: ReviewLocale,
): HtmlResponse {
	const text = messagesFor(locale);
	const heading = ownDecisionOnly ? text.alreadyDecided.headingOwn : text.alreadyDecided.headingSettled;
	const main =
		`<section class="card"><h1>${escapeHtml(heading)}</h1>` +
		`<p>${decidedLine(decision, text, locale)}</p>` +
		(ownDecisionOnly ? `<p class="muted">${escapeHtml(text.alreadyDecided.othersPending)}</p>` : '') +
		`<p class="muted">${escapeHtml(text.alreadyDecided.nothingMore)}</p></section>`;
	return htmlResponse(status, heading, main, locale);
}

/** A page with a heading and one paragraph of already-safe HTML. */
function noticePage(status: number, heading: string, paragraphHtml: string, locale?: ReviewLocale): HtmlResponse {
	return htmlResponse(status, heading, `<section class="card"><h1>${escapeHtml(heading)}</h1><p>${paragraphHtml}</p></section>`, locale);
}

/**
 * The wait ran out before anyone decided (a link opened after n8n resumed the execution through "Timed out"):
 * when it closed, and that the workflow went on without approval.
 */
export function renderTimedOutPage(
	status: number,
	{ expiredAt }: { expiredAt: Date | string | number },
	locale?: ReviewLocale,
): HtmlResponse {
	const text = messagesFor(locale);
	return noticePage(status, text.closed.timedOutHeading, formatHtml(text.closed.timedOut, { date: timeHtml(expiredAt, locale) }), locale);
}

/**
 * The review is over and no decision is known here (the execution was stopped or deleted, or the decisions were
 * kept in process memory and n8n restarted): nothing was recorded from this visit.
 */
export function renderReviewClosedPage(status: number, locale?: ReviewLocale): HtmlResponse {
	const text = messagesFor(locale);
	return noticePage(status, text.closed.closedHeading, escapeHtml(text.closed.closed), locale);
}

/** The same page, telling browsers and clients when to try again (pages of a transient state). */
export function withRetryAfter(page: HtmlResponse, seconds: number): HtmlResponse {
	return { ...page, headers: { ...page.headers, 'Retry-After': String(seconds) } };
}

/** Another request is settling the review right now; the caller adds Retry-After. */
export function renderBeingDecidedPage(status: number, locale?: ReviewLocale): HtmlResponse {
	const text = messagesFor(locale);
	return noticePage(status, text.closed.beingDecidedHeading, escapeHtml(text.closed.beingDecided), locale);
}

/** Decisions cannot be recorded now (decision store or credential unavailable); the review stays open. */
export function renderUnavailablePage(status: number, locale?: ReviewLocale): HtmlResponse {
	const text = messagesFor(locale);
	return noticePage(status, text.closed.unavailableHeading, escapeHtml(text.closed.unavailable), locale);
}

/** One of the catalogue's error pages; `{max}` and other placeholders are filled with `values` (plain text). */
export function renderLocalizedErrorPage(
	status: number,
	key: ErrorPageKey,
	locale?: ReviewLocale,
	values: Record<string, string | number> = {},
): HtmlResponse {
	const { heading, advice } = messagesFor(locale).errors[key];
	const htmlValues = Object.fromEntries(
		Object.entries(values).map(([name, value]) => [name, escapeHtml(typeof value === 'number' ? formatNumber(value, locale) : value)]),
	);
	return noticePage(status, heading, formatHtml(advice, htmlValues), locale);
}

/** A plain error page: a heading and what to do, never internals. Texts are the caller's, in the locale's language. */
export function renderErrorPage(status: number, heading: string, advice: string, locale?: ReviewLocale): HtmlResponse {
	return noticePage(status, heading, escapeHtml(advice), locale);
}
