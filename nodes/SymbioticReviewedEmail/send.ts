import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { isToolType, NodeConnectionTypes, NodeOperationError, WAIT_INDEFINITELY } from 'n8n-workflow';

import { assertApprovalSecret, computeWaitUntil, newReviewId, sealState } from '../../lib/approval';
import { formatEmailDraft, isEmailAddress, timedOutResult, type EmailArguments, type ReviewedEmailResult } from '../../lib/approval/reviewedEmail';
import { InputError } from '../../lib/types';
import { refuseAgentChosenParameters, type OwnerParameter } from '../shared/agentGuard';
import { itemError, toNodeError, type FieldLabels } from '../shared/perItem';
import { approvalCredentials } from '../HumanApproval/credentials';
import { openDecisionStore, readDecisionStoreSetting } from '../HumanApproval/decisionStore';
import type { ReviewState } from '../HumanApproval/reviewState';
import { contextFields, deliverReviewLinks, limitHours, parseReviewers, readLocale, toDataObject } from '../HumanApproval/send';

export const FIELD_LABELS: FieldLabels = {
	to: 'To',
	mailSubject: 'Subject',
	mailBody: 'Body',
	reviewers: 'Reviewers',
	limitAmount: 'Wait For',
	secret: 'Link Signing Secret (credential)',
	language: 'Language',
	timeZone: 'Time Zone',
	decisionStore: 'Decision Store',
	decisionFolder: 'Decision Folder',
	keyPrefix: 'Key Prefix',
};

const gate = (path: string, label: string, decides: string): OwnerParameter => ({
	path,
	field: path,
	label,
	decides,
	instead: 'Set it in the workflow; the agent chooses only To, Subject and Body.',
});

/** What the agent's model must never choose: it would pick its own reviewer, or the record of the decisions. */
const OWNER_PARAMETERS: OwnerParameter[] = [
	gate('reviewers', 'Reviewers', 'who approves the e-mail'),
	gate('delivery', 'Send Via', 'where the review links go'),
	gate('limitWaitTime', 'Limit Wait Time', 'how long the review stays open'),
	gate('limitAmount', 'Wait For', 'how long the review stays open'),
	gate('decisionStore', 'Decision Store', 'where decisions are recorded'),
	gate('decisionFolder', 'Decision Folder', 'where decisions are recorded'),
	gate('keyPrefix', 'Key Prefix', 'where decisions are recorded'),
];

const DECISION_STORE_ADVICE =
	'The decision store cannot be reached and no review link was sent. Fix it, or choose another Decision Store.';

/**
 * The item the node leaves waiting (see Human Approval's `leaveOnTimeout`): the answer on timeout, with what the
 * webhook reads back. On timeout n8n hands this very item to the agent's model, so the review request (reviewers,
 * context fields) travels sealed with the approval secret; the draft is the e-mail the model proposed itself.
 */
export type WaitingEmailJson = ReviewedEmailResult & { sealedReview: string; originalDraft: string };

/**
 * Sends the review request for the e-mail of the one input item (an agent's tool call is one item) and leaves the
 * execution waiting. Nothing is sent to the recipient here: the e-mail goes out from the webhook, once approved.
 */
export async function requestEmailReview(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	if (items.length !== 1) {
		throw new NodeOperationError(ctx.getNode(), `Send Email After Review sends one e-mail per execution, but it received ${items.length} items.`, {
			description: 'Put a "Loop Over Items" node (batch size 1) before it, or call a sub-workflow per item.',
		});
	}
	const node = ctx.getNode();
	// AI Agent v3+ runs a tool call as a node of the execution (engine request), which can wait for the reviewer.
	// Older agents call the tool inside their own node, where the execution cannot wait: refuse, send nothing.
	if (isToolType(node.type) && node.rewireOutputLogTo !== NodeConnectionTypes.AiTool) {
		throw new NodeOperationError(node, 'Send Email After Review needs the AI Agent node version 3 or later: this agent cannot wait for the reviewer, so nothing was sent.', {
			description: 'Open the AI Agent node and update it to the latest version (n8n 2.6 or later).',
		});
	}
	try {
		refuseAgentChosenParameters(node, OWNER_PARAMETERS);
		return await request(ctx);
	} catch (error) {
		throw toNodeError(ctx, error, 0, FIELD_LABELS);
	}
}

function text(ctx: IExecuteFunctions, name: string): string {
	return String(ctx.getNodeParameter(name, 0, '') ?? '');
}

async function request(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const proposed: EmailArguments = { to: text(ctx, 'to').trim(), subject: text(ctx, 'mailSubject').trim(), body: text(ctx, 'mailBody') };
	if (!isEmailAddress(proposed.to)) throw new InputError(`The recipient "${proposed.to}" is not one e-mail address.`, 'to');
	if (!proposed.body.trim()) throw new InputError('The e-mail body is empty.', 'mailBody');

	const credentials = await approvalCredentials(ctx);
	assertApprovalSecret(credentials.signingSecret);
	if (!credentials.smtpHost || !credentials.fromAddress) {
		throw new NodeOperationError(ctx.getNode(), 'Sending the approved e-mail needs an SMTP host and a From address.', {
			description: 'Fill in "SMTP Host" and "From Address" in the Symbiotic Approval credential.',
		});
	}
	const delivery = ctx.getNodeParameter('delivery', 0) as string[];
	if (!delivery.length) throw new InputError('Choose at least one way to send the review request.', 'delivery');
	const reviewers = parseReviewers(text(ctx, 'reviewers'), delivery.includes('email'));
	const requestedAt = new Date();
	const waitTill = ctx.getNodeParameter('limitWaitTime', 0) ? computeWaitUntil(requestedAt, limitHours(ctx)) : WAIT_INDEFINITELY;
	const state: ReviewState = {
		id: newReviewId(),
		subject: text(ctx, 'subject'),
		intro: text(ctx, 'intro'),
		context: contextFields(ctx),
		allowEdits: ctx.getNodeParameter('allowEdits', 0, true) as boolean,
		policy: 'first',
		reviewers,
		requestedAt: requestedAt.toISOString(),
		expiresAt: waitTill.toISOString(),
		decisionStore: readDecisionStoreSetting(ctx),
		...readLocale(ctx),
	};
	try {
		await (await openDecisionStore(ctx, state.decisionStore, waitTill)).close();
	} catch (error) {
		throw itemError(ctx, error as Error, 0, DECISION_STORE_ADVICE);
	}
	const draft = formatEmailDraft(proposed, state);
	await deliverReviewLinks(ctx, credentials, state, draft, delivery, waitTill);

	const waiting: WaitingEmailJson = { ...timedOutResult(proposed, waitTill), sealedReview: sealState(state, credentials.signingSecret), originalDraft: draft };
	// On timeout n8n runs this node as disabled on its resume entry, which forwards the entry's data: the
	// "no decision in time" answer. A decision replaces that data through the webhook.
	const item: INodeExecutionData = { json: toDataObject(waiting), pairedItem: { item: 0 } };
	ctx.getExecuteData().data = { main: [[item]] };
	await ctx.putExecutionToWait(waitTill);
	return [[item]];
}
