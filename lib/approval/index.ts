/** Human Approval core: signed review links, review pages, decisions, outcomes, review messages. */
export * from './types';
export { escapeHtml, escapeMultiline, safeHttpUrl, stripControlCharacters } from './escape';
export {
	assertApprovalSecret,
	createFormToken,
	createReviewLink,
	createReviewToken,
	MIN_SECRET_BYTES,
	newReviewId,
	normalizeReviewerId,
	TOKEN_PARAM,
	verifyFormToken,
	verifyReviewToken,
	type ReviewLinkInput,
	type ReviewTokenInput,
	type TokenError,
	type VerifyResult,
} from './token';
export { diffText, normalizeLineBreaks } from './diff';
export { InMemoryDecisionStore, type DecideResult, type DecisionStore, type InMemoryDecisionStoreOptions } from './decisionStore';
export { RedisDecisionStore, type RedisDecisionStoreOptions } from './redisDecisionStore';
export { buildOutcomeItem, computeWaitUntil, DEFAULT_WAIT_HOURS, resolveOutcome, timedOutOutcome, type Resolution } from './outcome';
export { securityHeaders } from './pages';
export { handleReviewRequest, MAX_FINAL_TEXT_CHARS, type ReviewEndpointOptions } from './handler';
export {
	renderChatWebhookPayload,
	renderReviewEmail,
	type ChatReviewLink,
	type ChatWebhookInput,
	type RenderedEmail,
	type ReviewEmailInput,
} from './email';
