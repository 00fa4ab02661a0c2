import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	INodeCredentialDescription,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { createOpenAIEmbedder, type OpenAIEmbedderConfig } from '../../lib/embedding';
import { isEmbeddingModelConfigured } from '../../lib/search';
import { defaultLanceDbPath, openStore } from '../../lib/stores';
import { parseKeywordLanguage } from '../../lib/textAnalysis';
import type { Embedder, VectorStore } from '../../lib/types';
import { refuseAgentChosenParameters, type OwnerParameter } from './agentGuard';
import { executePerItem, type FieldLabels } from './perItem';

export const MODEL_CREDENTIAL = 'symbioticModelApi';
export const QDRANT_CREDENTIAL = 'symbioticQdrantApi';

/**
 * The model credential is optional: without it documents are stored and searched by keywords only. Qdrant's
 * credential is only asked for when Qdrant is the chosen store.
 */
export const knowledgeBaseCredentials: INodeCredentialDescription[] = [
	{ name: MODEL_CREDENTIAL, required: false },
	{ name: QDRANT_CREDENTIAL, required: true, displayOptions: { show: { store: ['qdrant'] } } },
];

/** Where the knowledge lives and which client's part of it: the same on every knowledge-base node. */
export const knowledgeBaseProperties: INodeProperties[] = [
	{
		displayName: 'Store',
		name: 'store',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Embedded (LanceDB Folder)',
				value: 'lancedb',
				description: 'Kept in a folder on the n8n server; nothing else to install',
			},
			{
				name: 'Qdrant',
				value: 'qdrant',
				description: 'A Qdrant server, for large knowledge bases or several n8n instances',
			},
		],
		default: 'lancedb',
	},
	{
		displayName: 'Folder Path',
		name: 'folderPath',
		type: 'string',
		default: '',
		placeholder: '/home/node/.n8n/symbiotic-lancedb',
		description:
			'Folder on the n8n server where the knowledge base is kept. Ingest and search must use the same folder.',
		hint: 'Leave empty to keep it in the n8n user folder (.n8n/symbiotic-lancedb), so the n8n Docker volume already holds it',
		displayOptions: { show: { store: ['lancedb'] } },
	},
	{
		displayName: 'Collection',
		name: 'collection',
		type: 'string',
		default: 'knowledge',
		required: true,
		description:
			'Name of the knowledge base. Ingest Document and Vector Search must use the same name to see the same documents.',
		hint: 'If you switch to another embedding model (the AI model that turns text into searchable numbers), start a new collection',
	},
	{
		displayName: 'Namespace',
		name: 'namespace',
		type: 'string',
		default: 'default',
		required: true,
		placeholder: 'e.g. acme-corp',
		description:
			'Keeps each client\'s knowledge separate: a search only ever sees documents ingested with the same namespace. Letters, digits, ".", "_" and "-".',
		hint: 'Use one namespace per client, the same when ingesting and when searching',
	},
	{
		displayName: 'Language',
		name: 'keywordLanguage',
		type: 'options',
		options: [
			{
				name: 'Auto',
				value: 'auto',
				description:
					'Keep the language the collection was indexed with; a new collection takes the language of its first documents (English when unclear)',
			},
			{ name: 'Dutch', value: 'dutch' },
			{ name: 'English', value: 'english' },
			{ name: 'French', value: 'french' },
			{ name: 'German', value: 'german' },
			{ name: 'Italian', value: 'italian' },
			{
				name: 'None (Any Language)',
				value: 'none',
				description: 'Words as written, without accents: no stemming, no stop words',
			},
			{ name: 'Portuguese', value: 'portuguese' },
			{ name: 'Spanish', value: 'spanish' },
		],
		default: 'auto',
		description:
			'Language of the documents, for keyword search: matches plurals and conjugations (activités, activité), ignores accents, elisions (l\', d\') and common words (le, de, the)',
		hint: 'Changing it re-indexes the collection\'s keywords once. Use the same on Ingest Document and Vector Search, or Auto on Vector Search.',
	},
	{
		displayName:
			'No AI model needed to start: without a Symbiotic Model API credential, documents are stored for keyword search (exact words, like a search engine). Add the credential to also search by meaning (semantic and hybrid search).',
		name: 'keywordOnlyNotice',
		type: 'notice',
		default: '',
	},
];

