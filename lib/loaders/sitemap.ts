/**
 * Sitemaps (sitemaps.org): `<urlset>` lists pages, `<sitemapindex>` lists further sitemaps, either may be
 * gzipped, and plain-text sitemaps list one URL per line. fast-xml-parser is a small, dependency-free,
 * well-maintained parser that does not resolve external entities, which matters for XML from the web.
 */
import { gunzipSync } from 'node:zlib';

import { XMLParser } from 'fast-xml-parser';

import { InputError } from '../types';
import { DEFAULT_URL_MAX_BYTES, fetchResource } from './url';
import type { SitemapLoadOptions } from './types';

const DEFAULT_MAX_SITEMAPS = 50;
const xmlParser = new XMLParser({
	ignoreAttributes: true,
	removeNSPrefix: true,
	processEntities: true,
	isArray: (name) => name === 'url' || name === 'sitemap',
});

interface SitemapEntries {
	pages: string[];
	sitemaps: string[];
}

function locations(entries: unknown): string[] {
	if (!Array.isArray(entries)) return [];
	return entries
		.map((entry) => String((entry as { loc?: unknown })?.loc ?? '').trim())
		.filter((loc) => /^https?:\/\//i.test(loc));
}

function parseSitemap(url: string, data: Buffer, maxBytes: number): SitemapEntries {
	let bytes = data;
	if (data[0] === 0x1f && data[1] === 0x8b) {
		try {
			// The output cap stops a small "zip bomb" from expanding into gigabytes.
			bytes = gunzipSync(data, { maxOutputLength: maxBytes });
		} catch (error) {
			throw new InputError(`Sitemap ${url} could not be decompressed (${(error as Error).message}); it may be larger than ${maxBytes} bytes unpacked or damaged.`, 'url');
		}
	}
	const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trim();
	if (!text.startsWith('<')) {
		const lines = text.split(/\s*\n\s*/).filter((line) => /^https?:\/\/\S+$/i.test(line));
		if (lines.length > 0) return { pages: lines, sitemaps: [] };
		throw new InputError(`${url} is not a sitemap: expected XML with <urlset> or <sitemapindex>, or one URL per line.`, 'url');
	}
	let document: Record<string, { url?: unknown; sitemap?: unknown } | undefined>;
	try {
		document = xmlParser.parse(text) as typeof document;
	} catch (error) {
		throw new InputError(`Sitemap ${url} is not valid XML: ${(error as Error).message}.`, 'url');
	}
	if (document.urlset !== undefined) return { pages: locations(document.urlset?.url), sitemaps: [] };
	if (document.sitemapindex !== undefined) return { pages: [], sitemaps: locations(document.sitemapindex?.sitemap) };
	throw new InputError(`${url} is not a sitemap: it has neither <urlset> nor <sitemapindex>.`, 'url');
}

/**
 * Page URLs listed by a sitemap or sitemap index, deduplicated, in document order, at most `maxPages`.
 * Nested indexes are followed breadth-first, each sitemap fetched once, at most `maxSitemaps` (default 50) in all.
 */
export async function loadSitemapUrls(url: string, options: SitemapLoadOptions): Promise<string[]> {
	const maxSitemaps = options.maxSitemaps ?? DEFAULT_MAX_SITEMAPS;
	const maxBytes = options.maxBytes ?? DEFAULT_URL_MAX_BYTES;
	const pages = new Set<string>();
	const queue = [url];
	const seen = new Set(queue);
	let fetched = 0;
	// Stopping at maxSitemaps bounds the walk on sites with hundreds of sitemap files; the pages found so far stand.
	while (queue.length > 0 && pages.size < options.maxPages && fetched < maxSitemaps) {
		const sitemapUrl = queue.shift() as string;
		const resource = await fetchResource(sitemapUrl, options);
		fetched++;
		const entries = parseSitemap(resource.finalUrl, resource.data, maxBytes);
		for (const page of entries.pages) {
			if (pages.size >= options.maxPages) break;
			pages.add(page);
		}
		for (const child of entries.sitemaps) {
			if (!seen.has(child)) {
				seen.add(child);
				queue.push(child);
			}
		}
	}
	return [...pages];
}
