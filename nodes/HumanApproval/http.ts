import type { IWebhookDescription, IWebhookFunctions } from 'n8n-workflow';

import { resolveReviewLocale, REVIEW_PAGE_HEADER, type ReviewLocale, type ReviewRequest } from '../../lib/approval';
import type { HtmlResponse } from '../../lib/approval/pages';

/** Decisions cannot be recorded right now: the reviewer is told to retry the same link in a minute. */
export const UNAVAILABLE_RETRY_SECONDS = 60;

/**
 * A node parameter read in a webhook request, which has no item: an expression that needs one (or any failure)
 * gives the fallback rather than failing the page.
 */
export function webhookParameter(ctx: IWebhookFunctions, name: string, fallback: unknown): unknown {
	try {
		return ctx.getNodeParameter(name, fallback) as unknown;
	} catch {
		return fallback;
	}
}

/** The path of the node's production webhook, the review links' own address (below the node's webhook id). */
export const FRONT_DOOR_PATH = 'review';

/** The webhooks of a node whose execution waits for a reviewer (Human Approval, Send Email After Review). */
export const REVIEW_WEBHOOKS: IWebhookDescription[] = [
	// The execution's resume URL: GET/HEAD show the review page, POST records a decision. n8n stops asking the
	// node once the execution has resumed, so links point at the front door below whenever it is registered.
	{ name: 'default', httpMethod: 'GET,HEAD,POST', responseMode: 'onReceived', path: '', restartWebhook: true, isFullPath: true },
	// The front door (see lib/approval/frontDoor.ts): the review links' own address, answered by the node for
	// as long as the workflow is published. n8n evaluates `$workflow.active` as false when it registers test
	// webhooks, so a manual run never waits for a call on it.
	{
		name: 'default',
		httpMethod: '={{ $workflow.active ? "GET,HEAD,POST" : "" }}',
		responseMode: 'onReceived',
		path: FRONT_DOOR_PATH,
		ndvHideUrl: true,
		ndvHideMethod: true,
	},
];

/** Production-webhook requests end in the front door's path; resume-URL requests end in the execution id. */
export function isFrontDoorRequest(ctx: IWebhookFunctions): boolean {
	const request = ctx.getRequestObject();
	const url = request.originalUrl || request.url || '';
	return url.split('?')[0].replace(/\/+$/, '').endsWith(`/${FRONT_DOOR_PATH}`);
}

export function reviewRequestOf(ctx: IWebhookFunctions): ReviewRequest {
	const request = ctx.getRequestObject();
	return {
		method: request.method,
		query: request.query as Record<string, unknown>,
		body: request.body as Record<string, unknown> | undefined,
		headers: request.headers,
		ip: request.ip,
	};
}

/** Writes one of our pages, marked as ours so the front door can tell it from n8n's own answers. */
export function sendPage(ctx: IWebhookFunctions, page: HtmlResponse): void {
	const response = ctx.getResponseObject();
	response.status(page.status);
	for (const [name, value] of Object.entries(page.headers)) response.setHeader(name, value);
	response.setHeader(REVIEW_PAGE_HEADER, '1');
	response.send(page.body);
}

/**
 * The node's Language and Time Zone as the front door reads them, without an item: an expression or an invalid
 * value falls back to English and UTC rather than failing the page.
 */
export function readLocaleInWebhook(ctx: IWebhookFunctions): ReviewLocale {
	const language = webhookParameter(ctx, 'language', undefined);
	const timeZone = webhookParameter(ctx, 'timeZone', undefined);
	return resolveReviewLocale({
		language: typeof language === 'string' ? (language as ReviewLocale['language']) : undefined,
		timeZone: typeof timeZone === 'string' && timeZone.trim() ? timeZone.trim() : undefined,
	});
}