/** UI labels of the knowledge-base parameters, by the field name lib's InputError carries. */
const knowledgeBaseLabels: FieldLabels = {
	store: 'Store',
	path: 'Folder Path',
	collection: 'Collection',
	namespace: 'Namespace',
	keywordLanguage: 'Language',
};

/** The parameters that decide whose knowledge a node uses: never chosen by an AI agent. */
const knowledgeBaseOwnerParameters: OwnerParameter[] = (
	[
		['folderPath', 'path'],
		['collection', 'collection'],
		['namespace', 'namespace'],
	] as const
).map(([path, field]) => ({
	path,
	field,
	label: knowledgeBaseLabels[field],
	decides: 'whose knowledge is used',
	instead:
		"Set a fixed value, or an expression on another node's output, e.g. {{ $('Node name').item.json.namespace }}.",
}));

export interface KnowledgeBase {
	store: VectorStore;
	/** Absent when no model credential is selected: keyword search only. */
	embedder?: Embedder;
	namespace: string;
}

/**
 * Opens the store and embedder an item asks for, once per distinct setting in an execution: every item of
 * a typical run points at the same knowledge base, and opening a LanceDB table or a Qdrant client per item
 * would waste most of the run.
 */
export class KnowledgeBases {
	private readonly stores = new Map<string, Promise<VectorStore>>();

	private readonly embedders = new Map<string, Embedder>();

	/**
	 * `modelIsOptional(itemIndex)`: for that item a selected model credential that cannot embed (no http(s) base
	 * URL or no embedding model, e.g. an example credential still waiting for OPENAI_BASE_URL) counts as no model,
	 * instead of failing on it — Vector Search's "Auto" mode. Otherwise the credential is used as it is, so a wrong
	 * base URL still gives its error.
	 */
	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly modelIsOptional: (itemIndex: number) => boolean = () => false,
	) {}

	async forItem(itemIndex: number): Promise<KnowledgeBase> {
		this.refuseAgentChosenKnowledgeBase();
		return {
			store: await this.store(itemIndex),
			embedder: await this.embedder(itemIndex),
			namespace: this.ctx.getNodeParameter('namespace', itemIndex) as string,
		};
	}

	async closeAll(): Promise<void> {
		const opened = await Promise.allSettled(this.stores.values());
		await Promise.allSettled(
			opened.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)),
		);
	}

	/**
	 * Folder, collection and namespace decide whose knowledge is read or written. Filled in by an AI agent
	 * (`$fromAI()`, or the tool call's input), a prompt could talk the agent into another client's documents,
	 * so they must come from the workflow.
	 */
	private refuseAgentChosenKnowledgeBase(): void {
		refuseAgentChosenParameters(this.ctx.getNode(), knowledgeBaseOwnerParameters);
	}

	private async store(itemIndex: number): Promise<VectorStore> {
		const collection = (this.ctx.getNodeParameter('collection', itemIndex) as string).trim();
		const keywordLanguage = parseKeywordLanguage(this.ctx.getNodeParameter('keywordLanguage', itemIndex, 'auto'));
		const config =
			this.ctx.getNodeParameter('store', itemIndex) === 'qdrant'
				? { ...(await this.qdrantConfig(itemIndex, collection)), keywordLanguage }
				: {
						kind: 'lancedb' as const,
						path:
							(this.ctx.getNodeParameter('folderPath', itemIndex, '') as string).trim() ||
							defaultLanceDbPath(),
						table: collection,
						keywordLanguage,
					};
		const key = JSON.stringify(config);
		let store = this.stores.get(key);
		if (!store) {
			store = openStore(config);
			this.stores.set(key, store);
		}
		return await store;
	}

	private async qdrantConfig(itemIndex: number, collection: string) {
		const credentials = await this.ctx.getCredentials(QDRANT_CREDENTIAL, itemIndex);
		return {
			kind: 'qdrant' as const,
			url: String(credentials.url ?? ''),
			apiKey: (credentials.apiKey as string) || undefined,
			collection,
		};
	}

	private async embedder(itemIndex: number): Promise<Embedder | undefined> {
		// An optional credential that is not selected is simply absent from the node.
		if (!this.ctx.getNode().credentials?.[MODEL_CREDENTIAL]) return undefined;
		const credentials = await this.ctx.getCredentials(MODEL_CREDENTIAL, itemIndex);
		if (this.modelIsOptional(itemIndex) && !isEmbeddingModelConfigured(credentials)) return undefined;
		const options = embedderConfig(credentials);
		const key = JSON.stringify(options);
		let embedder = this.embedders.get(key);
		if (!embedder) {
			embedder = createOpenAIEmbedder(options);
			this.embedders.set(key, embedder);
		}
		return embedder;
	}
}

