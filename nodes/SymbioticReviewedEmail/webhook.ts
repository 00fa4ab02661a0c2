import type { IExecuteData, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { openSealedState } from '../../lib/approval';
import { approvalCredentials, createSmtpTransport } from '../HumanApproval/credentials';
import type { ReviewState } from '../HumanApproval/reviewState';
import { toDataObject } from '../HumanApproval/send';
import { recordReviewDecision } from '../HumanApproval/webhook';
import {
	changedArguments,
	notSentResult,
	parseEmailDraft,
	rejectedResult,
	sentResult,
	type ReviewedEmailResult,
} from '../../lib/approval/reviewedEmail';
import type { WaitingEmailJson } from './send';

/** The waiting item with its review request opened. */
type WaitingReview = WaitingEmailJson & { review: ReviewState };

const LABEL = 'Send Email After Review';
const SMTP_TIMEOUT_MS = 15_000;

/**
 * One request on the execution's resume URL: shows the review page or records a decision (Human Approval's
 * handling: signed single-use links, decision store, pages in the review's language). The request that settles
 * the review sends the e-mail as approved — with the reviewer's edits — and resumes the execution with the answer.
 */
export async function answerEmailReview(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const waiting = await readWaitingEmail(ctx);
	const outcome = await recordReviewDecision(ctx, waiting, LABEL);
	if (!outcome || !waiting) return { noWebhookResponse: true };

	const { proposed } = waiting;
	const decided = { reviewer: outcome.reviewer ?? '', comment: outcome.comment, decidedAt: outcome.decidedAt };
	let result: ReviewedEmailResult;
	if (outcome.decision !== 'approved') {
		result = rejectedResult({ proposed, ...decided });
	} else {
		const parsed = parseEmailDraft(outcome.finalText);
		if ('error' in parsed) {
			result = notSentResult({ proposed, reason: `the reviewer's edit could not be read (${parsed.error})`, changed: [], ...decided });
		} else {
			const changed = changedArguments(proposed, parsed.email);
			try {
				const messageId = await sendEmail(ctx, parsed.email);
				result = sentResult({ proposed, email: parsed.email, changed, messageId, ...decided });
			} catch (error) {
				ctx.logger.error(`${LABEL}: the approved e-mail could not be sent: ${(error as Error).message}`);
				result = notSentResult({ proposed, reason: `the mail server refused it (${(error as Error).message})`, changed, ...decided });
			}
		}
	}
	const output: INodeExecutionData[][] = [[{ json: toDataObject(result), pairedItem: { item: 0 } }]];
	return { noWebhookResponse: true, workflowData: output };
}

async function sendEmail(ctx: IWebhookFunctions, email: { to: string; subject: string; body: string }): Promise<string> {
	const credentials = await approvalCredentials(ctx);
	const transport = createSmtpTransport(credentials, SMTP_TIMEOUT_MS);
	try {
		const info = await transport.sendMail({ from: credentials.fromAddress, to: email.to, subject: email.subject, text: email.body });
		return String(info.messageId ?? '');
	} finally {
		transport.close();
	}
}

/** The request the node left waiting, from the engine's resume entry (n8n drops the waiting run data). */
async function readWaitingEmail(ctx: IWebhookFunctions): Promise<WaitingReview | undefined> {
	const resumeEntry = (ctx as IWebhookFunctions & { executeData?: IExecuteData }).executeData;
	const json = resumeEntry?.data.main[0]?.[0]?.json as Partial<WaitingEmailJson> | undefined;
	let review: Partial<ReviewState> | undefined;
	try {
		review = openSealedState(json?.sealedReview, (await approvalCredentials(ctx)).signingSecret) as Partial<ReviewState> | undefined;
	} catch (error) {
		// recordReviewDecision reports an unreadable credential to the reviewer; here it only means "not found".
		ctx.logger.error(`${LABEL}: the credential could not be loaded: ${(error as Error).message}`);
	}
	const valid =
		json !== undefined &&
		typeof json.originalDraft === 'string' &&
		typeof json.proposed?.to === 'string' &&
		typeof review?.id === 'string' &&
		Array.isArray(review.context) &&
		Array.isArray(review.reviewers) &&
		typeof review.expiresAt === 'string';
	if (!valid) {
		ctx.logger.error(`${LABEL}: the waiting review request was not found in the execution (or the credential's signing secret changed since).`);
		return undefined;
	}
	return { ...(json as WaitingEmailJson), review: review as ReviewState };
}
