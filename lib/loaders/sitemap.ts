/**
 * Sitemaps (sitemaps.org): `<urlset>` lists pages, `<sitemapindex>` lists further sitemaps, either may be
 * gzipped, and plain-text sitemaps list one URL per line. fast-xml-parser is a small, dependency-free,
 * well-maintained parser that does not resolve external entities, which matters for XML from the web.
 */
import { gunzipSync } from 'node:zlib';

import { XMLParser } from 'fast-xml-parser';

import { InputError } from '../types';
import { MAX_SKIP_EXAMPLES } from './skipped';
import { DEFAULT_URL_MAX_BYTES, fetchResource, withoutCredentials } from './url';
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
	/** Entries that are not a full http(s) address (empty, relative, another scheme): left out, reported. */
	invalid: string[];
}

const HTTP_URL = /^https?:\/\/\S+$/i;

function locations(entries: unknown): { valid: string[]; invalid: string[] } {
	const all = Array.isArray(entries) ? entries.map((entry) => String((entry as { loc?: unknown })?.loc ?? '').trim()) : [];
	return {
		valid: all.filter((loc) => HTTP_URL.test(loc)),
		invalid: all.filter((loc) => !HTTP_URL.test(loc)).map((loc) => loc || '(empty <loc>)'),
	};
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
		const lines = text.split(/\s*\n\s*/).filter(Boolean);
		const pages = lines.filter((line) => HTTP_URL.test(line));
		if (pages.length > 0) return { pages, sitemaps: [], invalid: lines.filter((line) => !HTTP_URL.test(line)) };
		throw new InputError(`${url} is not a sitemap: expected XML with <urlset> or <sitemapindex>, or one URL per line.`, 'url');
	}
	let document: Record<string, { url?: unknown; sitemap?: unknown } | undefined>;
	try {
		document = xmlParser.parse(text) as typeof document;
	} catch (error) {
		throw new InputError(`Sitemap ${url} is not valid XML: ${(error as Error).message}.`, 'url');
	}
	if (document.urlset !== undefined) {
		const { valid, invalid } = locations(document.urlset?.url);
		return { pages: valid, sitemaps: [], invalid };
	}
	if (document.sitemapindex !== undefined) {
		const { valid, invalid } = locations(document.sitemapindex?.sitemap);
		return { pages: [], sitemaps: valid, invalid };
	}
	throw new InputError(`${url} is not a sitemap: it has neither <urlset> nor <sitemapindex>.`, 'url');
}

/**
 * Page URLs listed by a sitemap or sitemap index, deduplicated, in document order, at most `maxPages`.
 * Nested indexes are followed breadth-first, each sitemap fetched once, at most `maxSitemaps` (default 50) in all.
 *
 * With `options.skipped`, everything left out is reported there: pages beyond `maxPages`, URLs listed twice,
 * entries that are not http(s) addresses, nested sitemaps beyond `maxSitemaps` or that could not be read. To
 * count the pages beyond the limit exactly, the walk then goes on reading sitemap files (never the pages)
 * after `maxPages` is reached; a nested sitemap that fails is reported instead of failing the walk (the
 * sitemap asked for still fails it).
 */
export async function loadSitemapUrls(url: string, options: SitemapLoadOptions): Promise<string[]> {
	const { maxPages, skipped, signal } = options;
	const maxSitemaps = options.maxSitemaps ?? DEFAULT_MAX_SITEMAPS;
	const maxBytes = options.maxBytes ?? DEFAULT_URL_MAX_BYTES;
	const pages = new Set<string>();
	const beyondLimit = new Set<string>();
	const duplicates: string[] = [];
	const invalid: string[] = [];
	const unreadable: { url: string; message: string }[] = [];
	const queue = [url];
	const seen = new Set(queue);
	let fetched = 0;
	// Stopping at maxSitemaps bounds the walk on sites with hundreds of sitemap files; the pages found so far stand.
	while (queue.length > 0 && fetched < maxSitemaps && (skipped || pages.size < maxPages)) {
		const sitemapUrl = queue.shift() as string;
		fetched++;
		let entries: SitemapEntries;
		try {
			const resource = await fetchResource(sitemapUrl, options);
			entries = parseSitemap(resource.finalUrl, resource.data, maxBytes);
		} catch (error) {
			if (sitemapUrl === url || !skipped || signal?.aborted) throw error;
			unreadable.push({ url: withoutCredentials(sitemapUrl), message: (error as Error).message });
			continue;
		}
		invalid.push(...entries.invalid);
		for (const page of entries.pages) {
			if (pages.has(page) || beyondLimit.has(page)) duplicates.push(withoutCredentials(page));
			else if (pages.size < maxPages) pages.add(page);
			else beyondLimit.add(page);
		}
		for (const child of entries.sitemaps) {
			if (!seen.has(child)) {
				seen.add(child);
				queue.push(child);
			}
		}
	}
	if (skipped) {
		const notRead = queue.map(withoutCredentials);
		// Pages listed in sitemaps that were not read are unknown: the total is then only a lower bound.
		const total = pages.size + beyondLimit.size;
		const complete = notRead.length === 0 && unreadable.length === 0;
		skipped.add({
			unit: 'page',
			reason: `beyond Max Pages ${maxPages}`,
			advice: `Raise "Max Pages" to ${complete ? '' : 'at least '}${total} to include them`,
			examples: [...beyondLimit].slice(0, MAX_SKIP_EXAMPLES).map(withoutCredentials),
			count: beyondLimit.size,
		});
		skipped.add({
			unit: 'URL',
			reason: 'listed more than once in the sitemap',
			advice: 'Nothing to do: each page is ingested once',
			examples: duplicates,
		});
		skipped.add({
			unit: 'entry',
			reason: 'not a full http(s) address',
			advice: 'Correct them in the sitemap: each entry must be a full address starting with http:// or https://',
			examples: invalid,
		});
		skipped.add({
			unit: 'sitemap',
			reason: `beyond the limit of ${maxSitemaps} sitemap files read per run; their pages are not counted`,
			advice: 'This limit has no option: ingest these sitemaps separately, each as the "Sitemap URL" of its own item',
			examples: notRead,
		});
		skipped.add({
			unit: 'sitemap',
			reason: 'nested sitemap could not be read; its pages are not counted',
			advice: `Check the sitemap address (first error: ${unreadable[0]?.message})`,
			examples: unreadable.map((each) => each.url),
		});
	}
	return [...pages];
}
