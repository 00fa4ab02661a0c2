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
import * as search from './operations/search';
import { RERANK_CREDENTIAL } from './operations/search';

const operations = { search };

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
		subtitle: '={{ $parameter["mode"] + ": " + $parameter["query"] }}',
		description:
			'Finds the passages of your knowledge base that answer a question, with numbered sources to cite',
		defaults: { name: 'Vector Search' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
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
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Search',
						value: 'search',
						description: 'Find the passages that best match a question',
						action: 'Search the knowledge base',
					},
				],
				default: 'search',
			},
			...search.description,
			...knowledgeBaseProperties,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// In "Auto" mode a model credential that cannot embed means keyword search, not an error.
		return await executeKnowledgeBaseOperations(this, operations, fieldLabels, (itemIndex) => this.getNodeParameter('mode', itemIndex, 'hybrid') === 'auto');
	}
}
