/**
 * PDF text via pdf-parse v2, a maintained wrapper around Mozilla's pdf.js (the renderer in Firefox): it copes
 * with real-world PDFs (xref repair, CID fonts, non-Latin scripts) and reports encryption as a typed
 * PasswordException we can turn into an actionable message.
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
const { PDFParse } = require(workerData.pdfParsePath);
parentPort.once('message', async (data) => {
	const parser = new PDFParse({ data, verbosity: 0 });
	try {
		const info = await parser.getInfo();
		const result = await parser.getText();
		parentPort.postMessage({
			ok: true,
			pageCount: info.total,
			title: info.info && info.info.Title,
			author: info.info && info.info.Author,
			pages: result.pages.map((page) => page.text),
		});
	} catch (error) {
		parentPort.postMessage({ ok: false, errorName: error && error.name, message: String((error && error.message) || error) });
	} finally {
		await parser.destroy().catch(() => undefined);
	}
});
`;

/** Heap ceiling for one parse; a PDF that needs more is refused instead of exhausting n8n's memory. */
const PDF_WORKER_HEAP_MB = 512;

function parseInWorker(name: string, data: Buffer, timeoutMs: number): Promise<WorkerReply> {
	return new Promise((resolve, reject) => {
		const worker = new Worker(PDF_WORKER_SOURCE, {
			eval: true,
			workerData: { pdfParsePath: require.resolve('pdf-parse') },
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
