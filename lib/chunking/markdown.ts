/**
 * Markdown structure the chunker respects: sections under ATX headings (`#`…`######`) and, inside a section,
 * blocks that must not be cut casually — fenced code, tables, paragraphs/lists. All positions are offsets into
 * the document text, so chunks are exact slices of it and overlaps are exact repetitions.
 */

export interface Span {
	start: number;
	end: number;
}

export interface Section extends Span {
	/** Headings enclosing the section, outermost first; the section's own heading is the last entry. */
	headingPath: string[];
	/** True when the section holds nothing but its heading line. */
	headingOnly: boolean;
}

export type BlockKind = 'heading' | 'code' | 'table' | 'paragraph';

export interface Block extends Span {
	kind: BlockKind;
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const TABLE_ROW = /^\s*\|/;

interface Line extends Span {
	text: string;
}

function splitLines(text: string, start: number, end: number): Line[] {
	const lines: Line[] = [];
	let lineStart = start;
	while (lineStart < end) {
		const newline = text.indexOf('\n', lineStart);
		const lineEnd = newline === -1 || newline >= end ? end : newline;
		lines.push({ start: lineStart, end: lineEnd, text: text.slice(lineStart, lineEnd) });
		lineStart = lineEnd + 1;
	}
	return lines;
}

/** Removes inline emphasis and links so the heading path reads as plain words. */
function plainHeading(raw: string): string {
	return raw
		.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/[*_`]+/g, '')
		.trim();
}

/**
 * Consumes a fenced code block starting at lines[index]; returns the index of its last line. An unclosed fence
 * runs to the end (CommonMark behaviour), so a `#` comment inside code is never taken for a heading.
 */
function fenceEnd(lines: Line[], index: number): number {
	const fence = FENCE.exec(lines[index].text)![1];
	for (let i = index + 1; i < lines.length; i++) {
		const match = FENCE.exec(lines[i].text);
		if (match && match[1][0] === fence[0] && match[1].length >= fence.length && lines[i].text.trim() === match[1]) return i;
	}
	return lines.length - 1;
}

export function splitSections(text: string): Section[] {
	const lines = splitLines(text, 0, text.length);
	const sections: Section[] = [];
	const stack: Array<{ level: number; title: string }> = [];
	let current: Section = { start: 0, end: 0, headingPath: [], headingOnly: false };
	let hasBody = false;

	const close = (end: number) => {
		current.end = end;
		current.headingOnly = current.headingPath.length > 0 && !hasBody;
		if (text.slice(current.start, current.end).trim() !== '') sections.push(current);
	};

	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		if (FENCE.test(line.text)) {
			i = fenceEnd(lines, i);
			hasBody = true;
			continue;
		}
		const heading = HEADING.exec(line.text);
		if (!heading) {
			if (line.text.trim() !== '') hasBody = true;
			continue;
		}
		close(line.start);
		const level = heading[1].length;
		while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
		stack.push({ level, title: plainHeading(heading[2]) });
		current = { start: line.start, end: 0, headingPath: stack.map((entry) => entry.title), headingOnly: false };
		hasBody = false;
	}
	close(text.length);
	return sections;
}

/** Blocks of a section: its heading line, fenced code, tables, and paragraphs (runs of non-blank lines). */
export function splitBlocks(text: string, section: Span): Block[] {
	const lines = splitLines(text, section.start, section.end);
	const blocks: Block[] = [];
	let paragraph: Block | undefined;
	const flush = () => {
		if (paragraph) blocks.push(paragraph);
		paragraph = undefined;
	};
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		if (line.text.trim() === '') {
			flush();
		} else if (FENCE.test(line.text)) {
			flush();
			const last = fenceEnd(lines, i);
			blocks.push({ kind: 'code', start: line.start, end: lines[last].end });
			i = last;
		} else if (HEADING.test(line.text)) {
			flush();
			blocks.push({ kind: 'heading', start: line.start, end: line.end });
		} else if (TABLE_ROW.test(line.text)) {
			flush();
			let last = i;
			while (last + 1 < lines.length && TABLE_ROW.test(lines[last + 1].text)) last++;
			blocks.push({ kind: 'table', start: line.start, end: lines[last].end });
			i = last;
		} else if (paragraph) {
			paragraph.end = line.end;
		} else {
			paragraph = { kind: 'paragraph', start: line.start, end: line.end };
		}
	}
	flush();
	return blocks;
}

/** Line spans of a block, blank lines dropped. */
export function blockLines(text: string, block: Span): Span[] {
	return splitLines(text, block.start, block.end).filter((line) => line.text.trim() !== '');
}
