import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE } from '../../../lib/chunking';
import { parseFilter } from '../../../lib/filters';
import { ingestDocuments, type DocumentResult } from '../../../lib/ingest';
import {
	loadBinary,
	loadSitemapUrls,
	loadText,
	loadUrl,
	type TextLoadOptions,
} from '../../../lib/loaders';
import type { LoadedDocument, UserMetadata } from '../../../lib/types';
import { itemError, toNodeError } from '../../shared/perItem';
import type { KnowledgeBase } from '../../shared/storeOptions';

const showFor = (source: string[]) => ({ show: { operation: ['ingest'], source } });

export const description: INodeProperties[] = [
	{
		displayName: 'Source',
		name: 'source',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'File From Input',
				value: 'binary',
				description:
					'PDF, Word (DOCX), HTML, Markdown, CSV, JSON or text files read by an earlier node',
			},
			{
				name: 'Sitemap',
				value: 'sitemap',
				description: 'All pages listed in a website sitemap',
			},
			{
				name: 'Text',
				value: 'text',
				description: 'Text from the input item, e.g. a CRM note or a product description',
			},
			{
				name: 'Web Pages',
				value: 'url',
				description: 'One or more web page addresses',
			},
		],
		default: 'binary',
		displayOptions: { show: { operation: ['ingest'] } },
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'Separate several fields with commas, e.g. data, attachment_0',
		description: 'Name of the binary field of the input item that holds the file',
		displayOptions: showFor(['binary']),
	},
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 5 },
		default: '',
		required: true,
		placeholder: 'e.g. {{ $json.note }}',
		description: 'The text to store in the knowledge base',
		displayOptions: showFor(['text']),
	},
	{
		displayName: 'Source ID',
		name: 'sourceId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. crm-note-1234',
		description:
			'Identifies this text. Ingesting again with the same ID replaces the earlier version; search results cite it.',
		displayOptions: showFor(['text']),
	},
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: '',
		description: 'Shown with search results and citations',
		displayOptions: showFor(['text']),
	},
	{
		displayName: 'Text Format',
		name: 'textFormat',
		type: 'options',
		options: [
			{
				name: 'Automatic',
				value: 'auto',
				description: 'HTML pages as HTML, anything else as Markdown',
			},
			{ name: 'HTML', value: 'html' },
			{ name: 'Markdown', value: 'markdown' },
			{ name: 'Plain Text', value: 'text' },
		],
		default: 'auto',
		description:
			'How the text is written; Markdown headings become the sections cited in search results',
		displayOptions: showFor(['text']),
	},
	{
		displayName: 'URLs',
		name: 'urls',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		required: true,
		placeholder: 'https://example.com/pricing',
		description: 'Web pages to ingest, one per line or separated by commas',
		displayOptions: showFor(['url']),
	},
	{
		displayName: 'Sitemap URL',
		name: 'sitemapUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/sitemap.xml',
		description: 'Address of the sitemap (or sitemap index) listing the pages',
		displayOptions: showFor(['sitemap']),
	},
	{
		displayName: 'Max Pages',
		name: 'maxPages',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Most pages of the sitemap to ingest',
		displayOptions: showFor(['sitemap']),
	},
	{
		displayName: 'Metadata',
		name: 'metadata',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Metadata',
		default: {},
		description: 'Labels stored with the document, usable as search filters, e.g. product = boots',
		displayOptions: { show: { operation: ['ingest'] } },
		options: [
			{
				name: 'values',
				displayName: 'Metadata',
				values: [
					{ displayName: 'Key', name: 'key', type: 'string', default: '' },
					{ displayName: 'Value', name: 'value', type: 'string', default: '' },
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['ingest'] } },
		options: [
			{
				displayName: 'Allow Internal Network',
				name: 'allowInternalNetwork',
				type: 'boolean',
				default: false,
				description:
					'Whether web pages on private or local addresses (intranet, localhost) may be read. Off by default so a workflow cannot be used to reach internal services.',
			},
			{
				displayName: 'Chunk Overlap (Tokens)',
				name: 'chunkOverlap',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_CHUNK_OVERLAP,
				description: 'Tokens repeated between neighbouring chunks so no sentence is cut off',
			},
			{
				displayName: 'Chunk Size (Tokens)',
				name: 'chunkSize',
				type: 'number',
				typeOptions: { minValue: 16 },
				default: DEFAULT_CHUNK_SIZE,
				description:
					'Length of the pieces documents are split into; each search result is one piece',
			},
		],
	},
];

/** Pages fetched at once from a sitemap or URL list: fast enough, and polite to the website. */
const PAGE_FETCH_CONCURRENCY = 4;

interface LoadedSource {
	documents: LoadedDocument[];
	/** Documents that could not be loaded, reported like documents that could not be ingested. */
	failures: DocumentResult[];
}

