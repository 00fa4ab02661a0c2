import type { DecisionStore } from './decisionStore';
import { normalizeLineBreaks } from './diff';
import { stripControlCharacters } from './escape';
import type { ReviewLocale } from './i18n';
import { buildOutcomeItem, resolveOutcome } from './outcome';
import {
	MAX_COMMENT_CHARS,
	renderAlreadyDecidedPage,
	renderConfirmationPage,
	renderLocalizedErrorPage,
	renderReviewPage,
	type HtmlResponse,
	type ShownDecision,
} from './pages';
import { createFormToken, normalizeReviewerId, TOKEN_PARAM, verifyFormToken, verifyReviewToken } from './token';
import type { ApprovalPolicy, ReviewClaims, ReviewContent, ReviewDecision, ReviewRequest, ReviewResponse } from './types';

export const MAX_FINAL_TEXT_CHARS = 200_000;
const MAX_USER_AGENT_CHARS = 512;

/** Losers of a race and replayed POSTs get 409; a GET of a decided review is a normal 200 page. */
const ALREADY_DECIDED_POST_STATUS = 409;

export interface ReviewEndpointOptions {
	secret: string;
	store: DecisionStore;
	content: ReviewContent;
	policy: ApprovalPolicy;
	/**
	 * The review this endpoint serves: a valid link of another review is refused — including an earlier review of
	 * the same node in the same execution (a loop), which only the review id tells apart.
	 */
	binding?: { executionId: string; nodeId: string; reviewId: string };
	now?: () => Date;
	/** Language and time zone of every page this endpoint answers with; English and UTC when absent. */
	locale?: ReviewLocale;
	/** Receives unexpected errors (the page itself shows none of it). */
	onError?: (error: unknown) => void;
}

/** Status of each refused link; the texts are the catalogue's `errors.<key>`. */
const LINK_ERRORS = { malformed: 400, tampered: 403, expired: 410 } as const;

/** The page of a link that is incomplete (400), tampered with or not this review's (403), or expired (410). */
export function linkErrorPage(error: keyof typeof LINK_ERRORS, locale?: ReviewLocale): HtmlResponse {
	return renderLocalizedErrorPage(LINK_ERRORS[error], error, locale);
}

function singleString(value: unknown): string | undefined {
	return typeof value === 'string' ? value : undefined;
}

/** One request header, case-insensitive, repeated values joined, cut to a length safe to store. */
export function headerValue(headers: ReviewRequest['headers'], name: string): string {
	const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
	const value = Array.isArray(entry?.[1]) ? entry[1].join(', ') : entry?.[1];
	return (value ?? '').slice(0, MAX_USER_AGENT_CHARS);
}

/** Key of one reviewer's own decision under the `all` policy; the bare review id holds the settling decision. */
function reviewerKey(claims: ReviewClaims): string {
	return `${claims.reviewId}:reviewer:${claims.reviewerId}`;
}

/**
 * The review endpoint: GET renders the page (and never decides), POST records a decision. Maps one request onto
 * one complete response; failures of the link or form become explained 4xx pages, and anything unexpected a
 * plain 500 page without details.
 */
export async function handleReviewRequest(request: ReviewRequest, options: ReviewEndpointOptions): Promise<ReviewResponse> {
	try {
		return await respond(request, options);
	} catch (error) {
		options.onError?.(error);
		return renderLocalizedErrorPage(500, 'serverError', options.locale);
	}
}

async function respond(request: ReviewRequest, options: ReviewEndpointOptions): Promise<ReviewResponse> {
	const method = request.method.toUpperCase();
	const { locale } = options;
	if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
		const page = renderLocalizedErrorPage(405, 'methodNotAllowed', locale);
		return { ...page, headers: { ...page.headers, Allow: 'GET, HEAD, POST' } };
	}
	const isPost = method === 'POST';
	const now = options.now?.() ?? new Date();
	// Under "all must approve" only one text can go out, and picking one reviewer's edit would silently drop the
	// others': every reviewer approves the draft as it is.
	const content = options.policy.mode === 'all' ? { ...options.content, allowEdits: false } : options.content;
	const token = singleString(request.query[TOKEN_PARAM]);
	const verified = verifyReviewToken(token, options.secret, now);
	if (!verified.ok) {
		const settled = verified.claims && (await options.store.get(verified.claims.reviewId));
		return settled ? alreadyDecided(isPost, settled, false, options) : linkErrorPage(verified.error, locale);
	}
	const { claims } = verified;
	const { policy, binding, store } = options;
	if (
		binding &&
		(binding.executionId !== claims.executionId || binding.nodeId !== claims.nodeId || binding.reviewId !== claims.reviewId)
	) {
		return linkErrorPage('tampered', locale);
	}
	if (policy.mode === 'all' && !policy.reviewers.map(normalizeReviewerId).includes(claims.reviewerId)) {
		return renderLocalizedErrorPage(403, 'notReviewer', locale);
	}

	const settled = await store.get(claims.reviewId);
	if (settled) return alreadyDecided(isPost, settled, false, options);
	if (policy.mode === 'all') {
		const own = await store.get(reviewerKey(claims));
		if (own) return alreadyDecided(isPost, own, true, options);
	}
	if (!isPost) {
		const page = renderReviewPage(
			{
				content,
				reviewerId: claims.reviewerId,
				formToken: createFormToken(token as string, options.secret),
				expiresAt: claims.expiresAt,
			},
			locale,
		);
		return method === 'HEAD' ? { ...page, body: '' } : page;
	}

	const form = readDecisionForm(request, content, token as string, options.secret, locale);
	if ('status' in form) return form;
	const decision: ReviewDecision = {
		...form,
		reviewer: claims.reviewerId,
		decidedAt: now.toISOString(),
		userAgent: headerValue(request.headers, 'user-agent'),
		ip: request.ip ?? '',
	};
	return policy.mode === 'first'
		? decideFirst(claims, decision, options)
		: decideAll(claims, decision, policy.reviewers, options);
}

