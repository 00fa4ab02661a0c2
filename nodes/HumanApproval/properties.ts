import type { INodeProperties } from 'n8n-workflow';

import { APPROVED_EXAMPLES_NAMESPACE } from '../../lib/approval/learning';
import { REVIEW_LOG_NAMESPACE } from '../../lib/approval/reviewLog';
import { DEFAULT_WAIT_HOURS } from '../../lib/approval';
import { knowledgeBaseProperties } from '../shared/storeOptions';
import { CUSTOMER_TEXT_STYLE_OPTIONS } from '../shared/customerText';

const rememberOn = { show: { rememberApproved: [true] } };

/**
 * The knowledge-base fields, shown only when approved versions are remembered, with the namespace defaulting
 * to the one Generate's examples are searched in.
 */
const rememberProperties: INodeProperties[] = knowledgeBaseProperties
	.filter((property) => property.type !== 'notice')
	.map((property) => ({
		...property,
		default: property.name === 'namespace' ? APPROVED_EXAMPLES_NAMESPACE : property.default,
		description:
			property.name === 'namespace'
				? 'Namespace the approved versions are stored in; search it with Vector Search to give Generate approved examples'
				: property.description,
		displayOptions: { show: { ...rememberOn.show, ...property.displayOptions?.show } },
	}));

