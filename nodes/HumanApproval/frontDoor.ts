import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { answerAtFrontDoor, createForwardProof, headerValue, type ReviewLocale } from '../../lib/approval';
import { FORWARD_PROOF_HEADER, forwardToResumeUrl, localResumeUrl, REVIEWER_IP_HEADER } from '../../lib/approval/forward';
import { renderUnavailablePage, withRetryAfter } from '../../lib/approval/pages';
import { approvalCredentials } from './credentials';
import { openDecisionStore, readDecisionStoreSettingInWebhook, type OpenDecisionStore } from './decisionStore';
import { readLocaleInWebhook, reviewRequestOf, sendPage, UNAVAILABLE_RETRY_SECONDS } from './http';

/**
 * A request on the review link's own address (the node's production webhook). It needs nothing of the execution:
 * the signed link, the node's settings and the decision store tell decided, timed-out and invalid links apart;
 * everything else goes on to the execution's resume URL on this very n8n process.
 */
export async function answerFrontDoorRequest(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const locale: ReviewLocale = readLocaleInWebhook(ctx);
	let secret: string;
	try {
		secret = (await approvalCredentials(ctx)).signingSecret;
	} catch (error) {
		ctx.logger.error(`Human Approval: the credential could not be loaded: ${(error as Error).message}`);
		sendPage(ctx, withRetryAfter(renderUnavailablePage(503, locale), UNAVAILABLE_RETRY_SECONDS));
		return { noWebhookResponse: true };
	}
	let decisions: OpenDecisionStore | undefined;
	try {
		decisions = await openDecisionStore(ctx, readDecisionStoreSettingInWebhook(ctx), new Date());
	} catch (error) {
		ctx.logger.error(`Human Approval: the decision store could not be opened: ${(error as Error).message}`);
	}
	const request = reviewRequestOf(ctx);
	const reviewerIp = request.ip ?? '';
	try {
		const page = await answerAtFrontDoor(request, {
			secret,
			store: decisions?.store,
			locale,
			forward: async (claims, token) =>
				await forwardToResumeUrl({
					url: localResumeUrl({ executionId: claims.executionId, query: request.query }),
					method: request.method.toUpperCase() === 'POST' ? 'POST' : 'GET',
					form: request.body,
					headers: {
						'user-agent': headerValue(request.headers, 'user-agent'),
						[REVIEWER_IP_HEADER]: reviewerIp,
						[FORWARD_PROOF_HEADER]: createForwardProof(token, reviewerIp, secret),
					},
				}),
			onError: (error) => ctx.logger.error(`Human Approval: a review link request failed: ${(error as Error).message}`),
		});
		sendPage(ctx, page);
	} finally {
		await decisions?.close();
	}
	return { noWebhookResponse: true };
}
