/**
 * Type detection. The bytes decide first, because file names and MIME types are often wrong (a `.pdf` that
 * is really an HTML error page, a PDF saved as `.txt`); the given MIME type and then the extension only
 * choose between the text formats, which cannot be told apart reliably from content alone.
 */
import type { DetectedType, DocumentKind, TextEncoding } from './types';

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

const SUPPORTED = 'Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON.';
const UNPACK_FIRST = "Unpack it first (for example with n8n's Compression node) and ingest the";

/** Binary formats worth naming in an error, so the user learns what they actually sent and what to do. */
const KNOWN_BINARIES: { magic: number[]; mimeType: string; label: string; refusal?: string }[] = [
	{ magic: [0x89, 0x50, 0x4e, 0x47], mimeType: 'image/png', label: 'PNG image' },
	{ magic: [0xff, 0xd8, 0xff], mimeType: 'image/jpeg', label: 'JPEG image' },
	{ magic: [0x47, 0x49, 0x46, 0x38], mimeType: 'image/gif', label: 'GIF image' },
	{
		magic: [0x1f, 0x8b],
		mimeType: 'application/gzip',
		label: 'gzip archive',
		refusal: `is a gzip archive, not a document. ${UNPACK_FIRST} file inside.`,
	},
];

/** Office formats that are ZIP archives, by the part every file of the format holds. */
const OFFICE_ZIPS: { part: string; mimeType: string; label: string; refusal: string }[] = [
	{
		part: 'xl/workbook.xml',
		mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
		label: 'Excel workbook (XLSX)',
		refusal: 'is an Excel workbook (XLSX), which cannot be read. Save each sheet as CSV (File → Save As → CSV UTF-8) and ingest that.',
	},
	{
		part: 'ppt/presentation.xml',
		mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
		label: 'PowerPoint presentation (PPTX)',
		refusal: 'is a PowerPoint presentation (PPTX), which cannot be read. Export it as PDF (File → Export) and ingest that.',
	},
];

/** OLE compound files: legacy .doc/.xls/.ppt, and the container of every password-protected DOCX/XLSX/PPTX. */
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
/** Office encryption stores the encrypted DOCX/XLSX/PPTX as this stream; stream names are UTF-16LE. */
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

const SNIFF_BYTES = 64 * 1024;
/** pdf.js looks for the `%PDF-` header within the first 1,024 bytes (some generators prepend junk). */
const PDF_HEADER_WINDOW = 1024;
/** Tags that open an HTML document, after the WHATWG MIME sniffing algorithm. */
const HTML_START = /^\s*(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|section|article|main|nav|header)[\s>/]/i;
/**
 * Characters that text does not contain: controls other than tab, line feed, form feed and carriage return,
 * lone surrogates, private-use and unassigned code points. Binary bytes read as UTF-16 produce them often.
 */
const NOT_TEXT = /(?![\t\n\f\r])\p{Cc}|[\p{Cs}\p{Co}\p{Cn}]/u;
/**
 * Share of UTF-16 code units with a zero byte needed to read bytes as UTF-16 without a byte-order mark: text in
 * Latin script has one in nearly every unit, text in Cyrillic or Greek at least in its spaces and digits.
 */
const MIN_UTF16_ZERO_SHARE = 0.1;
/** Shortest sample whose reading as UTF-16 without zero bytes hints at text: random bytes this long rarely pass. */
const MIN_UTF16_HINT_BYTES = 32;
const UTF16_BYTE_ORDERS: TextEncoding[] = ['utf-16le', 'utf-16be'];

export function documentType(kind: DocumentKind, detectedBy: DetectedType['detectedBy']): DetectedType {
	return { kind, mimeType: MIME_BY_KIND[kind], label: LABEL_BY_KIND[kind], detectedBy };
}

function unreadable(mimeType: string, label: string, refusal?: string): DetectedType {
	return {
		mimeType,
		label,
		detectedBy: 'content',
		refusal: refusal ?? `is not a supported document (detected: ${label}). ${SUPPORTED}`,
	};
}

function startsWith(data: Buffer, magic: number[]): boolean {
	return magic.every((byte, index) => data[index] === byte);
}

function bomEncoding(data: Buffer): TextEncoding | undefined {
	if (data[0] === 0xff && data[1] === 0xfe) return 'utf-16le';
	if (data[0] === 0xfe && data[1] === 0xff) return 'utf-16be';
	return undefined;
}

function isUtf32Bom(data: Buffer): boolean {
	return startsWith(data, [0xff, 0xfe, 0, 0]) || startsWith(data, [0, 0, 0xfe, 0xff]);
}

/** UTF-16 bytes as a string, byte-order mark dropped; lone surrogates stay (Buffer decoding keeps them). */
function decodeUtf16(data: Buffer, encoding: TextEncoding): string {
	const units = data.subarray(0, data.length - (data.length % 2));
	// swap16 works in place: big-endian bytes are swapped in a copy.
	const littleEndian = encoding === 'utf-16be' ? Buffer.from(units).swap16() : units;
	return littleEndian.toString('utf16le').replace(/^\uFEFF/, '');
}