export const humanApprovalProperties: INodeProperties[] = [
	{
		displayName:
			'Reviews one draft per execution: with several items, loop over them (Loop Over Items, batch size 1) or call a sub-workflow per item',
		name: 'oneItemNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Send Via',
		name: 'delivery',
		type: 'multiOptions',
		options: [
			{ name: 'Email', value: 'email', description: 'Each reviewer gets a personal link by email (SMTP)' },
			{
				name: 'Chat Message',
				value: 'chat',
				description: 'Posts one "Review as …" button per reviewer to a Slack or Teams channel',
			},
		],
		default: ['email'],
		required: true,
	},
	{
		displayName: 'Chat Format',
		name: 'chatFormat',
		type: 'options',
		options: [
			{ name: 'Slack', value: 'slack' },
			{ name: 'Microsoft Teams', value: 'teams' },
		],
		default: 'slack',
		description: 'Format of the incoming-webhook message; the URL is in the credential',
		displayOptions: { show: { delivery: ['chat'] } },
	},
	{
		displayName: 'Reviewers',
		name: 'reviewers',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'ada@example.com, grace@example.com',
		description:
			'Email addresses of the reviewers, separated by commas. Each gets a personal link; the page shows who decided.',
	},
	{
		displayName: 'Decision Rule',
		name: 'policy',
		type: 'options',
		options: [
			{ name: 'First Decision Wins', value: 'first', description: 'The first reviewer to approve or reject decides' },
			{
				name: 'All Must Approve',
				value: 'all',
				description:
					'Every reviewer must approve the draft as it is (no edits, so no reviewer\'s change is lost); one rejection rejects',
			},
		],
		default: 'first',
	},
	{
		displayName: 'Decision Store',
		name: 'decisionStore',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Local Folder',
				value: 'folder',
				description: 'Files beside n8n\'s data: kept across restarts, shared by n8n processes on one machine or volume',
			},
			{
				// n8n spells its name in lowercase; title case would turn it into "N8n".
				// eslint-disable-next-line n8n-nodes-base/node-param-display-name-miscased
				name: 'n8n Process Memory',
				value: 'memory',
				description: 'Inside the n8n process: for a single main process only, forgotten on restart',
			},
			{
				name: 'Redis',
				value: 'redis',
				description: 'Shared by every n8n process on any machine (queue mode, multi-main) and kept across restarts',
			},
		],
		default: 'folder',
		description:
			'Where reviewers\' decisions are recorded: the review links show them (who decided what, when) for 30 days after the review closed',
	},
	{
		displayName:
			'Only for a single n8n main process: with webhook processes (queue mode) or multi-main a decision may land in another process, and after a restart late visitors no longer see who decided. Choose Local Folder or Redis there.',
		name: 'processMemoryNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { decisionStore: ['memory'] } },
	},
	{
		displayName: 'Decision Folder',
		name: 'decisionFolder',
		type: 'string',
		default: '',
		placeholder: '~/.n8n/symbiotic-approvals',
		description:
			'Folder for the decision files; empty = symbiotic-approvals beside n8n\'s data. In Docker and queue mode it must be on a volume every n8n process mounts.',
		displayOptions: { show: { decisionStore: ['folder'] } },
	},
	{
		displayName: 'Key Prefix',
		name: 'keyPrefix',
		type: 'string',
		default: 'symbiotic',
		description: 'Start of every Redis key this node writes (prefix:approval:…), to share a Redis with other programs',
		displayOptions: { show: { decisionStore: ['redis'] } },
	},
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		default: 'Please review this draft',
		required: true,
		description: 'Email subject and heading of the review page',
	},
	{
		displayName: 'Message',
		name: 'intro',
		type: 'string',
		typeOptions: { rows: 3 },
		default: 'A draft is waiting for your review. Approve it as it is, edit it, or reject it.',
		description: 'Shown above the draft in the email and on the review page',
	},
	{
		displayName: 'Language',
		name: 'language',
		type: 'options',
		options: [
			{ name: 'Deutsch', value: 'de' },
			{ name: 'English', value: 'en' },
			{ name: 'Español', value: 'es' },
			{ name: 'Français', value: 'fr' },
			{ name: 'Italiano', value: 'it' },
		],
		default: 'en',
		description:
			'Language of the review email, the chat message and every page the reviewer sees. Subject, Message and Draft are sent as you write them.',
	},
	{
		displayName: 'Time Zone',
		name: 'timeZone',
		type: 'string',
		default: 'UTC',
		placeholder: 'Europe/Paris',
		description:
			'IANA time zone name used for the dates on the review pages and in the emails (request time, link expiry, decision time), e.g. Europe/Paris or Europe/Berlin',
	},
	{
		displayName: 'Draft',
		name: 'draft',
		type: 'string',
		typeOptions: { rows: 6 },
		default: '={{ $json.text }}',
		required: true,
		description: 'The text to review, e.g. the "text" of a Generate node',
	},
	{
		displayName: 'Context',
		name: 'context',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Context Field',
		default: {},
		description: 'What the reviewer needs to judge the draft, e.g. the lead\'s name and company',
		options: [
			{
				displayName: 'Field',
				name: 'fields',
				values: [
					{ displayName: 'Label', name: 'label', type: 'string', default: '', placeholder: 'Company' },
					{ displayName: 'Value', name: 'value', type: 'string', default: '', placeholder: '={{ $json.company }}' },
					{
						displayName: 'Link',
						name: 'url',
						type: 'string',
						default: '',
						placeholder: 'https://crm.example.com/leads/42',
						description: 'Optional http(s) URL the value links to',
					},
				],
			},
		],
	},
	{
		displayName: 'Sources',
		name: 'sources',
		type: 'json',
		default: '={{ $json.citations }}',
		description:
			'Sources the draft relies on, listed with their links: the "citations" of a Generate node (default), a list of objects with a title and a URL, or a list of texts. Leave empty for none.',
	},
	{
		displayName: 'Customer Text',
		name: 'customerTextStyle',
		type: 'options',
		options: CUSTOMER_TEXT_STYLE_OPTIONS,
		default: 'remove',
		description:
			'How the approved text becomes "customerText" on the Approved output: reviewers see the [1] markers next to the sources, customers should not',
	},
	{
		displayName: 'Allow Edits',
		name: 'allowEdits',
		type: 'boolean',
		default: true,
		description: 'Whether reviewers may edit the draft before approving; the output carries their text and the diff',
		// Under "All Must Approve" the draft is shown read-only: only one text can go out.
		displayOptions: { show: { policy: ['first'] } },
	},
	{
		displayName: 'Limit Wait Time',
		name: 'limitWaitTime',
		type: 'boolean',
		default: true,
		description:
			'Whether the request ends after a while and the item leaves through "Timed out" with the draft unchanged (approvals already given under "All Must Approve" are not listed there). Links expire at the same moment.',
	},
	{
		displayName: 'Wait For',
		name: 'limitAmount',
		type: 'number',
		typeOptions: { minValue: 0.1, numberPrecision: 2 },
		default: DEFAULT_WAIT_HOURS,
		displayOptions: { show: { limitWaitTime: [true] } },
	},
	{
		displayName: 'Unit',
		name: 'limitUnit',
		type: 'options',
		options: [
			{ name: 'Hours', value: 'hours' },
			{ name: 'Minutes', value: 'minutes' },
		],
		default: 'hours',
		displayOptions: { show: { limitWaitTime: [true] } },
	},
	{
		displayName: 'Remember Approved Versions',
		name: 'rememberApproved',
		type: 'boolean',
		default: false,
		description:
			'Whether to store each approved text (with the draft and the diff) in a knowledge base, so Generate can learn from approved examples',
	},
	{
		displayName: 'Example Input',
		name: 'exampleInput',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		placeholder: '={{ $json.question }}',
		description: 'What the draft answers (the request or question); stored with the example as its "input"',
		displayOptions: rememberOn,
	},
	...rememberProperties,
	{
		displayName: 'Review Log Namespace',
		name: 'reviewLogNamespace',
		type: 'string',
		default: REVIEW_LOG_NAMESPACE,
		description:
			'Namespace in the same knowledge base where every decision (approved, rejected, timed out) is kept as a small record with its edit ratio and time to decision, for Ingest Document\'s "Review Report". Empty = no review log.',
		displayOptions: rememberOn,
	},
];
