import { diffWordsWithSpace, formatPatch, OMIT_HEADERS, structuredPatch } from 'diff';

import type { TextDiff, TextDiffChange } from './types';

/** Browsers submit textarea content with CRLF line breaks; compare texts with LF only. */
export function normalizeLineBreaks(text: string): string {
	return text.replace(/\r\n?/g, '\n');
}

function countWords(changes: TextDiffChange[], type: TextDiffChange['type']): number {
	return changes
		.filter((change) => change.type === type)
		.reduce((sum, change) => sum + change.value.split(/\s+/).filter(Boolean).length, 0);
}

/**
 * What the reviewer changed: word-level changes (readable as a redline, and the material the learning loop
 * keeps) plus a line-level unified diff for logs and emails.
 */
export function diffText(original: string, final: string): TextDiff {
	const before = normalizeLineBreaks(original);
	const after = normalizeLineBreaks(final);
	if (before === after) {
		return { changed: false, changes: before ? [{ type: 'unchanged', value: before }] : [], unified: '', addedWords: 0, removedWords: 0 };
	}
	const changes: TextDiffChange[] = diffWordsWithSpace(before, after).map((change) => ({
		type: change.added ? 'added' : change.removed ? 'removed' : 'unchanged',
		value: change.value,
	}));
	const patch = structuredPatch('draft', 'final', before, after, undefined, undefined, { context: 2 });
	return {
		changed: true,
		changes,
		unified: formatPatch(patch, OMIT_HEADERS),
		addedWords: countWords(changes, 'added'),
		removedWords: countWords(changes, 'removed'),
	};
}