/** The decision as the pages show it: whether the approved text is an edit is known here, from the draft. */
function shown(decision: ReviewDecision, options: ReviewEndpointOptions): ShownDecision {
	return { ...decision, edited: decision.action === 'approved' && decision.finalText !== options.content.draft };
}

function alreadyDecided(isPost: boolean, decision: ReviewDecision, ownDecisionOnly: boolean, options: ReviewEndpointOptions): HtmlResponse {
	return alreadyDecidedPage(isPost, shown(decision, options), ownDecisionOnly, options.locale);
}

/**
 * "Already decided by X at T": 409 to a POST (a replay or the loser of a race), 200 to a GET. Pass `edited` on the
 * decision when the draft is known, so an approval with edits says so.
 */
export function alreadyDecidedPage(isPost: boolean, decision: ShownDecision, ownDecisionOnly: boolean, locale?: ReviewLocale): HtmlResponse {
	return renderAlreadyDecidedPage(isPost ? ALREADY_DECIDED_POST_STATUS : 200, decision, ownDecisionOnly, locale);
}

type DecisionForm = Pick<ReviewDecision, 'action' | 'comment' | 'finalText'>;

function readDecisionForm(
	request: ReviewRequest,
	content: ReviewContent,
	token: string,
	secret: string,
	locale?: ReviewLocale,
): DecisionForm | HtmlResponse {
	const body = request.body ?? {};
	if (!verifyFormToken(body.formToken, token, secret)) return renderLocalizedErrorPage(403, 'foreignForm', locale);
	const action = singleString(body.action);
	if (action !== 'approve' && action !== 'reject') return renderLocalizedErrorPage(400, 'noDecision', locale);
	const comment = normalizeLineBreaks(singleString(body.comment) ?? '').trim();
	if (comment.length > MAX_COMMENT_CHARS) {
		return renderLocalizedErrorPage(400, 'commentTooLong', locale, { max: MAX_COMMENT_CHARS });
	}
	let finalText = content.draft;
	if (content.allowEdits) {
		const edited = singleString(body.finalText);
		if (edited === undefined) return renderLocalizedErrorPage(400, 'draftMissing', locale);
		if (edited.length > MAX_FINAL_TEXT_CHARS) {
			return renderLocalizedErrorPage(400, 'textTooLong', locale, { max: MAX_FINAL_TEXT_CHARS });
		}
		// Browsers send CRLF line breaks, and the page could not show control characters; an untouched draft must
		// come back byte-identical.
		const normalized = normalizeLineBreaks(edited);
		const unchanged = normalized === normalizeLineBreaks(stripControlCharacters(content.draft));
		finalText = unchanged ? content.draft : normalized;
	}
	return { action: action === 'approve' ? 'approved' : 'rejected', comment, finalText };
}

async function decideFirst(claims: ReviewClaims, decision: ReviewDecision, options: ReviewEndpointOptions): Promise<ReviewResponse> {
	const result = await options.store.decideOnce(claims.reviewId, decision);
	if (!result.won) return alreadyDecided(true, result.existing, false, options);
	return {
		...renderConfirmationPage(shown(decision, options), 0, options.locale),
		decision,
		outcome: buildOutcomeItem(
			{ status: 'decided', action: decision.action, deciding: decision, decisions: [decision] },
			options.content.draft,
			options.content.requestedAt,
		),
	};
}

/**
 * Under `all`, each reviewer decides once under their own key; whoever completes the set then writes the settling
 * decision under the review id — the same atomic operation, so exactly one response carries the outcome.
 */
async function decideAll(
	claims: ReviewClaims,
	decision: ReviewDecision,
	reviewers: string[],
	options: ReviewEndpointOptions,
): Promise<ReviewResponse> {
	const { store } = options;
	const own = await store.decideOnce(reviewerKey(claims), decision);
	if (!own.won) return alreadyDecided(true, own.existing, true, options);
	const recorded = await Promise.all(
		reviewers.map((reviewer) => store.get(reviewerKey({ ...claims, reviewerId: normalizeReviewerId(reviewer) }))),
	);
	const resolution = resolveOutcome(
		recorded.filter((entry): entry is ReviewDecision => entry !== undefined),
		{ mode: 'all', reviewers },
	);
	if (resolution.status === 'pending') {
		return { ...renderConfirmationPage(shown(decision, options), resolution.waitingFor.length, options.locale), decision };
	}
	const settle = await store.decideOnce(claims.reviewId, resolution.deciding);
	const confirmation = { ...renderConfirmationPage(shown(decision, options), 0, options.locale), decision };
	return settle.won
		? { ...confirmation, outcome: buildOutcomeItem(resolution, options.content.draft, options.content.requestedAt) }
		: confirmation;
}
