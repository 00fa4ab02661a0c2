/**
 * HTML → Markdown-like text. The DOM is first turned into a small block tree (paragraphs, headings, lists,
 * tables, code, quotes) and only then rendered, so list indentation and table rows never get mangled by
 * whitespace collapsing of the inline text around them.
 */
import type { AnyNode, Element } from 'domhandler';

type Block =
	| { kind: 'paragraph'; text: string }
	| { kind: 'heading'; level: number; text: string }
	| { kind: 'list'; ordered: boolean; items: Block[][] }
	| { kind: 'table'; rows: string[][]; hasHeader: boolean }
	| { kind: 'code'; text: string }
	| { kind: 'quote'; blocks: Block[] };

/** Never carries readable content (or only carries UI chrome: inputs, buttons, embedded media). */
const SKIPPED_TAGS = new Set([
	'script',
	'style',
	'noscript',
	'template',
	'svg',
	'math',
	'img',
	'picture',
	'video',
	'audio',
	'iframe',
	'object',
	'embed',
	'canvas',
	'button',
	'input',
	'select',
	'textarea',
	'head',
	'meta',
	'link',
	'title',
]);

/** Elements that start a new block: the inline text before them is a paragraph of its own. */
const BLOCK_TAGS = new Set([
	'address',
	'article',
	'aside',
	'body',
	'center',
	'dd',
	'details',
	'dialog',
	'div',
	'dl',
	'dt',
	'fieldset',
	'figcaption',
	'figure',
	'footer',
	'form',
	'header',
	'hgroup',
	'hr',
	'html',
	'li',
	'main',
	'nav',
	'p',
	'section',
	'summary',
	'tr',
	'td',
	'th',
	'caption',
]);

/** Private-use character standing for <br> until whitespace has been collapsed. */
const LINE_BREAK = '\uE000';

export function isElement(node: AnyNode): node is Element {
	return node.type === 'tag' || node.type === 'script' || node.type === 'style';
}

/** Text of an element on one line: whitespace collapsed, <br> read as a space. */
export function inlineText(node: AnyNode): string {
	let text = '';
	const visit = (current: AnyNode): void => {
		if (current.type === 'text') {
			text += current.data;
		} else if (isElement(current) && !SKIPPED_TAGS.has(current.name)) {
			if (current.name === 'br' || BLOCK_TAGS.has(current.name)) text += ' ';
			current.children.forEach(visit);
			if (BLOCK_TAGS.has(current.name)) text += ' ';
		}
	};
	visit(node);
	return text.replace(/\s+/g, ' ').trim();
}

/**
 * A table is rendered as `| a | b |` rows only when it holds data. Layout tables (old sites build whole pages
 * out of them) are read cell by cell as ordinary blocks: they nest tables, declare role="presentation", have
 * a single column, or hold whole articles in a cell.
 */
export function isDataTable(table: Element): boolean {
	const role = table.attribs.role;
	if (role === 'presentation' || role === 'none') return false;
	if (collectElements(table).some((node) => node.name === 'table')) return false;
	const rows = tableRows(table);
	const cells = rows.flatMap((row) => row.children.filter(isCell));
	const columns = Math.max(0, ...rows.map((row) => row.children.filter(isCell).length));
	return columns >= 2 && cells.every((cell) => inlineText(cell).length <= 400);
}

function isCell(node: AnyNode): node is Element {
	return isElement(node) && (node.name === 'td' || node.name === 'th');
}

function collectElements(root: Element): Element[] {
	const found: Element[] = [];
	const visit = (node: AnyNode): void => {
		if (!isElement(node)) return;
		found.push(node);
		node.children.forEach(visit);
	};
	root.children.forEach(visit);
	return found;
}

/** Rows of this table only, not of tables nested in its cells. */
function tableRows(table: Element): Element[] {
	const rows: Element[] = [];
	for (const child of table.children) {
		if (!isElement(child)) continue;
		if (child.name === 'tr') rows.push(child);
		else if (['thead', 'tbody', 'tfoot'].includes(child.name)) {
			rows.push(...child.children.filter((row): row is Element => isElement(row) && row.name === 'tr'));
		}
	}
	return rows;
}

class BlockBuilder {
	readonly blocks: Block[] = [];
	private inline = '';

	addNodes(nodes: AnyNode[]): this {
		nodes.forEach((node) => this.addNode(node));
		this.flush();
		return this;
	}

	private flush(): void {
		const text = this.inline
			.replace(/\s+/g, ' ')
			.replace(new RegExp(` ?${LINE_BREAK}+ ?`, 'g'), '\n')
			.trim();
		if (text) this.blocks.push({ kind: 'paragraph', text });
		this.inline = '';
	}

