import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkDocument } from '../../lib/chunking';

/**
 * The chunker's exact output on real pages — ids, token counts and text hashes — recorded before the
 * tokenizer-call optimisations, so any change to what is chunked (not just how fast) shows up here. If a change
 * of output is intended, review the diff and update with `npx jest test/chunking -u`.
 */
describe.each(['18f-github.md', '18f-infrastructure.md'])('chunk output on a real handbook page (%s)', (file) => {
	const text = readFileSync(join(__dirname, 'fixtures', file), 'utf8');

	it.each([
		[400, 50],
		[128, 20],
		[64, 0],
	])('chunkSize %i / overlap %i is unchanged', (chunkSize, chunkOverlap) => {
		const chunks = chunkDocument(
			{ sourceId: file, text, mimeType: 'text/markdown', metadata: {} },
			{ namespace: 'acme', ingestedAt: '2025-05-01T10:00:00.000Z', extra: {}, chunkSize, chunkOverlap },
		);
		expect(chunks.map((chunk) => `${chunk.id} ${chunk.tokens} ${chunk.metadata.contentHash}`)).toMatchSnapshot();
	});
});