/** A sample of the bytes as text, for sniffing the format only. */
function decodeSample(sample: Buffer, encoding: TextEncoding | undefined): string {
	return encoding ? decodeUtf16(sample, encoding) : new TextDecoder('utf-8').decode(sample);
}

/**
 * Text has no NUL bytes and few control characters. Legacy 8-bit encodings pass too (bytes ≥ 0x80 are
 * allowed); `decodeText` reads them as Windows-1252 when they are not valid UTF-8.
 */
function looksLikeText(sample: Buffer): boolean {
	let control = 0;
	for (const byte of sample) {
		if (byte === 0) return false;
		if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) control++;
	}
	return control / Math.max(sample.length, 1) < 0.01;
}

/** Zero bytes at even and at odd offsets, over the whole UTF-16 code units of the sample. */
function zeroBytesByParity(sample: Buffer): { even: number; odd: number; units: number } {
	const units = sample.length >> 1;
	let even = 0;
	let odd = 0;
	for (let index = 0; index < units * 2; index += 2) {
		if (sample[index] === 0) even++;
		if (sample[index + 1] === 0) odd++;
	}
	return { even, odd, units };
}

/** The byte order whose high bytes hold every zero byte of the sample, if zeros are found on one side only. */
function utf16Shape(sample: Buffer): { encoding: TextEncoding; zeroShare: number } | undefined {
	const { even, odd, units } = zeroBytesByParity(sample);
	if (even === 0 && odd > 0) return { encoding: 'utf-16le', zeroShare: odd / units };
	if (odd === 0 && even > 0) return { encoding: 'utf-16be', zeroShare: even / units };
	return undefined;
}

/**
 * UTF-16 without a byte-order mark (Windows tools write it). Text mostly in Latin script, and the spaces,
 * digits and punctuation of any alphabet, have a zero high byte: zeros then sit at odd offsets (little-endian)
 * or at even ones (big-endian), never at both, whereas binary data has zeros everywhere. The decoded sample
 * must also read as text, which random bytes with such a pattern by chance do not.
 */
function utf16WithoutBom(sample: Buffer, complete: boolean): TextEncoding | undefined {
	const shape = utf16Shape(sample);
	if (!shape || shape.zeroShare < MIN_UTF16_ZERO_SHARE) return undefined;
	return readsAsUtf16Text(sample, shape.encoding, complete) ? shape.encoding : undefined;
}

function readsAsUtf16Text(sample: Buffer, encoding: TextEncoding, complete: boolean): boolean {
	const text = decodeUtf16(sample, encoding);
	// A sample cut after 64 KB may end in the first half of a surrogate pair.
	return !NOT_TEXT.test(complete ? text : text.replace(/[\uD800-\uDBFF]$/, ''));
}

/** UTF-32 without a byte-order mark: the two high bytes of every code unit are zero. */
function hasUtf32Shape(sample: Buffer): boolean {
	const quads = sample.length >> 2;
	if (quads === 0) return false;
	const zerosAt = [0, 0, 0, 0];
	for (let index = 0; index < quads * 4; index++) if (sample[index] === 0) zerosAt[index % 4]++;
	const always = (offset: number): boolean => zerosAt[offset] >= quads * 0.9;
	return (always(2) && always(3)) || (always(0) && always(1));
}

/**
 * Whether binary bytes could be text in an encoding we do not read: UTF-32, UTF-16 whose zero bytes look
 * like text but whose characters did not pass as text, or UTF-16 in a script without any ASCII (Chinese,
 * Japanese, Korean), which has no zero bytes to go by but reads entirely as characters. Only a hint: such
 * text is too close to binary data to decode it with confidence.
 */
function mayBeTextInOtherEncoding(sample: Buffer): boolean {
	if (isUtf32Bom(sample) || hasUtf32Shape(sample)) return true;
	if ((utf16Shape(sample)?.zeroShare ?? 0) >= MIN_UTF16_ZERO_SHARE) return true;
	return (
		sample.length >= MIN_UTF16_HINT_BYTES &&
		UTF16_BYTE_ORDERS.some((encoding) => readsAsUtf16Text(sample, encoding, false))
	);
}

/**
 * How the sample's text is encoded (`utf-8` covering legacy 8-bit encodings too); undefined when the bytes
 * are not text. `complete` says whether the sample is the whole input.
 */
function textEncoding(sample: Buffer, complete: boolean): TextEncoding | 'utf-8' | undefined {
	if (isUtf32Bom(sample)) return undefined;
	const bom = bomEncoding(sample);
	if (bom) return bom;
	if (looksLikeText(sample)) return 'utf-8';
	return utf16WithoutBom(sample, complete);
}

