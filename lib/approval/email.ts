import { InputError } from '../types';
import { escapeHtml, escapeMultiline, safeHttpUrl } from './escape';
import { formatDateTime, formatHtml, formatText, messagesFor, resolveReviewLocale, type ReviewLocale } from './i18n';
import { renderContextValue } from './pages';
import type { ReviewContextField } from './types';

/**
 * Review request messages. They only ever link to the review page: a GET never decides, so nothing a mail
 * scanner or chat unfurler fetches can approve. No images at all, hence no tracking pixel and no remote load.
 * Both renderers take an optional `locale` (language and time zone of the texts and of the expiry date; English
 * and UTC by default).
 */

export interface ReviewEmailInput {
	subject: string;
	intro?: string;
	draft: string;
	context: ReviewContextField[];
	/** The reviewer's personal link (createReviewLink). */
	reviewUrl: string;
	expiresAt: Date;
	reviewerName?: string;
}

export interface RenderedEmail {
	subject: string;
	html: string;
	text: string;
}

function requireHttpUrl(url: string, field: string): string {
	const safe = safeHttpUrl(url);
	if (!safe) {
		throw new InputError(`${field}: the review link "${url}" must be an absolute http(s) URL, as createReviewLink makes.`, field);
	}
	return safe;
}

/** The full date (with the weekday) in messages that wait in an inbox or a channel. */
function formatExpiry(expiresAt: Date, locale?: ReviewLocale): string {
	return formatDateTime(expiresAt, locale, 'full');
}

/** Header values must stay on one line; collapsing line breaks also rules out header injection. */
function singleLine(value: string): string {
	return value.replace(/[\r\n\t\u2028\u2029]+/g, ' ').trim();
}

const FONT = 'font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif';

export function renderReviewEmail(input: ReviewEmailInput, locale?: ReviewLocale): RenderedEmail {
	const reviewUrl = requireHttpUrl(input.reviewUrl, 'reviewUrl');
	const subject = singleLine(input.subject);
	const { language } = resolveReviewLocale(locale);
	const messages = messagesFor(locale);
	const msg = messages.email;
	const greeting = input.reviewerName ? formatText(msg.greetingNamed, { name: input.reviewerName }) : msg.greeting;
	const intro = input.intro ?? msg.defaultIntro;
	const expiry = formatExpiry(input.expiresAt, locale);
	const linkStyle = 'color:#0b5cad';

	const contextRows = input.context
		.map(
			(field) =>
				`<tr><td style="padding:4px 12px 4px 0;color:#57606a;vertical-align:top">${escapeHtml(field.label)}</td>` +
				`<td style="padding:4px 0;vertical-align:top">${renderContextValue(field)}</td></tr>`,
		)
		.join('');
	const html =
		`<!DOCTYPE html><html lang="${escapeHtml(language)}"><head><meta charset="utf-8">` +
		'<meta name="viewport" content="width=device-width, initial-scale=1">' +
		`<title>${escapeHtml(subject)}</title></head>` +
		`<body style="margin:0;padding:0;background:#f4f5f7;${FONT};color:#1f2328">` +
		'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px">' +
		'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border:1px solid #d8dde3;border-radius:12px">' +
		`<tr><td style="padding:24px;font-size:16px;line-height:1.5">` +
		`<p style="margin:0 0 12px">${escapeHtml(greeting)}</p>` +
		`<p style="margin:0 0 16px">${escapeMultiline(intro)}</p>` +
		(contextRows ? `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px;font-size:14px">${contextRows}</table>` : '') +
		`<p style="margin:0 0 6px;font-size:13px;color:#57606a;text-transform:uppercase;letter-spacing:.04em">${escapeHtml(msg.draft)}</p>` +
		`<div style="margin:0 0 20px;padding:12px;border:1px solid #d8dde3;border-radius:8px;background:#fafbfc">${escapeMultiline(input.draft)}</div>` +
		`<p style="margin:0 0 20px"><a href="${escapeHtml(reviewUrl)}" style="display:inline-block;padding:12px 28px;background:#0b5cad;color:#ffffff;text-decoration:none;border-radius:8px;font-weight:600">${escapeHtml(msg.reviewButton)}</a></p>` +
		`<p style="margin:0 0 8px;font-size:13px;color:#57606a">${escapeHtml(msg.howTo)} ` +
		`${formatHtml(msg.expiry, { date: escapeHtml(expiry) })}</p>` +
		'<p style="margin:0;font-size:12px;color:#57606a;word-break:break-all">' +
		`${formatHtml(msg.fallback, { url: `<a href="${escapeHtml(reviewUrl)}" style="${linkStyle}">${escapeHtml(reviewUrl)}</a>` })}</p>` +
		'</td></tr></table></td></tr></table></body></html>';

	const contextText = input.context.map((field) => {
		const url = safeHttpUrl(field.url);
		return formatText(messages.labelValue, { label: field.label, value: field.value }) + (url && url !== field.value ? ` <${url}>` : '');
	});
	const text = [
		greeting,
		'',
		intro,
		'',
		...(contextText.length ? [...contextText, ''] : []),
		msg.draftText,
		'------',
		input.draft,
		'------',
		'',
		formatText(msg.reviewHere, { url: reviewUrl }),
		'',
		formatText(msg.expiry, { date: expiry }),
	].join('\n');
	return { subject, html, text };
}

