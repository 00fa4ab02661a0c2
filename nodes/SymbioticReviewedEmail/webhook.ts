import type { IExecuteData, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { approvalCredentials, createSmtpTransport } from '../HumanApproval/credentials';
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

const LABEL = 'Send Email After Review';
const SMTP_TIMEOUT_MS = 15_000;

/**
 * One request on the execution's resume URL: shows the review page or records a decision (Human Approval's
 * handling: signed single-use links, decision store, pages in the review's language). The request that settles
 * the review sends the e-mail as approved — with the reviewer's edits — and resumes the execution with the answer.
 */
export async function answerEmailReview(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const waiting = readWaitingEmail(ctx);
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
function readWaitingEmail(ctx: IWebhookFunctions): WaitingEmailJson | undefined {
	const resumeEntry = (ctx as IWebhookFunctions & { executeData?: IExecuteData }).executeData;
	const json = resumeEntry?.data.main[0]?.[0]?.json as Partial<WaitingEmailJson> | undefined;
	const valid =
		json !== undefined &&
		typeof json.originalDraft === 'string' &&
		typeof json.proposed?.to === 'string' &&
		typeof json.review?.id === 'string' &&
		Array.isArray(json.review.context) &&
		Array.isArray(json.review.reviewers) &&
		typeof json.review.expiresAt === 'string';
	if (!valid) {
		ctx.logger.error(`${LABEL}: the waiting review request was not found in the execution.`);
		return undefined;
	}
	return json as WaitingEmailJson;
}
