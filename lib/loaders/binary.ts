import { createHash } from 'node:crypto';

import { InputError, type LoadedDocument } from '../types';
import { decodeText, detectType } from './detect';
import { readDocx } from './docx';
import { htmlToDocument } from './html';
import { assertLoadableSize, DEFAULT_MAX_BINARY_BYTES, DEFAULT_PARSE_TIMEOUT_MS } from './limits';
import { readPdf } from './pdf';
import { parseCsvRecords, parseJsonRecords, recordToText, rowIds } from './records';
import { loadText } from './text';
import type { LoadOptions } from './types';

export interface BinaryInput {
	data: Buffer;
	fileName?: string;
	/** MIME type the file arrived with (a hint only: the bytes decide). */
	mimeType?: string;
	/** Identity of the source; defaults to the file name, else a hash of the content. */
	sourceId?: string;
	/** Where the bytes came from, for pages fetched from the web. */
	url?: string;
}

const SUPPORTED = 'Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON';

function titleFromFileName(fileName: string | undefined): string | undefined {
	return fileName?.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '') || undefined;
}

/**
 * Loads a file: one document for PDF, DOCX, HTML, Markdown and text; one per row for CSV and JSON arrays
 * (or one for the whole file with `rowsAsDocuments: false`).
 */
export async function loadBinary(input: BinaryInput, options: LoadOptions = {}): Promise<LoadedDocument[]> {
	const { data, fileName } = input;
	const label = input.url ?? fileName ?? input.sourceId;
	const name = label ? `"${label}"` : 'The file';
	assertLoadableSize(name, data.length, options.maxBytes ?? DEFAULT_MAX_BINARY_BYTES);
	const sourceId =
		input.sourceId ?? fileName ?? `sha256:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
	const parseTimeoutMs = options.parseTimeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
	const type = detectType(data, { fileName, mimeType: input.mimeType });
	const base = { sourceId, mimeType: type.mimeType, url: input.url };

	switch (type.kind) {
		case undefined:
			throw new InputError(`${name} is not a supported document (detected: ${type.label}). ${SUPPORTED}.`);
		case 'pdf': {
			const pdf = await readPdf(name, data, parseTimeoutMs);
			return [{ ...base, text: pdf.text, title: pdf.title ?? titleFromFileName(fileName), metadata: pdf.metadata }];
		}
		case 'docx': {
			const text = await readDocx(name, data, parseTimeoutMs);
			const heading = text.match(/^#{1,6} +(.+)$/m)?.[1];
			return [{ ...base, text, title: heading ?? titleFromFileName(fileName), metadata: {} }];
		}
		case 'html': {
			const page = htmlToDocument(data, input.url);
			if (!page.text) throw new InputError(`${name} is an HTML page without any readable text.`);
			return [{ ...base, ...page, title: page.title ?? titleFromFileName(fileName), metadata: {} }];
		}
		case 'markdown':
		case 'text': {
			const document = loadText(decodeText(data), { sourceId, format: type.kind, url: input.url, maxBytes: options.maxBytes });
			return [{ ...document, title: document.title ?? titleFromFileName(fileName) }];
		}
		case 'csv':
		case 'json': {
			const text = decodeText(data);
			const rows = type.kind === 'csv' ? parseCsvRecords(name, text) : parseJsonRecords(name, text);
			const texts = rows.map(recordToText);
			if (!texts.some(Boolean)) throw new InputError(`${name} has no rows with values.`);
			const title = titleFromFileName(fileName);
			if (options.rowsAsDocuments === false) {
				const joined = texts.filter(Boolean).join('\n\n');
				return [{ ...base, text: joined, title, metadata: { rowCount: rows.length } }];
			}
			const ids = rowIds(name, rows, options.idField);
			return rows.flatMap((_, index) =>
				texts[index]
					? [{ ...base, sourceId: `${sourceId}#${ids[index]}`, text: texts[index], title, metadata: { row: index + 1 } }]
					: [],
			);
		}
	}
}
