/**
 * Type detection. The bytes decide first, because file names and MIME types are often wrong (a `.pdf` that
 * is really an HTML error page, a PDF saved as `.txt`); the given MIME type and then the extension only
 * choose between the text formats, which cannot be told apart reliably from content alone.
 */
import type { DetectedType, DocumentKind } from './types';

const MIME_BY_KIND: Record<DocumentKind, string> = {
	pdf: 'application/pdf',
	docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
	html: 'text/html',
	markdown: 'text/markdown',
	text: 'text/plain',
	csv: 'text/csv',
	json: 'application/json',
};

const LABEL_BY_KIND: Record<DocumentKind, string> = {
	pdf: 'PDF',
	docx: 'DOCX',
	html: 'HTML',
	markdown: 'Markdown',
	text: 'text',
	csv: 'CSV',
	json: 'JSON',
};

const TEXT_KIND_BY_MIME: Record<string, DocumentKind> = {
	'text/html': 'html',
	'application/xhtml+xml': 'html',
	'text/markdown': 'markdown',
	'text/x-markdown': 'markdown',
	'text/plain': 'text',
	'text/csv': 'csv',
	'text/tab-separated-values': 'csv',
	'application/csv': 'csv',
	'application/json': 'json',
	'application/ld+json': 'json',
	'text/json': 'json',
};

const TEXT_KIND_BY_EXTENSION: Record<string, DocumentKind> = {
	html: 'html',
	htm: 'html',
	xhtml: 'html',
	md: 'markdown',
	markdown: 'markdown',
	mdx: 'markdown',
	txt: 'text',
	text: 'text',
	csv: 'csv',
	tsv: 'csv',
	json: 'json',
};

/** Binary formats worth naming in an error, so the user learns what they actually sent. */
const KNOWN_BINARIES: { magic: number[]; mimeType: string; label: string }[] = [
	{ magic: [0x89, 0x50, 0x4e, 0x47], mimeType: 'image/png', label: 'PNG image' },
	{ magic: [0xff, 0xd8, 0xff], mimeType: 'image/jpeg', label: 'JPEG image' },
	{ magic: [0x47, 0x49, 0x46, 0x38], mimeType: 'image/gif', label: 'GIF image' },
	{ magic: [0x1f, 0x8b], mimeType: 'application/gzip', label: 'gzip archive' },
	{ magic: [0xd0, 0xcf, 0x11, 0xe0], mimeType: 'application/x-ole-storage', label: 'legacy Office file (.doc/.xls)' },
];

const SNIFF_BYTES = 64 * 1024;
/** Tags that open an HTML document, after the WHATWG MIME sniffing algorithm. */
const HTML_START = /^\s*(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|section|article|main|nav|header)[\s>/]/i;

export function documentType(kind: DocumentKind, detectedBy: DetectedType['detectedBy']): DetectedType {
	return { kind, mimeType: MIME_BY_KIND[kind], label: LABEL_BY_KIND[kind], detectedBy };
}

function startsWith(data: Buffer, magic: number[]): boolean {
	return magic.every((byte, index) => data[index] === byte);
}

/** Decodes text honouring a UTF-16 or UTF-8 byte-order mark; UTF-8 otherwise. */
export function decodeText(data: Buffer): string {
	if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data.subarray(2));
	if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data.subarray(2));
	return new TextDecoder('utf-8').decode(data);
}

/**
 * Text has no NUL bytes and few control characters. Legacy 8-bit encodings pass too (bytes ≥ 0x80 are
 * allowed); they are decoded as UTF-8 later, which only garbles accented letters, never the structure.
 */
function looksLikeText(sample: Buffer): boolean {
	if ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff)) return true;
	let control = 0;
	for (const byte of sample) {
		if (byte === 0) return false;
		if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) control++;
	}
	return control / Math.max(sample.length, 1) < 0.01;
}

function looksLikeJson(text: string): boolean {
	const trimmed = text.trim();
	if (!/^[[{]/.test(trimmed)) return false;
	try {
		JSON.parse(trimmed);
		return true;
	} catch {
		return false;
	}
}

/** At least three lines with the same non-zero number of commas, semicolons or tabs. */
function looksLikeCsv(text: string): boolean {
	const lines = text.split(/\r?\n/).filter((line) => line.trim()).slice(0, 10);
	if (lines.length < 3) return false;
	return [',', ';', '\t'].some((delimiter) => {
		const counts = lines.map((line) => line.split(delimiter).length - 1);
		return counts[0] > 0 && counts.every((count) => count === counts[0]);
	});
}

function kindFromHints(hints: { fileName?: string; mimeType?: string }): Pick<DetectedType, 'kind' | 'detectedBy'> | undefined {
	const mime = hints.mimeType?.split(';')[0].trim().toLowerCase();
	if (mime && TEXT_KIND_BY_MIME[mime]) return { kind: TEXT_KIND_BY_MIME[mime], detectedBy: 'mimeType' };
	const extension = hints.fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
	if (extension && TEXT_KIND_BY_EXTENSION[extension]) {
		return { kind: TEXT_KIND_BY_EXTENSION[extension], detectedBy: 'extension' };
	}
	return undefined;
}

/** Detects what the bytes are: magic bytes and content first, then the MIME type, then the file extension. */
export function detectType(data: Buffer, hints: { fileName?: string; mimeType?: string } = {}): DetectedType {
	const head = data.subarray(0, 1024);
	// The PDF spec lets readers accept a header anywhere in the first 1024 bytes (some generators prepend junk).
	if (head.includes('%PDF-')) return documentType('pdf', 'content');
	if (startsWith(data, [0x50, 0x4b, 0x03, 0x04])) {
		// Every DOCX is a ZIP holding word/document.xml; ZIP stores entry names uncompressed.
		if (data.includes('word/document.xml')) return documentType('docx', 'content');
		return { mimeType: 'application/zip', label: 'ZIP archive (not a Word document)', detectedBy: 'content' };
	}
	const binary = KNOWN_BINARIES.find((format) => startsWith(data, format.magic));
	if (binary) return { mimeType: binary.mimeType, label: binary.label, detectedBy: 'content' };

	const sample = data.subarray(0, SNIFF_BYTES);
	if (!looksLikeText(sample)) {
		return { mimeType: 'application/octet-stream', label: 'binary data', detectedBy: 'content' };
	}
	const text = decodeText(sample);
	if (HTML_START.test(text) || /^\s*<\?xml[^>]*>\s*(<!doctype\s+html|<html)/i.test(text)) {
		return documentType('html', 'content');
	}
	if (data.length <= SNIFF_BYTES ? looksLikeJson(text) : /^\s*[[{]\s*["{[]/.test(text)) {
		return documentType('json', 'content');
	}
	// Hints only choose among text formats: "report.pdf" holding plain text is still text.
	const hinted = kindFromHints(hints);
	if (hinted?.kind) return documentType(hinted.kind, hinted.detectedBy);
	return documentType(looksLikeCsv(text) ? 'csv' : 'text', 'content');
}
