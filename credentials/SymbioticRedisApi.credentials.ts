import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

const show = (connection: string[]) => ({ show: { connection } });

/**
 * A Redis server for the Memory Store and Human Approval's decision store: one server by host and port or by
 * URL, a Sentinel group, or a Cluster. Redis speaks no HTTP, so the "Test" button is served by those nodes'
 * `symbioticRedisConnectionTest` method.
 */
export class SymbioticRedisApi implements ICredentialType {
	name = 'symbioticRedisApi';

	displayName = 'Symbiotic Redis';

	icon: Icon = { light: 'file:../icons/symbioticRedis.svg', dark: 'file:../icons/symbioticRedis.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-symbiotic#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Connect With',
			name: 'connection',
			type: 'options',
			options: [
				{ name: 'Host and Port', value: 'host', description: 'One Redis server' },
				{ name: 'URL', value: 'url', description: 'redis://user:password@host:port/db, or rediss:// for TLS' },
				{ name: 'Sentinel', value: 'sentinel', description: 'A Sentinel group that tells which server is the master' },
				{ name: 'Cluster', value: 'cluster', description: 'A Redis Cluster, through one or more of its nodes' },
			],
			default: 'host',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			displayOptions: show(['host']),
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 6379,
			displayOptions: show(['host']),
		},
		{
			displayName: 'URL',
			name: 'url',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'redis://default:password@redis.example.com:6379/0',
			description: 'Username, password and database in the URL are used unless set below',
			displayOptions: show(['url']),
		},
		{
			displayName: 'Sentinels',
			name: 'sentinels',
			type: 'string',
			default: '',
			placeholder: 'sentinel-1:26379, sentinel-2:26379',
			description: 'Comma-separated host:port of the Sentinels',
			displayOptions: show(['sentinel']),
		},
		{
			displayName: 'Master Name',
			name: 'masterName',
			type: 'string',
			default: 'mymaster',
			displayOptions: show(['sentinel']),
		},
		{
			displayName: 'Sentinel Password',
			name: 'sentinelPassword',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Only when the Sentinels themselves require a password',
			displayOptions: show(['sentinel']),
		},
		{
			displayName: 'Cluster Nodes',
			name: 'clusterNodes',
			type: 'string',
			default: '',
			placeholder: 'redis-1:6379, redis-2:6379',
			description: 'Comma-separated host:port of some cluster nodes; the others are discovered',
			displayOptions: show(['cluster']),
		},
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			description: 'Redis 6+ ACL user; leave empty for the default user',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Database Number',
			name: 'database',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'Clusters only have database 0',
			displayOptions: show(['host', 'url', 'sentinel']),
		},
		{
			displayName: 'TLS',
			name: 'tls',
			type: 'boolean',
			default: false,
			description: 'Whether to encrypt the connection (needed by most hosted Redis services)',
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
			description: 'Whether to accept a server certificate no known authority signed',
			displayOptions: { show: { tls: [true] } },
		},
		{
			displayName: 'Connect Timeout (Ms)',
			name: 'connectTimeout',
			type: 'number',
			typeOptions: { minValue: 100 },
			default: 5000,
			description: 'How long to wait for Redis before failing with an error that names the server',
		},
	];
}