/**
 * The embedder a Model credential describes. Limits left at 0 (or absent, in credentials saved before they
 * existed) take the embedder's defaults.
 */
export function embedderConfig(credentials: ICredentialDataDecryptedObject): OpenAIEmbedderConfig {
	const positive = (value: unknown) => (Number(value) > 0 ? Math.floor(Number(value)) : undefined);
	return {
		baseURL: String(credentials.baseUrl ?? ''),
		apiKey: (credentials.apiKey as string) || undefined,
		model: String(credentials.embeddingModel ?? ''),
		dimensions: positive(credentials.embeddingDimensions),
		batchSize: positive(credentials.embeddingBatchSize),
		maxBatchTokens: positive(credentials.embeddingBatchBudget),
		concurrency: positive(credentials.embeddingConcurrency),
		timeoutMs: positive(Number(credentials.embeddingTimeout) * 1000),
	};
}

/** An operation run item by item: its parameters and what it does for one item. */
export interface PerItemOperation {
	description: INodeProperties[];
	execute(
		ctx: IExecuteFunctions,
		itemIndex: number,
		knowledgeBase: KnowledgeBase,
	): Promise<INodeExecutionData[]>;
}

/**
 * An operation that takes all input items at once, e.g. so that the documents of many items share embedding
 * requests. It pairs its output items with their input items and honours "On Error: Continue" itself.
 */
export interface AllItemsOperation {
	description: INodeProperties[];
	executeAll(
		ctx: IExecuteFunctions,
		knowledgeBases: KnowledgeBases,
		fieldLabels: FieldLabels,
	): Promise<INodeExecutionData[]>;
}

export type KnowledgeBaseOperation = PerItemOperation | AllItemsOperation;

/**
 * The whole `execute` of a knowledge-base node: runs the chosen operation against the knowledge base each
 * item's parameters name, and closes every store it opened, also when an item fails.
 */
export async function executeKnowledgeBaseOperations(
	ctx: IExecuteFunctions,
	operations: Record<string, KnowledgeBaseOperation>,
	fieldLabels: FieldLabels,
	modelIsOptional?: (itemIndex: number) => boolean,
): Promise<INodeExecutionData[][]> {
	const knowledgeBases = new KnowledgeBases(ctx, modelIsOptional);
	const labels = { ...knowledgeBaseLabels, ...fieldLabels };
	// The operation parameter takes no expression, so every item runs the same operation.
	const operation = operations[ctx.getNodeParameter('operation', 0) as string];
	try {
		if ('executeAll' in operation) return [await operation.executeAll(ctx, knowledgeBases, labels)];
		const items = await executePerItem(ctx, labels, async (itemIndex) => {
			return await operation.execute(ctx, itemIndex, await knowledgeBases.forItem(itemIndex));
		});
		return [items];
	} finally {
		await knowledgeBases.closeAll();
	}
}
