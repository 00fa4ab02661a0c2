/** Human Approval core: signed review links, review pages, decisions, outcomes, review messages. */
export * from './types';
export { escapeHtml, escapeMultiline, safeHttpUrl, stripControlCharacters } from './escape';
export {
	assertApprovalSecret,
	createFormToken,
	createForwardProof,
	createReviewLink,
	createReviewToken,
	MIN_SECRET_BYTES,
	newReviewId,
	normalizeReviewerId,
	openSealedState,
	sealState,
	TOKEN_PARAM,
	verifyFormToken,
	verifyForwardProof,
	verifyReviewToken,
	type ReviewLinkInput,
	type ReviewTokenInput,
	type TokenError,
	type VerifyResult,
} from './token';
export { diffText, normalizeLineBreaks } from './diff';
export { InMemoryDecisionStore, type DecideResult, type DecisionStore, type InMemoryDecisionStoreOptions } from './decisionStore';
export { RedisDecisionStore, type RedisDecisionStoreOptions } from './redisDecisionStore';
export {
	DecisionFileError,
	DecisionFolderError,
	defaultApprovalFolder,
	FileDecisionStore,
	SWEEP_INTERVAL_MS,
	type FileDecisionStoreOptions,
} from './fileDecisionStore';
export { buildOutcomeItem, computeWaitUntil, DEFAULT_WAIT_HOURS, resolveOutcome, timedOutOutcome, type Resolution } from './outcome';
export {
	renderAlreadyDecidedPage,
	renderBeingDecidedPage,
	renderConfirmationPage,
	renderErrorPage,
	renderLocalizedErrorPage,
	renderReviewClosedPage,
	renderReviewPage,
	renderTimedOutPage,
	renderUnavailablePage,
	securityHeaders,
	type HtmlResponse,
	type ReviewPageInput,
	type ShownDecision,
} from './pages';
export {
	DEFAULT_REVIEW_LOCALE,
	formatDateTime,
	isReviewLanguage,
	MESSAGES,
	messagesFor,
	parseReviewLanguage,
	resolveReviewLocale,
	REVIEW_LANGUAGE_NAMES,
	REVIEW_LANGUAGE_TAGS,
	REVIEW_LANGUAGES,
	validateReviewLocale,
	validateTimeZone,
	type ErrorPageKey,
	type ErrorText,
	type Messages,
	type PluralText,
	type ReviewLanguage,
	type ReviewLocale,
} from './i18n';
export { alreadyDecidedPage, handleReviewRequest, headerValue, linkErrorPage, MAX_FINAL_TEXT_CHARS, type ReviewEndpointOptions } from './handler';
export {
	renderChatWebhookPayload,
	renderReviewEmail,
	type ChatReviewLink,
	type ChatWebhookInput,
	type RenderedEmail,
	type ReviewEmailInput,
} from './email';
export { answerAtFrontDoor, REVIEW_PAGE_HEADER, type ForwardedAnswer, type FrontDoorOptions } from './frontDoor';
