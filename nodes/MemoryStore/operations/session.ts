import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { normalizeSessionId } from '../../../lib/memory';
import type { SessionRef } from '../../../lib/memory';

export const SESSION_OPERATIONS = ['appendMessages', 'getHistory', 'setFacts', 'getFacts', 'clearSession'];

export const sessionProperties: INodeProperties[] = [
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. {{ $json.email }}',
		description:
			"Who the conversation is with, usually the contact's email or CRM ID. Trimmed, and emails are lower-cased, so the same contact always gets the same memory.",
		hint: "As an AI Agent tool, take it from the trigger, e.g. {{ $('When chat message received').item.json.sessionId }}: the agent may not choose it ($fromAI or $json)",
		displayOptions: { show: { operation: SESSION_OPERATIONS } },
	},
	{
		displayName: 'Namespace',
		name: 'namespace',
		type: 'string',
		default: 'default',
		description: 'Keeps memories of different clients or brands apart, e.g. "acme-corp"',
	},
];

/** The item's session, with the id normalised as it is stored (so outputs show the real key). */
export function readSession(ctx: IExecuteFunctions, itemIndex: number): SessionRef {
	return {
		namespace: ctx.getNodeParameter('namespace', itemIndex) as string,
		sessionId: normalizeSessionId(ctx.getNodeParameter('sessionId', itemIndex)),
	};
}
