import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, type ChunkingOptions } from '../../../lib/chunking';
import { parseFilter } from '../../../lib/filters';
import { ingestDocuments, type DocumentResult } from '../../../lib/ingest';
import {
	DEFAULT_MAX_FILE_SIZE_MB,
	loadBinary,
	loadSitemapUrls,
	loadText,
	loadUrl,
	MEGABYTE,
	SkipReport,
	withoutCredentials,
	type TextLoadOptions,
	type UrlLoadOptions,
} from '../../../lib/loaders';
import { checkNamespace } from '../../../lib/namespace';
import { InputError, type LoadedDocument, type UserMetadata } from '../../../lib/types';
import { errorItem, itemError, toNodeError, type FieldLabels } from '../../shared/perItem';
import type { KnowledgeBase, KnowledgeBases } from '../../shared/storeOptions';

const showFor = (source: string[]) => ({ show: { operation: ['ingest'], source } });

/** Highest "Max File Size (MB)": a file and what its reader builds from it must fit in memory (512 MB for PDFs). */
const MAX_FILE_SIZE_LIMIT_MB = 200;

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
		hint: 'Read Files From Disk and HTTP Request put the file in "data". Several files: separate the names with commas, e.g. attachment_0, attachment_1',
		description:
			'Name under which the input item carries the file (n8n calls it the binary field; the input panel shows it under Binary)',
		displayOptions: showFor(['binary']),
	},
	{
		displayName: 'Source ID',
		name: 'fileSourceId',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.documentId }}',
		hint: 'Empty: the file name, or a hash of the content when the file has no name (a changed file then counts as a new document)',
		description:
			'Identifies the file. Ingesting again with the same ID replaces the earlier version; search results cite it. With several binary fields, each file gets this ID followed by "/" and its field name.',
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
		description:
			'Web pages to ingest, one per line or separated by spaces. Commas belong to the address (e.g. /wiki/Washington,_D.C.), so they do not separate pages.',
		displayOptions: showFor(['url']),
	},
	{
		displayName: 'Sitemap URL',
		name: 'sitemapUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/sitemap.xml',
		description:
			'Address of the sitemap: the list of all pages a website publishes for search engines, usually at /sitemap.xml',
		displayOptions: showFor(['sitemap']),
	},
	{
		displayName: 'Max Pages',
		name: 'maxPages',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description:
			'Most pages of the sitemap to ingest, so a large website cannot take hours by accident. The output says how many pages it left out (skipped).',
		displayOptions: showFor(['sitemap']),
	},
	{
		displayName: 'Metadata',
		name: 'metadata',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Metadata',
		default: {},
		description:
			'Labels stored with the document, usable as search filters, e.g. product = boots. Values may be expressions, so each item can get its own.',
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
				displayName: 'Allow Cloud Metadata Addresses',
				name: 'allowMetadataAddresses',
				type: 'boolean',
				default: false,
				description:
					"Whether the cloud provider's metadata service (169.254.169.254 and the like) may be read. It hands out this server's own credentials: leave off unless reading it is the point.",
				displayOptions: { show: { '/source': ['url', 'sitemap'] } },
			},
			{
				displayName: 'Allow Internal Network',
				name: 'allowInternalNetwork',
				type: 'boolean',
				default: false,
				description:
					'Whether web pages on private or local addresses (intranet, localhost) may be read. Off by default so a workflow cannot be used to reach internal services. Cloud metadata services stay refused.',
			},
			{
				displayName: 'Chunk Overlap (Tokens)',
				name: 'chunkOverlap',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_CHUNK_OVERLAP,
				description:
					'Tokens (about ¾ of a word each) repeated between neighbouring pieces, so no sentence is lost at a cut',
			},
			{
				displayName: 'Chunk Size (Tokens)',
				name: 'chunkSize',
				type: 'number',
				typeOptions: { minValue: 16 },
				default: DEFAULT_CHUNK_SIZE,
				description:
					'Length of the pieces documents are split into, in tokens (about ¾ of a word each); each search result is one piece. Changing it re-processes every document on the next run.',
			},
			{
				displayName: 'Max File Size (MB)',
				name: 'maxFileSize',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_FILE_SIZE_LIMIT_MB },
				default: DEFAULT_MAX_FILE_SIZE_MB,
				description:
					'Largest file accepted; a larger one fails with a message instead of slowing n8n down. Each file is held in memory while it is read.',
				displayOptions: { show: { '/source': ['binary'] } },
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
	/** What the loaders left out (pages beyond Max Pages, rows without values…), with how to include it. */
	skipped: SkipReport;
}

