import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { assertApprovalSecret } from '../../lib/approval';
import { REDIS_CONNECTION_TEST, testRedisConnection } from '../shared/redisCredential';
import { MODEL_CREDENTIAL, QDRANT_CREDENTIAL } from '../shared/storeOptions';
import { createSmtpTransport, toApprovalCredentials } from './credentials';
import { answerFrontDoorRequest } from './frontDoor';
import { isFrontDoorRequest, REVIEW_WEBHOOKS } from './http';
import { humanApprovalProperties } from './properties';
import { sendReviewRequest } from './send';
import { answerReviewRequest } from './webhook';

const SMTP_TEST_TIMEOUT_MS = 10_000;

/**
 * Pauses the execution until a reviewer approves, edits or rejects the draft on a signed review page, the way
 * n8n's Wait node waits: `execute` sends the links and puts the execution to wait, the node's restart webhook
 * (GET shows the page, POST decides) resumes it, reached through the node's own front door webhook.
 */
// Its webhooks (REVIEW_WEBHOOKS) are n8n's own resume URLs (restartWebhook) and the links' front door: nothing to
// register on a third-party service, so no webhook lifecycle methods. It is no AI tool, since an agent's tool call
// cannot wait days for a person (Send Email After Review is the agent's reviewed action).
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class HumanApproval implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Human Approval',
		name: 'humanApproval',
		icon: { light: 'file:../../icons/humanApproval.svg', dark: 'file:../../icons/humanApproval.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["policy"] === "all" ? "All must approve" : "First decision wins" }}',
		description:
			'Emails reviewers a signed link to approve, edit or reject a draft, and continues on Approved, Rejected or Timed out',
		defaults: { name: 'Human Approval' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Approved', 'Rejected', 'Timed Out'],
		credentials: [
			// A literal, not APPROVAL_CREDENTIAL: the community-nodes linter finds the credential test by reading it.
			{ name: 'symbioticApprovalApi', required: true, testedBy: 'symbioticApprovalSmtpTest' },
			{ name: MODEL_CREDENTIAL, required: false, displayOptions: { show: { rememberApproved: [true] } } },
			{ name: QDRANT_CREDENTIAL, required: true, displayOptions: { show: { rememberApproved: [true], store: ['qdrant'] } } },
			{
				name: 'symbioticRedisApi',
				required: true,
				testedBy: 'symbioticRedisConnectionTest',
				displayOptions: { show: { decisionStore: ['redis'] } },
			},
		],
		waitingNodeTooltip: '=Waiting for a reviewer to decide on the review page (links were sent by {{ $parameter["delivery"].join(" and ") }}).',
		webhooks: REVIEW_WEBHOOKS,
		properties: humanApprovalProperties,
	};

	methods = {
		credentialTest: {
			[REDIS_CONNECTION_TEST]: testRedisConnection,
			async symbioticApprovalSmtpTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const credentials = toApprovalCredentials(credential.data ?? {});
				try {
					assertApprovalSecret(credentials.signingSecret);
				} catch (error) {
					return { status: 'Error', message: (error as Error).message };
				}
				if (!credentials.smtpHost) return { status: 'OK', message: 'Secret is valid; no SMTP host set (chat delivery only)' };
				const transport = createSmtpTransport(credentials, SMTP_TEST_TIMEOUT_MS);
				try {
					await transport.verify();
					return { status: 'OK', message: 'Connection successful' };
				} catch (error) {
					return { status: 'Error', message: `SMTP ${credentials.smtpHost}:${credentials.smtpPort}: ${(error as Error).message}` };
				} finally {
					transport.close();
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await sendReviewRequest(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return isFrontDoorRequest(this) ? await answerFrontDoorRequest(this) : await answerReviewRequest(this);
	}
}
