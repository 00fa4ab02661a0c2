import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { createRedisClient, parseEndpoints } from '../../lib/memory';
import type { RedisConnectionConfig } from '../../lib/memory';

/** The Symbiotic Redis credential: Memory Store keeps conversations there, Human Approval its decisions. */
export const REDIS_CREDENTIAL = 'symbioticRedisApi';
/** Both nodes serve the credential's "Test" button under this name (the linter wants every user to name a test). */
export const REDIS_CONNECTION_TEST = 'symbioticRedisConnectionTest';

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
