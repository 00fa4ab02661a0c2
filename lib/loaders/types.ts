/** Options and results of the loaders; the shared document shape is `LoadedDocument` in lib/types.ts. */
import type { SkipReport } from './skipped';

export type DocumentKind = 'pdf' | 'docx' | 'html' | 'markdown' | 'text' | 'csv' | 'json';

/** Text encodings detected from the bytes; anything else is read as UTF-8 (or Windows-1252 when not UTF-8). */
export type TextEncoding = 'utf-16le' | 'utf-16be';

export interface DetectedType {
	/** Absent when the bytes are not a document we can read (binary data, images, archives…). */
	kind?: DocumentKind;
	/** What the bytes are, e.g. `application/pdf`, `image/png`, `application/octet-stream`. */
	mimeType: string;
	/** Human-readable name for error messages, e.g. `PDF`, `PNG image`, `binary data`. */
	label: string;
	/** Which evidence decided: the bytes themselves, the given MIME type, or the file extension. */
	detectedBy: 'content' | 'mimeType' | 'extension';
	/** Text kinds in UTF-16 (with or without a byte-order mark); absent for UTF-8 and legacy 8-bit text. */
	encoding?: TextEncoding;
	/**
	 * Present exactly when `kind` is absent: why the bytes cannot be read and what to do, as the rest of a
	 * sentence that starts with the file's name, e.g. `is password-protected (…), so it cannot be read. …`.
	 */
	refusal?: string;
}

export interface LoadOptions {
	/** Largest input accepted, in bytes. Default 25 MB (the Ingest Document option "Max File Size (MB)"). */
	maxBytes?: number;
	/** CSV / JSON arrays: one document per row (default) or one document for the whole file. */
	rowsAsDocuments?: boolean;
	/** CSV / JSON rows: the column whose value identifies a row in its sourceId `<file>#<id>` (else the row number). */
	idField?: string;
	/** Longest time a PDF or DOCX may take to parse, in ms. Default 60000. */
	parseTimeoutMs?: number;
	/** Receives what the load leaves out (rows without values, values beyond the CSV header's columns). */
	skipped?: SkipReport;
}

/** Content families a URL may return; anything else is refused before its body is read. */
export type UrlContentKind = 'html' | 'text' | 'markdown' | 'pdf' | 'docx' | 'json' | 'csv';

export interface UrlLoadOptions {
	/** Whole request budget, per hop, in ms. Default 15000. */
	timeoutMs?: number;
	/** Largest response body, in bytes; the download stops as soon as it is exceeded. Default 10 MB. */
	maxBytes?: number;
	/** Redirects followed (each hop re-checked). Default 5. */
	maxRedirects?: number;
	/** Content families accepted. Default: all of them. */
	allowedContentTypes?: UrlContentKind[];
	/** Allow loopback, private and link-local addresses (never the cloud metadata services). Default false. */
	allowInternalNetwork?: boolean;
	/**
	 * Allow the cloud metadata services (169.254.169.254, fd00:ec2::254, metadata.google.internal, 100.100.100.200,
	 * 169.254.170.2…), which hand out the server's own credentials. Independent of `allowInternalNetwork`, which
	 * never opens them. Default false.
	 */
	allowMetadataAddresses?: boolean;
	/** Cancels the download (e.g. a cancelled n8n execution). */
	signal?: AbortSignal;
	/** Longest time a downloaded PDF or DOCX may take to parse, in ms. Default 60000. */
	parseTimeoutMs?: number;
	/**
	 * Receives what the load leaves out (sitemap pages beyond Max Pages, duplicates, unreadable nested
	 * sitemaps, CSV values beyond the header). Without one, a sitemap walk stops at `maxPages` and a nested
	 * sitemap that cannot be read fails the whole walk.
	 */
	skipped?: SkipReport;
}

export interface SitemapLoadOptions extends UrlLoadOptions {
	/** Most page URLs returned (the sitemap walk stops once reached). */
	maxPages: number;
	/** Most sitemap files fetched in total, index files included. Default 50. */
	maxSitemaps?: number;
}
