import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkDocument, type ChunkDocumentOptions } from '../../lib/chunking';
import { chunkId, sha256Hex } from '../../lib/hashing';
import { countTokens } from '../../lib/tokens';
import { InputError, type Chunk, type LoadedDocument } from '../../lib/types';

const base: ChunkDocumentOptions = { namespace: 'acme', ingestedAt: '2025-05-01T10:00:00.000Z', extra: {} };

function doc(text: string, extra: Partial<LoadedDocument> = {}): LoadedDocument {
	return { sourceId: 'handbook.md', text, mimeType: 'text/markdown', metadata: {}, ...extra };
}

/** Numbered, unique sentences, so every sentence can be located in chunks and in the source. */
function sentences(prefix: string, count: number): string {
	return Array.from({ length: count }, (_, i) => `${prefix} sentence ${i} explains how campaign budgets are planned and reviewed.`).join(' ');
}

/** Longest prefix of `next` that `previous` ends with: the overlap actually repeated. */
function sharedOverlap(previous: string, next: string): string {
	for (let length = Math.min(previous.length, next.length); length > 0; length--) {
		if (previous.endsWith(next.slice(0, length))) return next.slice(0, length);
	}
	return '';
}

function expectWithinBounds(chunks: Chunk[], chunkSize: number): void {
	for (const chunk of chunks) {
		expect(chunk.text.trim()).toBe(chunk.text);
		expect(chunk.text.length).toBeGreaterThan(0);
		expect(chunk.tokens).toBe(countTokens(chunk.text));
		expect(chunk.tokens).toBeLessThanOrEqual(chunkSize);
	}
}

/** Every chunk is a slice of the source that starts and ends on a word boundary. */
function expectWholeWords(source: string, chunks: Chunk[]): void {
	const wordChar = /[\p{L}\p{N}]/u;
	for (const chunk of chunks) {
		const at = source.indexOf(chunk.text);
		expect(at).toBeGreaterThanOrEqual(0);
		const before = source[at - 1] ?? ' ';
		const after = source[at + chunk.text.length] ?? ' ';
		expect(wordChar.test(before) && wordChar.test(chunk.text[0])).toBe(false);
		expect(wordChar.test(after) && wordChar.test(chunk.text[chunk.text.length - 1])).toBe(false);
	}
}

