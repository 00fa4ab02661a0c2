/**
 * What we survive: secrets never reach a message, a log line or an output item. Each error is made to happen for
 * real (URLs with user:password@ and a query token, keys in credentials, servers that echo what they were sent)
 * and what comes back is scanned for the literal secret strings.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ICredentialDataDecryptedObject, ICredentialTestFunctions, INodeExecutionData } from 'n8n-workflow';

import { createChatClient, type ModelRequestError } from '../../lib/generate';
import { displayURL, redactSecrets, urlSecrets, urlWithoutUserInfo, withoutUserInfo } from '../../lib/redact';
import { openStore } from '../../lib/stores';
import { Generate } from '../../nodes/Generate/Generate.node';
import { MemoryStore } from '../../nodes/MemoryStore/MemoryStore.node';
import { freePort, startRedisServer } from '../memory/redisServer';
import { linearWorkflow, runWorkflow } from '../support/n8nHarness';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-live-4f9c2e7d1a55';
const USER = 'ada-lovelace';
const PASSWORD = 'hunter2-correct+horse';
const QUERY_TOKEN = 'query-token-9d8e7f';
const userInfo = `${USER}:${encodeURIComponent(PASSWORD)}@`;

/** Fails when `text` holds any of the secrets above, in any form, or user-info in any URL. */
function expectNoSecrets(text: string): void {
	for (const secret of [API_KEY, USER, PASSWORD, encodeURIComponent(PASSWORD), QUERY_TOKEN]) expect(text).not.toContain(secret);
	expect(text).not.toMatch(/:\/\/[^\s/]*@/);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
	return promise.then(
		() => {
			throw new Error('expected a failure');
		},
		(error: unknown) => error as Error,
	);
}

/** A port nothing listens on. */
const closedPort = freePort;

describe('redaction helpers', () => {
	it('removes user-info from every URL in a text, an unencoded @ in the password included', () => {
		expect(withoutUserInfo('fetch http://ada:p@ss@h.example/v1 and https://tok@h2.example/x failed')).toBe(
			'fetch http://h.example/v1 and https://h2.example/x failed',
		);
		expect(withoutUserInfo('mail ada@example.com about http://h.example/a')).toBe('mail ada@example.com about http://h.example/a');
	});

	it('removes user-info from one URL as typed, spaces and all, keeping the rest as written', () => {
		expect(urlWithoutUserInfo('http://ada:two words@h.example/Path?q=1')).toBe('http://h.example/Path?q=1');
	});

	it('shows a URL without user-info, query and fragment, even when it is no valid http(s) URL', () => {
		expect(displayURL(`https://${userInfo}api.example.com/v1/?key=${QUERY_TOKEN}#x`)).toBe('https://api.example.com/v1');
		expect(displayURL(`ftp://${userInfo}files.example.com/v1?key=${QUERY_TOKEN}`)).toBe('ftp://files.example.com/v1');
		expect(displayURL(`http://${USER}:${PASSWORD} x@h.example/v1`)).toBe('http://h.example/v1');
		expect(displayURL(`http://${userInfo}[h.example/v1?key=${QUERY_TOKEN}`)).toBe('http://[h.example/v1');
		expect(displayURL('localhost:11434')).toBe('localhost:11434');
	});

	it('masks every secret a URL carries, as written and decoded, longest first; short ones are left', () => {
		const url = `http://${userInfo}h.example/v1?token=${QUERY_TOKEN}`;
		expect(urlSecrets(url)).toEqual([USER, encodeURIComponent(PASSWORD), USER, PASSWORD, `token=${QUERY_TOKEN}`]);
		expect(redactSecrets(`pw ${PASSWORD} (${encodeURIComponent(PASSWORD)}), key ${API_KEY}x, id abc`, [...urlSecrets(url), API_KEY, 'abc'])).toBe(
			'pw *** (***), key ***x, id abc',
		);
	});
});