/** A loaded document waiting for the run's single ingest, and then its result. */
interface PendingDocument {
	document: LoadedDocument;
	result?: DocumentResult;
}

/** What one input item loaded. */
interface LoadedItem {
	itemIndex: number;
	namespace: string;
	pending: PendingDocument[];
	loadFailures: DocumentResult[];
	skipped: SkipReport;
}

/**
 * Documents that can be ingested by one `ingestDocuments` call: same store, embedding model, namespace and
 * chunking. A run whose items differ only in metadata or source is one batch.
 */
interface IngestBatch {
	knowledgeBase: KnowledgeBase;
	chunking: ChunkingOptions;
	pending: PendingDocument[];
}

type ItemOutcome = LoadedItem | { error: INodeExecutionData };

/**
 * Loads the documents of every item first, then ingests them all together, so that 200 small items cost a
 * few embedding requests instead of 200 (lib embeds chunks of many documents in one request). An item that
 * fails to load becomes an error item in its place with "On Error: Continue"; otherwise it stops the node
 * before anything is written.
 */
export async function executeAll(
	ctx: IExecuteFunctions,
	knowledgeBases: KnowledgeBases,
	fieldLabels: FieldLabels,
): Promise<INodeExecutionData[]> {
	const signal = ctx.getExecutionCancelSignal?.();
	const batches: IngestBatch[] = [];
	const outcomes: ItemOutcome[] = [];
	const itemCount = ctx.getInputData().length;
	for (let itemIndex = 0; itemIndex < itemCount && !signal?.aborted; itemIndex++) {
		try {
			const knowledgeBase = await knowledgeBases.forItem(itemIndex);
			outcomes.push(await loadItem(ctx, itemIndex, knowledgeBase, batches, signal));
		} catch (error) {
			if (signal?.aborted) break;
			outcomes.push({ error: errorItem(ctx, error, itemIndex, fieldLabels) });
		}
	}
	for (const batch of batches) {
		if (signal?.aborted) break;
		try {
			await ingestBatch(batch, signal);
		} catch (error) {
			// Once cancelled, return what is done: the engine marks the execution cancelled, not failed.
			if (signal?.aborted) break;
			// lib isolates per-document failures; anything else fails each document of the batch, so that
			// every item concerned reports it.
			for (const entry of batch.pending) {
				entry.result ??= failedResult(entry.document.sourceId, 'ingest', error);
			}
		}
	}
	return outcomes.flatMap((outcome) =>
		'error' in outcome ? [outcome.error] : itemOutput(ctx, outcome, fieldLabels),
	);
}

async function loadItem(
	ctx: IExecuteFunctions,
	itemIndex: number,
	knowledgeBase: KnowledgeBase,
	batches: IngestBatch[],
	signal?: AbortSignal,
): Promise<LoadedItem> {
	const namespace = checkNamespace(knowledgeBase.namespace);
	const options = ctx.getNodeParameter('options', itemIndex, {}) as SourceOptions & {
		chunkSize?: number;
		chunkOverlap?: number;
	};
	const metadata = userMetadata(ctx, itemIndex);
	const { documents, failures, skipped } = await loadSource(ctx, itemIndex, options, signal);
	// lib's chunker lays the user's metadata over each document's own, so attaching this item's metadata to
	// its documents stores the same chunks as lib's `metadata` option, while items with different metadata
	// still share one ingest call.
	const pending = documents.map((document) => ({
		document: { ...document, metadata: { ...document.metadata, ...metadata } },
	}));
	const chunking = { chunkSize: options.chunkSize, chunkOverlap: options.chunkOverlap };
	const batch = findOrAddBatch(batches, { ...knowledgeBase, namespace }, chunking);
	batch.pending.push(...pending);
	return { itemIndex, namespace, pending, loadFailures: failures, skipped };
}

function findOrAddBatch(
	batches: IngestBatch[],
	knowledgeBase: KnowledgeBase,
	chunking: ChunkingOptions,
): IngestBatch {
	// Stores and embedders are opened once per distinct setting, so the same instance means the same one.
	const batch = batches.find(
		(candidate) =>
			candidate.knowledgeBase.store === knowledgeBase.store &&
			candidate.knowledgeBase.embedder === knowledgeBase.embedder &&
			candidate.knowledgeBase.namespace === knowledgeBase.namespace &&
			candidate.chunking.chunkSize === chunking.chunkSize &&
			candidate.chunking.chunkOverlap === chunking.chunkOverlap,
	);
	if (batch) return batch;
	const added = { knowledgeBase, chunking, pending: [] };
	batches.push(added);
	return added;
}

