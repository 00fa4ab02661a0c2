import * as cheerio from 'cheerio';
import type { CheerioAPI } from 'cheerio';

import { extractMainContent } from './htmlContent';
import { nodesToMarkdown } from './htmlMarkdown';

/** What a web page yields: its main content as Markdown-like text plus the page's own metadata. */
export interface HtmlDocument {
	text: string;
	title?: string;
	/** The page's canonical URL when it declares one, else the URL it was fetched from. */
	url?: string;
	language?: string;
	description?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseHtml(html: string | Buffer): CheerioAPI {
	if (typeof html === 'string') return cheerio.load(html);
	try {
		// Bytes that are valid UTF-8 are UTF-8, whatever a stale <meta charset> says: legacy encodings almost
		// never form valid multi-byte UTF-8 sequences by accident.
		return cheerio.load(strictUtf8.decode(html));
	} catch {
		// loadBuffer sniffs the charset (BOM, <meta charset>, then a guess) so legacy-encoded pages decode right.
		return cheerio.loadBuffer(html);
	}
}

function firstNonEmpty(...values: (string | undefined)[]): string | undefined {
	for (const value of values) {
		const trimmed = value?.replace(/\s+/g, ' ').trim();
		if (trimmed) return trimmed;
	}
	return undefined;
}

function resolveUrl(href: string | undefined, base: string | undefined): string | undefined {
	if (!href?.trim()) return undefined;
	try {
		return new URL(href.trim(), base).toString();
	} catch {
		return undefined;
	}
}

function readMetadata($: CheerioAPI, pageUrl: string | undefined): Omit<HtmlDocument, 'text'> {
	const meta = (selector: string): string | undefined => $(selector).first().attr('content');
	const canonical =
		resolveUrl($('link[rel~="canonical"]').first().attr('href'), pageUrl) ??
		resolveUrl(meta('meta[property="og:url"]'), pageUrl);
	return {
		title: firstNonEmpty(meta('meta[property="og:title"]'), $('title').first().text(), $('h1').first().text()),
		url: canonical ?? pageUrl,
		language: firstNonEmpty($('html').attr('lang'), meta('meta[http-equiv="content-language" i]')),
		description: firstNonEmpty(
			meta('meta[name="description" i]'),
			meta('meta[property="og:description"]'),
			meta('meta[name="twitter:description" i]'),
		),
	};
}

/** Converts a whole HTML page to its main content (boilerplate removed) and metadata. */
export function htmlToDocument(html: string | Buffer, url?: string): HtmlDocument {
	const metadataDom = parseHtml(html);
	const metadata = readMetadata(metadataDom, url);
	let unusedDom: CheerioAPI | undefined = metadataDom;
	const parse = (): CheerioAPI => {
		// The first extraction pass reuses the DOM the metadata came from; later passes need a pristine one.
		const dom = unusedDom ?? parseHtml(html);
		unusedDom = undefined;
		return dom;
	};
	const text = nodesToMarkdown(extractMainContent(parse));
	return { text, ...dropUndefined(metadata) };
}

/** Converts an HTML fragment that is all content (e.g. a converted DOCX) without boilerplate removal. */
export function htmlFragmentToMarkdown(html: string): string {
	const $ = cheerio.load(html);
	return nodesToMarkdown($.root().children().toArray());
}

function dropUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
