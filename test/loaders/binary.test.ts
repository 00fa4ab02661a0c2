import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { detectType, loadBinary, SkipReport } from '../../lib/loaders';
import { InputError } from '../../lib/types';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '../fixtures/loaders', name));

async function loadError(promise: Promise<unknown>): Promise<InputError> {
	const error = await promise.then(
		() => undefined,
		(caught: unknown) => caught,
	);
	expect(error).toBeInstanceOf(InputError);
	return error as InputError;
}

describe('detectType', () => {
	it('trusts the bytes over the name: HTML named .pdf, PDF named .txt', () => {
		const html = Buffer.from('<!doctype html><html><body><p>Hi</p></body></html>');
		expect(detectType(html, { fileName: 'report.pdf', mimeType: 'application/pdf' })).toMatchObject({ kind: 'html', detectedBy: 'content' });
		expect(detectType(fixture('brochure.pdf'), { fileName: 'notes.txt', mimeType: 'text/plain' })).toMatchObject({ kind: 'pdf', mimeType: 'application/pdf' });
		expect(detectType(fixture('brand-guide.docx'), { fileName: 'guide.bin' })).toMatchObject({ kind: 'docx' });
	});

	it('uses the MIME type, then the extension, to choose among text formats', () => {
		const text = Buffer.from('name,city\nAda,London\n');
		expect(detectType(text, { mimeType: 'text/markdown', fileName: 'x.txt' })).toMatchObject({ kind: 'markdown', detectedBy: 'mimeType' });
		expect(detectType(text, { fileName: 'x.md' })).toMatchObject({ kind: 'markdown', detectedBy: 'extension' });
		expect(detectType(Buffer.from('a,b\n1,2\n3,4\n'))).toMatchObject({ kind: 'csv', detectedBy: 'content' });
		expect(detectType(Buffer.from('[{"a":1}]'), { fileName: 'x.txt' })).toMatchObject({ kind: 'json', detectedBy: 'content' });
		expect(detectType(Buffer.from('Just a sentence, nothing more.'))).toMatchObject({ kind: 'text' });
	});

	it('names binary data and known non-document formats', () => {
		const garbage = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256));
		expect(detectType(garbage)).toEqual({
			mimeType: 'application/octet-stream',
			label: 'binary data',
			detectedBy: 'content',
			refusal: 'is not a supported document (detected: binary data). Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON.',
		});
		const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
		expect(detectType(png, { fileName: 'logo.pdf' })).toEqual({
			mimeType: 'image/png',
			label: 'PNG image',
			detectedBy: 'content',
			refusal: 'is not a supported document (detected: PNG image). Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON.',
		});
	});
});

describe('loadBinary: PDF', () => {
	it('extracts the text of every page, the page count and the title', async () => {
		const [document] = await loadBinary({ data: fixture('brochure.pdf'), fileName: 'brochure.pdf' });
		expect(document.sourceId).toBe('brochure.pdf');
		expect(document.mimeType).toBe('application/pdf');
		expect(document.title).toBe('Acme Coffee Brochure');
		expect(document.metadata).toEqual({ pageCount: 3, author: 'Acme Marketing' });
		expect(document.text).toContain('family farms in Huila, Colombia');
		expect(document.text).toContain('Wholesale Pricing');
		expect(document.text).toContain('fully compostable since 2023');
		// Pages are separated by a blank line, in order.
		expect(document.text.indexOf('Wholesale')).toBeGreaterThan(document.text.indexOf('Huila'));
		expect(document.text).toMatch(/shipping\.\n\nWholesale Pricing/);
	});

	it('loads a PDF named .txt as a PDF', async () => {
		const [document] = await loadBinary({ data: fixture('brochure.pdf'), fileName: 'brochure.txt', mimeType: 'text/plain' });
		expect(document.mimeType).toBe('application/pdf');
		expect(document.metadata.pageCount).toBe(3);
	});

	it('refuses a password-protected PDF with what to do', async () => {
		const error = await loadError(loadBinary({ data: fixture('encrypted.pdf'), fileName: 'secret.pdf' }));
		expect(error.message).toBe('"secret.pdf" is password-protected; remove the password and try again.');
	});

	it('refuses a truncated PDF as truncated or corrupt', async () => {
		const error = await loadError(loadBinary({ data: fixture('truncated.pdf'), fileName: 'cut.pdf' }));
		expect(error.message).toMatch(/^"cut\.pdf" could not be read as a PDF: it looks truncated or corrupt/);
	});

	it('stops a PDF parse that exceeds its time budget', async () => {
		const error = await loadError(loadBinary({ data: fixture('brochure.pdf'), fileName: 'slow.pdf' }, { parseTimeoutMs: 5 }));
		expect(error.message).toBe('"slow.pdf" took longer than 0.005 s to read; the file may be damaged or too complex.');
	});

	it('refuses a PDF without a text layer, saying OCR is not supported', async () => {
		const error = await loadError(loadBinary({ data: fixture('scanned.pdf'), fileName: 'scan.pdf' }));
		expect(error.message).toMatch(/^"scan\.pdf" has no extractable text \(1 page\(s\)\).*OCR is not supported/);
	});
});

