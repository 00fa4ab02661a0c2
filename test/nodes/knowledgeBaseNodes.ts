/**
 * The pack's knowledge-base nodes as tests place them in a workflow: real node classes, a LanceDB folder per
 * test file and the local OpenAI-compatible server as the embedding model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INodeParameters } from 'n8n-workflow';

import { IngestDocument } from '../../nodes/IngestDocument/IngestDocument.node';
import { VectorSearch } from '../../nodes/VectorSearch/VectorSearch.node';
import type { TestNode } from '../support/n8nHarness';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

export const INGEST_TYPE = 'n8n-nodes-symbiotic.ingestDocument';
export const SEARCH_TYPE = 'n8n-nodes-symbiotic.vectorSearch';

export const nodeTypes = { [INGEST_TYPE]: new IngestDocument(), [SEARCH_TYPE]: new VectorSearch() };

const API_KEY = 'sk-node-tests';

export interface KnowledgeBaseFixture {
	server: OpenAITestServer;
	folder: string;
	/** Credentials for runWorkflow: the model API pointing at the test server. */
	modelCredentials: { symbioticModelApi: Record<string, string | number> };
	ingestNode(parameters: INodeParameters, extra?: Partial<TestNode>): TestNode;
	searchNode(parameters: INodeParameters, extra?: Partial<TestNode>): TestNode;
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
	return fixture;
}
