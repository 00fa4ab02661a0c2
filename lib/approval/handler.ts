import type { DecisionStore } from './decisionStore';
import { normalizeLineBreaks } from './diff';
import { stripControlCharacters } from './escape';
import { buildOutcomeItem, resolveOutcome } from './outcome';
import {
	MAX_COMMENT_CHARS,
	renderAlreadyDecidedPage,
	renderConfirmationPage,
	renderErrorPage,
	renderReviewPage,
	type HtmlResponse,
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
	/** Receives unexpected errors (the page itself shows none of it). */
	onError?: (error: unknown) => void;
}

const LINK_ERRORS = {
	malformed: () =>
		renderErrorPage(400, 'This link is incomplete', 'Open the review link from your email again; copy the whole link if you paste it.'),
	tampered: () =>
		renderErrorPage(403, 'This link is not valid', 'The link was changed or does not belong to this review. Open the link from your email.'),
	expired: () =>
		renderErrorPage(410, 'This review link has expired', 'The time to review has run out. Ask the sender for a new review request.'),
};

function singleString(value: unknown): string | undefined {
	return typeof value === 'string' ? value : undefined;
}

function headerValue(headers: ReviewRequest['headers'], name: string): string {
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
		return renderErrorPage(500, 'Something went wrong', 'Your decision was not recorded. Try again in a minute.');
	}
}

async function respond(request: ReviewRequest, options: ReviewEndpointOptions): Promise<ReviewResponse> {
	const method = request.method.toUpperCase();
	if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
		const page = renderErrorPage(405, 'Method not allowed', 'Open the review link in a browser.');
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
		return settled ? alreadyDecided(isPost, settled, false) : LINK_ERRORS[verified.error]();
	}
	const { claims } = verified;
	const { policy, binding, store } = options;
	if (
		binding &&
		(binding.executionId !== claims.executionId || binding.nodeId !== claims.nodeId || binding.reviewId !== claims.reviewId)
	) {
		return LINK_ERRORS.tampered();
	}
	if (policy.mode === 'all' && !policy.reviewers.map(normalizeReviewerId).includes(claims.reviewerId)) {
		return renderErrorPage(403, 'You are not a reviewer of this request', 'Ask the sender to add you as a reviewer.');
	}

	const settled = await store.get(claims.reviewId);
	if (settled) return alreadyDecided(isPost, settled, false);
	if (policy.mode === 'all') {
		const own = await store.get(reviewerKey(claims));
		if (own) return alreadyDecided(isPost, own, true);
	}
	if (!isPost) {
		const page = renderReviewPage({
			content,
			reviewerId: claims.reviewerId,
			formToken: createFormToken(token as string, options.secret),
			expiresAt: claims.expiresAt,
		});
		return method === 'HEAD' ? { ...page, body: '' } : page;
	}

	const form = readDecisionForm(request, content, token as string, options.secret);
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

function alreadyDecided(isPost: boolean, decision: ReviewDecision, ownDecisionOnly: boolean): HtmlResponse {
	return renderAlreadyDecidedPage(isPost ? ALREADY_DECIDED_POST_STATUS : 200, decision, ownDecisionOnly);
}

type DecisionForm = Pick<ReviewDecision, 'action' | 'comment' | 'finalText'>;

function readDecisionForm(request: ReviewRequest, content: ReviewContent, token: string, secret: string): DecisionForm | HtmlResponse {
	const body = request.body ?? {};
	if (!verifyFormToken(body.formToken, token, secret)) {
		return renderErrorPage(403, 'This form was not sent from your review page', 'Open the review link from your email and decide there.');
	}
	const action = singleString(body.action);
	if (action !== 'approve' && action !== 'reject') {
		return renderErrorPage(400, 'No decision received', 'Use the Approve or Reject button on the review page.');
	}
	const comment = normalizeLineBreaks(singleString(body.comment) ?? '').trim();
	if (comment.length > MAX_COMMENT_CHARS) {
		return renderErrorPage(400, 'Comment too long', `Shorten the comment to ${MAX_COMMENT_CHARS} characters and send again.`);
	}
	let finalText = content.draft;
	if (content.allowEdits) {
		const edited = singleString(body.finalText);
		if (edited === undefined) return renderErrorPage(400, 'The draft is missing', 'Use the form on the review page.');
		if (edited.length > MAX_FINAL_TEXT_CHARS) {
			return renderErrorPage(400, 'Text too long', `Shorten the text to ${MAX_FINAL_TEXT_CHARS} characters and send again.`);
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
	if (!result.won) return alreadyDecided(true, result.existing, false);
	return {
		...renderConfirmationPage(decision, 0),
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
	if (!own.won) return alreadyDecided(true, own.existing, true);
	const recorded = await Promise.all(
		reviewers.map((reviewer) => store.get(reviewerKey({ ...claims, reviewerId: normalizeReviewerId(reviewer) }))),
	);
	const resolution = resolveOutcome(
		recorded.filter((entry): entry is ReviewDecision => entry !== undefined),
		{ mode: 'all', reviewers },
	);
	if (resolution.status === 'pending') return { ...renderConfirmationPage(decision, resolution.waitingFor.length), decision };
	const settle = await store.decideOnce(claims.reviewId, resolution.deciding);
	const confirmation = { ...renderConfirmationPage(decision, 0), decision };
	return settle.won
		? { ...confirmation, outcome: buildOutcomeItem(resolution, options.content.draft, options.content.requestedAt) }
		: confirmation;
}
