import { createHash } from 'node:crypto';

import { InputError, type LoadedDocument } from '../types';
import { decodeText, detectType } from './detect';
import { readDocx } from './docx';
import { htmlToDocument } from './html';
import {
	assertHtmlNesting,
	assertLoadableSize,
	DEFAULT_MAX_BINARY_BYTES,
	DEFAULT_PARSE_TIMEOUT_MS,
	emptyInputError,
} from './limits';
import { readPdf } from './pdf';
import { type CsvRecords, parseCsvRecords, parseJsonRecords, recordToText, rowIds } from './records';
import type { SkipReport } from './skipped';
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

/**
 * What to do about the file size limit. URL downloads stop at their own, lower limit before this check, so
 * it only ever refuses files from input, whose limit is the Ingest Document option.
 */
const TOO_LARGE_ADVICE = 'split it into smaller files, or raise "Max File Size (MB)" under Options';

function titleFromFileName(fileName: string | undefined): string | undefined {
	return fileName?.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '') || undefined;
}

/**
 * Loads a file: one document for PDF, DOCX, HTML, Markdown and text; one per row for CSV and JSON arrays
 * (or one for the whole file with `rowsAsDocuments: false`). Warnings about the file as a whole travel on
 * its first document.
 */
export async function loadBinary(input: BinaryInput, options: LoadOptions = {}): Promise<LoadedDocument[]> {
	const { data, fileName } = input;
	const label = input.url ?? fileName ?? input.sourceId;
	const name = label ? `"${label}"` : 'The file';
	assertLoadableSize(name, data.length, options.maxBytes ?? DEFAULT_MAX_BINARY_BYTES, TOO_LARGE_ADVICE);
	const sourceId =
		input.sourceId ?? fileName ?? `sha256:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
	const parseTimeoutMs = options.parseTimeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
	const type = detectType(data, { fileName, mimeType: input.mimeType });
	const base = { sourceId, mimeType: type.mimeType, url: input.url };

	switch (type.kind) {
		case undefined:
			throw new InputError(`${name} ${type.refusal}`);
		case 'pdf': {
			const pdf = await readPdf(name, data, parseTimeoutMs);
			const title = pdf.title ?? titleFromFileName(fileName);
			return [{ ...base, text: pdf.text, title, metadata: pdf.metadata, ...withWarnings(pdf.warning) }];
		}
		case 'docx': {
			const text = await readDocx(name, data, parseTimeoutMs);
			const heading = text.match(/^#{1,6} +(.+)$/m)?.[1];
			return [{ ...base, text, title: heading ?? titleFromFileName(fileName), metadata: {} }];
		}
		case 'html': {
			// UTF-16 is decoded here; other bytes go to the HTML reader, which honours the page's <meta charset>.
			const html = type.encoding ? decodeText(name, data, type.encoding).text : data;
			assertHtmlNesting(name, html);
			const page = htmlToDocument(html, input.url);
			if (!page.text) throw new InputError(`${name} is an HTML page without any readable text.`);
			return [{ ...base, ...page, title: page.title ?? titleFromFileName(fileName), metadata: {} }];
		}
		case 'markdown':
		case 'text': {
			const { text, warning } = decodeText(name, data, type.encoding);
			// Checked here so that the message names the file, not the Text parameter loadText reports on.
			if (!text.trim()) throw emptyInputError(name);
			// The file's size was checked above; its decoded text may be longer in UTF-8 and must not fail again.
			const document = loadText(text, { sourceId, format: type.kind, url: input.url, maxBytes: Number.POSITIVE_INFINITY });
			return [{ ...document, title: document.title ?? titleFromFileName(fileName), ...withWarnings(warning) }];
		}
		case 'csv':
		case 'json': {
			const { text, warning } = decodeText(name, data, type.encoding);
			const csv = type.kind === 'csv' ? parseCsvRecords(name, text) : undefined;
			const rows = csv ? csv.rows : parseJsonRecords(name, text);
			const texts = rows.map((row) => recordToText(name, row));
			if (!texts.some(Boolean)) throw new InputError(`${name} has no rows with values.`);
			const title = titleFromFileName(fileName);
			const rowsAsDocuments = options.rowsAsDocuments !== false;
			// Rows are named as their documents are (`file.csv#17`), or by number within one whole-file document.
			const ids = rowsAsDocuments ? rowIds(name, rows, options.idField) : undefined;
			const rowName = (index: number): string => (ids ? `${sourceId}#${ids[index]}` : `${sourceId} row ${index + 1}`);
			if (csv) reportCsvLosses(csv, rowName, options.skipped);
			if (!rowsAsDocuments) {
				const joined = texts.filter(Boolean).join('\n\n');
				return [{ ...base, text: joined, title, metadata: { rowCount: rows.length }, ...withWarnings(warning) }];
			}
			// A row without any value has nothing to store; in one whole-file document it simply adds nothing.
			options.skipped?.add({
				unit: 'row',
				reason: 'no text extracted',
				advice: 'Nothing to include: these rows have no values; fill them in the file if they should be stored',
				examples: texts.flatMap((rowText, index) => (rowText ? [] : [rowName(index)])),
			});
			const [first, ...others]: LoadedDocument[] = rows.flatMap((_, index) =>
				texts[index]
					? [{ ...base, sourceId: rowName(index), text: texts[index], title, metadata: { row: index + 1 } }]
					: [],
			);
			return [{ ...first, ...withWarnings(warning) }, ...others];
		}
	}
}

function withWarnings(warning: string | undefined): Pick<LoadedDocument, 'warnings'> {
	return warning ? { warnings: [warning] } : {};
}

/** Values the CSV's header row gives no name to, or hides behind a repeated name, are not stored: say so. */
function reportCsvLosses(csv: CsvRecords, rowName: (index: number) => string, skipped: SkipReport | undefined): void {
	skipped?.add({
		unit: 'row',
		partial: true,
		reason: `values beyond the header's ${csv.columns.length} columns left out`,
		advice: 'Add a name for every column to the header (first) row of the file, then ingest it again',
		examples: csv.rowsWithExtraValues.map(rowName),
	});
	skipped?.add({
		unit: 'row',
		partial: true,
		reason: `values of the repeated column ${csv.repeatedColumns.map((column) => `"${column}"`).join(', ')} left out (only the last such column is kept)`,
		advice: 'Give every column in the header (first) row its own name, then ingest it again',
		examples: csv.rowsWithHiddenValues.map(rowName),
	});
}
