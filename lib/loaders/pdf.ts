/**
 * PDF text via Mozilla's pdf.js (the renderer in Firefox), in the self-contained build that unpdf ships (2.6 MB,
 * no native parts): it copes with real-world PDFs (xref repair, CID fonts, non-Latin scripts) and reports
 * encryption as a typed PasswordException we can turn into an actionable message. Lines and cells are put
 * together from pdf.js's text items the way pdf-parse 2 (which this replaced) did: pdf-parse installed 87 MB
 * (a second copy of pdf.js, browser builds and a native canvas) that text extraction never uses.
 *
 * Parsing runs in a worker thread: a hostile or huge PDF can spin pdf.js for a long time, and only a thread
 * can be stopped mid-parse (terminate) — a timer in the main thread could merely stop waiting. The worker
 * also caps the parser's heap and keeps n8n's event loop free while a long PDF is read.
 */
import { Worker } from 'node:worker_threads';

import { InputError, type UserMetadata } from '../types';
import { parserReason, parseTimeoutError } from './limits';

export interface PdfContent {
	text: string;
	title?: string;
	metadata: UserMetadata;
	/** Set when there is so little text that the PDF is probably scanned: what to do about it. */
	warning?: string;
}

/**
 * Fewer characters than this per page (on average, white space not counted) mean the pages are mostly
 * pictures: a page of prose has about 2,000, a slide 100 or more, while a scan yields nothing or a stray page
 * number or stamp.
 */
export const MIN_TEXT_CHARACTERS_PER_PAGE = 20;

type WorkerReply =
	| { ok: true; pageCount: number; title?: unknown; author?: unknown; pages: string[] }
	| { ok: false; errorName?: string; message: string };

/** Plain CommonJS so it runs in a fresh thread without any TypeScript tooling (tests, n8n, build output alike). */
const PDF_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { getDocumentProxy } = require(workerData.unpdfPath);

// pdf-parse 2's text assembly (its getPageText with default options): a new line where the baseline moves
// by more than LINE_THRESHOLD, a tab between items on one line more than CELL_THRESHOLD apart.
const LINE_THRESHOLD = 4.6;
const CELL_THRESHOLD = 7;
async function pageText(page) {
	const viewport = page.getViewport({ scale: 1 });
	const content = await page.getTextContent({ includeMarkedContent: false, disableNormalization: false });
	const parts = [];
	let lastX;
	let lastY;
	let lineHeight = 0;
	for (const item of content.items) {
		if (!('str' in item)) continue;
		let str = item.str;
		const [x, y] = viewport.convertToViewportPoint(item.transform[4], item.transform[5]);
		if (lastY !== undefined && Math.abs(lastY - y) > LINE_THRESHOLD) {
			const previous = parts.length ? parts[parts.length - 1] : undefined;
			const startsLine = str.startsWith('\\n') || (str.trim() === '' && item.hasEOL);
			if (previous !== undefined && !previous.endsWith('\\n') && !startsLine && Math.abs(lastY - y) - 1 > lineHeight) {
				parts.push('\\n');
				lineHeight = 0;
			}
		}
		if (lastY !== undefined && Math.abs(lastY - y) < LINE_THRESHOLD && lastX !== undefined && Math.abs(lastX - x) > CELL_THRESHOLD) {
			str = '\\t' + str;
		}
		parts.push(str);
		lastX = x + item.width;
		lastY = y;
		lineHeight = Math.max(lineHeight, item.height);
		if (item.hasEOL) parts.push('\\n');
		if (item.hasEOL || str.endsWith('\\n')) lineHeight = 0;
	}
	return parts.join('');
}

