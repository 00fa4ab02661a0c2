import fc from 'fast-check';
import { chunkDocument } from '../../lib/chunking';
import { countTokens } from '../../lib/tokens';

const word = fc.constantFrom('campaign', 'budget', 'lead', 'email', 'offer', 'Q3', 'réseau', '营销', 'data-driven', '42%', 'ROI');
const sentence = fc.array(word, { minLength: 1, maxLength: 30 }).map((words) => words.join(' ') + '.');
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 12 }).map((sentences) => sentences.join(' '));
const block = fc.oneof(
	paragraph,
	fc.tuple(fc.integer({ min: 1, max: 4 }), fc.array(word, { minLength: 1, maxLength: 4 })).map(([level, words]) => `${'#'.repeat(level)} ${words.join(' ')}`),
	fc.array(fc.array(word, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 8 }).map((rows) => rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n')),
	fc.array(word, { minLength: 1, maxLength: 10 }).map((words) => '```\n' + words.join('\n') + '\n```'),
	fc.array(sentence, { minLength: 1, maxLength: 6 }).map((items) => items.map((item) => `- ${item}`).join('\n')),
);
const markdown = fc.array(block, { maxLength: 25 }).map((blocks) => blocks.join('\n\n'));

describe('chunkDocument properties', () => {
	it('bounded, non-empty, deterministic, and every word of the document kept', () => {
		fc.assert(
			fc.property(markdown, fc.integer({ min: 16, max: 200 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (text, chunkSize, overlapShare) => {
				const chunkOverlap = Math.floor(chunkSize * overlapShare);
				const options = { namespace: 'n', ingestedAt: 't', extra: {}, chunkSize, chunkOverlap };
				const doc = { sourceId: 's', text, mimeType: 'text/markdown', metadata: {} };
				const chunks = chunkDocument(doc, options);
				for (const chunk of chunks) {
					expect(chunk.text.length).toBeGreaterThan(0);
					expect(countTokens(chunk.text)).toBeLessThanOrEqual(chunkSize);
				}
				const all = chunks.map((chunk) => chunk.text).join('\n');
				const allWithoutSpaces = all.replace(/\s/g, '');
				for (const token of text.split(/\s+/).filter(Boolean)) {
					// ICU may cut a CJK run between characters (its words); Latin words must arrive whole.
					if (/\p{Script=Han}/u.test(token)) expect(allWithoutSpaces).toContain(token);
					else expect(all).toMatch(new RegExp(`(^|\\s)${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`));
				}
				expect(chunkDocument(doc, options).map((chunk) => chunk.id)).toEqual(chunks.map((chunk) => chunk.id));
			}),
			{ numRuns: 150 },
		);
	});
});
