import type { DecisionStore } from './decisionStore';
import { alreadyDecidedPage, linkErrorPage } from './handler';
import type { ReviewLocale } from './i18n';
import {
	renderBeingDecidedPage,
	renderReviewClosedPage,
	renderTimedOutPage,
	renderUnavailablePage,
	withRetryAfter,
	type HtmlResponse,
} from './pages';
import { TOKEN_PARAM, verifyReviewToken } from './token';
import type { ReviewClaims, ReviewRequest } from './types';

/**
 * The review front door: the address in every emailed link, served by the node itself for as long as its workflow
 * is published — also after the execution has resumed, when n8n answers the execution's resume URL on its own
 * (JSON 409 "has finished already") before any node is asked.
 *
 * It answers what the decision store and the signed link can tell (decided, timed out, tampered) and forwards the
 * rest (the review page, a decision) to the waiting execution's resume URL, one request per review at a time, so
 * simultaneous clicks never meet n8n's own race on resuming. Whatever n8n answers there in place of the node
 * becomes one of our pages, never n8n's JSON.
 */

/** Our pages carry this header, so a forwarded answer from the node tells itself apart from n8n's own. */
export const REVIEW_PAGE_HEADER = 'x-symbiotic-review-page';

const RETRY_AFTER_SECONDS = 5;

/** The headers of a forwarded page that reach the reviewer: the page's own, none of the transport's. */
const RELAYED_HEADERS = [
	'content-type',
	'content-security-policy',
	'x-frame-options',
	'x-content-type-options',
	'referrer-policy',
	'cache-control',
	'x-robots-tag',
	'retry-after',
	'allow',
];

/** What the resume URL answered to a forwarded request. */
export interface ForwardedAnswer {
	status: number;
	headers: Record<string, string>;
	body: string;
}

export interface FrontDoorOptions {
	secret: string;
	/** Undefined when the store could not be opened: nothing can be decided, the page says to retry. */
	store: DecisionStore | undefined;
	locale?: ReviewLocale;
	/** Sends the request on to the waiting execution's resume URL; throws when it cannot be reached. */
	forward(claims: ReviewClaims, token: string): Promise<ForwardedAnswer>;
	now?: () => Date;
	onError?: (error: unknown) => void;
}

/** One queue per review in this process: a forwarded decision finishes before the next request is looked at. */
const queues = new Map<string, Promise<unknown>>();

function inTurn<T>(key: string, task: () => Promise<T>): Promise<T> {
	const previous = queues.get(key) ?? Promise.resolve();
	const run = previous.then(task, task);
	const settled = run.catch(() => undefined);
	queues.set(key, settled);
	void settled.then(() => {
		if (queues.get(key) === settled) queues.delete(key);
	});
	return run;
}

function forHead(method: string, page: HtmlResponse): HtmlResponse {
	return method === 'HEAD' ? { ...page, body: '' } : page;
}

/** Never throws: n8n turns an exception of a production webhook into a failed execution of the workflow. */
export async function answerAtFrontDoor(request: ReviewRequest, options: FrontDoorOptions): Promise<HtmlResponse> {
	const method = request.method.toUpperCase();
	try {
		return forHead(method, await answer(request, method, options));
	} catch (error) {
		options.onError?.(error);
		return forHead(method, withRetryAfter(renderUnavailablePage(503, options.locale), RETRY_AFTER_SECONDS));
	}
}

async function answer(request: ReviewRequest, method: string, options: FrontDoorOptions): Promise<HtmlResponse> {
	const { store, locale } = options;
	const isPost = method === 'POST';
	const token = typeof request.query[TOKEN_PARAM] === 'string' ? (request.query[TOKEN_PARAM] as string) : undefined;
	const verified = verifyReviewToken(token, options.secret, options.now?.() ?? new Date());
	if (!verified.claims) return linkErrorPage(verified.ok ? 'malformed' : verified.error, locale);
	const { claims } = verified;
	if (!store) return withRetryAfter(renderUnavailablePage(503, locale), RETRY_AFTER_SECONDS);

	const decided = async () => {
		const settled = await store.get(claims.reviewId);
		return settled && alreadyDecidedPage(isPost, settled, false, locale);
	};
	const early = await decided();
	if (early) return early;
	// The link expires when the wait does: with no decision recorded, the review timed out.
	if (!verified.ok) return renderTimedOutPage(410, { expiredAt: claims.expiresAt }, locale);

	return await inTurn(claims.reviewId, async () => {
		const meanwhile = await decided();
		if (meanwhile) return meanwhile;
		const forwarded = await options.forward(claims, token as string);
		if (forwarded.headers[REVIEW_PAGE_HEADER]) return relayed(forwarded);
		// n8n answered in place of the node: the execution is resuming, finished, stopped or gone.
		const late = await decided();
		if (late) return late;
		// 409 "is running already" and n8n's 500s of two requests resuming at once: a decision is being applied.
		if ((forwarded.status === 409 && /running/i.test(forwarded.body)) || forwarded.status >= 500) {
			return withRetryAfter(renderBeingDecidedPage(503, locale), RETRY_AFTER_SECONDS);
		}
		if (forwarded.status === 401) return linkErrorPage('tampered', locale);
		return renderReviewClosedPage(410, locale);
	});
}

function relayed(forwarded: ForwardedAnswer): HtmlResponse {
	const headers = Object.fromEntries(
		Object.entries(forwarded.headers).filter(([name]) => RELAYED_HEADERS.includes(name.toLowerCase())),
	);
	return { status: forwarded.status, headers, body: forwarded.body };
}
