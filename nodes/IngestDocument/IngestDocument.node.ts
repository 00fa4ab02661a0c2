import type {
	IExecuteFunctions,
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
import * as deleteSource from './operations/deleteSource';
import * as ingest from './operations/ingest';
import * as listSources from './operations/listSources';
import * as reviewReport from './operations/reviewReport';

const operations = { ingest, deleteSource, listSources, reviewReport };

/** Parameter labels for errors from lib, by the field name lib reports. */
const fieldLabels = {
	text: 'Text',
	sourceId: 'Source ID',
	url: 'URLs',
	chunkSize: 'Chunk Size (Tokens)',
	chunkOverlap: 'Chunk Overlap (Tokens)',
	periods: 'Periods',
	period: 'Period',
	timeZone: 'Time Zone',
	reportLanguage: 'Report Language',
	chartId: 'Put Chart in Field',
};

export class IngestDocument implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Ingest Document',
		name: 'ingestDocument',
		icon: {
			light: 'file:../../icons/ingestDocument.svg',
			dark: 'file:../../icons/ingestDocument.dark.svg',
		},
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["namespace"] }}',
		description:
			'Adds your own files, web pages and notes to a searchable knowledge base; unchanged documents are skipped',
		defaults: { name: 'Ingest Document' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: knowledgeBaseCredentials,
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Delete Source',
						value: 'deleteSource',
						description: 'Remove a document and all its pieces from the knowledge base',
						action: 'Delete a source',
					},
					{
						name: 'Ingest',
						value: 'ingest',
						description: 'Add or update documents; unchanged ones cost nothing',
						action: 'Ingest documents',
					},
					{
						name: 'List Sources',
						value: 'listSources',
						description: 'List the documents in the knowledge base',
						action: 'List sources',
					},
					{
						name: 'Review Report',
						value: 'reviewReport',
						description:
							'Per week or month: Human Approval decisions, approval rate, median edit ratio and median time to decision',
						action: 'Report on review decisions',
					},
				],
				default: 'ingest',
			},
			...ingest.description,
			...deleteSource.description,
			...listSources.description,
			...reviewReport.description,
			...knowledgeBaseProperties,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeKnowledgeBaseOperations(this, operations, fieldLabels);
	}
}