	private addNode(node: AnyNode): void {
		if (node.type === 'text') {
			this.inline += node.data;
			return;
		}
		if (!isElement(node) || SKIPPED_TAGS.has(node.name)) return;
		const name = node.name;
		if (name === 'br') {
			this.inline += LINE_BREAK;
		} else if (/^h[1-6]$/.test(name)) {
			this.flush();
			const text = inlineText(node);
			if (text) this.blocks.push({ kind: 'heading', level: Number(name[1]), text });
		} else if (name === 'ul' || name === 'ol') {
			this.flush();
			this.addList(node);
		} else if (name === 'table') {
			this.flush();
			this.addTable(node);
		} else if (name === 'pre') {
			this.flush();
			const text = textWithLineBreaks(node).replace(/^\n+|\s+$/g, '');
			if (text) this.blocks.push({ kind: 'code', text });
		} else if (name === 'blockquote') {
			this.flush();
			const blocks = new BlockBuilder().addNodes(node.children).blocks;
			if (blocks.length > 0) this.blocks.push({ kind: 'quote', blocks });
		} else if (BLOCK_TAGS.has(name)) {
			this.flush();
			node.children.forEach((child) => this.addNode(child));
			this.flush();
		} else {
			node.children.forEach((child) => this.addNode(child));
		}
	}

	private addList(list: Element): void {
		const items: Block[][] = [];
		let stray: AnyNode[] = [];
		const addStray = (): void => {
			const blocks = new BlockBuilder().addNodes(stray).blocks;
			if (blocks.length > 0) items.push(blocks);
			stray = [];
		};
		for (const child of list.children) {
			if (isElement(child) && child.name === 'li') {
				addStray();
				const blocks = new BlockBuilder().addNodes(child.children).blocks;
				if (blocks.length > 0) items.push(blocks);
			} else {
				// Sloppy markup puts text or nested lists straight into <ul>; keep it as an item of its own.
				stray.push(child);
			}
		}
		addStray();
		if (items.length > 0) this.blocks.push({ kind: 'list', ordered: list.name === 'ol', items });
	}

	private addTable(table: Element): void {
		if (!isDataTable(table)) {
			for (const row of tableRows(table)) {
				for (const cell of row.children.filter(isCell)) {
					this.blocks.push(...new BlockBuilder().addNodes(cell.children).blocks);
				}
			}
			return;
		}
		const rows: string[][] = [];
		let hasHeader = false;
		for (const [index, row] of tableRows(table).entries()) {
			const cells = row.children.filter(isCell);
			if (index === 0) hasHeader = cells.length > 0 && cells.every((cell) => cell.name === 'th');
			const texts = cells.map((cell) => inlineText(cell).replace(/\|/g, '\\|'));
			if (texts.some((text) => text.length > 0)) rows.push(texts);
		}
		const caption = table.children.find((child) => isElement(child) && child.name === 'caption');
		if (caption) {
			const text = inlineText(caption);
			if (text) this.blocks.push({ kind: 'paragraph', text });
		}
		if (rows.length > 0) this.blocks.push({ kind: 'table', rows, hasHeader: hasHeader && rows.length > 1 });
	}
}

function textWithLineBreaks(node: AnyNode): string {
	if (node.type === 'text') return node.data;
	if (!isElement(node) || SKIPPED_TAGS.has(node.name)) return '';
	if (node.name === 'br') return '\n';
	return node.children.map(textWithLineBreaks).join('');
}

function renderBlocks(blocks: Block[], separator = '\n\n'): string {
	return blocks.map(renderBlock).join(separator);
}

function renderBlock(block: Block): string {
	switch (block.kind) {
		case 'paragraph':
			return block.text;
		case 'heading':
			return `${'#'.repeat(block.level)} ${block.text}`;
		case 'code':
			return '```\n' + block.text + '\n```';
		case 'quote':
			return renderBlocks(block.blocks)
				.split('\n')
				.map((line) => (line ? `> ${line}` : '>'))
				.join('\n');
		case 'table': {
			const width = Math.max(...block.rows.map((row) => row.length));
			const lines = block.rows.map((row) => {
				const cells = [...row, ...Array<string>(width - row.length).fill('')];
				return `| ${cells.join(' | ')} |`;
			});
			if (block.hasHeader) lines.splice(1, 0, `|${' --- |'.repeat(width)}`);
			return lines.join('\n');
		}
		case 'list':
			return block.items
				.map((item, index) => {
					const marker = block.ordered ? `${index + 1}. ` : '- ';
					const indent = ' '.repeat(marker.length);
					return renderBlocks(item, '\n')
						.split('\n')
						.map((line, lineIndex) => (lineIndex === 0 ? marker + line : line ? indent + line : line))
						.join('\n');
				})
				.join('\n');
	}
}

/** Renders DOM nodes as Markdown-like text: `#` headings, `-`/`1.` lists, `| a | b |` tables, blank-line paragraphs. */
export function nodesToMarkdown(nodes: AnyNode[]): string {
	return renderBlocks(new BlockBuilder().addNodes(nodes).blocks);
}