export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, embedder, namespace }: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const signal = ctx.getExecutionCancelSignal?.();
	const options = ctx.getNodeParameter('options', itemIndex, {}) as {
		allowInternalNetwork?: boolean;
		chunkSize?: number;
		chunkOverlap?: number;
	};
	const { documents, failures } = await loadSource(
		ctx,
		itemIndex,
		options.allowInternalNetwork,
		signal,
	);
	const ingested = await ingestDocuments(documents, {
		store,
		embedder,
		namespace,
		chunking: { chunkSize: options.chunkSize, chunkOverlap: options.chunkOverlap },
		metadata: userMetadata(ctx, itemIndex),
		signal,
	});
	const results = [...ingested, ...failures];
	const failed = results.filter((result) => result.status === 'failed');
	// Some pages of a sitemap failing is a partial success to report; nothing ingested is the item failing.
	if (results.length > 0 && failed.length === results.length) {
		const others = failed.slice(1).map((result) => result.error);
		throw itemError(
			ctx,
			failed[0].error ?? 'The document could not be ingested',
			itemIndex,
			others.join('\n'),
		);
	}
	return results.map((result) => ({ json: { ...result, namespace } }));
}

async function loadSource(
	ctx: IExecuteFunctions,
	itemIndex: number,
	allowInternalNetwork = false,
	signal?: AbortSignal,
): Promise<LoadedSource> {
	const source = ctx.getNodeParameter('source', itemIndex) as string;
	switch (source) {
		case 'binary':
			return await loadEach(
				listOf(ctx.getNodeParameter('binaryPropertyName', itemIndex) as string),
				1,
				async (name) => {
					const binary = ctx.helpers.assertBinaryData(itemIndex, name);
					const data = await ctx.helpers.getBinaryDataBuffer(itemIndex, name);
					return await loadBinary({
						data,
						fileName: binary.fileName ?? name,
						mimeType: binary.mimeType,
					});
				},
			);
		case 'text': {
			const document = loadText(ctx.getNodeParameter('text', itemIndex) as string, {
				sourceId: (ctx.getNodeParameter('sourceId', itemIndex) as string).trim(),
				title: (ctx.getNodeParameter('title', itemIndex, '') as string).trim() || undefined,
				format: ctx.getNodeParameter('textFormat', itemIndex) as TextLoadOptions['format'],
			});
			return { documents: [document], failures: [] };
		}
		case 'url':
			return await loadPages(
				listOf(ctx.getNodeParameter('urls', itemIndex) as string),
				allowInternalNetwork,
				signal,
			);
		case 'sitemap': {
			const sitemapUrl = (ctx.getNodeParameter('sitemapUrl', itemIndex) as string).trim();
			const maxPages = ctx.getNodeParameter('maxPages', itemIndex) as number;
			// lib names the failing field `url`; here that is the Sitemap URL, not the URLs list.
			const urls = await loadSitemapUrls(sitemapUrl, {
				maxPages,
				allowInternalNetwork,
				signal,
			}).catch((error: unknown) => {
				throw toNodeError(ctx, error, itemIndex, { url: 'Sitemap URL' });
			});
			return await loadPages(urls, allowInternalNetwork, signal);
		}
		default:
			throw new NodeOperationError(ctx.getNode(), `Unknown source "${source}"`, { itemIndex });
	}
}

async function loadPages(urls: string[], allowInternalNetwork: boolean, signal?: AbortSignal) {
	return await loadEach(urls, PAGE_FETCH_CONCURRENCY, async (url) => [
		await loadUrl(url, { allowInternalNetwork, signal }),
	]);
}

/**
 * Loads every name with bounded concurrency. With one name, its error is the item's error; with several,
 * each failure is recorded and the others still load.
 */
async function loadEach(
	names: string[],
	concurrency: number,
	load: (name: string) => Promise<LoadedDocument[]>,
): Promise<LoadedSource> {
	if (names.length === 1) return { documents: await load(names[0]), failures: [] };
	const loaded: LoadedDocument[][] = [];
	const failures: DocumentResult[] = [];
	let next = 0;
	const worker = async () => {
		for (let index = next++; index < names.length; index = next++) {
			try {
				loaded[index] = await load(names[index]);
			} catch (error) {
				failures.push(failedResult(names[index], error));
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
	return { documents: loaded.flat(), failures };
}

function failedResult(sourceId: string, error: unknown): DocumentResult {
	return {
		sourceId,
		status: 'failed',
		chunks: 0,
		embedded: 0,
		reused: 0,
		deleted: 0,
		error: `Could not load "${sourceId}": ${(error as Error)?.message ?? String(error)}`,
	};
}

/** Splits a list typed one per line or separated by commas. */
function listOf(text: string): string[] {
	return text
		.split(/[\n,]/)
		.map((entry) => entry.trim())
		.filter(Boolean);
}

/**
 * The Metadata key/value list. Values are typed the way a search filter types the same text ("2024" is a
 * number, "true" a boolean), so that filtering on a label finds it.
 */
function userMetadata(ctx: IExecuteFunctions, itemIndex: number): UserMetadata {
	const entries = ctx.getNodeParameter('metadata.values', itemIndex, []) as Array<{
		key: string;
		value: string;
	}>;
	const metadata: UserMetadata = {};
	for (const { key, value } of entries) {
		if (!key?.trim()) continue;
		const [typed] = parseFilter([{ key, op: 'eq', value }]);
		metadata[key.trim()] = typed.value as UserMetadata[string];
	}
	return metadata;
}