async function ingestBatch(batch: IngestBatch, signal?: AbortSignal): Promise<void> {
	const { store, embedder, namespace } = batch.knowledgeBase;
	for (const round of roundsOfDistinctSources(batch.pending)) {
		const results = await ingestDocuments(
			round.map(({ document }) => document),
			{ store, embedder, namespace, chunking: batch.chunking, signal },
		);
		round.forEach((pending, index) => (pending.result = results[index]));
	}
}

/**
 * Splits documents into rounds in which no source ID repeats. Two versions of one source planned in the same
 * call would both be written and neither replaced; ingested one round after the other, the later version
 * replaces the earlier, as when the items ran one by one. Without repeats this is a single round.
 */
function roundsOfDistinctSources(pending: PendingDocument[]): PendingDocument[][] {
	const rounds: PendingDocument[][] = [];
	const seenCount = new Map<string, number>();
	for (const entry of pending) {
		const round = seenCount.get(entry.document.sourceId) ?? 0;
		seenCount.set(entry.document.sourceId, round + 1);
		(rounds[round] ??= []).push(entry);
	}
	return rounds;
}

/**
 * The output items of one input item: one per document. Some pages of a sitemap failing is a partial
 * success to report; nothing ingested is the item failing. An item whose batch the cancelled execution never
 * reached has no output.
 *
 * What the loaders left out concerns the input item's source as a whole (a sitemap, a file), not one of its
 * documents: it is reported once, as `skipped` and `skippedSummary` on the item's first output item, and as
 * empty values on the others, so that adding up `skipped` over all items counts each skip once. A document's
 * `warnings` (very little text in a PDF, a file not in UTF-8) are on its own output item, only when there are any.
 */
function itemOutput(
	ctx: IExecuteFunctions,
	{ itemIndex, namespace, pending, loadFailures, skipped }: LoadedItem,
	fieldLabels: FieldLabels,
): INodeExecutionData[] {
	if (pending.some((entry) => !entry.result)) return [];
	const results = [...pending.map((entry) => entry.result as DocumentResult), ...loadFailures];
	const failed = results.filter((result) => result.status === 'failed');
	const report = { skipped: skipped.list(), skippedSummary: skipped.summary() };
	if (results.length > 0 && failed.length === results.length) {
		const others = failed.slice(1).map((result) => result.error);
		if (report.skippedSummary) others.push(`Also left out: ${report.skippedSummary}`);
		const error = itemError(
			ctx,
			failed[0].error ?? 'The document could not be ingested',
			itemIndex,
			others.join('\n'),
		);
		const item = errorItem(ctx, error, itemIndex, fieldLabels);
		return [report.skippedSummary ? { ...item, json: { ...item.json, ...report } } : item];
	}
	return results.map((result, index) => {
		// Load failures come after the documents and have no warnings: a failure's error says it all.
		const warnings = pending[index]?.document.warnings ?? [];
		return {
			json: {
				...result,
				namespace,
				...(warnings.length > 0 ? { warnings } : {}),
				...(index === 0 ? report : { skipped: [], skippedSummary: '' }),
			},
			pairedItem: { item: itemIndex },
		};
	});
}

/** The Options that decide how a source is loaded. */
interface SourceOptions {
	allowInternalNetwork?: boolean;
	allowMetadataAddresses?: boolean;
	maxFileSize?: number;
}

