import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { AUTO_NO_MODEL, AUTO_NO_VECTORS, isEmbeddingModelConfigured } from '../../lib/search';
import { NOTHING_FOUND } from '../../nodes/VectorSearch/operations/search';
import { linearWorkflow, runWorkflow, type TestNode } from '../support/n8nHarness';
import { startRerankTestServer, type RerankTestServer } from '../support/rerankServer';
import {
	agentWorkflow,
	nodeTypes,
	SEARCH_TOOL_TYPE,
	SEARCH_TYPE,
	useKnowledgeBaseFixture,
} from './knowledgeBaseNodes';

const kb = useKnowledgeBaseFixture();

const pages = [
	{
		id: 'boots',
		product: 'boots',
		year: '2024',
		text: '# Alpine boots\n\nWaterproof leather boots with a wool lining for snowy winter hikes.',
	},
	{
		id: 'sandals',
		product: 'sandals',
		year: '2023',
		text: '# Beach sandals\n\nLight sandals with a cork sole for hot summer days at the beach.',
	},
	{
		id: 'returns',
		product: 'service',
		year: '2024',
		text: '# Returns\n\nUnworn shoes can be returned within 30 days for a full refund.',
	},
	{
		id: 'care',
		product: 'boots',
		year: '2022',
		text: '# Boot care\n\nClean leather boots with a soft brush and wax them before winter.',
	},
];

const run = kb.run;

const ingest = (collection: string, withModel: boolean) =>
	run(
		kb.ingestNode({
			operation: 'ingest',
			source: 'text',
			text: '={{ $json.text }}',
			sourceId: '={{ $json.id }}',
			collection,
			namespace: 'shop',
			metadata: {
				values: [
					{ key: 'product', value: '={{ $json.product }}' },
					{ key: 'year', value: '={{ $json.year }}' },
				],
			},
		}),
		pages.map((json) => ({ json })),
		withModel,
	);

const searchNode = (parameters: INodeParameters, extra?: Partial<TestNode>) =>
	kb.searchNode(
		{
			operation: 'search',
			query: '={{ $json.question }}',
			namespace: 'shop',
			topK: 3,
			...parameters,
		},
		extra,
	);

const ask = (question: string) => [{ json: { question } }];

