import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { HumanApproval } from '../HumanApproval/HumanApproval.node';
import { answerFrontDoorRequest } from '../HumanApproval/frontDoor';
import { isFrontDoorRequest, REVIEW_WEBHOOKS } from '../HumanApproval/http';
import { reviewedEmailProperties } from './properties';
import { requestEmailReview } from './send';
import { answerEmailReview } from './webhook';

/**
 * An e-mail that goes out only after a person approved it — the action and its human gate in one node, so an
 * AI Agent can call it as a tool: the execution waits (like Human Approval) while reviewers see the e-mail the
 * model proposed on a signed review page, may edit To, Subject and text, and approve or reject. The approved
 * version is sent; the agent reads "sent", "rejected: <comment>" or "no decision in time, nothing was sent".
 */
// Its webhooks are Human Approval's (REVIEW_WEBHOOKS): n8n's own resume URLs and the review links' front door,
// nothing to register on a third-party service, so no webhook lifecycle methods.
export class SymbioticReviewedEmail implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Send Email After Review',
		name: 'symbioticReviewedEmail',
		icon: { light: 'file:../../icons/humanApproval.svg', dark: 'file:../../icons/humanApproval.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ "to " + $parameter["to"] }}',
		description: 'Sends an e-mail only after a reviewer approved it (and with the reviewer\'s edits); as an AI Agent tool the agent waits for the decision',
		defaults: { name: 'Send Email After Review' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			// Literals, so the community-nodes linter finds the credential tests (Human Approval's, shared below).
			{ name: 'symbioticApprovalApi', required: true, testedBy: 'symbioticApprovalSmtpTest' },
			{
				name: 'symbioticRedisApi',
				required: true,
				testedBy: 'symbioticRedisConnectionTest',
				displayOptions: { show: { decisionStore: ['redis'] } },
			},
		],
		waitingNodeTooltip: '=Waiting for a reviewer to approve, edit or reject the e-mail on the review page.',
		webhooks: REVIEW_WEBHOOKS,
		properties: reviewedEmailProperties,
	};

	methods = { credentialTest: new HumanApproval().methods.credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await requestEmailReview(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return isFrontDoorRequest(this) ? await answerFrontDoorRequest(this) : await answerEmailReview(this);
	}
}
