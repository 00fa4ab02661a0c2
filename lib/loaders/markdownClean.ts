/**
 * Readable text out of Markdown and MDX, before chunking and embedding: what a reader sees rendered, not the
 * markup around it.
 *
 * - MDX `import` / `export` statements at the top level (column 0) are dropped, multi-line ones included.
 * - HTML and JSX tags are removed and the text between them kept: `<Callout type="info">Read this</Callout>`
 *   → `Read this`. Block elements (`<div>`, `<p>`, `<details>`, `<summary>`, table cells…) become line breaks so
 *   their words do not run together; `<br>` is a line break; self-closing components (`<Callout />`) and
 *   void elements (`<img>`) vanish; `<script>` and `<style>` go with their content. Props may span lines and
 *   hold `{…}` expressions, strings and `>`.
 * - HTML comments (`<!-- … -->`) and MDX comments (`{/* … *\/}`) are removed.
 * - Left as they are: fenced code blocks, inline code spans, Markdown autolinks (`<https://…>`,
 *   `<name@example.com>`), backslash escapes, and any `<` that does not open a well-formed tag (`a < b`).
 * - The common HTML entities outside code are decoded (`&amp;` → `&`, `&nbsp;` → space).
 *
 * Front matter is not handled here: loadText reads it first, as metadata.
 */

const FENCE = /^\s*(`{3,}|~{3,})/;
const ESM_START = /^(?:import\s*(?:[\w$]+\s*(?:,|from\b)|\{|\*|['"])|export\s+(?:const|let|var|function|async\s+function|class|default|\{|\*)(?![\w$]))/;

/** Elements that start a new block when rendered: replaced by a line break. */
const BLOCK_ELEMENTS = new Set([
	'address', 'article', 'aside', 'blockquote', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
	'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li',
	'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
]);
/** Inline HTML elements (and the block ones above): the tags that are markup, not placeholders. */
const INLINE_ELEMENTS = new Set([
	'a', 'abbr', 'area', 'audio', 'b', 'bdi', 'bdo', 'big', 'body', 'br', 'button', 'canvas', 'cite', 'code', 'col',
	'colgroup', 'data', 'del', 'dfn', 'em', 'embed', 'font', 'head', 'html', 'i', 'iframe', 'img', 'input', 'ins',
	'kbd', 'label', 'legend', 'link', 'map', 'mark', 'meta', 'meter', 'noscript', 'object', 'optgroup', 'option',
	'output', 'param', 'picture', 'progress', 'q', 'rp', 'rt', 'ruby', 's', 'samp', 'script', 'select', 'slot',
	'small', 'source', 'span', 'strike', 'strong', 'style', 'sub', 'summary', 'sup', 'svg', 'template', 'textarea',
	'time', 'title', 'track', 'tt', 'u', 'var', 'video', 'wbr', 'path', 'g', 'circle', 'rect', 'line', 'polygon',
]);
/** Elements whose content is not text to read. */
const DROPPED_WITH_CONTENT = new Set(['script', 'style']);

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…', copy: '©', reg: '®', trade: '™' };
/** A tag's props may not run on for ever: beyond this a `<` is taken as text. */
const MAX_TAG_LENGTH = 4000;

export function cleanMarkdown(markdown: string): string {
	const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
	const out: string[] = [];
	let prose: string[] = [];
	const flushProse = () => {
		if (prose.length > 0) out.push(cleanProse(dropEsm(prose).join('\n')));
		prose = [];
	};
	for (let i = 0; i < lines.length; i++) {
		const open = FENCE.exec(lines[i]);
		if (!open) {
			prose.push(lines[i]);
			continue;
		}
		flushProse();
		// A fenced block, copied untouched up to its closing fence (an unclosed fence runs to the end).
		const fence = open[1];
		out.push(lines[i]);
		for (i = i + 1; i < lines.length; i++) {
			out.push(lines[i]);
			const trimmed = lines[i].trim();
			if (trimmed[0] === fence[0] && trimmed.length >= fence.length && /^(`+|~+)$/.test(trimmed)) break;
		}
	}
	flushProse();
	return out.join('\n');
}

/**
 * Drops top-level ESM statements: from an `import` / `export` line at column 0 up to the first line after which
 * brackets are balanced and a blank line (or the end) follows — the way MDX delimits them.
 */
