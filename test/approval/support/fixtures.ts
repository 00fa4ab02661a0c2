import { load } from 'cheerio';

import {
	createReviewLink,
	createReviewToken,
	type ReviewContent,
	type ReviewRequest,
	TOKEN_PARAM,
} from '../../../lib/approval';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const EXECUTION_ID = '4711';
export const NODE_ID = '5f0c2a3e-8d1b-4c6f-9a7e-2b3c4d5e6f70';
export const REVIEW_ID = 'rv-fixture-0001';
export const HOUR_MS = 60 * 60 * 1000;

export const USER_AGENTS = {
	chrome:
		'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
	office: 'Mozilla/5.0 (compatible; Microsoft Office/16.0; Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)',
	slackbot: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
	curl: 'curl/8.5.0',
};

/** Classic injection payloads, aimed at element content, attributes, URLs and bidi display. */
export const CLASSIC_XSS = [
	'<script>alert(1)</script>',
	'"><img src=x onerror=alert(1)>',
	"'><svg onload=alert(1)>",
	'</textarea><script>alert(1)</script>',
	'</title><script>alert(1)</script>',
	'<a href="javascript:alert(1)">x</a>',
	'javascript:alert(1)',
	'" autofocus onfocus="alert(1)',
	'`-alert(1)-`',
	'<iframe srcdoc="<script>alert(1)</script>">',
	'<style>*{display:none}</style>',
	'&lt;script&gt;alert(1)&lt;/script&gt;',
	'\u202egnp.exe',
	'\uFF1Cscript\uFF1Ealert(1)\uFF1C/script\uFF1E',
	'<scr\u0000ipt>alert(1)</scr\u0000ipt>',
	'<!--<script>alert(1)//-->',
	'<meta http-equiv="refresh" content="0;url=https://evil.example">',
	'<base href="https://evil.example/">',
];

/** URLs that must never become links. */
export const UNSAFE_URLS = [
	'javascript:alert(1)',
	'JaVaScRiPt:alert(1)',
	'java\tscript:alert(1)',
	'  javascript:alert(1)',
	'data:text/html,<script>alert(1)</script>',
	'vbscript:msgbox(1)',
	'//evil.example/path',
	'file:///etc/passwd',
];

export function reviewContent(overrides: Partial<ReviewContent> = {}): ReviewContent {
	return {
		title: 'Follow-up email to Ada Lovelace',
		intro: 'Please check the follow-up before it goes out.',
		draft: 'Hi Ada,\n\nthanks for the call today. As promised, here is our pricing overview.\n\nBest,\nSam',
		context: [
			{ label: 'Lead', value: 'Ada Lovelace' },
			{ label: 'Company', value: 'Analytical Engines Ltd' },
			{ label: 'Source', value: 'Pricing page', url: 'https://example.com/pricing' },
		],
		allowEdits: true,
		requestedAt: '2026-01-05T09:00:00.000Z',
		...overrides,
	};
}

export interface LinkOptions {
	reviewerId?: string;
	expiresAt?: number;
	reviewId?: string;
	executionId?: string;
	baseUrl?: string;
}

export function reviewToken(options: LinkOptions = {}): string {
	return createReviewToken({
		reviewId: options.reviewId ?? REVIEW_ID,
		executionId: options.executionId ?? EXECUTION_ID,
		nodeId: NODE_ID,
		reviewerId: options.reviewerId ?? 'ada.reviewer@example.com',
		expiresAt: options.expiresAt ?? Date.now() + 72 * HOUR_MS,
		secret: SECRET,
	});
}

export function reviewLink(options: LinkOptions = {}): string {
	return createReviewLink({
		baseUrl: options.baseUrl ?? 'https://n8n.example.com/webhook-waiting/4711/review',
		reviewId: options.reviewId ?? REVIEW_ID,
		executionId: options.executionId ?? EXECUTION_ID,
		nodeId: NODE_ID,
		reviewerId: options.reviewerId ?? 'ada.reviewer@example.com',
		expiresAt: options.expiresAt ?? Date.now() + 72 * HOUR_MS,
		secret: SECRET,
	});
}

export function getRequest(token: string, userAgent = USER_AGENTS.chrome): ReviewRequest {
	return { method: 'GET', query: { [TOKEN_PARAM]: token }, headers: { 'user-agent': userAgent }, ip: '203.0.113.7' };
}

export function postRequest(token: string, body: Record<string, unknown>, userAgent = USER_AGENTS.chrome): ReviewRequest {
	return { method: 'POST', query: { [TOKEN_PARAM]: token }, body, headers: { 'user-agent': userAgent }, ip: '203.0.113.7' };
}

/** The form token the review page embeds, read the way a browser would. */
export function formTokenOf(html: string): string {
	const value = load(html)('input[name="formToken"]').attr('value');
	if (!value) throw new Error('The review page has no form token.');
	return value;
}

/**
 * Structural XSS checks on a rendered document, independent of our escaper: parsed like a browser parses it,
 * there is no script, no event handler attribute, no non-http(s) link, no meta refresh, no base, no iframe.
 */
export function injectionFindings(html: string): string[] {
	const $ = load(html);
	const findings: string[] = [];
	if ($('script, iframe, img, svg, base, meta[http-equiv], object, embed').length) findings.push('active element');
	if ($('style').length > 1) findings.push('extra style element');
	$('*').each((_index, element) => {
		for (const name of Object.keys((element as { attribs?: Record<string, string> }).attribs ?? {})) {
			if (name.toLowerCase().startsWith('on')) findings.push(`event handler ${name}`);
			if (name.toLowerCase() === 'autofocus' || name.toLowerCase() === 'srcdoc') findings.push(`attribute ${name}`);
		}
	});
	$('a[href]').each((_index, element) => {
		const href = $(element).attr('href') ?? '';
		if (!/^https?:\/\//i.test(href)) findings.push(`unsafe link ${href}`);
	});
	return findings;
}