export interface DecodedText {
	text: string;
	/** Set when the bytes were not valid UTF-8: how they were read instead, and what to do. */
	warning?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a whole text file: UTF-16 as detected, else UTF-8 (a byte-order mark is dropped). Bytes that are
 * not valid UTF-8 are mostly a legacy encoding, read as Windows-1252 (what browsers assume for Western text,
 * and what Excel writes on Western Windows); UTF-8 with a few damaged bytes keeps its valid characters.
 */
export function decodeText(name: string, data: Buffer, encoding?: TextEncoding): DecodedText {
	if (encoding) return { text: decodeUtf16(data, encoding) };
	try {
		return { text: strictUtf8.decode(data) };
	} catch {
		const lenient = new TextDecoder('utf-8').decode(data);
		let replaced = 0;
		let multibyte = 0;
		for (const character of lenient) {
			if (character === '\uFFFD') replaced++;
			else if (character.charCodeAt(0) > 0x7f) multibyte++;
		}
		if (multibyte >= replaced) {
			return {
				text: lenient,
				warning: `${name} is not valid UTF-8 text: ${replaced} damaged character(s) were replaced by "\uFFFD". Save the file as UTF-8 and ingest it again to keep them.`,
			};
		}
		return {
			text: new TextDecoder('windows-1252').decode(data),
			warning:
				`${name} is not UTF-8 text; it was read as Western European (Windows-1252). ` +
				'If letters look wrong in the stored text, save the file as UTF-8 and ingest it again.',
		};
	}
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

/**
 * PDF syntax beyond the header window: a PDF behind more than 1,024 bytes of junk, or one whose header was
 * cut off. pdf.js still reads many of these (it finds the objects from the end of the file), and stored as
 * text they would be raw PDF syntax, so they go to pdf.js, which reads them or says why not.
 */
function hasPdfBody(data: Buffer): boolean {
	return data.includes('endobj') && (data.includes('%PDF-') || data.includes('startxref'));
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

function detectZip(data: Buffer): DetectedType {
	// Every DOCX is a ZIP holding word/document.xml; ZIP stores entry names uncompressed.
	if (data.includes('word/document.xml')) return documentType('docx', 'content');
	const office = OFFICE_ZIPS.find((format) => data.includes(format.part));
	if (office) return unreadable(office.mimeType, office.label, office.refusal);
	return unreadable('application/zip', 'ZIP archive', `is a ZIP archive, not a document. ${UNPACK_FIRST} files inside.`);
}

function detectOle(data: Buffer): DetectedType {
	if (data.includes(ENCRYPTED_PACKAGE)) {
		return unreadable(
			'application/x-ole-storage',
			'password-protected Office file',
			'is password-protected (an encrypted Word, Excel or PowerPoint file), so it cannot be read. Open it, remove the ' +
				'password (File → Info → Protect Document → Encrypt with Password, then clear the password) and save it again.',
		);
	}
	return unreadable(
		'application/x-ole-storage',
		'legacy Office file (.doc/.xls/.ppt)',
		'is a legacy Office file (.doc, .xls or .ppt), which cannot be read. Save it in a current format: ' +
			'Word documents as DOCX or PDF, Excel sheets as CSV, PowerPoint presentations as PDF.',
	);
}

/** Detects what the bytes are: magic bytes and content first, then the MIME type, then the file extension. */
export function detectType(data: Buffer, hints: { fileName?: string; mimeType?: string } = {}): DetectedType {
	if (data.subarray(0, PDF_HEADER_WINDOW).includes('%PDF-')) return documentType('pdf', 'content');
	if (startsWith(data, [0x50, 0x4b, 0x03, 0x04])) return detectZip(data);
	if (startsWith(data, OLE_MAGIC)) return detectOle(data);
	const binary = KNOWN_BINARIES.find((format) => startsWith(data, format.magic));
	if (binary) return unreadable(binary.mimeType, binary.label, binary.refusal);
	if (hasPdfBody(data)) return documentType('pdf', 'content');

	const sample = data.subarray(0, SNIFF_BYTES);
	const encoding = textEncoding(sample, sample.length === data.length);
	if (!encoding) {
		return mayBeTextInOtherEncoding(sample)
			? unreadable(
					'application/octet-stream',
					'binary data, possibly text in UTF-16 or UTF-32',
					'is not a supported document (detected: binary data, possibly text in UTF-16 or UTF-32). ' +
						`If it is text, save it as UTF-8 and try again. ${SUPPORTED}`,
				)
			: unreadable('application/octet-stream', 'binary data');
	}
	const utf16 = encoding === 'utf-8' ? undefined : encoding;
	const text = decodeSample(sample, utf16);
	const typed = (kind: DocumentKind, detectedBy: DetectedType['detectedBy']): DetectedType =>
		utf16 ? { ...documentType(kind, detectedBy), encoding: utf16 } : documentType(kind, detectedBy);
	if (HTML_START.test(text) || /^\s*<\?xml[^>]*>\s*(<!doctype\s+html|<html)/i.test(text)) return typed('html', 'content');
	if (data.length <= SNIFF_BYTES ? looksLikeJson(text) : /^\s*[[{]\s*["{[]/.test(text)) return typed('json', 'content');
	// Hints only choose among text formats: "report.pdf" holding plain text is still text.
	const hinted = kindFromHints(hints);
	if (hinted?.kind) return typed(hinted.kind, hinted.detectedBy);
	return typed(looksLikeCsv(text) ? 'csv' : 'text', 'content');
}