describe('Generate', () => {
	let server: OpenAITestServer;
	beforeAll(async () => {
		server = await startOpenAITestServer({ apiKey: API_KEY });
	});
	afterAll(() => server.close());
	beforeEach(() => server.reset());

	const withUserInfo = () => server.url.replace('http://', `http://${userInfo}`);
	const ask = (baseURL: string) =>
		createChatClient({ baseURL, apiKey: API_KEY, model: 'test-chat', maxRetries: 0 }).complete({ messages: [{ role: 'user', content: 'Hi' }] });

	it('names the server without user-info when the base URL carries it', async () => {
		const error = (await rejection(ask(withUserInfo()))) as ModelRequestError;
		expect(error.message).toMatch(new RegExp(`^Could not connect to the model server at ${server.url.replace(/[.]/g, '\\.')}: `));
		expectNoSecrets(error.message);
	});

	it.each([400, 404, 429, 500])('keeps key and user-info out of an HTTP %i error that echoes them', async (status) => {
		server.failNext(1, { status, message: `key ${API_KEY} refused by http://${userInfo}gateway.internal/v1` });
		const error = (await rejection(ask(server.url))) as ModelRequestError;
		expect(error.status).toBe(status);
		expect(error.message).toContain('key *** refused by http://gateway.internal/v1');
		expectNoSecrets(error.message);
	});

	it('shows a base URL that is not http(s) without its secrets', () => {
		for (const baseURL of [`ftp://${userInfo}models.internal/v1`, `http://${userInfo}[models.internal/v1`, `models.internal/v1?key=${QUERY_TOKEN}`]) {
			const error = (() => {
				try {
					createChatClient({ baseURL, model: 'm' });
				} catch (caught) {
					return caught as Error;
				}
				throw new Error(`expected ${baseURL} to be refused`);
			})();
			expect(error.message).toMatch(/^Base URL ".*" is not an http\(s\) URL/);
			expectNoSecrets(error.message);
		}
	});

	it('[secrets-generate] keeps them out of the whole execution of the node, stopped or continuing', async () => {
		const type = 'n8n-nodes-symbiotic.generate';
		const run = (onError?: 'continueRegularOutput') =>
			runWorkflow(linearWorkflow({ name: 'Generate', type, parameters: { prompt: 'Hi', answerOnlyFromSources: false, options: { maxRetries: 0 } }, ...(onError && { onError }) }), {
				nodeTypes: { [type]: new Generate() },
				credentials: { symbioticModelApi: { baseUrl: `${withUserInfo()}?token=${QUERY_TOKEN}`, apiKey: API_KEY, chatModel: 'test-chat' } },
				inputItems: [{ json: {} }],
			});
		const stopped = await run();
		expect(stopped.error?.message).toMatch(/^Could not connect to the model server at http:\/\/127\.0\.0\.1:\d+\/v1/);
		expectNoSecrets(`${stopped.error?.message} ${stopped.error?.description} ${JSON.stringify(stopped.run)}`);
		const continued = await run('continueRegularOutput');
		const [item] = continued.outputs.Generate[0] as INodeExecutionData[];
		expect(item.json.error).toBe(stopped.error?.message);
		expectNoSecrets(JSON.stringify(continued.run));
	});
});