describe('chunkDocument', () => {
	it('returns no chunks for an empty or blank document', () => {
		expect(chunkDocument(doc(''), base)).toEqual([]);
		expect(chunkDocument(doc(' \n\n\t \n'), base)).toEqual([]);
	});

	it('tracks heading paths, ignores # inside code, and never emits a bare heading', () => {
		const text = [
			'Intro before any heading.',
			'# Product',
			'## Pricing',
			'Basic costs $10 a month.',
			'### Discounts',
			'Nonprofits get 20% off.',
			'## Support **hours**',
			'```bash',
			'# this comment is not a heading',
			'echo hi',
			'```',
			'# Company',
			'Founded in 2010.',
		].join('\n\n');
		const chunks = chunkDocument(doc(text), base);
		expect(chunks.map((chunk) => [chunk.metadata.headingPath, chunk.text.split('\n')[0]])).toEqual([
			[[], 'Intro before any heading.'],
			[['Product', 'Pricing'], '# Product'],
			[['Product', 'Pricing', 'Discounts'], '### Discounts'],
			[['Product', 'Support hours'], '## Support **hours**'],
			[['Company'], '# Company'],
		]);
		expect(chunks[3].text).toContain('# this comment is not a heading');
	});

	it('keeps sizes within bounds, overlaps consecutive chunks by whole sentences, and loses nothing', () => {
		const text = `# Budgets\n\n${sentences('Alpha', 60)}\n\n${sentences('Beta', 45)}`;
		const chunks = chunkDocument(doc(text), { ...base, chunkSize: 120, chunkOverlap: 30 });
		expect(chunks.length).toBeGreaterThan(5);
		expectWithinBounds(chunks, 120);
		expectWholeWords(text, chunks);
		for (let i = 1; i < chunks.length; i++) {
			const overlap = sharedOverlap(chunks[i - 1].text, chunks[i].text);
			expect(overlap).toMatch(/^(Alpha|Beta) sentence \d+/); // starts at a sentence
			expect(countTokens(overlap)).toBeGreaterThan(0);
			expect(countTokens(overlap)).toBeLessThanOrEqual(30);
		}
		for (const sentence of text.match(/(Alpha|Beta) sentence \d+ [^.]+\./g)!) {
			expect(chunks.some((chunk) => chunk.text.includes(sentence))).toBe(true);
		}
	});

	it('does not overlap with chunkOverlap 0, nor across sections', () => {
		const text = `# One\n\n${sentences('Alpha', 30)}\n\n# Two\n\n${sentences('Beta', 30)}`;
		const chunks = chunkDocument(doc(text), { ...base, chunkSize: 100, chunkOverlap: 0 });
		for (let i = 1; i < chunks.length; i++) expect(sharedOverlap(chunks[i - 1].text, chunks[i].text).length).toBeLessThan(2);
		const withOverlap = chunkDocument(doc(text), { ...base, chunkSize: 100, chunkOverlap: 30 });
		const firstOfTwo = withOverlap.findIndex((chunk) => chunk.metadata.headingPath[0] === 'Two');
		expect(withOverlap[firstOfTwo].text.startsWith('# Two')).toBe(true);
	});

	it('keeps a table and a code block whole when they fit, and splits an oversized table between rows', () => {
		const table = ['| Plan | Price | Seats |', '|---|---|---|', ...Array.from({ length: 6 }, (_, i) => `| Plan${i} | $${i}0 | ${i} |`)].join('\n');
		const code = ['```ts', 'const budget = 100;', '', 'console.log(budget);', '```'].join('\n');
		const text = `# Plans\n\n${sentences('Alpha', 8)}\n\n${table}\n\n${sentences('Beta', 4)}\n\n${code}\n\n${sentences('Gamma', 6)}`;
		const chunks = chunkDocument(doc(text), { ...base, chunkSize: 110, chunkOverlap: 20 });
		expectWithinBounds(chunks, 110);
		// Each appears whole somewhere; a chunk holding any line of it holds all of it (an overlap may repeat it).
		for (const block of [table, code]) {
			const lines = block.split('\n').filter(Boolean);
			expect(chunks.some((chunk) => chunk.text.includes(block))).toBe(true);
			for (const chunk of chunks) {
				if (lines.some((line) => chunk.text.includes(line))) expect(chunk.text).toContain(block);
			}
		}

		const bigTable = ['| Plan | Description |', '|---|---|', ...Array.from({ length: 40 }, (_, i) => `| P${i} | ${sentences('Row', 1)} |`)].join('\n');
		const tableChunks = chunkDocument(doc(bigTable), { ...base, chunkSize: 100, chunkOverlap: 0 });
		expect(tableChunks.length).toBeGreaterThan(5);
		for (const chunk of tableChunks) for (const line of chunk.text.split('\n')) expect(line).toMatch(/^\|.*\|$/);
	});

	it('never leaves a tiny last chunk in a section', () => {
		for (let count = 1; count <= 40; count++) {
			const chunks = chunkDocument(doc(sentences('Alpha', count)), { ...base, chunkSize: 100, chunkOverlap: 20 });
			expectWithinBounds(chunks, 100);
			if (chunks.length < 2) continue;
			const last = chunks[chunks.length - 1].text;
			const newText = last.slice(sharedOverlap(chunks[chunks.length - 2].text, last).length);
			expect(countTokens(newText)).toBeGreaterThanOrEqual(12);
		}
	});

	it('splits text without spaces (Chinese, Japanese) on word boundaries within the token budget', () => {
		const chinese = '我们的营销平台帮助中小企业管理客户关系，并自动生成个性化的电子邮件。'.repeat(30);
		const japanese = 'マーケティングチームは毎週キャンペーンの予算を見直します。'.repeat(30);
		const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
		for (const text of [chinese, japanese]) {
			const source = `# 说明\n\n${text}`;
			const chunks = chunkDocument(doc(source), { ...base, chunkSize: 64, chunkOverlap: 0 });
			expect(chunks.length).toBeGreaterThan(5);
			expectWithinBounds(chunks, 64);
			const boundaries = new Set([...segmenter.segment(source)].map((segment) => segment.index));
			let offset = 0;
			for (const chunk of chunks) {
				const at = source.indexOf(chunk.text, offset);
				expect(boundaries.has(at)).toBe(true);
				expect(boundaries.has(at + chunk.text.length) || at + chunk.text.length === source.length).toBe(true);
				offset = at + chunk.text.length;
			}
			expect(chunks.map((chunk) => chunk.text).join('').replace(/\s/g, '')).toBe(source.replace(/\s/g, ''));
		}
	});

	it('cuts a single over-long "word" by tokens as a last resort', () => {
		const blob = 'x'.repeat(3000);
		const chunks = chunkDocument(doc(blob), { ...base, chunkSize: 50, chunkOverlap: 0 });
		expectWithinBounds(chunks, 50);
		expect(chunks.map((chunk) => chunk.text).join('')).toBe(blob);
	});

	it('gives deterministic UUID ids from namespace, source, document version and index', () => {
		const text = `# A\n\n${sentences('Alpha', 40)}`;
		const first = chunkDocument(doc(text), { ...base, chunkSize: 100 });
		const again = chunkDocument(doc(text), { ...base, chunkSize: 100, ingestedAt: '2030-01-01T00:00:00.000Z' });
		expect(again.map((chunk) => chunk.id)).toEqual(first.map((chunk) => chunk.id));
		expect(new Set(first.map((chunk) => chunk.id)).size).toBe(first.length);
		for (const chunk of first) expect(chunk.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(first[2].id).toBe(chunkId('acme', 'handbook.md', sha256Hex(text), 2));

		const otherNamespace = chunkDocument(doc(text), { ...base, chunkSize: 100, namespace: 'globex' });
		const otherVersion = chunkDocument(doc(text + ' Changed.'), { ...base, chunkSize: 100 });
		expect(otherNamespace[0].id).not.toBe(first[0].id);
		expect(otherVersion[0].id).not.toBe(first[0].id);
		expect(chunkId('a', 'bc', 'h', 0)).not.toBe(chunkId('ab', 'c', 'h', 0));
	});

	it('fills the chunk metadata, the user metadata winning over the loader', () => {
		const text = `# Offer\n\n${sentences('Alpha', 30)}`;
		const loaded = doc(text, { title: 'Spring offer', url: 'https://acme.test/offer', metadata: { author: 'Loader', pages: 3 } });
		const chunks = chunkDocument(loaded, { ...base, chunkSize: 100, extra: { author: 'Marketing', campaign: 'spring', tags: ['a', 'b'] } });
		chunks.forEach((chunk, index) => {
			expect(chunk.metadata).toEqual({
				sourceId: 'handbook.md',
				namespace: 'acme',
				title: 'Spring offer',
				url: 'https://acme.test/offer',
				headingPath: ['Offer'],
				chunkIndex: index,
				chunkCount: chunks.length,
				contentHash: sha256Hex(chunk.text),
				documentHash: sha256Hex(text),
				ingestedAt: base.ingestedAt,
				extra: { author: 'Marketing', pages: 3, campaign: 'spring', tags: ['a', 'b'] },
			});
		});
		expect(chunkDocument(doc('Hello.'), base)[0].metadata).not.toHaveProperty('title');
	});

	it('treats CRLF text like LF text but hashes the text as loaded', () => {
		const lf = `# A\n\nFirst paragraph.\n\n## B\n\nSecond paragraph.`;
		const crlf = lf.replace(/\n/g, '\r\n');
		const fromLf = chunkDocument(doc(lf), base);
		const fromCrlf = chunkDocument(doc(crlf), base);
		expect(fromCrlf.map((chunk) => [chunk.text, chunk.metadata.headingPath])).toEqual(fromLf.map((chunk) => [chunk.text, chunk.metadata.headingPath]));
		expect(fromCrlf[0].metadata.documentHash).toBe(sha256Hex(crlf));
	});

	it('validates options with errors naming the option', () => {
		const attempt = (options: Partial<ChunkDocumentOptions>) => () => chunkDocument(doc('text'), { ...base, ...options });
		const fieldOf = (options: Partial<ChunkDocumentOptions>) => {
			try {
				attempt(options)();
			} catch (error) {
				expect(error).toBeInstanceOf(InputError);
				return (error as InputError).field;
			}
			throw new Error('expected an InputError');
		};
		expect(fieldOf({ chunkSize: 8 })).toBe('chunkSize');
		expect(fieldOf({ chunkSize: 100.5 })).toBe('chunkSize');
		expect(fieldOf({ chunkSize: 9000 })).toBe('chunkSize');
		expect(fieldOf({ chunkSize: 100, chunkOverlap: 60 })).toBe('chunkOverlap');
		expect(fieldOf({ chunkOverlap: -1 })).toBe('chunkOverlap');
		expect(attempt({ chunkSize: 100, chunkOverlap: 60 })).toThrow('Chunk Overlap must be a whole number of tokens from 0 to half the Chunk Size (50), got 60.');
		expect(attempt({ chunkSize: 16, chunkOverlap: 8 })).not.toThrow();
	});

	describe.each(['18f-github.md', '18f-infrastructure.md'])('on a real handbook page (%s)', (file) => {
		const text = readFileSync(join(__dirname, 'fixtures', file), 'utf8');

		it.each([
			[400, 50],
			[128, 20],
		])('chunkSize %i / overlap %i: bounded, whole words, every line kept, headings tracked', (chunkSize, chunkOverlap) => {
			const chunks = chunkDocument(doc(text), { ...base, chunkSize, chunkOverlap });
			expectWithinBounds(chunks, chunkSize);
			expectWholeWords(text, chunks);
			for (const line of text.split('\n').filter((line) => line.trim() !== '')) {
				expect(chunks.some((chunk) => chunk.text.includes(line.trim()))).toBe(true);
			}
			const headings = text.match(/^#{1,6} .+$/gm)!.map((heading) => heading.replace(/^#+ /, '').replace(/[*_`]/g, '').trim());
			const innermost = new Set(chunks.map((chunk) => chunk.metadata.headingPath.at(-1)));
			expect(headings.filter((heading) => innermost.has(heading)).length).toBeGreaterThan(headings.length * 0.5);
			// Sections are topic boundaries, so most chunks are well filled only when sections are long;
			// still, the average chunk must carry real content.
			const average = chunks.reduce((sum, chunk) => sum + chunk.tokens, 0) / chunks.length;
			expect(average).toBeGreaterThan(Math.min(40, chunkSize / 4));
		});
	});
});