async function loadSource(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ allowInternalNetwork = false, allowMetadataAddresses = false, maxFileSize }: SourceOptions,
	signal?: AbortSignal,
): Promise<LoadedSource> {
	const source = ctx.getNodeParameter('source', itemIndex) as string;
	const skipped = new SkipReport();
	switch (source) {
		case 'binary': {
			const fieldNames = listOf(ctx.getNodeParameter('binaryPropertyName', itemIndex) as string);
			const sourceId = (ctx.getNodeParameter('fileSourceId', itemIndex, '') as string).trim();
			if (fieldNames.length === 0) {
				throw new InputError('Input Binary Field is empty: give the name of the field holding the file, e.g. data.');
			}
			const maxBytes = maxFileSize ? maxFileSize * MEGABYTE : undefined;
			return await loadEach(fieldNames, 1, skipped, async (name) => {
				const binary = ctx.helpers.assertBinaryData(itemIndex, name);
				const data = await ctx.helpers.getBinaryDataBuffer(itemIndex, name);
				// Without a Source ID or file name, lib identifies the file by a hash of its content: the field
				// name ("data" for every HTTP Request download) would make each new file replace the last.
				const input = {
					data,
					fileName: binary.fileName || undefined,
					mimeType: binary.mimeType,
					sourceId: sourceId && fieldNames.length > 1 ? `${sourceId}/${name}` : sourceId || undefined,
				};
				return await loadBinary(input, { skipped, maxBytes }).catch((error: unknown) => {
					throw unreadableFileError(ctx, error, itemIndex, name);
				});
			});
		}
		case 'text': {
			const document = loadText(ctx.getNodeParameter('text', itemIndex) as string, {
				sourceId: (ctx.getNodeParameter('sourceId', itemIndex) as string).trim(),
				title: (ctx.getNodeParameter('title', itemIndex, '') as string).trim() || undefined,
				format: ctx.getNodeParameter('textFormat', itemIndex) as TextLoadOptions['format'],
			});
			return { documents: [document], failures: [], skipped };
		}
		case 'url': {
			const urls = urlList(ctx.getNodeParameter('urls', itemIndex) as string);
			if (urls.length === 0) throw new InputError('URLs is empty: give at least one web page address.', 'url');
			return await loadPages(urls, { allowInternalNetwork, allowMetadataAddresses, signal, skipped });
		}
		case 'sitemap': {
			const sitemapUrl = (ctx.getNodeParameter('sitemapUrl', itemIndex) as string).trim();
			const maxPages = ctx.getNodeParameter('maxPages', itemIndex) as number;
			// lib names the failing field `url`; here that is the Sitemap URL, not the URLs list.
			const urls = await loadSitemapUrls(sitemapUrl, {
				maxPages,
				allowInternalNetwork,
				allowMetadataAddresses,
				signal,
				skipped,
			}).catch((error: unknown) => {
				throw toNodeError(ctx, error, itemIndex, { url: 'Sitemap URL' });
			});
			if (urls.length === 0) {
				// Otherwise the item would end without any output, and without saying why.
				const why = skipped.isEmpty ? 'it is empty' : skipped.summary();
				throw toNodeError(ctx, new InputError(`Sitemap ${withoutCredentials(sitemapUrl)} lists no pages to ingest: ${why}.`, 'url'), itemIndex, { url: 'Sitemap URL' });
			}
			return await loadPages(urls, { allowInternalNetwork, allowMetadataAddresses, signal, skipped });
		}
		default:
			throw new NodeOperationError(ctx.getNode(), `Unknown source "${source}"`, { itemIndex });
	}
}

/**
 * A file lib cannot read names where it came from: lib's message names the file and what to do, and the
 * description the binary field and the item, since a parameter is rarely what is wrong with a file.
 */
function unreadableFileError(ctx: IExecuteFunctions, error: unknown, itemIndex: number, field: string): unknown {
	if (!(error instanceof InputError)) return error;
	return itemError(ctx, error, itemIndex, `Check the file in the binary field "${field}" of item ${itemIndex + 1}.`);
}

async function loadPages(urls: string[], options: UrlLoadOptions & { skipped: SkipReport }) {
	return await loadEach(
		urls,
		PAGE_FETCH_CONCURRENCY,
		options.skipped,
		async (url) => [await loadUrl(url, options)],
		withoutCredentials,
	);
}

/**
 * Loads every name with bounded concurrency. With one name, its error is the item's error; with several,
 * each failure is recorded and the others still load.
 */
async function loadEach(
	names: string[],
	concurrency: number,
	skipped: SkipReport,
	load: (name: string) => Promise<LoadedDocument[]>,
	sourceIdOf: (name: string) => string = (name) => name,
): Promise<LoadedSource> {
	if (names.length === 1) return { documents: await load(names[0]), failures: [], skipped };
	const loaded: LoadedDocument[][] = [];
	const failures: DocumentResult[] = [];
	let next = 0;
	const worker = async () => {
		for (let index = next++; index < names.length; index = next++) {
			try {
				loaded[index] = await load(names[index]);
			} catch (error) {
				failures.push(failedResult(sourceIdOf(names[index]), 'load', error));
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
	return { documents: loaded.flat(), failures, skipped };
}

function failedResult(sourceId: string, step: 'load' | 'ingest', error: unknown): DocumentResult {
	return {
		sourceId,
		status: 'failed',
		chunks: 0,
		embedded: 0,
		reused: 0,
		deleted: 0,
		error: `Could not ${step} "${sourceId}": ${(error as Error)?.message ?? String(error)}`,
	};
}

/** Splits a list of names typed one per line or separated by commas. */
function listOf(text: string): string[] {
	return text
		.split(/[\n,]/)
		.map((entry) => entry.trim())
		.filter(Boolean);
}

/** Splits a list of URLs on white space only: commas are legal inside URLs (`/wiki/Washington,_D.C.`). */
function urlList(text: string): string[] {
	return text.split(/\s+/).filter(Boolean);
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