describe('Qdrant store', () => {
	it('shows an invalid URL without its secrets', async () => {
		for (const url of [`qdrant://${userInfo}q.internal:6333?api_key=${QUERY_TOKEN}`, `http://${userInfo}[q.internal:6333`]) {
			const error = await rejection(openStore({ kind: 'qdrant', url, apiKey: API_KEY, collection: 'kb' }));
			expect(error.message).toMatch(/^The Qdrant URL ".*" is not valid: use http\(s\):\/\/host:6333\.$/);
			expectNoSecrets(error.message);
		}
	});

	it('names an unreachable server without user-info, key or query', async () => {
		const port = await closedPort();
		const store = await openStore({ kind: 'qdrant', url: `http://${userInfo}127.0.0.1:${port}/?api_key=${QUERY_TOKEN}`, apiKey: API_KEY, collection: 'kb' });
		const error = await rejection(store.listSources('acme'));
		expect(error.message).toBe(`Could not reach Qdrant at http://127.0.0.1:${port}: ECONNREFUSED`);
		await store.close();
	});

	it('[secrets-qdrant-echo] masks the key and the URL secrets a server echoes in its error', async () => {
		const echo = http.createServer((request, response) => {
			const said = `bad key ${String(request.headers['api-key'])} for http://${userInfo}127.0.0.1/?api_key=${QUERY_TOKEN}`;
			response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: { error: said }, time: 0 }));
		});
		await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
		const { port } = echo.address() as AddressInfo;
		try {
			const store = await openStore({ kind: 'qdrant', url: `http://127.0.0.1:${port}/?api_key=${QUERY_TOKEN}`, apiKey: API_KEY, collection: 'kb' });
			const error = await rejection(store.listSources('acme'));
			expect(error.message).toMatch(/\(HTTP 500\): bad key \*\*\* for http:\/\/127\.0\.0\.1\/\?\*\*\*$/);
			expectNoSecrets(error.message);
			await store.close();
		} finally {
			echo.closeAllConnections();
			await new Promise((resolve) => echo.close(resolve));
		}
	});
});

describe('Redis credential and Memory Store', () => {
	const credentialTest = (data: ICredentialDataDecryptedObject) =>
		new MemoryStore().methods.credentialTest.symbioticRedisConnectionTest.call({} as ICredentialTestFunctions, {
			id: 'c1',
			name: 'Redis',
			type: 'symbioticRedisApi',
			data: { connectTimeout: 1000, ...data },
		});

	it('[secrets-redis-credential] keeps the password out of every failed credential test', async () => {
		const server = await startRedisServer(['--requirepass', 'the-right-one']);
		const port = await closedPort();
		try {
			const results = [
				await credentialTest({ connection: 'url', url: `redis://${userInfo}127.0.0.1:${port}/0` }),
				await credentialTest({ connection: 'url', url: `redis://${userInfo}127.0.0.1:${server.port}/0` }),
				await credentialTest({ connection: 'host', host: '127.0.0.1', port: server.port, username: USER, password: PASSWORD }),
				await credentialTest({ connection: 'cluster', clusterNodes: `${userInfo}redis-1:6379` }),
				await credentialTest({ connection: 'sentinel', sentinels: `127.0.0.1:${port}`, sentinelPassword: PASSWORD, password: PASSWORD }),
				await credentialTest({ connection: 'url', url: `http://${userInfo}127.0.0.1:${port}` }),
			];
			expect(results.map((result) => result.status)).toEqual(Array(results.length).fill('Error'));
			expect(results[0].message).toMatch(`Could not connect to Redis at 127.0.0.1:${port}: connection refused`);
			expect(results[1].message).toMatch(`Redis at 127.0.0.1:${server.port} rejected the username or password`);
			expect(results[3].message).toBe('Cluster Nodes: "***@redis-1:6379" is not host:port (for example redis-1:6379)');
			for (const { message } of results) expectNoSecrets(message ?? '');
		} finally {
			await server.stop();
		}
	});

	it('[secrets-memory-store] keeps the password out of a failed Memory Store execution', async () => {
		const port = await closedPort();
		const type = 'n8n-nodes-symbiotic.memoryStore';
		const result = await runWorkflow(
			linearWorkflow({ name: 'Memory', type, parameters: { backend: 'redis', operation: 'getFacts', sessionId: 'x', namespace: 'acme' } }),
			{
				nodeTypes: { [type]: new MemoryStore() },
				credentials: { symbioticRedisApi: { connection: 'url', url: `redis://${userInfo}127.0.0.1:${port}/0`, connectTimeout: 1000 } },
			},
		);
		expect(result.error?.message).toMatch(`Could not connect to Redis at 127.0.0.1:${port}`);
		expectNoSecrets(`${result.error?.message} ${result.error?.description} ${JSON.stringify(result.run)}`);
	});
});