parentPort.once('message', async (data) => {
	let pdf;
	try {
		// pdf.js's own Node defaults, as pdf-parse used them (unpdf would turn system fonts on).
		pdf = await getDocumentProxy(data, { verbosity: 0, useSystemFonts: false });
		const { info } = await pdf.getMetadata();
		const pages = [];
		for (let number = 1; number <= pdf.numPages; number++) {
			const page = await pdf.getPage(number);
			pages.push(await pageText(page));
			page.cleanup();
		}
		parentPort.postMessage({
			ok: true,
			pageCount: pdf.numPages,
			title: info && info.Title,
			author: info && info.Author,
			pages,
		});
	} catch (error) {
		parentPort.postMessage({ ok: false, errorName: error && error.name, message: String((error && error.message) || error) });
	} finally {
		if (pdf) await pdf.loadingTask.destroy().catch(() => undefined);
	}
});
`;

/** Heap ceiling for one parse; a PDF that needs more is refused instead of exhausting n8n's memory. */
const PDF_WORKER_HEAP_MB = 512;

function parseInWorker(name: string, data: Buffer, timeoutMs: number): Promise<WorkerReply> {
	return new Promise((resolve, reject) => {
		const worker = new Worker(PDF_WORKER_SOURCE, {
			eval: true,
			workerData: { unpdfPath: require.resolve('unpdf') },
			resourceLimits: { maxOldGenerationSizeMb: PDF_WORKER_HEAP_MB },
		});
		const finish = (settle: () => void): void => {
			clearTimeout(timer);
			worker.removeAllListeners();
			void worker.terminate();
			settle();
		};
		const timer = setTimeout(() => finish(() => reject(parseTimeoutError(name, timeoutMs))), timeoutMs);
		worker.once('message', (reply: WorkerReply) => finish(() => resolve(reply)));
		const outOfMemory = (): InputError =>
			new InputError(
				`${name} could not be read as a PDF: reading it needs more than the ${PDF_WORKER_HEAP_MB} MB of memory a PDF may use. ` +
					'Split it into smaller PDFs, or export it again with smaller pictures.',
			);
		worker.once('error', (error: NodeJS.ErrnoException) =>
			finish(() =>
				reject(
					error.code === 'ERR_WORKER_OUT_OF_MEMORY'
						? outOfMemory()
						: new InputError(`${name} could not be read as a PDF (${parserReason(error)}). Re-export or re-download the file.`),
				),
			),
		);
		// Exiting without a reply or an error: the thread was stopped from outside, in practice for lack of memory.
		worker.once('exit', () => finish(() => reject(outOfMemory())));
		// A copy, transferred: pdf.js takes ownership of the bytes it is given, and the caller keeps its buffer.
		const bytes = new Uint8Array(data);
		worker.postMessage(bytes, [bytes.buffer]);
	});
}

function nonEmptyString(value: unknown): string | undefined {
	return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export async function readPdf(name: string, data: Buffer, timeoutMs: number): Promise<PdfContent> {
	const reply = await parseInWorker(name, data, timeoutMs);
	if (!reply.ok && reply.errorName === 'PasswordException') {
		throw new InputError(`${name} is password-protected; remove the password and try again.`);
	}
	// pdf.js repairs what it can; bytes with no page left in them are not a PDF it can read either.
	if (!reply.ok || reply.pageCount === 0) {
		const reason = reply.ok ? 'no pages found' : parserReason(reply.message);
		throw new InputError(
			`${name} could not be read as a PDF: it looks truncated or corrupt (${reason}). Re-export or re-download the file.`,
		);
	}
	const text = reply.pages
		.map((page) => page.replace(/[ \t]+$/gm, '').trim())
		.filter(Boolean)
		.join('\n\n');
	if (!/[\p{L}\p{N}]/u.test(text)) {
		throw new InputError(
			`${name} has no extractable text (${reply.pageCount} page(s)); it is probably scanned images. ` +
				'OCR is not supported: run it through an OCR tool first, or upload a PDF with a text layer.',
		);
	}
	const metadata: UserMetadata = { pageCount: reply.pageCount };
	const author = nonEmptyString(reply.author);
	if (author) metadata.author = author;
	return { text, title: nonEmptyString(reply.title), metadata, warning: littleTextWarning(name, text, reply.pageCount) };
}

function littleTextWarning(name: string, text: string, pageCount: number): string | undefined {
	const characters = text.replace(/\s/g, '').length;
	if (characters >= MIN_TEXT_CHARACTERS_PER_PAGE * pageCount) return undefined;
	const pages = pageCount === 1 ? '1 page' : `${pageCount} pages`;
	return (
		`${name} has very little text (${characters} characters on ${pages}): is it a scanned document (pictures of ` +
		'text)? Then run it through OCR first (for example with OCRmyPDF) and ingest the result; until then, ' +
		'searches will hardly find it.'
	);
}