export interface ChatReviewLink {
	reviewerName: string;
	url: string;
}

export interface ChatWebhookInput {
	format: 'slack' | 'teams';
	title: string;
	intro?: string;
	links: ChatReviewLink[];
	expiresAt: Date;
}

/** Slack treats only these three characters as control characters in text. */
function escapeSlack(value: string): string {
	return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack caps button labels at 75 characters and an actions block at 25 elements. */
const SLACK_BUTTON_LABEL_MAX = 75;
const SLACK_ACTIONS_MAX = 25;

/**
 * JSON body for a Slack or Teams incoming webhook: title, intro and one "Review as …" button per reviewer, linking to the
 * review page. User text goes out as plain text (Slack `plain_text`, Teams `TextRun`), so it cannot form links.
 * Everyone in the channel sees every button: use email for strictly personal links.
 */
export function renderChatWebhookPayload(input: ChatWebhookInput, locale?: ReviewLocale): Record<string, unknown> {
	const text = messagesFor(locale).chat;
	const links = input.links.map((link, index) => ({
		label: formatText(text.reviewAs, { name: singleLine(link.reviewerName) }),
		url: requireHttpUrl(link.url, `links[${index}].url`),
	}));
	const expiry = formatText(text.linksExpire, { date: formatExpiry(input.expiresAt, locale) });
	const lines = [singleLine(input.title), ...(input.intro ? [input.intro] : []), expiry];
	if (input.format === 'slack') {
		const buttonBlocks = [];
		for (let start = 0; start < links.length; start += SLACK_ACTIONS_MAX) {
			buttonBlocks.push({
				type: 'actions',
				elements: links.slice(start, start + SLACK_ACTIONS_MAX).map((link) => ({
					type: 'button',
					text: { type: 'plain_text', text: link.label.slice(0, SLACK_BUTTON_LABEL_MAX) },
					url: link.url,
				})),
			});
		}
		return {
			text: escapeSlack(lines[0]),
			blocks: [{ type: 'section', text: { type: 'plain_text', text: lines.join('\n') } }, ...buttonBlocks],
		};
	}
	return {
		type: 'message',
		attachments: [
			{
				contentType: 'application/vnd.microsoft.card.adaptive',
				content: {
					$schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
					type: 'AdaptiveCard',
					version: '1.4',
					body: lines.map((line, index) => ({
						type: 'RichTextBlock',
						inlines: [{ type: 'TextRun', text: line, weight: index === 0 ? 'Bolder' : 'Default' }],
					})),
					actions: links.map((link) => ({ type: 'Action.OpenUrl', title: link.label, url: link.url })),
				},
			},
		],
	};
}
