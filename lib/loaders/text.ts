import { InputError, type LoadedDocument } from '../types';
import { documentType } from './detect';
import { htmlToDocument } from './html';
import { assertHtmlNesting, assertLoadableSize, DEFAULT_MAX_BINARY_BYTES } from './limits';
import { cleanMarkdown } from './markdownClean';

export interface TextLoadOptions {
	sourceId: string;
	/** `auto` (default) reads HTML as HTML and everything else as Markdown-compatible text. */
	format?: 'auto' | 'text' | 'markdown' | 'html';
	title?: string;
	url?: string;
	/** Largest text accepted, in UTF-8 bytes. Default 25 MB. */
	maxBytes?: number;
}

/** Texts come from a node parameter or an expression, whose size no option limits. */
const TOO_LARGE_ADVICE = 'split it into smaller files or texts (this limit has no option)';

const HTML_DOCUMENT = /^\s*(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]/i;
const MARKDOWN_SIGNS = /^(#{1,6} \S|[-*+] \S|\d+\. \S|```|> \S|\|.*\|\s*$)/m;
const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/;

/** Normalises line endings and blank-line runs; keeps indentation (lists, code) intact. */
export function tidyText(text: string): string {
	return text
		.replace(/^\uFEFF/, '')
		.replace(/\r\n?/g, '\n')
		.replace(/[ \t]+$/gm, '')
		.replace(/\n{3,}/g, '\n\n')
		.trim();
}

function firstHeading(markdown: string): string | undefined {
	return markdown.match(/^#{1,6} +(.+)$/m)?.[1].trim();
}

/** Drops YAML front matter, keeping its `title` and `description` (handbook pages carry them there). */
function splitFrontMatter(markdown: string): { body: string; title?: string; description?: string } {
	const match = markdown.match(FRONT_MATTER);
	if (!match) return { body: markdown };
	const field = (key: string): string | undefined =>
		match[1].match(new RegExp(`^${key}:\\s*["']?(.*?)["']?\\s*$`, 'm'))?.[1] || undefined;
	return { body: markdown.slice(match[0].length), title: field('title'), description: field('description') };
}

/** Turns text the user typed or mapped (plain, Markdown or HTML) into a document. */
export function loadText(text: string, options: TextLoadOptions): LoadedDocument {
	const format = options.format ?? 'auto';
	const name = `"${options.sourceId}"`;
	const isHtml = format === 'html' || (format === 'auto' && HTML_DOCUMENT.test(text));
	try {
		assertLoadableSize(name, text.trim() ? Buffer.byteLength(text) : 0, options.maxBytes ?? DEFAULT_MAX_BINARY_BYTES, TOO_LARGE_ADVICE);
		if (isHtml) assertHtmlNesting(name, text);
	} catch (error) {
		throw new InputError((error as Error).message, 'text');
	}
	if (isHtml) {
		const page = htmlToDocument(text, options.url);
		if (!page.text) throw new InputError(`"${options.sourceId}" is HTML without any readable text.`, 'text');
		return {
			sourceId: options.sourceId,
			text: page.text,
			title: options.title ?? page.title,
			url: options.url ?? page.url,
			language: page.language,
			description: page.description,
			mimeType: documentType('html', 'content').mimeType,
			metadata: {},
		};
	}
	const isMarkdown = format === 'markdown' || (format === 'auto' && MARKDOWN_SIGNS.test(text));
	const { body, title, description } = isMarkdown ? splitFrontMatter(text) : { body: text };
	// Markdown and MDX: only the text a reader sees is embedded, not imports, components or HTML tags.
	const cleaned = tidyText(isMarkdown ? cleanMarkdown(body) : body);
	if (!cleaned) throw new InputError(`"${options.sourceId}" has no text besides its front matter.`, 'text');
	return {
		sourceId: options.sourceId,
		text: cleaned,
		title: options.title ?? title ?? (isMarkdown ? firstHeading(cleaned) : undefined),
		url: options.url,
		description,
		mimeType: documentType(isMarkdown ? 'markdown' : 'text', 'content').mimeType,
		metadata: {},
	};
}
