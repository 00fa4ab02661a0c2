/** Document loaders: files, text, web pages and sitemaps → `LoadedDocument` (see lib/types.ts). */
export { loadBinary, type BinaryInput } from './binary';
export { detectType } from './detect';
export { htmlFragmentToMarkdown, htmlToDocument, type HtmlDocument } from './html';
export { DEFAULT_MAX_FILE_SIZE_MB, MEGABYTE } from './limits';
export { cleanMarkdown } from './markdownClean';
export { loadSitemapUrls } from './sitemap';
export { MAX_SKIP_EXAMPLES, SkipReport, type Skipped, type SkipUnit } from './skipped';
export { loadText, type TextLoadOptions } from './text';
export { fetchResource, loadUrl, USER_AGENT, withoutCredentials, type FetchedResource } from './url';
export type {
	DetectedType,
	DocumentKind,
	LoadOptions,
	SitemapLoadOptions,
	TextEncoding,
	UrlContentKind,
	UrlLoadOptions,
} from './types';
