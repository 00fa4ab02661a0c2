import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { NodeHelpers, Workflow } from 'n8n-workflow';

import { asAgentTool, linearWorkflow, runWorkflow, type TestNode } from '../support/n8nHarness';
import { startRerankTestServer } from '../support/rerankServer';
import { startQdrantValidatingServer, type QdrantValidatingServer } from '../support/qdrantValidatingServer';
import { agentWorkflow, nodeTypes, SEARCH_TOOL_TYPE, SEARCH_TYPE, useKnowledgeBaseFixture } from './knowledgeBaseNodes';
import { VectorSearch } from '../../nodes/VectorSearch/VectorSearch.node';

const kb = useKnowledgeBaseFixture();

const SANDALS_URL = 'https://shop.example.com/sandals/';
const pages = [
	{ id: 'boots', text: '# Alpine boots\n\nWaterproof leather boots with a wool lining for snowy winter hikes.' },
	{ id: SANDALS_URL, text: '# Beach sandals\n\nLight sandals with a cork sole for hot summer days at the beach.' },
	{ id: 'returns', text: '# Returns\n\nUnworn shoes can be returned within 30 days for a full refund.' },
	{ id: 'care', text: '# Boot care\n\nClean leather boots with a soft brush and wax them before winter.' },
];

const COLLECTION = 'evaluation';
const ingestParameters = {
	operation: 'ingest',
	source: 'text',
	text: '={{ $json.text }}',
	sourceId: '={{ $json.id }}',
	collection: COLLECTION,
	namespace: 'shop',
};

const evaluateNode = (parameters: INodeParameters, extra?: Partial<TestNode>) =>
	kb.searchNode({ operation: 'evaluate', collection: COLLECTION, namespace: 'shop', topK: 3, ...parameters }, extra);

const searchNode = (parameters: INodeParameters) =>
	kb.searchNode({ operation: 'search', output: 'perHit', query: '={{ $json.question }}', collection: COLLECTION, namespace: 'shop', topK: 3, ...parameters });

/** Runs Start → node; the evaluation's two outputs as plain JSON. */
async function evaluate(node: TestNode, questions: IDataObject[], withModel = true) {
	const result = await runWorkflow(linearWorkflow(node), {
		nodeTypes,
		credentials: withModel ? kb.modelCredentials : undefined,
		inputItems: questions.map((json) => ({ json })),
	});
	const [questionsOut = [], summaryOut = []] = result.outputs[node.name] ?? [];
	const json = (items: INodeExecutionData[]) => items.map((item) => item.json);
	return { ...result, questions: json(questionsOut), summary: json(summaryOut), raw: result.outputs[node.name] };
}

const L3 = Math.log2(3);
const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

