/**
 * The pack's knowledge-base nodes as tests place them in a workflow: real node classes, a LanceDB folder per
 * test file and the local OpenAI-compatible server as the embedding model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	EngineRequest,
	EngineResponse,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeParameters,
	INodeType,
} from 'n8n-workflow';

import { IngestDocument } from '../../nodes/IngestDocument/IngestDocument.node';
import { VectorSearch } from '../../nodes/VectorSearch/VectorSearch.node';
import { asAgentTool, linearWorkflow, runWorkflow, type HarnessWorkflow, type TestNode } from '../support/n8nHarness';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

export const INGEST_TYPE = 'n8n-nodes-symbiotic.ingestDocument';
export const SEARCH_TYPE = 'n8n-nodes-symbiotic.vectorSearch';

export const SEARCH_TOOL_TYPE = `${SEARCH_TYPE}Tool`;
export const AGENT_TYPE = 'symbiotic-test.agent';


/**
 * Stands in for n8n's AI Agent (v3, engine requests): asks the engine to run its tool with the arguments a
 * model would send (`toolArguments`), then outputs, as `observation`, what n8n's agent hands its model: the
 * JSON of the tool's output items (n8n's `buildSteps`), or the tool's error.
 */
class ToolCallingAgent implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Test Agent',
		name: 'agent',
		group: ['transform'],
		version: 1,
		description: 'Calls one tool once, like an AI Agent whose model chose that tool',
		defaults: { name: 'Agent' },
		inputs: [NodeConnectionTypes.Main, NodeConnectionTypes.AiTool],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{ displayName: 'Tool Node', name: 'toolNode', type: 'string', default: '' },
			{ displayName: 'Tool Arguments', name: 'toolArguments', type: 'json', default: '{}' },
		],
	};

	async execute(
		this: IExecuteFunctions,
		response?: EngineResponse,
	): Promise<INodeExecutionData[][] | EngineRequest> {
		const [answer] = response?.actionResponses ?? [];
		if (!answer) {
			const input = this.getNodeParameter('toolArguments', 0) as IDataObject | string;
			return {
				actions: [
					{
						actionType: 'ExecutionNodeAction',
						nodeName: this.getNodeParameter('toolNode', 0) as string,
						input: typeof input === 'string' ? JSON.parse(input) : input,
						type: NodeConnectionTypes.AiTool,
						id: 'call-1',
						metadata: { itemIndex: 0 },
					},
				],
				metadata: {},
			};
		}
		const items = answer.data.data?.[NodeConnectionTypes.AiTool]?.[0] ?? [];
		const observation =
			items.length > 0
				? JSON.stringify(items.map((item) => item.json))
				: JSON.stringify({ error: answer.data.error?.message ?? 'Unknown error' });
		return [[{ json: { observation } }]];
	}
}

export const nodeTypes = {
	[INGEST_TYPE]: new IngestDocument(),
	[SEARCH_TYPE]: new VectorSearch(),
	[SEARCH_TOOL_TYPE]: asAgentTool(new VectorSearch()),
	[AGENT_TYPE]: new ToolCallingAgent(),
};

/** `trigger -> Agent`, with `tool` connected to the agent's Tools input; the agent calls it with `toolArguments`. */
export function agentWorkflow(tool: TestNode, toolArguments: IDataObject): HarnessWorkflow {
	const workflow = linearWorkflow({
		name: 'Agent',
		type: AGENT_TYPE,
		parameters: { toolNode: tool.name, toolArguments: JSON.stringify(toolArguments) },
	});
	workflow.nodes.push({ id: 'tool', typeVersion: 1, position: [220, 200], parameters: {}, ...tool });
	workflow.connections[tool.name] = {
		[NodeConnectionTypes.AiTool]: [[{ node: 'Agent', type: NodeConnectionTypes.AiTool, index: 0 }]],
	};
	return workflow;
}

const API_KEY = 'sk-node-tests';

export interface KnowledgeBaseFixture {
	server: OpenAITestServer;
	folder: string;
	/** Credentials for runWorkflow: the model API pointing at the test server. */
	modelCredentials: { symbioticModelApi: Record<string, string | number> };
	ingestNode(parameters: INodeParameters, extra?: Partial<TestNode>): TestNode;
	searchNode(parameters: INodeParameters, extra?: Partial<TestNode>): TestNode;
	/** Runs Start → node through the engine; `items` is the node's first output as plain JSON. */
	run(node: TestNode, inputItems?: INodeExecutionData[], withModel?: boolean): Promise<Awaited<ReturnType<typeof runWorkflow>> & { items: IDataObject[] }>;
}

/** Registers beforeAll/afterAll that start the model server and create (then remove) the LanceDB folder. */
export function useKnowledgeBaseFixture(): KnowledgeBaseFixture {
	const fixture = {} as KnowledgeBaseFixture;
	const storeParameters = () => ({
		store: 'lancedb',
		folderPath: fixture.folder,
		collection: 'knowledge',
	});
	beforeAll(async () => {
		fixture.server = await startOpenAITestServer({ apiKey: API_KEY });
		fixture.folder = mkdtempSync(path.join(tmpdir(), 'symbiotic-nodes-lancedb-'));
		fixture.modelCredentials = {
			symbioticModelApi: {
				baseUrl: fixture.server.url,
				apiKey: API_KEY,
				embeddingModel: 'test-embedding',
				embeddingDimensions: 0,
			},
		};
	});
	afterAll(async () => {
		await fixture.server?.close();
		if (fixture.folder) rmSync(fixture.folder, { recursive: true, force: true });
	});
	fixture.ingestNode = (parameters, extra) => ({
		name: 'Ingest Document',
		type: INGEST_TYPE,
		parameters: { ...storeParameters(), ...parameters },
		...extra,
	});
	fixture.searchNode = (parameters, extra) => ({
		name: 'Vector Search',
		type: SEARCH_TYPE,
		parameters: { ...storeParameters(), ...parameters },
		...extra,
	});
	fixture.run = async (node, inputItems, withModel = true) => {
		const result = await runWorkflow(linearWorkflow(node), {
			nodeTypes,
			credentials: withModel ? fixture.modelCredentials : undefined,
			inputItems,
		});
		return { ...result, items: (result.outputs[node.name]?.[0] ?? []).map((item) => item.json) };
	};
	return fixture;
}