describe('loadBinary: DOCX', () => {
	it('keeps headings and the table as Markdown', async () => {
		const [document] = await loadBinary({ data: fixture('brand-guide.docx'), fileName: 'brand-guide.docx' });
		expect(document.mimeType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
		expect(document.title).toBe('Acme Brand Guide');
		expect(document.text).toContain('# Acme Brand Guide\n\nThis guide explains how we talk to customers.');
		expect(document.text).toContain('## Tone of Voice');
		expect(document.text).toContain('| Huila Espresso | 12 EUR | Colombia |');
		expect(document.text).toContain('| Sidamo Filter | 14 EUR | Ethiopia |');
		expect(document.text).toMatch(/## Contact\n\nWrite to hello@acme\.example/);
	});

	it('refuses a truncated DOCX as corrupt', async () => {
		const data = fixture('brand-guide.docx');
		const error = await loadError(loadBinary({ data: data.subarray(0, data.length / 2), fileName: 'half.docx' }));
		expect(error.message).toMatch(/^"half\.docx" could not be read as a Word document: it looks truncated or corrupt/);
	});
});

describe('loadBinary: HTML, Markdown and text', () => {
	it('loads HTML named .pdf as HTML', async () => {
		const [document] = await loadBinary({ data: fixture('messy-page.html'), fileName: 'page.pdf', mimeType: 'application/pdf' });
		expect(document.mimeType).toBe('text/html');
		expect(document.title).toBe('Cold Brew at Home: A Complete Guide');
		expect(document.text).toContain('## Ratios and timings');
		expect(document.text).not.toContain('cookies');
	});

	it('loads Markdown, dropping front matter but keeping its title', async () => {
		const markdown = '---\ntitle: "Returns policy"\n---\n\n# Returns\r\n\r\nYou can return goods within 30 days.\n\n\n\n- Keep the receipt\n';
		const [document] = await loadBinary({ data: Buffer.from(markdown), fileName: 'returns.md' });
		expect(document).toMatchObject({ sourceId: 'returns.md', title: 'Returns policy', mimeType: 'text/markdown' });
		expect(document.text).toBe('# Returns\n\nYou can return goods within 30 days.\n\n- Keep the receipt');
	});

	it('decodes UTF-16 text with a byte-order mark', async () => {
		const data = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße aus München', 'utf16le')]);
		const [document] = await loadBinary({ data, fileName: 'greeting.txt' });
		expect(document.text).toBe('Grüße aus München');
		expect(document.title).toBe('greeting');
	});

	it('gives content without a name or id a stable content-hash sourceId', async () => {
		const data = Buffer.from('Same content');
		const [first] = await loadBinary({ data });
		const [second] = await loadBinary({ data: Buffer.from('Same content') });
		expect(first.sourceId).toMatch(/^sha256:[0-9a-f]{16}$/);
		expect(second.sourceId).toBe(first.sourceId);
	});
});

describe('loadBinary: CSV and JSON rows', () => {
	const csv = 'id;company;contact;notes\n17;Bean There;Ada Ruiz;Wants oat milk pricing\n42;Grind House;;Asked about decaf\n';

	it('gives one document per CSV row, with key: value lines and the id column in the sourceId', async () => {
		const documents = await loadBinary({ data: Buffer.from(csv), fileName: 'crm.csv' }, { idField: 'id' });
		expect(documents.map((document) => document.sourceId)).toEqual(['crm.csv#17', 'crm.csv#42']);
		expect(documents[0].text).toBe('id: 17\ncompany: Bean There\ncontact: Ada Ruiz\nnotes: Wants oat milk pricing');
		// Empty cells are left out rather than written as "contact: ".
		expect(documents[1].text).toBe('id: 42\ncompany: Grind House\nnotes: Asked about decaf');
		expect(documents[1].metadata).toEqual({ row: 2 });
		expect(documents[0].mimeType).toBe('text/csv');
	});

	it('numbers rows without an id column, or makes one document with rowsAsDocuments false', async () => {
		const rows = await loadBinary({ data: Buffer.from(csv), fileName: 'crm.csv' });
		expect(rows.map((document) => document.sourceId)).toEqual(['crm.csv#1', 'crm.csv#2']);
		const [whole] = await loadBinary({ data: Buffer.from(csv), fileName: 'crm.csv' }, { rowsAsDocuments: false });
		expect(whole.sourceId).toBe('crm.csv');
		expect(whole.metadata).toEqual({ rowCount: 2 });
		expect(whole.text).toContain('notes: Wants oat milk pricing\n\nid: 42');
	});

	it('flattens nested JSON objects with dotted keys', async () => {
		const json = JSON.stringify([
			{ sku: 'HUI-1', name: 'Huila', origin: { country: 'Colombia', farms: ['La Palma', 'El Mirador'] } },
			{ sku: 'SID-2', name: 'Sidamo', origin: { country: 'Ethiopia' } },
		]);
		const documents = await loadBinary({ data: Buffer.from(json), fileName: 'products.json' }, { idField: 'sku' });
		expect(documents.map((document) => document.sourceId)).toEqual(['products.json#HUI-1', 'products.json#SID-2']);
		expect(documents[0].text).toBe('sku: HUI-1\nname: Huila\norigin.country: Colombia\norigin.farms: La Palma, El Mirador');
	});

	it('refuses an id column with duplicate or missing values, naming the rows', async () => {
		const duplicate = 'email,name\na@x.io,Ann\nb@x.io,Bob\na@x.io,Ann again\n';
		const error = await loadError(loadBinary({ data: Buffer.from(duplicate), fileName: 'leads.csv' }, { idField: 'email' }));
		expect(error.message).toBe('"leads.csv": the ID column "email" has the value "a@x.io" in rows 1 and 3; choose a column with unique values.');
		const missing = await loadError(loadBinary({ data: Buffer.from(duplicate), fileName: 'leads.csv' }, { idField: 'mail' }));
		expect(missing.message).toMatch(/row 1 has no value in the ID column "mail"/);
	});

	describe('reports what it leaves out', () => {
		const load = async (text: string, fileName: string, options: { rowsAsDocuments?: boolean } = {}) => {
			const skipped = new SkipReport();
			const documents = await loadBinary({ data: Buffer.from(text), fileName }, { ...options, skipped });
			return { documents, skipped: skipped.list(), summary: skipped.summary() };
		};

		it('rows without any value: skipped, "no text extracted"', async () => {
			const { documents, skipped, summary } = await load('name,city\nAda,London\n,\nBob,Paris\n , \n', 'people.csv');
			expect(documents.map((document) => document.sourceId)).toEqual(['people.csv#1', 'people.csv#3']);
			expect(skipped).toEqual([
				{
					count: 2,
					reason: 'no text extracted',
					advice: 'Nothing to include: these rows have no values; fill them in the file if they should be stored',
					examples: ['people.csv#2', 'people.csv#4'],
				},
			]);
			expect(summary).toBe('2 rows skipped (no text extracted) — nothing to include: these rows have no values; fill them in the file if they should be stored');
			const json = await load(JSON.stringify([{ sku: 'A' }, null, {}, { sku: 'B' }]), 'products.json');
			expect(json.documents).toHaveLength(2);
			expect(json.skipped).toEqual([expect.objectContaining({ count: 2, reason: 'no text extracted', examples: ['products.json#2', 'products.json#3'] })]);
		});

		it('values beyond the header\'s columns, which have no name', async () => {
			const csv = 'name,city\nAda,London,UK,+44\nBob,Paris\nCy,Rome,\n';
			const { documents, skipped, summary } = await load(csv, 'people.csv');
			expect(documents[0].text).toBe('name: Ada\ncity: London');
			expect(skipped).toEqual([
				{
					count: 1,
					reason: "values beyond the header's 2 columns left out",
					advice: 'Add a name for every column to the header (first) row of the file, then ingest it again',
					examples: ['people.csv#1'],
				},
			]);
			expect(summary).toMatch(/^1 row cut \(values beyond the header's 2 columns left out\) — add a name/);
			// One document for the whole file: rows are named by number.
			const whole = await load(csv, 'people.csv', { rowsAsDocuments: false });
			expect(whole.skipped).toEqual([expect.objectContaining({ count: 1, examples: ['people.csv row 1'] })]);
		});

		it('values hidden by a repeated column name (only the last such column is kept)', async () => {
			const { documents, skipped } = await load('name,phone,phone\nAda,111,222\nBob,,333\nCy,444,444\n', 'people.csv');
			expect(documents[0].text).toBe('name: Ada\nphone: 222');
			expect(skipped).toEqual([
				{
					count: 1,
					reason: 'values of the repeated column "phone" left out (only the last such column is kept)',
					advice: 'Give every column in the header (first) row its own name, then ingest it again',
					examples: ['people.csv#1'],
				},
			]);
		});

		it('nothing for a clean file', async () => {
			expect((await load(csv, 'crm.csv')).skipped).toEqual([]);
		});
	});

	it('refuses invalid JSON with the parser reason', async () => {
		const error = await loadError(loadBinary({ data: Buffer.from('{"a": 1,'), fileName: 'broken.json' }));
		expect(error.message).toMatch(/^"broken\.json" is not valid JSON: /);
	});
});

describe('loadBinary: bad input', () => {
	it('refuses empty input', async () => {
		const error = await loadError(loadBinary({ data: Buffer.alloc(0), fileName: 'empty.pdf' }));
		expect(error.message).toBe('"empty.pdf" is empty; provide a file or text with content.');
	});

	it('refuses binary garbage, listing what is supported', async () => {
		const garbage = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919 + 13) % 256));
		const error = await loadError(loadBinary({ data: garbage, fileName: 'mystery.pdf' }));
		expect(error.message).toBe(
			'"mystery.pdf" is not a supported document (detected: binary data). Supported: PDF, DOCX, HTML, Markdown, text, CSV, JSON.',
		);
	});

	it('refuses a 50 MB file quickly with the size and the limit', async () => {
		const huge = Buffer.alloc(50 * 1024 * 1024, 'a');
		const started = Date.now();
		const error = await loadError(loadBinary({ data: huge, fileName: 'huge.txt' }));
		expect(Date.now() - started).toBeLessThan(1000);
		expect(error.message).toBe(
			'"huge.txt" is 50 MB, larger than the 25 MB limit; split it into smaller files, or raise "Max File Size (MB)" under Options.',
		);
		await expect(loadBinary({ data: huge, fileName: 'huge.txt' }, { maxBytes: 60 * 1024 * 1024 })).resolves.toHaveLength(1);
	});
});