describe('Vector Search node (n8n engine, LanceDB, OpenAI-compatible test server)', () => {
	beforeAll(async () => {
		expect((await ingest('with-vectors', true)).error).toBeUndefined();
		expect((await ingest('keywords-only', false)).error).toBeUndefined();
	});
	beforeEach(() => kb.server.reset());

	describe('as an AI Agent tool', () => {
		// The query as n8n fills it in when the user lets the model define the parameter.
		const toolNode = (parameters: INodeParameters) =>
			searchNode(
				{
					mode: 'hybrid',
					output: 'combined',
					collection: 'with-vectors',
					query: "={{ $fromAI('query', 'The question to look up in the knowledge base', 'string') }}",
					...parameters,
				},
				{ name: 'Search Knowledge', type: SEARCH_TOOL_TYPE },
			);
		const callTool = async (tool: TestNode, toolArguments: IDataObject) => {
			const result = await runWorkflow(agentWorkflow(tool, toolArguments), {
				nodeTypes,
				credentials: kb.modelCredentials,
			});
			expect(result.error).toBeUndefined();
			return JSON.parse(String(result.outputs.Agent[0][0].json.observation));
		};

		it('offers n8n a tool variant whose description tells the agent what comes back', () => {
			const { usableAsTool } = nodeTypes[SEARCH_TYPE].description;
			expect(typeof usableAsTool === 'object' && usableAsTool.replacements?.description).toMatch(
				/numbered \[1\], \[2\]/,
			);
			expect(nodeTypes[SEARCH_TOOL_TYPE].description.description).toMatch(/Input: a question/);
			expect(nodeTypes[SEARCH_TOOL_TYPE].description.description).toMatch(/you cannot choose another/);
		});

		it('takes the query the agent writes through $fromAI and answers with numbered passages', async () => {
			const observation = await callTool(toolNode({}), { query: 'waterproof boots for snowy hikes' });
			expect(observation).toHaveLength(1);
			const [answer] = observation;
			expect(answer).toMatchObject({ query: 'waterproof boots for snowy hikes' });
			expect(answer.context).toMatch(/^\[1\] Alpine boots.* — boots\n/);
			expect(answer.context).toContain('wool lining');
			expect(answer.sources[0]).toEqual({
				citation: '[1]',
				sourceId: 'boots',
				title: 'Alpine boots',
			});
			expect(answer.count).toBe(answer.sources.length);
			expect(answer).not.toHaveProperty('hits');
			expect(kb.server.count('/embeddings')).toBe(1);

			// What the agent's model reads, compared with the regular node's one-item output for the same search.
			const regular = await run(
				searchNode({ mode: 'hybrid', output: 'combined', collection: 'with-vectors' }),
				ask('waterproof boots for snowy hikes'),
			);
			const toolChars = JSON.stringify(observation).length;
			const regularChars = JSON.stringify(regular.items).length;
			expect(toolChars).toBeLessThan(regularChars / 2);
			console.log(`Agent observation: ${toolChars} characters (regular one-item output: ${regularChars})`);
		});

		it('tells the agent plainly when nothing matches', async () => {
			const [answer] = await callTool(toolNode({ namespace: 'no-such-client' }), { query: 'boots' });
			expect(answer).toMatchObject({ count: 0, sources: [], context: NOTHING_FOUND });
		});

		it('refuses a namespace the agent would choose, so a prompt cannot reach another client', async () => {
			const observation = await callTool(
				toolNode({ namespace: "={{ $fromAI('client', 'Which client', 'string') }}" }),
				{ query: 'boots', client: 'other-client' },
			);
			expect(JSON.stringify(observation)).toContain('The AI agent may not choose the Namespace');
		});

		it.each([
			['Collection', { collection: "={{ $fromAi ('kb') }}" }, { kb: 'other' }],
			['Folder Path', { folderPath: "={{ /*n8n-auto-generated-fromAI-override*/ $fromAI('Folder_Path', ``, 'string') }}" }, { Folder_Path: '/tmp' }],
		])('refuses a %s the agent would choose, in any spelling of $fromAI', async (label, parameters, toolArguments) => {
			const observation = await callTool(toolNode(parameters), { query: 'boots', ...toolArguments });
			expect(JSON.stringify(observation)).toContain(`The AI agent may not choose the ${label} ($fromAI)`);
		});

		it('refuses a namespace read from the tool call input ($json), which the model can fill', async () => {
			const observation = await callTool(toolNode({ namespace: '={{ $json.client }}' }), { query: 'boots', client: 'shop' });
			expect(JSON.stringify(observation)).toContain("As an AI agent tool, the Namespace may not come from the tool call's input");
		});
	});

	it.each(['semantic', 'hybrid'])(
		'%s search returns the best passage first, one item per hit',
		async (mode) => {
			const result = await run(
				searchNode({ mode, output: 'perHit', collection: 'with-vectors' }),
				ask('waterproof boots for snowy hikes'),
			);
			expect(result.error).toBeUndefined();
			expect(result.items.length).toBeGreaterThan(0);
			expect(result.items[0]).toMatchObject({
				citation: '[1]',
				index: 1,
				sourceId: 'boots',
				query: 'waterproof boots for snowy hikes',
			});
			expect(result.items[0].text).toContain('wool lining');
			expect(kb.server.count('/embeddings')).toBe(1);
			const pairing = result.outputs['Vector Search'][0].map((item) => item.pairedItem);
			expect(pairing).toEqual(result.items.map(() => ({ item: 0 })));
		},
	);

	it('keyword search works without any model credential', async () => {
		const result = await run(
			searchNode({ mode: 'keyword', output: 'perHit', collection: 'keywords-only' }),
			ask('cork sole'),
			false,
		);
		expect(result.error).toBeUndefined();
		expect(result.items[0]).toMatchObject({ sourceId: 'sandals', citation: '[1]' });
		expect(kb.server.count()).toBe(0);
	});

	it('semantic search without a model credential fails with what to do', async () => {
		const result = await run(
			searchNode({ mode: 'semantic', collection: 'keywords-only' }),
			ask('boots'),
			false,
		);
		expect(result.error?.message).toContain('Semantic search needs an embedding model');
		expect(result.error?.description).toBe('Check the "Search Mode" parameter of item 1.');
	});

	it('gives one item with all hits and a numbered context for prompts', async () => {
		const result = await run(
			searchNode({ mode: 'hybrid', output: 'combined', collection: 'with-vectors' }),
			ask('leather boots winter'),
		);
		expect(result.items).toHaveLength(1);
		const [answer] = result.items as Array<{ hits: IDataObject[]; context: string; count: number }>;
		expect(answer.count).toBe(answer.hits.length);
		expect(answer.hits.map((hit) => hit.citation)).toEqual(
			answer.hits.map((_, index) => `[${index + 1}]`),
		);
		expect(answer.context).toMatch(/^\[1\] /);
		expect(answer.context).toContain(String(answer.hits[0].text));
	});

	it('filters on metadata from the condition list and from raw JSON', async () => {
		const byList = await run(
			searchNode({
				mode: 'keyword',
				output: 'perHit',
				collection: 'keywords-only',
				filters: { conditions: [{ key: 'product', op: 'eq', value: 'boots' }] },
			}),
			ask('leather boots winter'),
			false,
		);
		expect(byList.items.map((item) => item.sourceId).sort()).toEqual(['boots', 'care']);

		const byJson = await run(
			searchNode({
				mode: 'keyword',
				output: 'perHit',
				collection: 'keywords-only',
				filters: { conditions: [{ key: 'product', op: 'eq', value: 'boots' }] },
				options: { filterJson: '{ "year": { "$gte": 2024 } }' },
			}),
			ask('leather boots winter'),
			false,
		);
		expect(byJson.items.map((item) => item.sourceId)).toEqual(['boots']);
	});

	it('names the parameter when the JSON filter is broken, and continues on fail when asked', async () => {
		const broken = searchNode({
			mode: 'keyword',
			collection: 'keywords-only',
			options: { filterJson: '{ year: 2024' },
		});
		const failed = await run(broken, ask('boots'), false);
		expect(failed.error?.message).toContain('Filter (JSON) is not valid JSON');
		expect(failed.error?.description).toBe('Check the "Filter (JSON)" parameter of item 1.');

		const lenient = await run(
			{ ...broken, onError: 'continueRegularOutput' },
			[...ask('boots'), ...ask('sandals')],
			false,
		);
		expect(lenient.error).toBeUndefined();
		expect(lenient.items).toHaveLength(2);
		expect(lenient.items.every((item) => String(item.error).includes('not valid JSON'))).toBe(true);
	});

	it('drops hits under the minimum score', async () => {
		const all = await run(
			searchNode({ mode: 'semantic', output: 'perHit', collection: 'with-vectors', topK: 4 }),
			ask('boots'),
		);
		const scores = all.items.map((item) => item.score as number);
		expect(scores.length).toBeGreaterThan(1);
		const threshold = (scores[0] + scores[scores.length - 1]) / 2;
		const filtered = await run(
			searchNode({
				mode: 'semantic',
				output: 'perHit',
				collection: 'with-vectors',
				topK: 4,
				options: { minScore: threshold },
			}),
			ask('boots'),
		);
		expect(filtered.items.length).toBeLessThan(scores.length);
		expect(filtered.items.every((item) => (item.score as number) >= threshold)).toBe(true);
	});

	describe('Search Mode "Auto"', () => {
		/** Runs the node with this model credential data (instead of the fixture's working one). */
		const runWithModel = async (node: TestNode, modelCredential: Record<string, string | number>) => {
			const result = await runWorkflow(linearWorkflow(node), {
				nodeTypes,
				credentials: { symbioticModelApi: modelCredential },
				inputItems: ask('waterproof boots for snowy hikes'),
			});
			return { ...result, items: (result.outputs[node.name]?.[0] ?? []).map((item) => item.json) };
		};
		/** What the example credential holds when `npm run dev` starts without OPENAI_BASE_URL. */
		const placeholderModel = () => ({
			...kb.modelCredentials.symbioticModelApi,
			baseUrl: 'OPENAI_BASE_URL is not set: start npm run dev with OPENAI_BASE_URL, or type the base URL here',
		});

		it('runs hybrid search with a configured model credential, and says so', async () => {
			const result = await run(
				searchNode({ mode: 'auto', output: 'combined', collection: 'with-vectors' }),
				ask('waterproof boots for snowy hikes'),
			);
			expect(result.error).toBeUndefined();
			expect(result.items[0]).toMatchObject({ mode: 'hybrid', hits: expect.any(Array) });
			expect(result.items[0]).not.toHaveProperty('modeReason');
			expect(kb.server.count('/embeddings')).toBe(1);
		});

		it('runs keyword search without a model credential, and says why', async () => {
			const result = await run(
				searchNode({ mode: 'auto', output: 'perHit', collection: 'keywords-only' }),
				ask('cork sole'),
				false,
			);
			expect(result.error).toBeUndefined();
			expect(result.items[0]).toMatchObject({ mode: 'keyword', modeReason: AUTO_NO_MODEL, sourceId: 'sandals' });
			expect(kb.server.count()).toBe(0);
		});

		it('treats a model credential without a base URL or embedding model as no model', async () => {
			for (const credential of [placeholderModel(), { ...kb.modelCredentials.symbioticModelApi, embeddingModel: '' }]) {
				const result = await runWithModel(
					searchNode({ mode: 'auto', output: 'combined', collection: 'with-vectors' }),
					credential,
				);
				expect(result.error).toBeUndefined();
				expect(result.items[0]).toMatchObject({ mode: 'keyword', modeReason: AUTO_NO_MODEL });
				expect((result.items[0].hits as IDataObject[])[0]).toMatchObject({ sourceId: 'boots' });
			}
			expect(kb.server.count()).toBe(0);
		});

		it('falls back to keyword search on a collection stored without vectors', async () => {
			const result = await run(
				searchNode({ mode: 'auto', output: 'combined', collection: 'keywords-only' }),
				ask('cork sole'),
			);
			expect(result.error).toBeUndefined();
			expect(result.items[0]).toMatchObject({ mode: 'keyword', modeReason: AUTO_NO_VECTORS });
			expect((result.items[0].hits as IDataObject[])[0]).toMatchObject({ sourceId: 'sandals' });
		});

		it('leaves the other modes alone: Hybrid with an unusable credential still fails on it', async () => {
			const result = await runWithModel(
				searchNode({ mode: 'hybrid', output: 'combined', collection: 'with-vectors' }),
				placeholderModel(),
			);
			expect(result.error?.message).toMatch(/not a valid URL/);
		});

		it('names the mode that ran for explicit modes too', async () => {
			const result = await run(
				searchNode({ mode: 'keyword', output: 'combined', collection: 'keywords-only' }),
				ask('cork sole'),
				false,
			);
			expect(result.items[0]).toMatchObject({ mode: 'keyword' });
			expect(result.items[0]).not.toHaveProperty('modeReason');
		});

		it('decides "configured" from an http(s) base URL and an embedding model', () => {
			expect(isEmbeddingModelConfigured({ baseUrl: 'http://localhost:11434/v1', embeddingModel: 'nomic-embed-text' })).toBe(true);
			expect(isEmbeddingModelConfigured({ baseUrl: 'https://api.openai.com/v1', embeddingModel: 'text-embedding-3-small' })).toBe(true);
			expect(isEmbeddingModelConfigured({ baseUrl: '', embeddingModel: 'x' })).toBe(false);
			expect(isEmbeddingModelConfigured({ baseUrl: 'OPENAI_BASE_URL is not set: …', embeddingModel: 'x' })).toBe(false);
			expect(isEmbeddingModelConfigured({ baseUrl: 'file:///etc/passwd', embeddingModel: 'x' })).toBe(false);
			expect(isEmbeddingModelConfigured({ baseUrl: 'http://localhost:11434/v1', embeddingModel: ' ' })).toBe(false);
		});
	});
	describe('ranking controls', () => {
		let reranker: RerankTestServer;
		beforeAll(async () => {
			reranker = await startRerankTestServer({ apiKey: 'rk-node-tests' });
		});
		afterAll(() => reranker.close());
		beforeEach(() => reranker.reset());

		const runWithReranker = async (node: TestNode, question: string, rerankCredential: Record<string, string> = {}) => {
			const result = await runWorkflow(linearWorkflow(node), {
				nodeTypes,
				credentials: {
					...kb.modelCredentials,
					symbioticRerankApi: { baseUrl: `${reranker.url}/v1`, apiKey: 'rk-node-tests', model: 'test-reranker', apiFormat: 'documents', ...rerankCredential },
				},
				inputItems: ask(question),
			});
			return { ...result, items: (result.outputs[node.name]?.[0] ?? []).map((item) => item.json) };
		};

		it('asks for the Symbiotic Rerank API credential only when Rerank is on', () => {
			const credential = nodeTypes[SEARCH_TYPE].description.credentials?.find((entry) => entry.name === 'symbioticRerankApi');
			expect(credential).toMatchObject({ required: true, displayOptions: { show: { rerank: [true] } } });
		});

		it('reranks the candidates through the credential\'s endpoint and says so', async () => {
			const result = await runWithReranker(
				searchNode({ mode: 'hybrid', output: 'combined', collection: 'with-vectors', topK: 2, rerank: true, options: { rerankCandidates: 3 } }),
				'leather boots for the beach',
			);
			expect(result.error).toBeUndefined();
			expect(result.items[0]).toMatchObject({ mode: 'hybrid', reranked: true });
			expect(result.items[0]).not.toHaveProperty('rerankReason');
			const [request] = reranker.requests;
			expect(request.path).toBe('/v1/rerank');
			expect(request.headers.authorization).toBe('Bearer rk-node-tests');
			expect(request.body).toMatchObject({ model: 'test-reranker', query: 'leather boots for the beach', top_n: 3 });
			expect(request.body.documents).toHaveLength(3);
			const hits = result.items[0].hits as IDataObject[];
			expect(hits).toHaveLength(2);
			expect(hits[0]).toMatchObject({ citation: '[1]', retrievalScore: expect.any(Number) });
		});

		it('keeps the search order when the reranker fails, with reranked: false and the reason on every item', async () => {
			const plain = await run(
				searchNode({ mode: 'hybrid', output: 'perHit', collection: 'with-vectors' }),
				ask('waterproof boots for snowy hikes'),
			);
			const result = await runWithReranker(
				searchNode({ mode: 'hybrid', output: 'perHit', collection: 'with-vectors', rerank: true }),
				'waterproof boots for snowy hikes',
				{ apiKey: 'wrong-key' },
			);
			expect(result.error).toBeUndefined();
			expect(result.items.map((item) => item.sourceId)).toEqual(plain.items.map((item) => item.sourceId));
			for (const item of result.items) {
				expect(item).toMatchObject({ reranked: false, rerankReason: expect.stringMatching(/HTTP 401.*check the API key/) });
				expect(JSON.stringify(item)).not.toContain('wrong-key');
			}
		});

		it('Semantic Weight 0 ranks hybrid search like keyword search; a weight out of range names the option', async () => {
			const question = ask('leather boots winter');
			const keyword = await run(searchNode({ mode: 'keyword', output: 'perHit', collection: 'with-vectors', topK: 2 }), question);
			const wordsOnly = await run(
				searchNode({ mode: 'hybrid', output: 'perHit', collection: 'with-vectors', topK: 2, options: { semanticWeight: 0 } }),
				question,
			);
			expect(wordsOnly.items.map((item) => item.sourceId)).toEqual(keyword.items.map((item) => item.sourceId));

			const rrf = await run(
				searchNode({ mode: 'hybrid', output: 'perHit', collection: 'with-vectors', options: { fusion: 'rrf', semanticWeight: 0.5 } }),
				question,
			);
			expect(rrf.error).toBeUndefined();
			expect(rrf.items[0].score as number).toBeLessThan(2 / 61 + 1e-12);

			const wrong = await run(
				searchNode({ mode: 'hybrid', collection: 'with-vectors', options: { semanticWeight: 1.5 } }),
				question,
			);
			expect(wrong.error?.message).toContain('Semantic Weight must be a number from 0 to 1');
			expect(wrong.error?.description).toBe('Check the "Semantic Weight" parameter of item 1.');
		});

		it('Max Results per Source: 1 gives each document one place', async () => {
			const result = await run(
				searchNode({ mode: 'keyword', output: 'perHit', collection: 'keywords-only', topK: 4, maxPerSource: 1 }),
				ask('leather boots winter'),
				false,
			);
			const sources = result.items.map((item) => item.sourceId);
			expect(new Set(sources).size).toBe(sources.length);
		});
	});
});
