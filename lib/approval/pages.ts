import { randomBytes } from 'node:crypto';

import { escapeHtml, safeHttpUrl } from './escape';
import type { ReviewContent, ReviewContextField, ReviewDecision } from './types';

/**
 * Review pages: complete, self-contained HTML documents. No script, no remote resource; the one inline
 * stylesheet is allowed by a per-response CSP nonce. Every piece of user content goes through escapeHtml.
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

function htmlResponse(status: number, title: string, mainHtml: string): HtmlResponse {
	const nonce = randomBytes(16).toString('base64');
	const body =
		'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
		'<meta name="viewport" content="width=device-width, initial-scale=1">' +
		'<meta name="robots" content="noindex, nofollow">' +
		`<title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLES}</style></head>` +
		`<body><main>${mainHtml}</main></body></html>`;
	return { status, headers: securityHeaders(nonce), body };
}

/** Dates are shown in UTC (the page has no script to learn the reader's zone) inside a machine-readable <time>. */
function formatTime(iso: string | number): string {
	const date = new Date(iso);
	const readable = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date);
	return `<time datetime="${escapeHtml(date.toISOString())}">${escapeHtml(readable)} UTC</time>`;
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

function contextCard(context: ReviewContextField[]): string {
	if (!context.length) return '';
	const rows = context.map((field) => `<dt>${escapeHtml(field.label)}</dt><dd>${renderContextValue(field)}</dd>`).join('');
	return `<section class="card"><h2>Context</h2><dl>${rows}</dl></section>`;
}

export interface ReviewPageInput {
	content: ReviewContent;
	reviewerId: string;
	formToken: string;
	expiresAt: number;
}

export function renderReviewPage({ content, reviewerId, formToken, expiresAt }: ReviewPageInput): HtmlResponse {
	// The HTML parser drops one newline right after <textarea>; writing one ourselves keeps a leading newline of
	// the draft, so an untouched draft comes back unchanged.
	const draft = content.allowEdits
		? `<label for="finalText">Draft — you can edit it before approving</label>` +
			`<textarea class="draft" id="finalText" name="finalText">\n${escapeHtml(content.draft)}</textarea>`
		: `<h2>Draft</h2><div class="draft-text">${escapeHtml(content.draft)}</div>`;
	const main =
		`<section class="card"><h1>${escapeHtml(content.title)}</h1>` +
		(content.intro ? `<p>${escapeHtml(content.intro)}</p>` : '') +
		`<p class="muted">Requested on ${formatTime(content.requestedAt)}</p></section>` +
		contextCard(content.context) +
		// No action attribute: the form posts back to this very URL, signed token included.
		`<form class="card" method="post"><input type="hidden" name="formToken" value="${escapeHtml(formToken)}">` +
		draft +
		`<label for="comment">Comment (optional)</label>` +
		`<textarea id="comment" name="comment" rows="3" maxlength="${MAX_COMMENT_CHARS}"></textarea>` +
		'<div class="actions"><button type="submit" name="action" value="approve" class="approve">Approve</button>' +
		'<button type="submit" name="action" value="reject" class="reject">Reject</button></div>' +
		`<p class="muted">Reviewing as ${userText(reviewerId)}. This link expires on ${formatTime(expiresAt)}.</p></form>`;
	return htmlResponse(200, content.title, main);
}

function actionLabel(decision: ReviewDecision): string {
	return decision.action === 'approved' ? 'Approved' : 'Rejected';
}

export function renderConfirmationPage(decision: ReviewDecision, waitingFor: number): HtmlResponse {
	const next = waitingFor
		? `Your decision is recorded. ${waitingFor} more reviewer${waitingFor === 1 ? '' : 's'} must still approve.`
		: 'Your decision is recorded and the workflow continues. You can close this page.';
	const main =
		`<section class="card"><div class="status">${decision.action === 'approved' ? '✓' : '✗'}</div>` +
		`<h1>${actionLabel(decision)}</h1><p>${next}</p>` +
		(decision.comment ? `<h2>Your comment</h2><p class="draft-text">${escapeHtml(decision.comment)}</p>` : '') +
		`<p class="muted">${actionLabel(decision)} by ${userText(decision.reviewer)} on ${formatTime(decision.decidedAt)}.</p></section>`;
	return htmlResponse(200, actionLabel(decision), main);
}

/** "Already decided by X at T" — for replays, late visits and the losers of a race. */
export function renderAlreadyDecidedPage(status: number, decision: ReviewDecision, ownDecisionOnly: boolean): HtmlResponse {
	const heading = ownDecisionOnly ? 'You have already decided' : 'This review is already decided';
	const main =
		`<section class="card"><h1>${heading}</h1>` +
		`<p>${actionLabel(decision)} by ${userText(decision.reviewer)} on ${formatTime(decision.decidedAt)}.</p>` +
		(ownDecisionOnly ? '<p class="muted">Other reviewers still have to decide.</p>' : '') +
		'<p class="muted">Nothing more to do here; you can close this page.</p></section>';
	return htmlResponse(status, heading, main);
}

/** A plain error page: a heading and what to do, never internals. */
export function renderErrorPage(status: number, heading: string, advice: string): HtmlResponse {
	return htmlResponse(status, heading, `<section class="card"><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(advice)}</p></section>`);
}
