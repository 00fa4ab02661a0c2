/**
 * What the loaders survive: every class of bad input either loads correctly or fails with an InputError that
 * names the file and says what to do. The files are built in code (badFileBuilders.ts), so each test shows
 * exactly what is wrong with its file.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';

import { detectType, loadBinary, loadText } from '../../lib/loaders';
import { MIN_TEXT_CHARACTERS_PER_PAGE } from '../../lib/loaders/pdf';
import { InputError, type LoadedDocument } from '../../lib/types';
import { deflatedZeros, minimalPdf, oleFile, pseudoRandomBytes, utf16, zip } from './badFileBuilders';

const SUPPORTED = 'Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON.';
const MEGABYTE = 1024 * 1024;
const fixture = (name: string): Buffer => readFileSync(join(__dirname, '../fixtures/loaders', name));

const pdf = minimalPdf(['Hello from a small PDF, with more than enough text for its one page.']);
const PDF_TEXT = 'Hello from a small PDF, with more than enough text for its one page.';

const corruptPdfMessage = (name: string) =>
	`"${name}" could not be read as a PDF: it looks truncated or corrupt (Invalid PDF structure.). Re-export or re-download the file.`;
const passwordOfficeMessage = (name: string) =>
	`"${name}" is password-protected (an encrypted Word, Excel or PowerPoint file), so it cannot be read. Open it, remove the ` +
	'password (File → Info → Protect Document → Encrypt with Password, then clear the password) and save it again.';
const zipBombMessage = (unpacked: string) =>
	`"bomb.docx" would expand from 1.0 MB to ${unpacked} when unpacked (the limit is 256 MB), so it is refused as a safety ` +
	'measure: it may be a "ZIP bomb". If the file is genuine, remove large embedded files or pictures, or split it, and save it again.';
const nestedMessage = (name: string) =>
	`"${name}" is nested more than 1,000 levels deep (tags or brackets inside each other), which no real document needs, ` +
	'so it is refused as a safety measure. If the file is genuine, flatten its structure and save it again.';
const otherEncodingMessage = (name: string) =>
	`"${name}" is not a supported document (detected: binary data, possibly text in UTF-16 or UTF-32). ` +
	`If it is text, save it as UTF-8 and try again. ${SUPPORTED}`;
const corruptDocx = /^"(half|bad)\.docx" could not be read as a Word document: it looks truncated or corrupt \([^\n]+\)\. Open and re-save it in Word, or export it as PDF\.$/;

async function loadError(data: Buffer, fileName: string, options: { maxBytes?: number } = {}): Promise<InputError> {
	const error = await loadBinary({ data, fileName }, options).then(
		() => undefined,
		(caught: unknown) => caught,
	);
	expect(error).toBeInstanceOf(InputError);
	return error as InputError;
}

describe('bad files: each is refused with a message naming the file and what to do', () => {
	const docx = fixture('brand-guide.docx');
	const bomb = deflatedZeros(1024);
	const cases: Array<{ problem: string; fileName: string; data: () => Buffer; message: string | RegExp }> = [
		{ problem: 'empty', fileName: 'empty.txt', data: () => Buffer.alloc(0), message: '"empty.txt" is empty; provide a file or text with content.' },
		{ problem: 'only white space', fileName: 'blank.md', data: () => Buffer.from('  \n\t\n  '), message: '"blank.md" is empty; provide a file or text with content.' },
		{
			problem: 'garbage',
			fileName: 'mystery.pdf',
			data: () => pseudoRandomBytes(4096),
			message: `"mystery.pdf" is not a supported document (detected: binary data). ${SUPPORTED}`,
		},
		{
			problem: 'wrong extension: an image named .pdf',
			fileName: 'logo.pdf',
			data: () => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pseudoRandomBytes(64)]),
			message: `"logo.pdf" is not a supported document (detected: PNG image). ${SUPPORTED}`,
		},
		{
			problem: 'corrupt PDF (a header, then garbage)',
			fileName: 'bad.pdf',
			data: () => Buffer.concat([Buffer.from('%PDF-1.7\n'), pseudoRandomBytes(3000)]),
			message: corruptPdfMessage('bad.pdf'),
		},
		{ problem: 'truncated PDF', fileName: 'cut.pdf', data: () => pdf.subarray(0, pdf.length / 2), message: corruptPdfMessage('cut.pdf') },
		{
			problem: 'PDF syntax without its header, named .txt (never stored as text)',
			fileName: 'notes.txt',
			data: () => pdf.subarray('%PDF-1.4\n'.length),
			message: corruptPdfMessage('notes.txt'),
		},
		{
			problem: 'password-protected PDF',
			fileName: 'secret.pdf',
			data: () => fixture('encrypted.pdf'),
			message: '"secret.pdf" is password-protected; remove the password and try again.',
		},
		...['secret.docx', 'budget.xlsx', 'pitch.pptx'].map((fileName) => ({
			problem: `password-protected ${fileName.split('.')[1].toUpperCase()} (an OLE file holding EncryptedPackage)`,
			fileName,
			data: () => oleFile(['Root Entry', 'EncryptionInfo', 'EncryptedPackage']),
			message: passwordOfficeMessage(fileName),
		})),
		{
			problem: 'legacy Word file',
			fileName: 'old.doc',
			data: () => oleFile(['Root Entry', 'WordDocument']),
			message:
				'"old.doc" is a legacy Office file (.doc, .xls or .ppt), which cannot be read. Save it in a current format: ' +
				'Word documents as DOCX or PDF, Excel sheets as CSV, PowerPoint presentations as PDF.',
		},
		{ problem: 'truncated DOCX', fileName: 'half.docx', data: () => docx.subarray(0, docx.length / 2), message: corruptDocx },
		{
			problem: 'corrupt DOCX (its document part is not XML)',
			fileName: 'bad.docx',
			data: () => zip([{ name: 'word/document.xml', data: Buffer.from('not xml <<<') }]),
			message: corruptDocx,
		},
		{
			problem: 'ZIP bomb that declares its size (1 GB of zeros as word/document.xml)',
			fileName: 'bomb.docx',
			data: () => zip([{ name: 'word/document.xml', deflated: bomb, declaredSize: 1024 * MEGABYTE }]),
			message: zipBombMessage('1 GB'),
		},
		{
			problem: 'ZIP bomb that lies about its size (declares 1 KB)',
			fileName: 'bomb.docx',
			data: () => zip([{ name: 'word/document.xml', deflated: bomb, declaredSize: 1024 }]),
			message: zipBombMessage('more than 256 MB'),
		},
		{
			problem: 'gzip archive',
			fileName: 'notes.txt.gz',
			data: () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), pseudoRandomBytes(64)]),
			message: `"notes.txt.gz" is a gzip archive, not a document. Unpack it first (for example with n8n's Compression node) and ingest the file inside.`,
		},
		{
			problem: 'ZIP archive',
			fileName: 'docs.zip',
			data: () => zip([{ name: 'a.txt', data: Buffer.from('hello') }]),
			message: `"docs.zip" is a ZIP archive, not a document. Unpack it first (for example with n8n's Compression node) and ingest the files inside.`,
		},
		{
			problem: 'Excel workbook',
			fileName: 'prices.xlsx',
			data: () => zip([{ name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') }]),
			message: '"prices.xlsx" is an Excel workbook (XLSX), which cannot be read. Save each sheet as CSV (File → Save As → CSV UTF-8) and ingest that.',
		},
		{
			problem: 'PowerPoint presentation',
			fileName: 'deck.pptx',
			data: () => zip([{ name: 'ppt/presentation.xml', data: Buffer.from('<presentation/>') }]),
			message: '"deck.pptx" is a PowerPoint presentation (PPTX), which cannot be read. Export it as PDF (File → Export) and ingest that.',
		},
		{
			problem: 'deeply nested JSON (100,000 levels)',
			fileName: 'deep.json',
			data: () => Buffer.from(`${'['.repeat(100_000)}1${']'.repeat(100_000)}`),
			message: nestedMessage('deep.json'),
		},
		{
			problem: 'deeply nested HTML (100,000 levels)',
			fileName: 'deep.html',
			data: () => Buffer.from(`<html><body>${'<div>'.repeat(100_000)}Deep text${'</div>'.repeat(100_000)}</body></html>`),
			message: nestedMessage('deep.html'),
		},
		{
			problem: 'UTF-32 text (not read, with a hint)',
			fileName: 'notes.txt',
			data: () => Buffer.from([...'Hello world, in UTF-32.'].flatMap((character) => [character.charCodeAt(0), 0, 0, 0])),
			message: otherEncodingMessage('notes.txt'),
		},
		{
			problem: 'UTF-16 Japanese without a byte-order mark (no zero bytes to go by: a hint)',
			fileName: 'memo.txt',
			data: () => utf16('日本語のテキストです。これは会議のメモです。', 'le'),
			message: otherEncodingMessage('memo.txt'),
		},
		{
			problem: 'invalid JSON',
			fileName: 'broken.json',
			data: () => Buffer.from('{"a": 1,'),
			message: /^"broken\.json" is not valid JSON: .+\.$/,
		},
	];

	it.each(cases)('$problem', async ({ fileName, data, message }) => {
		const error = await loadError(data(), fileName);
		if (typeof message === 'string') expect(error.message).toBe(message);
		else expect(error.message).toMatch(message);
	});

	it('too large: names the option that raises the limit', async () => {
		const error = await loadError(Buffer.alloc(2 * MEGABYTE, 'a'), 'big.txt', { maxBytes: MEGABYTE });
		expect(error.message).toBe('"big.txt" is 2 MB, larger than the 1 MB limit; split it into smaller files, or raise "Max File Size (MB)" under Options.');
	});

	it('a ZIP bomb is refused without being unpacked into memory', async () => {
		// Counted after a garbage collection: the inflated chunks streamed past and dropped are garbage until then,
		// and how much of it is left depends on the collector's timing, not on what the loader keeps.
		setFlagsFromString('--expose-gc');
		const collectGarbage = runInNewContext('gc') as () => void;
		collectGarbage();
		const before = process.memoryUsage().arrayBuffers;
		const started = Date.now();
		await loadError(zip([{ name: 'word/document.xml', deflated: bomb, declaredSize: 1024 }]), 'bomb.docx');
		expect(Date.now() - started).toBeLessThan(5000);
		collectGarbage();
		expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MEGABYTE);
	});
});

describe('bad files that load: read as what they really are', () => {
	const load = async (data: Buffer, fileName: string, mimeType?: string): Promise<LoadedDocument> => {
		const documents = await loadBinary({ data, fileName, mimeType });
		expect(documents).toHaveLength(1);
		return documents[0];
	};

	it.each([
		['after 500 bytes of junk, named .txt with a text MIME type', Buffer.concat([Buffer.alloc(500, 'x'), pdf]), 'notes.txt', 'text/plain'],
		['after a UTF-8 byte-order mark, named .md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), pdf]), 'notes.md', undefined],
		['after 2,000 bytes of binary junk (header beyond the 1,024 bytes pdf.js looks at)', Buffer.concat([pseudoRandomBytes(2000), pdf]), 'scan.bin', undefined],
		['as is, named .txt', pdf, 'notes.txt', 'text/plain'],
	])('a PDF %s is read as a PDF, never stored as PDF syntax', async (_, data, fileName, mimeType) => {
		const document = await load(data, fileName, mimeType);
		expect(document).toMatchObject({ mimeType: 'application/pdf', text: PDF_TEXT, metadata: { pageCount: 1 } });
		expect(document.warnings).toBeUndefined();
	});

	it.each([
		['little-endian', 'le'],
		['big-endian', 'be'],
	] as const)('UTF-16 %s without a byte-order mark', async (_, byteOrder) => {
		const latin = await load(utf16('Grüße aus München: Spätzle, café crème.', byteOrder), 'greeting.txt');
		expect(latin).toMatchObject({ mimeType: 'text/plain', text: 'Grüße aus München: Spätzle, café crème.' });
		const cyrillic = await load(utf16('Привет, мир! Как дела? Всё хорошо.', byteOrder), 'privet.txt');
		expect(cyrillic.text).toBe('Привет, мир! Как дела? Всё хорошо.');
		const csv = await loadBinary({ data: utf16('name,city\nAda,London\nBob,Paris\n', byteOrder), fileName: 'people.csv' });
		expect(csv.map((document) => document.text)).toEqual(['name: Ada\ncity: London', 'name: Bob\ncity: Paris']);
		const html = await load(utf16('<html><head><title>Hallo</title></head><body><p>Schöne Grüße</p></body></html>', byteOrder), 'page.html');
		expect(html).toMatchObject({ mimeType: 'text/html', title: 'Hallo', text: 'Schöne Grüße' });
	});

	it('invalid UTF-8 from a legacy Western encoding: read as Windows-1252, with a warning', async () => {
		const document = await load(Buffer.from('Caf\xe9 cr\xe8me br\xfbl\xe9e: \x80 5', 'latin1'), 'menu.txt');
		expect(document.text).toBe('Café crème brûlée: € 5');
		expect(document.warnings).toEqual([
			'"menu.txt" is not UTF-8 text; it was read as Western European (Windows-1252). If letters look wrong in the stored text, save the file as UTF-8 and ingest it again.',
		]);
	});

	it('UTF-8 with a damaged byte: the rest kept, the damage reported', async () => {
		const data = Buffer.concat([Buffer.from('Grüße aus München '), Buffer.from([0xff]), Buffer.from(' und Köln')]);
		const document = await load(data, 'greeting.txt');
		expect(document.text).toBe('Grüße aus München \uFFFD und Köln');
		expect(document.warnings).toEqual([
			'"greeting.txt" is not valid UTF-8 text: 1 damaged character(s) were replaced by "\uFFFD". Save the file as UTF-8 and ingest it again to keep them.',
		]);
	});

	it('a CSV not in UTF-8 warns once, on its first row', async () => {
		const documents = await loadBinary({ data: Buffer.from('name;city\nJos\xe9;M\xe1laga\nRen\xe9e;N\xeemes\n', 'latin1'), fileName: 'people.csv' });
		expect(documents.map((document) => document.text)).toEqual(['name: José\ncity: Málaga', 'name: Renée\ncity: Nîmes']);
		expect(documents[0].warnings).toHaveLength(1);
		expect(documents[1].warnings).toBeUndefined();
	});

	it('deeply nested XML is plain text to the loaders, and loads as such', async () => {
		const document = await load(Buffer.from(`<?xml version="1.0"?>${'<a>'.repeat(100_000)}x${'</a>'.repeat(100_000)}`), 'deep.xml');
		expect(document.mimeType).toBe('text/plain');
	});

	it('detects UTF-16 only where zero bytes fall on one side: binary with zeros on both stays binary', () => {
		const binary = Buffer.from(Array.from({ length: 256 }, (_, index) => (index % 3 === 0 ? 0 : index)));
		expect(detectType(binary)).toMatchObject({ label: 'binary data' });
		expect(detectType(utf16('Plain words', 'le'))).toMatchObject({ kind: 'text', encoding: 'utf-16le' });
		expect(detectType(utf16('Plain words', 'be', true))).toMatchObject({ kind: 'text', encoding: 'utf-16be' });
	});
});

describe('HTML nesting: refused beyond 1,000 levels, before the parser slows down', () => {
	const page = (body: string) => Buffer.from(`<!doctype html><html><head><title>Nesting</title></head><body>${body}</body></html>`);
	const nested = (depth: number, open = '<div>', close = '</div>') => `${open.repeat(depth)}Deep text${close.repeat(depth)}`;

	it('1,000 levels load; 1,001 are refused, quickly', async () => {
		const [document] = await loadBinary({ data: page(nested(1000)), fileName: 'deep.html' });
		expect(document.text).toContain('Deep text');
		const started = Date.now();
		const error = await loadError(page(nested(1001)), 'deeper.html');
		expect(error.message).toBe(nestedMessage('deeper.html'));
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('does not count elements that do not nest: end tags left out (p, li, td), void elements, SVG shapes', async () => {
		const paragraphs = Array.from({ length: 3000 }, (_, index) => `<p>Paragraph ${index}<br><img src="x.png">`).join('');
		const list = `<ul>${Array.from({ length: 3000 }, (_, index) => `<li>Item ${index}`).join('')}</ul>`;
		const svg = `<svg>${'<path d="M0 0"/>'.repeat(3000)}</svg>`;
		const [document] = await loadBinary({ data: page(`<main>${paragraphs}${list}${svg}</main>`), fileName: 'flat.html' });
		expect(document.text).toContain('Paragraph 2999');
	});

	it('counts what the parser nests: `<div/>` opens a div in HTML, and unclosed tags stay open', async () => {
		expect((await loadError(page('<div/>'.repeat(2000)), 'selfclosing.html')).message).toBe(nestedMessage('selfclosing.html'));
		expect((await loadError(page('<b>'.repeat(2000)), 'unclosed.html')).message).toBe(nestedMessage('unclosed.html'));
	});

	it('applies to HTML given as text too', () => {
		expect(() => loadText(page(nested(2000)).toString(), { sourceId: 'note-1' })).toThrow(new InputError(nestedMessage('note-1')));
	});
});

describe('PDFs with very little text (probably scanned)', () => {
	const warning = (name: string, characters: number, pages: string) =>
		`"${name}" has very little text (${characters} characters on ${pages}): is it a scanned document (pictures of text)? ` +
		'Then run it through OCR first (for example with OCRmyPDF) and ingest the result; until then, searches will hardly find it.';

	it('loads them with a warning: fewer than 20 characters per page on average', async () => {
		expect(MIN_TEXT_CHARACTERS_PER_PAGE).toBe(20);
		const [scan] = await loadBinary({ data: minimalPdf(['Scan01']), fileName: 'scan.pdf' });
		expect(scan.text).toBe('Scan01');
		expect(scan.warnings).toEqual([warning('scan.pdf', 6, '1 page')]);
		const [pages] = await loadBinary({ data: minimalPdf(['Scan01', '', 'p3']), fileName: 'pages.pdf' });
		expect(pages.warnings).toEqual([warning('pages.pdf', 8, '3 pages')]);
	});

	it('counts characters without white space; 20 per page is enough', async () => {
		const [below] = await loadBinary({ data: minimalPdf(['abcde fghij klmno pqrs']), fileName: 'below.pdf' });
		expect(below.warnings).toEqual([warning('below.pdf', 19, '1 page')]);
		const [enough] = await loadBinary({ data: minimalPdf(['abcde fghij klmno pqrst']), fileName: 'enough.pdf' });
		expect(enough.warnings).toBeUndefined();
	});

	it('still refuses a PDF without any text', async () => {
		const error = await loadError(minimalPdf(['']), 'blank.pdf');
		expect(error.message).toBe(
			'"blank.pdf" has no extractable text (1 page(s)); it is probably scanned images. OCR is not supported: run it through an OCR tool first, or upload a PDF with a text layer.',
		);
	});
});

describe('loadBinary fuzzing', () => {
	const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
	/** Starts that lead random bytes into each reader, besides plain random bytes. */
	const starts: Buffer[] = [
		Buffer.alloc(0),
		Buffer.from('%PDF-1.4\n'),
		pdf.subarray(0, 400),
		Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('word/document.xml')]),
		Buffer.from(OLE_MAGIC),
		Buffer.from([0xff, 0xfe]),
		Buffer.from([0xfe, 0xff]),
		Buffer.from([0xef, 0xbb, 0xbf]),
		Buffer.from('<html><body><p>'),
		Buffer.from('[{"a":'),
		Buffer.from('name,city\nAda,'),
		Buffer.from('# Title\n\n'),
	];

	it('never throws anything but an InputError naming the file, never hangs, never stores PDF syntax as text', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...starts),
				fc.uint8Array({ maxLength: 1024 }),
				fc.option(fc.constantFrom('a.pdf', 'a.docx', 'a.txt', 'a.md', 'a.csv', 'a.json', 'a.html', 'a.bin'), { nil: undefined }),
				fc.option(fc.constantFrom('text/plain', 'application/pdf', 'application/json', 'text/csv', 'text/html'), { nil: undefined }),
				async (start, body, fileName, mimeType) => {
					const data = Buffer.concat([start, Buffer.from(body)]);
					await loadBinary({ data, fileName, mimeType }, { parseTimeoutMs: 10_000 }).then(
						(documents) => {
							for (const document of documents) {
								expect(document.text.trim()).not.toBe('');
								if (document.mimeType !== 'application/pdf') expect(document.text).not.toContain('endobj');
							}
						},
						(error: unknown) => {
							expect(error).toBeInstanceOf(InputError);
							const name = fileName ? `"${fileName}" ` : 'The file ';
							expect((error as InputError).message.slice(0, name.length)).toBe(name);
						},
					);
				},
			),
			{ numRuns: 200 },
		);
	}, 120_000);
});
