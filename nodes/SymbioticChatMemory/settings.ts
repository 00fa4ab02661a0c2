/**
 * The Symbiotic Chat Memory's parameters and how they map onto lib/memory: the storage settings are Memory
 * Store's own (same names, same defaults), so both nodes, set alike, address the same keys.
 */
import type { INodeProperties, ISupplyDataFunctions } from 'n8n-workflow';

import { DEFAULT_RETENTION, InProcessMemoryBackend, normalizeSessionId, RedisMemoryBackend } from '../../lib/memory';
import type { ChatMemoryOptions, FactsRole, HistoryOptions, MemoryBackend, RetentionPolicy, SessionRef } from '../../lib/memory';
import { checkHistoryOptions, checkKeyPrefix, checkRetention } from '../../lib/memory/input';
import { checkNamespace } from '../../lib/namespace';
import { InputError } from '../../lib/types';
import { backendProperties } from '../MemoryStore/backend';
import type { OwnerParameter } from '../shared/agentGuard';
import { REDIS_CREDENTIAL, redisConfigFromCredential } from '../shared/redisCredential';

const DAY_MS = 24 * 60 * 60 * 1000;

export const chatMemoryProperties: INodeProperties[] = [
	...backendProperties,
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '={{ $json.sessionId }}',
		required: true,
		description:
			"Whose conversation this is. The Chat Trigger sends it as sessionId; elsewhere map the contact's email or CRM ID, as in Memory Store (trimmed, emails lower-cased).",
	},
	{
		displayName: 'Namespace',
		name: 'namespace',
		type: 'string',
		default: 'default',
		description: 'Keeps memories of different clients or brands apart, e.g. "acme-corp"; use the same as in Memory Store',
	},
	{
		displayName: 'Context Window',
		name: 'contextWindow',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Last N Messages', value: 'lastN', description: 'The newest messages, tool calls and results included' },
			{ name: 'Token Budget', value: 'tokenBudget', description: 'The newest messages that fit in a number of tokens' },
		],
		default: 'lastN',
		description: 'How much of the stored conversation the agent sees on each run; all of it stays stored',
	},
	{
		displayName: 'Last N Messages',
		name: 'lastN',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 20,
		description: 'Counts messages, not question-and-answer pairs',
		displayOptions: { show: { contextWindow: ['lastN'] } },
	},
	{
		displayName: 'Token Budget',
		name: 'tokenBudget',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 2000,
		description: "Maximum tokens (cl100k_base) of the conversation's text; the facts come on top",
		displayOptions: { show: { contextWindow: ['tokenBudget'] } },
	},
	{
		displayName: 'Include Facts',
		name: 'includeFacts',
		type: 'boolean',
		default: true,
		description:
			"Whether to give the agent the contact's facts (Memory Store's Set Facts) as a first message, before the conversation",
	},
	{
		displayName: 'Facts Message Role',
		name: 'factsRole',
		type: 'options',
		options: [
			{ name: 'User', value: 'user', description: 'Works with every chat model' },
			{
				name: 'System',
				value: 'system',
				description: 'Only for OpenAI-style models: Anthropic and Gemini refuse a second system message',
			},
		],
		default: 'user',
		displayOptions: { show: { includeFacts: [true] } },
	},
];

/** Parameters that decide whose memory is read: never chosen by the agent's model. */
export const ownerParameters: OwnerParameter[] = [
	{
		path: 'sessionId',
		field: 'sessionId',
		label: 'Session ID',
		decides: 'whose conversation the agent reads and writes',
		instead: 'Map it from the trigger, e.g. {{ $json.sessionId }}.',
	},
	{
		path: 'namespace',
		field: 'namespace',
		label: 'Namespace',
		decides: "which client's memories the agent reads and writes",
		instead: 'Set it to a fixed value or map it from the trigger.',
	},
	{
		path: 'storageOptions.keyPrefix',
		field: 'keyPrefix',
		label: 'Key Prefix',
		decides: 'which Redis keys the agent reads and writes',
		instead: 'Set it to a fixed value.',
	},
];

/** UI labels by the field name lib's InputError carries. */
export const fieldLabels: Record<string, string> = {
	sessionId: 'Session ID',
	namespace: 'Namespace',
	keyPrefix: 'Key Prefix',
	ttl: 'Forget After (Days)',
	maxMessages: 'Max Messages Kept',
	lastN: 'Last N Messages',
	tokenBudget: 'Token Budget',
};

export interface ChatMemorySettings {
	redis: boolean;
	keyPrefix: string;
	retention: RetentionPolicy;
	session: SessionRef;
	memory: ChatMemoryOptions;
}

function readSessionId(ctx: ISupplyDataFunctions, itemIndex: number): string {
	const value = ctx.getNodeParameter('sessionId', itemIndex, '') as unknown;
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw new InputError(
			'No session ID: by default it is the sessionId field the Chat Trigger sends. Without a Chat Trigger, set Session ID to a value that identifies the contact, e.g. {{ $json.email }}',
			'sessionId',
		);
	}
	return normalizeSessionId(value);
}

/** Reads and checks every setting, before any connection is opened. */
export function readSettings(ctx: ISupplyDataFunctions, itemIndex: number): ChatMemorySettings {
	const storage = ctx.getNodeParameter('storageOptions', itemIndex, {}) as {
		forgetAfterDays?: number;
		maxMessages?: number;
		keyPrefix?: string;
	};
	const window = ctx.getNodeParameter('contextWindow', itemIndex, 'lastN') as keyof HistoryOptions;
	const windowOptions: HistoryOptions = { [window]: ctx.getNodeParameter(window, itemIndex) as number };
	checkHistoryOptions(windowOptions);
	const includeFacts = ctx.getNodeParameter('includeFacts', itemIndex, true) as boolean;
	return {
		redis: ctx.getNodeParameter('backend', itemIndex) === 'redis',
		keyPrefix: checkKeyPrefix(storage.keyPrefix),
		retention: checkRetention({
			ttlMs: storage.forgetAfterDays === undefined ? DEFAULT_RETENTION.ttlMs : storage.forgetAfterDays * DAY_MS,
			maxMessages: storage.maxMessages ?? DEFAULT_RETENTION.maxMessages,
		}),
		session: {
			namespace: checkNamespace(ctx.getNodeParameter('namespace', itemIndex, 'default') as string),
			sessionId: readSessionId(ctx, itemIndex),
		},
		memory: {
			window: windowOptions,
			facts: includeFacts ? (ctx.getNodeParameter('factsRole', itemIndex, 'user') as FactsRole) : false,
		},
	};
}

/** The backend Memory Store would open with the same settings. */
export async function openBackend(ctx: ISupplyDataFunctions, settings: ChatMemorySettings): Promise<MemoryBackend> {
	const options = { keyPrefix: settings.keyPrefix, retention: settings.retention };
	if (!settings.redis) return new InProcessMemoryBackend(options);
	const credential = await ctx.getCredentials(REDIS_CREDENTIAL);
	return await RedisMemoryBackend.connect(redisConfigFromCredential(credential), options);
}
