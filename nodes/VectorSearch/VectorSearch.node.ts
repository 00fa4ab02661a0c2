import type {
	IExecuteFunctions,
	INodeCredentialDescription,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import {
	executeKnowledgeBaseOperations,
	knowledgeBaseCredentials,
	knowledgeBaseProperties,
} from '../shared/storeOptions';
import * as evaluate from './operations/evaluate';
import * as search from './operations/search';
import { RERANK_CREDENTIAL } from './operations/search';

const operations = { search, evaluate };

/** The knowledge base's credentials, and the reranking model's once Rerank is on. */
const searchCredentials: INodeCredentialDescription[] = [
	...knowledgeBaseCredentials,
	{ name: RERANK_CREDENTIAL, required: true, displayOptions: { show: { rerank: [true] } } },
];

/** Parameter labels for errors from lib, by the field name lib reports. */
const fieldLabels = {
	query: 'Query',
	mode: 'Search Mode',
	topK: 'Number of Results',
	filters: 'Filters',
	filterJson: 'Filter (JSON)',
	semanticWeight: 'Semantic Weight',
	fusion: 'Fusion',
	maxPerSource: 'Max Results per Source',
	rerankCandidates: 'Rerank Candidates',
	question: 'Question',
	expectedSources: 'Expected Sources',
	k: 'Number of Results',
};

const searchOperation = {
	name: 'Search',
	value: 'search',
	description: 'Find the passages that best match a question',
	action: 'Search the knowledge base',
};

const evaluateOperation = {
	name: 'Evaluate',
	value: 'evaluate',
	description:
		'Score the search on test questions whose right sources are known: rank, hit@k, MRR, nDCG@k, and a summary',
	action: 'Evaluate the search',
};

export class VectorSearch implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Vector Search',
		name: 'vectorSearch',
		icon: {
			light: 'file:../../icons/vectorSearch.svg',
			dark: 'file:../../icons/vectorSearch.dark.svg',
		},
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ $parameter["operation"] === "evaluate" ? "evaluate: " + $parameter["mode"] : $parameter["mode"] + ": " + $parameter["query"] }}',
		description:
			'Finds the passages of your knowledge base that answer a question, with numbered sources to cite',
		defaults: { name: 'Vector Search' },
		inputs: [NodeConnectionTypes.Main],
		outputs: evaluate.outputs,
		// As an AI Agent tool this description is the default of the tool's "Description" (Set Manually), the text
		// the agent's model reads to decide when to call it: it says what comes back and how to use it.
		usableAsTool: {
			replacements: {
				description:
					'Searches the knowledge base (the documents loaded for this workflow; you cannot choose another) and returns the best matching passages as context, text numbered [1], [2]… with their sources to quote and cite; count is 0 when nothing matches. Input: a question or keywords.',
			},
		},
		credentials: searchCredentials,
		properties: [
			// Evaluate is for the workflow's author, not for an AI agent: the tool variant ('@tool') offers Search only.
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { '@tool': [false] } },
				options: [searchOperation, evaluateOperation],
				default: 'search',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { '@tool': [true] } },
				options: [searchOperation],
				default: 'search',
			},
			...evaluate.description,
			...search.description,
			...knowledgeBaseProperties,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// In "Auto" mode a model credential that cannot embed means keyword search, not an error.
		const outputs = await executeKnowledgeBaseOperations(this, operations, fieldLabels, (itemIndex) => this.getNodeParameter('mode', itemIndex, 'hybrid') === 'auto');
		return this.getNodeParameter('operation', 0) === 'evaluate' ? evaluate.toOutputs(outputs[0]) : outputs;
	}
}
