import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeProperties,
} from 'n8n-workflow';

import {
	createRedisClient,
	InProcessMemoryBackend,
	parseEndpoints,
	RedisMemoryBackend,
} from '../../lib/memory';
import type { MemoryBackend, RedisConnectionConfig, RetentionPolicy } from '../../lib/memory';

export const REDIS_CREDENTIAL = 'symbioticRedisApi';
export const REDIS_CONNECTION_TEST = 'symbioticRedisConnectionTest';
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

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Maps the Symbiotic Redis credential onto the lib's connection settings. */
export function redisConfigFromCredential(data: ICredentialDataDecryptedObject): RedisConnectionConfig {
	const connection = (data.connection as string | undefined) ?? 'host';
	const database = Number(data.database ?? 0);
	const config: RedisConnectionConfig = {
		username: text(data.username),
		password: text(data.password),
		// In URL mode the URL's own /db counts unless another database is chosen.
		db: connection === 'cluster' || (connection === 'url' && database === 0) ? undefined : database,
		tls: data.tls === true ? true : undefined,
		allowSelfSigned: data.allowSelfSigned === true,
		connectTimeoutMs: data.connectTimeout === undefined ? undefined : Number(data.connectTimeout),
	};
	switch (connection) {
		case 'url':
			return { ...config, url: text(data.url) ?? '' };
		case 'sentinel':
			return {
				...config,
				sentinel: {
					sentinels: parseEndpoints(String(data.sentinels ?? ''), 26379, 'Sentinels'),
					masterName: text(data.masterName) ?? 'mymaster',
					sentinelPassword: text(data.sentinelPassword),
				},
			};
		case 'cluster':
			return { ...config, cluster: { nodes: parseEndpoints(String(data.clusterNodes ?? ''), 6379, 'Cluster Nodes') } };
		default:
			return { ...config, host: text(data.host) ?? 'localhost', port: Number(data.port ?? 6379) };
	}
}

/** The credential's "Test" button: connects, pings, and reports the lib's error (host:port and cause) as is. */
export async function testRedisConnection(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	try {
		const client = await createRedisClient(redisConfigFromCredential(credential.data ?? {}));
		try {
			await client.ping();
		} finally {
			client.disconnect();
		}
		return { status: 'OK', message: 'Connection successful' };
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
}

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
