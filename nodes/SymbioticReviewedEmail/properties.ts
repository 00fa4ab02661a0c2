import type { INodeProperties } from 'n8n-workflow';

import { humanApprovalProperties } from '../HumanApproval/properties';

/** Human Approval's own fields, reused as they are: same names, so its front door and helpers read them here too. */
function shared(...names: string[]): INodeProperties[] {
	return names.map((name) => {
		const property = humanApprovalProperties.find((candidate) => candidate.name === name);
		if (!property) throw new Error(`Human Approval has no property "${name}".`);
		return property;
	});
}

export const reviewedEmailProperties: INodeProperties[] = [
	{
		displayName:
			'Sends nothing until a reviewer approves: the reviewers get a signed link to the e-mail (To, Subject, body), may edit it, and the e-mail goes out as approved. As an AI Agent tool the agent waits for the decision and reads what happened (sent, rejected with the comment, or no decision in time).',
		name: 'gateNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		default: '',
		required: true,
		placeholder: "={{ $fromAI('to', 'E-mail address of the lead', 'string') }}",
		description: 'Recipient of the e-mail (one address). As an agent tool, let the model define it with $fromAI.',
	},
	{
		displayName: 'Subject',
		name: 'mailSubject',
		type: 'string',
		default: '',
		required: true,
		placeholder: "={{ $fromAI('subject', 'Subject line of the e-mail', 'string') }}",
	},
	{
		displayName: 'Body',
		name: 'mailBody',
		type: 'string',
		typeOptions: { rows: 6 },
		default: '',
		required: true,
		placeholder: "={{ $fromAI('body', 'Plain-text body of the e-mail', 'string') }}",
		description: 'Plain-text body of the e-mail',
	},
	...shared('reviewers', 'delivery', 'chatFormat'),
	{
		displayName: 'Review Title',
		name: 'subject',
		type: 'string',
		default: 'An AI agent wants to send this e-mail',
		description: 'Subject of the review request and heading of the review page',
	},
	{
		displayName: 'Message',
		name: 'intro',
		type: 'string',
		typeOptions: { rows: 3 },
		default:
			'Check the e-mail below. Approve it as it is, edit the To, Subject or text and approve, or reject it with a comment the agent will read.',
		description: 'Shown above the e-mail in the review request and on the review page',
	},
	...shared('context', 'language', 'timeZone'),
	{
		displayName: 'Allow Edits',
		name: 'allowEdits',
		type: 'boolean',
		default: true,
		description: 'Whether reviewers may edit the e-mail (To, Subject, body) before approving; the edited version is the one sent',
	},
	...shared('limitWaitTime', 'limitAmount', 'limitUnit', 'decisionStore', 'processMemoryNotice', 'decisionFolder', 'keyPrefix'),
];
