import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InProcessMemoryBackend, RedisMemoryBackend } from '../../lib/memory';
import type { MemoryBackend, RetentionPolicy } from '../../lib/memory';
import { REDIS_CREDENTIAL, redisConfigFromCredential } from '../shared/redisCredential';


const DAY_MS = 24 * 60 * 60 * 1000;


export const backendProperties: INodeProperties[] = [
	{
		displayName: 'Storage',
		name: 'backend',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'In-Process (for Trying Out)',
				value: 'inProcess',
				description: 'Inside n8n itself: single n8n process only, lost on restart',
			},
			{
				name: 'Redis',
				value: 'redis',
				description: 'A Redis server: shared by all n8n workers, survives restarts',
			},
		],
		default: 'inProcess',
	},
	{
		displayName:
			'In-process memory lives in this n8n process only and is lost on restart (and not shared between queue-mode workers). Choose Redis for production.',
		name: 'inProcessNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { backend: ['inProcess'] } },
	},
	{
		displayName: 'Storage Options',
		name: 'storageOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Forget After (Days)',
				name: 'forgetAfterDays',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 2 },
				default: 30,
				description:
					'A conversation not written to for this long is deleted; every write restarts the clock. 0 keeps it forever.',
			},
			{
				displayName: 'Max Messages Kept',
				name: 'maxMessages',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'Only the newest messages of a conversation are kept; 0 keeps all',
			},
			{
				displayName: 'Key Prefix',
				name: 'keyPrefix',
				type: 'string',
				default: 'symbiotic',
				description:
					'Start of every Redis key this node writes (prefix:{namespace:session}:messages), to share a Redis with other programs',
			},
		],
	},
];

/** Opens the memory the node's settings (of the first item: storage is per node, not per item) describe. */
export async function openMemory(ctx: IExecuteFunctions): Promise<MemoryBackend> {
	const options = ctx.getNodeParameter('storageOptions', 0, {}) as {
		forgetAfterDays?: number;
		maxMessages?: number;
		keyPrefix?: string;
	};
	const retention: Partial<RetentionPolicy> = {
		ttlMs: (options.forgetAfterDays ?? 30) * DAY_MS,
		maxMessages: options.maxMessages ?? 0,
	};
	if (ctx.getNodeParameter('backend', 0) === 'redis') {
		const credential = await ctx.getCredentials(REDIS_CREDENTIAL);
		return await RedisMemoryBackend.connect(redisConfigFromCredential(credential), {
			keyPrefix: options.keyPrefix,
			retention,
		});
	}
	return new InProcessMemoryBackend({ keyPrefix: options.keyPrefix, retention });
}
