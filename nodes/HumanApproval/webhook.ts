import type { IDataObject, IExecuteData, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { handleReviewRequest, headerValue, type ApprovalOutcomeItem, TOKEN_PARAM, verifyForwardProof, type ReviewRequest, type ReviewResponse } from '../../lib/approval';
import { FORWARD_PROOF_HEADER, REVIEWER_IP_HEADER } from '../../lib/approval/forward';
import { rememberApprovedVersion } from '../../lib/approval/learning';
import { reviewMetrics } from '../../lib/approval/reviewLog';
import { renderUnavailablePage, withRetryAfter } from '../../lib/approval/pages';
import { approvalCredentials, type ApprovalCredentials } from './credentials';
import { openDecisionStore, type OpenDecisionStore } from './decisionStore';
import { KNOWLEDGE_STORE_TIMEOUT_MS, logReview, withKnowledgeStore } from './knowledgeStore';
import { readLocaleInWebhook, reviewRequestOf, sendPage, UNAVAILABLE_RETRY_SECONDS } from './http';
import {
	customerVersion,
	readOutcomeJson,
	reviewContent,
	reviewLocale,
	reviewPolicy,
	type OutcomeJson,
	type RememberSettings,
	type ReviewState,
} from './reviewState';
import { OUTPUT, toDataObject } from './send';

/**
 * One request on the execution's resume URL — forwarded by the front door, or straight from a link sent before the
 * front door existed or by an unpublished workflow. Every answer is written here, with the page's own status and
 * security headers; only the request that settles the review returns `workflowData`, which resumes the execution
 * on the Approved or Rejected output. Page views, losing or invalid decisions leave the execution waiting.
 */
export async function answerReviewRequest(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const waiting = readWaitingItem(ctx);
	const outcome = await recordReviewDecision(ctx, waiting && { review: waiting.review, originalDraft: waiting.originalDraft });
	if (!outcome || !waiting) return { noWebhookResponse: true };

	const { review } = waiting;
	const json: OutcomeJson = { ...outcome, ...reviewMetrics(outcome), review, input: waiting.input };
	if (json.decision === 'approved') json.customerText = customerVersion(review, json.finalText);
	if (review.remember && json.decision === 'approved') json.learning = await remember(ctx, json, review.remember);
	const logged = await logReview(ctx, review.remember, {
		reviewId: review.id,
		title: review.subject,
		requestedAt: review.requestedAt,
		expiresAt: review.expiresAt,
		outcome: json,
	});
	if (logged) json.reviewLog = logged;
	const outputs: INodeExecutionData[][] = [[], [], []];
	outputs[json.decision === 'approved' ? OUTPUT.approved : OUTPUT.rejected] = [{ json: toDataObject(json), pairedItem: { item: 0 } }];
	return { noWebhookResponse: true, workflowData: outputs };
}

/**
 * Answers one request on a waiting review (shows the page, or records a decision) and writes the page. Returns
 * the outcome only for the request that settled the review — resume the execution with it; undefined leaves the
 * execution waiting. `waiting` is undefined when the node's waiting request was not found (503 page).
 */
export async function recordReviewDecision(
	ctx: IWebhookFunctions,
	waiting: { review: ReviewState; originalDraft: string } | undefined,
	label = 'Human Approval',
): Promise<ApprovalOutcomeItem | undefined> {
	const locale = waiting ? reviewLocale(waiting.review) : readLocaleInWebhook(ctx);
	let credentials: ApprovalCredentials | undefined;
	try {
		credentials = await approvalCredentials(ctx);
	} catch (error) {
		ctx.logger.error(`${label}: the credential could not be loaded: ${(error as Error).message}`);
	}
	if (!waiting || !credentials) {
		sendPage(ctx, withRetryAfter(renderUnavailablePage(503, locale), UNAVAILABLE_RETRY_SECONDS));
		return undefined;
	}

	const { review } = waiting;
	let decisions: OpenDecisionStore;
	try {
		decisions = await openDecisionStore(ctx, review.decisionStore, new Date(review.expiresAt));
	} catch (error) {
		// Nothing was recorded, so the execution keeps waiting and the same link works once the store is back.
		ctx.logger.error(`${label}: the decision store could not be opened: ${(error as Error).message}`);
		sendPage(ctx, withRetryAfter(renderUnavailablePage(503, locale), UNAVAILABLE_RETRY_SECONDS));
		return undefined;
	}
	const request = reviewRequestOf(ctx);
	let response: ReviewResponse;
	try {
		response = await handleReviewRequest(
			{ ...request, ip: reviewerIp(request, credentials.signingSecret) },
			{
				secret: credentials.signingSecret,
				store: decisions.store,
				content: reviewContent(review, waiting.originalDraft),
				policy: reviewPolicy(review),
				binding: { executionId: ctx.getExecutionId(), nodeId: ctx.getNode().id, reviewId: review.id },
				locale,
				onError: (error) => ctx.logger.error(`${label}: a review request failed: ${(error as Error).message}`),
			},
		);
	} finally {
		await decisions.close();
	}
	sendPage(ctx, response);
	return response.outcome;
}

/** Behind the front door the request comes over loopback; the reviewer's address travels with a proof. */
function reviewerIp(request: ReviewRequest, secret: string): string | undefined {
	const forwardedIp = request.headers[REVIEWER_IP_HEADER] === undefined ? undefined : headerValue(request.headers, REVIEWER_IP_HEADER);
	const token = request.query[TOKEN_PARAM];
	if (forwardedIp !== undefined && typeof token === 'string' && verifyForwardProof(headerValue(request.headers, FORWARD_PROOF_HEADER), token, forwardedIp, secret)) {
		return forwardedIp;
	}
	return request.ip;
}

/**
 * The item the node left waiting carries the review request: the webhook cannot re-evaluate parameter expressions,
 * since the input item is out of reach, and n8n drops the node's waiting run data before calling the webhook. What
 * survives is the engine's resume entry (where `leaveOnTimeout` put the item), which n8n-core's contexts expose as
 * `executeData`.
 */
function readWaitingItem(ctx: IWebhookFunctions): OutcomeJson | undefined {
	const resumeEntry = (ctx as IWebhookFunctions & { executeData?: IExecuteData }).executeData;
	const json = readOutcomeJson(resumeEntry?.data.main[OUTPUT.timedOut]?.[0]?.json);
	if (!json) ctx.logger.error('Human Approval: the waiting review request was not found in the execution.');
	return json;
}

/** Stores the approved version; the decision stands whatever happens here, the result says what did. */
async function remember(ctx: IWebhookFunctions, outcome: OutcomeJson, settings: RememberSettings): Promise<IDataObject> {
	try {
		const result = await withKnowledgeStore(ctx, settings, async (store, embedder) =>
			rememberApprovedVersion(
				{ outcome, reviewId: outcome.review.id, title: outcome.review.subject, exampleInput: settings.exampleInput },
				{ store, embedder, namespace: settings.namespace, signal: AbortSignal.timeout(KNOWLEDGE_STORE_TIMEOUT_MS) },
			),
		);
		if (result.error) ctx.logger.warn(`Human Approval: the approved version was not stored: ${result.error}`);
		return toDataObject(result);
	} catch (error) {
		ctx.logger.warn(`Human Approval: the approved version was not stored: ${(error as Error).message}`);
		return { stored: false, namespace: settings.namespace, error: (error as Error).message };
	}
}
