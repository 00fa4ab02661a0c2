/**
 * Builders for the files of the bad-input tests, made in code so that each test shows what is wrong with its
 * file and no binary fixture needs committing.
 */
import { constants, deflateRawSync } from 'node:zlib';

/** A valid PDF with one page per text (Helvetica, no compression), so its bytes are plain ASCII. */
export function minimalPdf(pageTexts: string[]): Buffer {
	const objects = [
		'<< /Type /Catalog /Pages 2 0 R >>',
		`<< /Type /Pages /Kids [${pageTexts.map((_, index) => `${4 + index * 2} 0 R`).join(' ')}] /Count ${pageTexts.length} >>`,
		'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
	];
	pageTexts.forEach((text, index) => {
		const content = text ? `BT /F1 12 Tf 72 720 Td (${text}) Tj ET` : '';
		objects.push(
			`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + index * 2} 0 R >>`,
			`<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
		);
	});
	let pdf = '%PDF-1.4\n';
	const offsets = objects.map((body, index) => {
		const offset = pdf.length;
		pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
		return offset;
	});
	const xref = pdf.length;
	pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
	pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
	pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
	return Buffer.from(pdf, 'latin1');
}

export interface ZipEntryInput {
	name: string;
	/** Stored as is, unless `deflated` gives the compressed bytes. */
	data?: Buffer;
	deflated?: Buffer;
	/** Uncompressed size written in the headers: the real one unless a test makes the archive lie. */
	declaredSize?: number;
}

/** A ZIP archive (CRCs left at zero: neither our check nor mammoth's unzipper verifies them). */
export function zip(entries: ZipEntryInput[]): Buffer {
	const locals: Buffer[] = [];
	const centrals: Buffer[] = [];
	let offset = 0;
	for (const entry of entries) {
		const name = Buffer.from(entry.name);
		const packed = entry.deflated ?? entry.data ?? Buffer.alloc(0);
		const method = entry.deflated ? 8 : 0;
		const size = entry.declaredSize ?? entry.data?.length ?? packed.length;
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(20, 4);
		local.writeUInt16LE(method, 8);
		local.writeUInt32LE(packed.length, 18);
		local.writeUInt32LE(size, 22);
		local.writeUInt16LE(name.length, 26);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(0x02014b50, 0);
		central.writeUInt16LE(20, 4);
		central.writeUInt16LE(20, 6);
		central.writeUInt16LE(method, 10);
		central.writeUInt32LE(packed.length, 20);
		central.writeUInt32LE(size, 24);
		central.writeUInt16LE(name.length, 28);
		central.writeUInt32LE(offset, 42);
		locals.push(local, name, packed);
		centrals.push(central, name);
		offset += local.length + name.length + packed.length;
	}
	const directory = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(entries.length, 8);
	end.writeUInt16LE(entries.length, 10);
	end.writeUInt32LE(directory.length, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, directory, end]);
}

const MEGABYTE = 1024 * 1024;

/**
 * Deflate data that unpacks to `megabytes` MB of zeros from about 1/1000 of that: one 16 MB block flushed
 * without ending the stream, repeated, then an empty final block.
 */
export function deflatedZeros(megabytes: number): Buffer {
	const block = deflateRawSync(Buffer.alloc(16 * MEGABYTE), { finishFlush: constants.Z_FULL_FLUSH });
	return Buffer.concat([...Array.from({ length: megabytes / 16 }, () => block), deflateRawSync(Buffer.alloc(0))]);
}

/**
 * An OLE compound file as far as a reader looks: the magic bytes, and directory entries with UTF-16LE
 * stream names (an encrypted DOCX/XLSX/PPTX holds `EncryptionInfo` and `EncryptedPackage`).
 */
export function oleFile(streamNames: string[]): Buffer {
	const header = Buffer.alloc(512);
	Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
	const directory = streamNames.map((streamName) => {
		const entry = Buffer.alloc(128);
		entry.write(streamName, 0, 'utf16le');
		entry.writeUInt16LE((streamName.length + 1) * 2, 64);
		return entry;
	});
	return Buffer.concat([header, ...directory]);
}

export function utf16(text: string, byteOrder: 'le' | 'be', withBom = false): Buffer {
	const bytes = Buffer.from(`${withBom ? '\uFEFF' : ''}${text}`, 'utf16le');
	return byteOrder === 'be' ? bytes.swap16() : bytes;
}

/** The same bytes every run: a linear congruential sequence, which has no text-like pattern. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
	let state = seed;
	return Buffer.from(
		Array.from({ length }, () => {
			state = (state * 1103515245 + 12345) % 2 ** 31;
			return state >> 16;
		}).map((value) => value & 0xff),
	);
}
