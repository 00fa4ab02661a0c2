/**
 * DOCX via mammoth → HTML → our HTML→Markdown renderer. Mammoth maps Word styles to semantic HTML (Heading 1
 * → <h1>, real tables, lists), which our renderer turns into `#` headings and `| a | b |` rows; mammoth's own
 * Markdown output is deprecated upstream and drops tables, so the HTML route keeps more structure.
 */
import { createInflateRaw } from 'node:zlib';

import mammoth from 'mammoth';

import { InputError } from '../types';
import { htmlFragmentToMarkdown } from './html';
import {
	assertHtmlNesting,
	formatSize,
	isCallStackOverflow,
	MEGABYTE,
	parserReason,
	tooDeeplyNestedError,
	withParseTimeout,
} from './limits';

/** Word's Title/Subtitle styles are plain paragraphs to mammoth; as headings they become the document title. */
const TITLE_STYLES = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

/**
 * Most bytes a DOCX may unpack to. The text of even a book-length document takes a few MB, and pictures hardly
 * compress, so only parts that expand far beyond any real document (a "ZIP bomb") reach this. Mammoth would
 * unpack them into memory whole, so they are refused first.
 */
export const MAX_UNPACKED_BYTES = 256 * MEGABYTE;

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const ZIP64_EXTRA_FIELD = 0x0001;
/** A 32-bit size or offset field with this value is in the entry's ZIP64 extra field instead. */
const IN_ZIP64 = 0xffffffff;
const STORED = 0;
const DEFLATED = 8;

interface ZipEntry {
	method: number;
	compressedSize: number;
	/** What the archive claims; a bomb may claim little and expand to much more. */
	declaredSize: number;
	localHeaderOffset: number;
}

/** Where the central directory starts, from the end-of-central-directory record (ZIP64 if need be). */
function centralDirectoryOffset(data: Buffer): number | undefined {
	// The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
	for (let end = data.length - 22; end >= Math.max(0, data.length - 22 - 0xffff); end--) {
		if (data.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) continue;
		const offset = data.readUInt32LE(end + 16);
		if (offset !== IN_ZIP64) return offset;
		const locator = end - 20;
		if (locator < 0 || data.readUInt32LE(locator) !== ZIP64_END_LOCATOR) return undefined;
		const record = Number(data.readBigUInt64LE(locator + 8));
		if (record + 56 > data.length || data.readUInt32LE(record) !== ZIP64_END_OF_CENTRAL_DIRECTORY) return undefined;
		return Number(data.readBigUInt64LE(record + 48));
	}
	return undefined;
}

/** The ZIP64 values of the fields that say IN_ZIP64, in the order the format stores them. */
function zip64Values(data: Buffer, extraStart: number, extraEnd: number, wanted: boolean[]): (number | undefined)[] {
	for (let field = extraStart; field + 4 <= extraEnd; field += 4 + data.readUInt16LE(field + 2)) {
		if (data.readUInt16LE(field) !== ZIP64_EXTRA_FIELD) continue;
		let position = field + 4;
		return wanted.map((isWanted) => {
			if (!isWanted || position + 8 > extraEnd) return undefined;
			position += 8;
			return Number(data.readBigUInt64LE(position - 8));
		});
	}
	return wanted.map(() => undefined);
}

/** The archive's entries, or undefined when its directory cannot be read (mammoth then reports it as corrupt). */
function zipEntries(data: Buffer): ZipEntry[] | undefined {
	const directory = centralDirectoryOffset(data);
	if (directory === undefined) return undefined;
	const entries: ZipEntry[] = [];
	let position = directory;
	while (position + 46 <= data.length && data.readUInt32LE(position) === CENTRAL_DIRECTORY_ENTRY) {
		const nameLength = data.readUInt16LE(position + 28);
		const extraLength = data.readUInt16LE(position + 30);
		const commentLength = data.readUInt16LE(position + 32);
		const fields = [data.readUInt32LE(position + 24), data.readUInt32LE(position + 20), data.readUInt32LE(position + 42)];
		const extraStart = position + 46 + nameLength;
		const zip64 = zip64Values(data, extraStart, Math.min(extraStart + extraLength, data.length), fields.map((value) => value === IN_ZIP64));
		const [declaredSize, compressedSize, localHeaderOffset] = fields.map((value, index) => zip64[index] ?? value);
		entries.push({ method: data.readUInt16LE(position + 10), compressedSize, declaredSize, localHeaderOffset });
		position = extraStart + extraLength + commentLength;
	}
	return entries;
}

/** Bytes the entry really unpacks to, counted without keeping them, up to just over `limit`. */
async function unpackedSize(data: Buffer, entry: ZipEntry, limit: number): Promise<number> {
	const header = entry.localHeaderOffset;
	if (header + 30 > data.length || data.readUInt32LE(header) !== LOCAL_FILE_HEADER) return 0;
	const start = header + 30 + data.readUInt16LE(header + 26) + data.readUInt16LE(header + 28);
	const packed = data.subarray(start, start + entry.compressedSize);
	if (entry.method === STORED) return packed.length;
	if (entry.method !== DEFLATED) return 0;
	const inflate = createInflateRaw({ chunkSize: MEGABYTE });
	inflate.end(packed);
	let size = 0;
	try {
		for await (const chunk of inflate as AsyncIterable<Buffer>) {
			size += chunk.length;
			// Leaving the loop destroys the stream: a bomb is never unpacked further than this.
			if (size > limit) break;
		}
	} catch {
		// Damaged compressed data: mammoth reports the file as corrupt.
	}
	return size;
}

/** Refuses a DOCX whose parts would unpack to more than MAX_UNPACKED_BYTES, by their claimed and by their real size. */
async function assertSafeToUnpack(name: string, data: Buffer): Promise<void> {
	const entries = zipEntries(data);
	if (!entries) return;
	const tooLarge = (unpacked: string): InputError =>
		new InputError(
			`${name} would expand from ${formatSize(data.length)} to ${unpacked} when unpacked (the limit is ` +
				`${formatSize(MAX_UNPACKED_BYTES)}), so it is refused as a safety measure: it may be a "ZIP bomb". ` +
				'If the file is genuine, remove large embedded files or pictures, or split it, and save it again.',
		);
	const declared = entries.reduce((total, entry) => total + entry.declaredSize, 0);
	if (declared > MAX_UNPACKED_BYTES) throw tooLarge(formatSize(declared));
	let unpacked = 0;
	for (const entry of entries) {
		unpacked += await unpackedSize(data, entry, MAX_UNPACKED_BYTES - unpacked);
		if (unpacked > MAX_UNPACKED_BYTES) throw tooLarge(`more than ${formatSize(MAX_UNPACKED_BYTES)}`);
	}
}

export async function readDocx(name: string, data: Buffer, timeoutMs: number): Promise<string> {
	let html: string;
	try {
		await assertSafeToUnpack(name, data);
		const result = await withParseTimeout(name, timeoutMs, mammoth.convertToHtml({ buffer: data }, { styleMap: TITLE_STYLES }), () => undefined);
		html = result.value;
	} catch (error) {
		if (error instanceof InputError) throw error;
		if (isCallStackOverflow(error)) throw tooDeeplyNestedError(name);
		throw new InputError(
			`${name} could not be read as a Word document: it looks truncated or corrupt (${parserReason(error)}). ` +
				'Open and re-save it in Word, or export it as PDF.',
		);
	}
	assertHtmlNesting(name, html);
	const text = htmlFragmentToMarkdown(html);
	if (!/[\p{L}\p{N}]/u.test(text)) throw new InputError(`${name} contains no text.`);
	return text;
}