describe('Vector Search: Evaluate (n8n engine, LanceDB, OpenAI-compatible test server)', () => {
	beforeAll(async () => {
		const ingest = await kb.run(kb.ingestNode(ingestParameters), pages.map((json) => ({ json })));
		expect(ingest.error).toBeUndefined();
	});
	beforeEach(() => kb.server.reset());

	it('has a second output "Summary" for Evaluate only, and no Evaluate for the AI agent tool', () => {
		const description = new VectorSearch().description;
		const outputsOf = (operation: string) => {
			const node = { id: 'n', name: 'VS', type: SEARCH_TYPE, typeVersion: 1, position: [0, 0] as [number, number], parameters: { operation } };
			const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes: { getByName: () => new VectorSearch(), getByNameAndVersion: () => new VectorSearch(), getKnownTypes: () => ({}) } });
			return NodeHelpers.getNodeOutputs(workflow, node, description);
		};
		expect(outputsOf('search')).toEqual(['main']);
		expect(outputsOf('evaluate')).toEqual([
			{ type: 'main', displayName: 'Questions' },
			{ type: 'main', displayName: 'Summary' },
		]);
		const operationChoices = (type: typeof description) =>
			type.properties
				.filter((property) => property.name === 'operation')
				.filter((property) => NodeHelpers.displayParameter({}, property, null, type))
				.flatMap((property) => (property.options ?? []).map((option) => ('value' in option ? option.value : undefined)));
		expect(operationChoices(description)).toEqual(['search', 'evaluate']);
		expect(operationChoices(asAgentTool(new VectorSearch()).description)).toEqual(['search']);
		expect(nodeTypes[SEARCH_TOOL_TYPE].description.outputs).toEqual(['ai_tool']);
	});

	it('keyword mode: ranks, hit@k, reciprocal rank and nDCG@k by hand, ids and URLs, and the summary', async () => {
		const result = await evaluate(
			evaluateNode({ mode: 'keyword' }),
			[
				// Only the sandals page has these words; expected by its URL spelled differently.
				{ question: 'cork sole beach', expectedSources: 'HTTPS://SHOP.example.com/sandals#top' },
				// boots has three of the words (wool, lining, snowy), returns one (refund): boots 1st, returns 2nd.
				{ question: 'wool lining snowy refund', expectedSources: ['returns'] },
				// The expected source is not in the knowledge base.
				{ question: 'cork sole', expectedSources: 'faq' },
			],
			false,
		);
		expect(result.error).toBeUndefined();
		expect(kb.server.count()).toBe(0);
		expect(result.questions).toHaveLength(3);
		const [sandals, refund, absent] = result.questions;
		expect(sandals).toMatchObject({
			question: 'cork sole beach',
			expectedSources: ['HTTPS://SHOP.example.com/sandals#top'],
			firstRank: 1,
			hitAtK: 1,
			reciprocalRank: 1,
			ndcgAtK: 1,
			k: 3,
			mode: 'keyword',
		});
		expect(sandals.hits).toEqual([expect.objectContaining({ rank: 1, sourceId: SANDALS_URL, title: 'Beach sandals', relevant: true })]);
		expect(refund).toMatchObject({ firstRank: 2, hitAtK: 1, reciprocalRank: 0.5, ndcgAtK: round4(1 / L3) });
		expect(refund.ndcgAtK).toBe(0.6309);
		const refundHits = refund.hits as IDataObject[];
		expect(refundHits.map(({ rank, sourceId, relevant }) => ({ rank, sourceId, relevant }))).toEqual([
			{ rank: 1, sourceId: 'boots', relevant: false },
			{ rank: 2, sourceId: 'returns', relevant: true },
		]);
		for (const hit of refundHits) expect(hit.score).toBe(round4(hit.score as number));
		// No url: these documents were ingested as text without one (Search's hits omit it too).
		expect(Object.keys(refundHits[0]).sort()).toEqual(['rank', 'relevant', 'score', 'sourceId', 'title']);
		expect(absent).toMatchObject({ firstRank: null, hitAtK: 0, reciprocalRank: 0, ndcgAtK: 0 });
		expect((absent.hits as IDataObject[])[0]).toMatchObject({ sourceId: SANDALS_URL, relevant: false });

		// Summary on its own output: (1 + 1 + 0) / 3, (1 + 0.5 + 0) / 3, (1 + 1/log2(3) + 0) / 3.
		expect(result.summary).toEqual([
			{
				summary: true,
				questions: 3,
				k: 3,
				meanHitAtK: 0.6667,
				mrr: 0.5,
				meanNdcgAtK: round4((1 + 1 / L3) / 3),
				noExpectedSourceFound: 1,
				skipped: 0,
			},
		]);
		expect(result.summary[0].meanNdcgAtK).toBe(0.5436);
		expect(result.raw?.[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.raw?.[1][0].pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	it('scores two expected sources (a list string) with nDCG over both', async () => {
		const { questions } = await evaluate(
			evaluateNode({ mode: 'keyword' }),
			[{ question: 'wool lining snowy refund', expectedSources: 'returns; boots' }],
			false,
		);
		// DCG = 1 + 1/log2(3) = IDCG: both expected sources in the first two places.
		expect(questions[0]).toMatchObject({ expectedSources: ['returns', 'boots'], firstRank: 1, reciprocalRank: 1, ndcgAtK: 1 });
		expect((questions[0].hits as IDataObject[]).map((hit) => hit.relevant)).toEqual([true, true]);
	});

	it('counts only the first k: k = 1 misses a source at rank 2', async () => {
		const { questions, summary } = await evaluate(
			evaluateNode({ mode: 'keyword', topK: 1 }),
			[{ question: 'wool lining snowy refund', expectedSources: 'returns' }],
			false,
		);
		expect(questions[0]).toMatchObject({ k: 1, firstRank: null, hitAtK: 0, reciprocalRank: 0, ndcgAtK: 0 });
		expect(summary[0]).toMatchObject({ questions: 1, k: 1, meanHitAtK: 0, mrr: 0, noExpectedSourceFound: 1 });
	});

	it('with On Error: Continue, a question without expected source or text is an error item, left out of the summary', async () => {
		const result = await evaluate(
			evaluateNode({ mode: 'keyword' }, { onError: 'continueRegularOutput' }),
			[
				{ question: 'cork sole', expectedSources: [SANDALS_URL] },
				{ question: 'cork sole', expectedSources: ' ; , ' },
				{ question: '   ', expectedSources: 'boots' },
				{ question: 'wool lining snowy refund' },
			],
			false,
		);
		expect(result.error).toBeUndefined();
		expect(result.questions).toHaveLength(4);
		expect(result.questions[0]).toMatchObject({ firstRank: 1, hitAtK: 1 });
		expect(result.questions[1]).toEqual({
			error: expect.stringContaining('This question has no expected source'),
			description: 'Check the "Expected Sources" parameter of item 2.',
		});
		expect(result.questions[2]).toEqual({
			error: 'This item has no question to search for.',
			description: 'Check the "Question" parameter of item 3.',
		});
		expect(result.questions[3].description).toBe('Check the "Expected Sources" parameter of item 4.');
		expect(result.summary).toEqual([
			{ summary: true, questions: 1, k: 3, meanHitAtK: 1, mrr: 1, meanNdcgAtK: 1, noExpectedSourceFound: 0, skipped: 3 },
		]);
	});

	it('without On Error: Continue, a question without expected source stops the node', async () => {
		const result = await evaluate(evaluateNode({ mode: 'keyword' }), [{ question: 'cork sole', expectedSources: [] }], false);
		expect(result.error?.message).toContain('This question has no expected source');
		expect(result.error?.description).toBe('Check the "Expected Sources" parameter of item 1.');
	});

	it.each(['semantic', 'hybrid', 'auto'])(
		'%s mode: the same hits, in the same order, as the Search operation with the same settings',
		async (mode) => {
			const questions = [
				{ question: 'Waterproof leather boots with a wool lining for snowy winter hikes.', expectedSources: 'boots' },
				{ question: 'leather boots winter', expectedSources: 'care' },
				{ question: 'shoes for summer days', expectedSources: [SANDALS_URL, 'returns'] },
			];
			const evaluation = await evaluate(evaluateNode({ mode }), questions);
			expect(evaluation.error).toBeUndefined();
			// Auto with a model credential runs hybrid.
			const ran = mode === 'semantic' ? 'semantic' : 'hybrid';
			expect(evaluation.questions.map((item) => item.mode)).toEqual([ran, ran, ran]);
			// The question is the document's own text: its vector is the same, its words all match.
			expect(evaluation.questions[0]).toMatchObject({ firstRank: 1, hitAtK: 1, reciprocalRank: 1, ndcgAtK: 1 });
			// The test server's vectors are hashed bags of words: by meaning alone "leather boots winter" is closer
			// to boots (3 of its words) than to care; hybrid adds care's keyword score and puts care first.
			if (ran === 'semantic') {
				expect(evaluation.questions.map((item) => item.firstRank)).toEqual([1, 2, 1]);
				expect(evaluation.questions[1]).toMatchObject({ hitAtK: 1, reciprocalRank: 0.5, ndcgAtK: round4(1 / L3) });
				// Both expected sources in places 1 and 2: DCG = IDCG.
				expect(evaluation.questions[2]).toMatchObject({ ndcgAtK: 1 });
				expect(evaluation.summary[0]).toMatchObject({ questions: 3, meanHitAtK: 1, mrr: round4(2.5 / 3), meanNdcgAtK: round4((2 + 1 / L3) / 3), noExpectedSourceFound: 0 });
			} else {
				expect(evaluation.questions.map((item) => item.firstRank)).toEqual([1, 1, 1]);
				expect(evaluation.summary[0]).toMatchObject({ questions: 3, meanHitAtK: 1, mrr: 1, meanNdcgAtK: 1 });
			}

			const search = await kb.run(searchNode({ mode }), questions.map((json) => ({ json })));
			expect(search.error).toBeUndefined();
			const searchOutput = search.outputs['Vector Search'][0];
			questions.forEach((question, index) => {
				const searched = searchOutput.filter((item) => item.pairedItem && (item.pairedItem as { item: number }).item === index).map((item) => item.json);
				const hits = evaluation.questions[index].hits as IDataObject[];
				expect(hits.map((hit) => hit.sourceId)).toEqual(searched.map((hit) => hit.sourceId));
				expect(hits.map((hit) => hit.score)).toEqual(searched.map((hit) => round4(hit.score as number)));
				const expected = ([] as string[]).concat(question.expectedSources);
				const firstRank = searched.findIndex((hit) => expected.includes(String(hit.sourceId))) + 1 || null;
				expect(evaluation.questions[index].firstRank).toBe(firstRank);
				expect(evaluation.questions[index].reciprocalRank).toBe(firstRank ? round4(1 / firstRank) : 0);
			});
		},
	);

	it('reranks when Rerank is on, with the same result as Search', async () => {
		const reranker = await startRerankTestServer({ apiKey: 'rk-eval' });
		try {
			const credentials = {
				...kb.modelCredentials,
				symbioticRerankApi: { baseUrl: `${reranker.url}/v1`, apiKey: 'rk-eval', model: 'test-reranker', apiFormat: 'documents' },
			};
			const settings = { mode: 'hybrid', topK: 2, rerank: true, options: { rerankCandidates: 4 } };
			const question = { question: 'leather boots for the beach', expectedSources: 'care' };
			const node = evaluateNode(settings);
			const evaluation = await runWorkflow(linearWorkflow(node), { nodeTypes, credentials, inputItems: [{ json: question }] });
			expect(evaluation.error).toBeUndefined();
			const [[evaluated]] = evaluation.outputs[node.name];
			expect(evaluated.json).toMatchObject({ mode: 'hybrid', reranked: true, k: 2 });
			expect(reranker.requests).toHaveLength(1);
			expect(reranker.requests[0].body).toMatchObject({ query: question.question, top_n: 4 });

			const search = await runWorkflow(linearWorkflow(searchNode(settings)), { nodeTypes, credentials, inputItems: [{ json: question }] });
			const searched = search.outputs['Vector Search'][0].map((item) => item.json);
			const hits = evaluated.json.hits as IDataObject[];
			expect(hits.map((hit) => [hit.sourceId, hit.score])).toEqual(searched.map((hit) => [hit.sourceId, round4(hit.score as number)]));
			const rank = searched.findIndex((hit) => hit.sourceId === 'care') + 1 || null;
			expect(evaluated.json.firstRank).toBe(rank);
		} finally {
			await reranker.close();
		}
	});

	it('applies the search filters, as Search does', async () => {
		const { questions } = await evaluate(
			evaluateNode({ mode: 'keyword', filters: { conditions: [{ key: 'sourceId', op: 'ne', value: 'boots' }] } }),
			[{ question: 'wool lining snowy refund', expectedSources: 'returns' }],
			false,
		);
		expect(questions[0]).toMatchObject({ firstRank: 1, reciprocalRank: 1 });
		expect((questions[0].hits as IDataObject[]).map((hit) => hit.sourceId)).toEqual(['returns']);
	});

	it('refuses a namespace the AI would choose ($fromAI), as Search does', async () => {
		const result = await evaluate(
			evaluateNode({ mode: 'keyword', namespace: "={{ $fromAI('client') }}" }),
			[{ question: 'cork sole', expectedSources: 'boots' }],
			false,
		);
		expect(result.error?.message).toContain('The AI agent may not choose the Namespace');
	});

	it('refuses Evaluate in the AI agent tool variant even when its parameters ask for it', async () => {
		const tool = evaluateNode({ mode: 'keyword', question: 'cork sole', expectedSources: 'boots' }, { name: 'Search Knowledge', type: SEARCH_TOOL_TYPE });
		const result = await runWorkflow(agentWorkflow(tool, {}), { nodeTypes, credentials: kb.modelCredentials });
		expect(result.error).toBeUndefined();
		expect(String(result.outputs.Agent[0][0].json.observation)).toContain('Evaluate is not available to an AI agent');
	});

	describe('with Qdrant (validating stand-in)', () => {
		let qdrant: QdrantValidatingServer;
		beforeAll(async () => {
			qdrant = await startQdrantValidatingServer({ apiKey: 'qd-eval' });
		});
		afterAll(() => qdrant?.close());

		it('evaluates against the same documents in Qdrant, keyword and hybrid', async () => {
			const credentials = { ...kb.modelCredentials, symbioticQdrantApi: { url: qdrant.url, apiKey: 'qd-eval' } };
			const onQdrant = { store: 'qdrant', collection: 'evaluation-qdrant' };
			const ingest = await runWorkflow(linearWorkflow(kb.ingestNode({ ...ingestParameters, ...onQdrant })), {
				nodeTypes,
				credentials,
				inputItems: pages.map((json) => ({ json })),
			});
			expect(ingest.error).toBeUndefined();
			for (const mode of ['keyword', 'hybrid']) {
				const node = evaluateNode({ mode, ...onQdrant });
				const result = await runWorkflow(linearWorkflow(node), {
					nodeTypes,
					credentials,
					inputItems: [
						{ json: { question: 'wool lining snowy refund', expectedSources: 'returns' } },
						{ json: { question: 'cork sole beach', expectedSources: 'https://shop.example.com/sandals' } },
					],
				});
				expect(result.error).toBeUndefined();
				const [questions, [summary]] = result.outputs[node.name];
				expect(questions[1].json).toMatchObject({ mode, firstRank: 1, hitAtK: 1 });
				if (mode === 'keyword') {
					expect(questions[0].json).toMatchObject({ firstRank: 2, reciprocalRank: 0.5, ndcgAtK: 0.6309 });
					expect(summary.json).toMatchObject({ questions: 2, meanHitAtK: 1, mrr: 0.75, meanNdcgAtK: round4((1 + 1 / L3) / 2) });
				}
			}
			expect(qdrant.violations).toEqual([]);
		});
	});
});