function dropEsm(lines: string[]): string[] {
	const kept: string[] = [];
	let blockStart = true;
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		if (!blockStart || !ESM_START.test(line)) {
			kept.push(line);
			blockStart = line.trim() === '';
			continue;
		}
		let depth = 0;
		let end = i;
		for (; end < lines.length - 1; end++) {
			depth += bracketBalance(lines[end]);
			const next = lines[end + 1];
			if (depth <= 0 && (next.trim() === '' || ESM_START.test(next))) break;
		}
		const statement = lines.slice(i, end + 1).join('\n');
		if (!isEsmStatement(statement)) {
			kept.push(line);
			blockStart = false;
			continue;
		}
		i = end;
		blockStart = true;
	}
	return kept;
}

/** Tells an ESM statement from a sentence that happens to start with "import" or "export". */
function isEsmStatement(statement: string): boolean {
	const code = statement.trim().replace(/;$/, '').trim();
	if (code.startsWith('import')) return /^import\s*['"][^'"\n]+['"]$/.test(code) || /\bfrom\s*['"][^'"\n]+['"]$/.test(code);
	if (/^export\s+(?:const|let|var)\b/.test(code)) return /=/.test(code);
	if (/^export\s+(?:\{|\*)/.test(code)) return /\}$|['"]$/.test(code);
	if (/^export\s+default\s*$/.test(code)) return false;
	return /[{(]/.test(code) || /^export\s+default\s+[\w$.]+$/.test(code);
}

/** Opening minus closing brackets of a line of JavaScript, strings and comments skipped. */
function bracketBalance(line: string): number {
	let balance = 0;
	for (let i = 0; i < line.length; i++) {
		const char = line[i];
		if (char === '"' || char === "'" || char === '`') {
			const close = line.indexOf(char, i + 1);
			if (close === -1) break;
			i = close;
		} else if (char === '/' && line[i + 1] === '/') break;
		else if (char === '{' || char === '(' || char === '[') balance++;
		else if (char === '}' || char === ')' || char === ']') balance--;
	}
	return balance;
}

interface Tag {
	name: string;
	closing: boolean;
	selfClosing: boolean;
	end: number;
}

/** Index just past the `}` closing the `{` at `start`, strings inside skipped; -1 when it never closes. */
function skipBraces(text: string, start: number, limit: number): number {
	let depth = 0;
	for (let i = start; i < limit; i++) {
		const char = text[i];
		if (char === '"' || char === "'" || char === '`') {
			const close = text.indexOf(char, i + 1);
			if (close === -1 || close >= limit) return -1;
			i = close;
		} else if (char === '{') depth++;
		else if (char === '}') {
			depth--;
			if (depth === 0) return i + 1;
		}
	}
	return -1;
}

/** Parses the HTML/JSX tag starting at `<` (position `start`), or undefined when it is not one. */
function parseTag(text: string, start: number): Tag | undefined {
	const limit = Math.min(text.length, start + MAX_TAG_LENGTH);
	let i = start + 1;
	const closing = text[i] === '/';
	if (closing) i++;
	if (text[i] === '>') return { name: '', closing, selfClosing: false, end: i + 1 };
	const name = /^[A-Za-z][\w.:-]*/.exec(text.slice(i, i + 100))?.[0];
	if (!name) return undefined;
	i += name.length;
	if (i < text.length && !/[\s/>]/.test(text[i])) return undefined;
	while (i < limit) {
		const char = text[i];
		if (/\s/.test(char)) {
			// A blank line ends any paragraph: a tag cannot span it.
			if (char === '\n' && /^\n[ \t]*\n/.test(text.slice(i, i + 100))) return undefined;
			i++;
		} else if (char === '>') return { name, closing, selfClosing: false, end: i + 1 };
		else if (char === '/' && text[i + 1] === '>') return { name, closing, selfClosing: true, end: i + 2 };
		else if (char === '{') {
			const after = skipBraces(text, i, limit);
			if (after === -1) return undefined;
			i = after;
		} else if (closing || char === '<' || char === '"' || char === "'" || char === '=') return undefined;
		else {
			const attribute = /^[^\s=/>{}"'<]+/.exec(text.slice(i, i + 200))?.[0];
			if (!attribute) return undefined;
			i += attribute.length;
			while (i < limit && /[ \t\n]/.test(text[i])) i++;
			if (text[i] !== '=') continue;
			i++;
			while (i < limit && /[ \t\n]/.test(text[i])) i++;
			const quote = text[i];
			if (quote === '"' || quote === "'") {
				const close = text.indexOf(quote, i + 1);
				if (close === -1 || close >= limit) return undefined;
				i = close + 1;
			} else if (quote === '{') {
				const after = skipBraces(text, i, limit);
				if (after === -1) return undefined;
				i = after;
			} else {
				const value = /^[^\s>"'=<`]+/.exec(text.slice(i, i + 500))?.[0];
				if (!value) return undefined;
				i += value.length;
			}
		}
	}
	return undefined;
}

const AUTOLINK = /^<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>/;

function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (entity, body: string) => {
		if (body[0] === '#') {
			const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
			return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
		}
		return ENTITIES[body.toLowerCase()] ?? entity;
	});
}

/** Removes tags and comments from text outside code fences; inline code and autolinks stay as they are. */
function cleanProse(text: string): string {
	let out = '';
	let plain = '';
	const flushPlain = () => {
		out += decodeEntities(plain);
		plain = '';
	};
	let i = 0;
	while (i < text.length) {
		const char = text[i];
		if (char === '\\' && i + 1 < text.length) {
			plain += text.slice(i, i + 2);
			i += 2;
		} else if (char === '`') {
			const run = /^`+/.exec(text.slice(i))![0];
			const close = findBacktickRun(text, i + run.length, run.length);
			if (close === -1) {
				plain += run;
				i += run.length;
			} else {
				flushPlain();
				out += text.slice(i, close + run.length);
				i = close + run.length;
			}
		} else if (text.startsWith('<!--', i)) {
			const close = text.indexOf('-->', i + 4);
			if (close === -1) {
				plain += char;
				i++;
			} else i = close + 3;
		} else if (text.startsWith('{/*', i)) {
			const close = text.indexOf('*/}', i + 3);
			if (close === -1) {
				plain += char;
				i++;
			} else i = close + 3;
		} else if (char === '<') {
			const autolink = AUTOLINK.exec(text.slice(i, i + 2100))?.[0];
			if (autolink) {
				flushPlain();
				out += autolink;
				i += autolink.length;
				continue;
			}
			const tag = parseTag(text, i);
			if (!tag) {
				plain += char;
				i++;
				continue;
			}
			const name = tag.name.toLowerCase();
			if (isPlaceholder(text, tag)) {
				plain += text.slice(i, tag.end);
				i = tag.end;
				continue;
			}
			const start = i;
			i = tag.end;
			if (!tag.closing && !tag.selfClosing && DROPPED_WITH_CONTENT.has(name)) {
				const close = text.toLowerCase().indexOf(`</${name}`, i);
				const closeEnd = close === -1 ? -1 : text.indexOf('>', close);
				i = closeEnd === -1 ? text.length : closeEnd + 1;
			} else if (name === 'br' || BLOCK_ELEMENTS.has(name)) {
				// Inside a Markdown table row a line break would cut the row: a space keeps it one row.
				plain += /^[ \t]*\|/.test(text.slice(text.lastIndexOf('\n', start - 1) + 1, start + 1)) ? ' ' : '\n';
			}
		} else {
			plain += char;
			i++;
		}
	}
	flushPlain();
	// Lines that held nothing but tags are empty now.
	return out.replace(/^[ \t]+$/gm, '');
}

/**
 * `<organization-name>` in `https://github.com/orgs/<organization-name>/…` or `<your-api-key>`: a lower-case
 * name that is no HTML element, without props, never closed — a placeholder for the reader to fill in, kept.
 */
function isPlaceholder(text: string, tag: Tag): boolean {
	const { name } = tag;
	if (tag.closing || tag.selfClosing || !name || name !== name.toLowerCase() || /[.:]/.test(name)) return false;
	if (BLOCK_ELEMENTS.has(name) || INLINE_ELEMENTS.has(name)) return false;
	if (!text.startsWith(`<${name}>`, tag.end - name.length - 2)) return false;
	return !text.includes(`</${name}`);
}

/** Start of the next run of exactly `length` backticks from `from`, or -1. */
function findBacktickRun(text: string, from: number, length: number): number {
	const pattern = /`+/g;
	pattern.lastIndex = from;
	for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
		if (match[0].length === length) return match.index;
	}
	return -1;
}
