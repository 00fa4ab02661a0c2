/**
 * Fetching web pages safely. undici is Node's own HTTP client; we give its connector a DNS `lookup` that
 * refuses non-public addresses (and cloud metadata services, even where non-public ones are allowed), so the
 * address checked is exactly the address connected to (a DNS-rebinding host cannot answer "public" to a
 * pre-check and "127.0.0.1" to the connection). Redirects are followed by hand so every hop goes through the
 * same checks, and the body is streamed so the size cap stops a download as soon as it is exceeded.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

import ipaddr from 'ipaddr.js';
import { Agent, type Dispatcher, request } from 'undici';

import { decodeOrKeep, urlWithoutUserInfo } from '../redact';
import { InputError, type LoadedDocument } from '../types';
import { loadBinary } from './binary';
import { detectType } from './detect';
import { DEFAULT_MAX_BINARY_BYTES, formatMegabytes, MEGABYTE } from './limits';
import type { UrlContentKind, UrlLoadOptions } from './types';

export const USER_AGENT = 'n8n-nodes-symbiotic/0.1 (document loader for n8n; +https://www.npmjs.com/package/n8n-nodes-symbiotic)';
export const DEFAULT_URL_TIMEOUT_MS = 15_000;
export const DEFAULT_URL_MAX_BYTES = 10 * MEGABYTE;
export const DEFAULT_MAX_REDIRECTS = 5;
/**
 * The download limit has no option in the node; a larger file can still come in through the file route, whose
 * limit (Max File Size) can be raised.
 */
const TOO_BIG_ADVICE =
	'the download limit has no option: download it with an HTTP Request node and ingest it with Source "File From Input" ' +
	`(up to ${formatMegabytes(DEFAULT_MAX_BINARY_BYTES)} by default, more with its "Max File Size (MB)" option), or pick a smaller document.`;

const ALL_CONTENT_KINDS: UrlContentKind[] = ['html', 'text', 'markdown', 'pdf', 'docx', 'json', 'csv'];
const CONTENT_KIND_BY_MIME: Record<string, UrlContentKind> = {
	'text/html': 'html',
	'application/xhtml+xml': 'html',
	'text/plain': 'text',
	'text/markdown': 'markdown',
	'text/x-markdown': 'markdown',
	'application/pdf': 'pdf',
	'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
	'application/json': 'json',
	'text/json': 'json',
	'text/csv': 'csv',
	'application/csv': 'csv',
};
/** Servers label files generically when they do not know better; the bytes are then checked instead. */
const GENERIC_MIME = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/download']);
const RANGE_NAMES: Record<string, string> = {
	loopback: 'loopback',
	private: 'private',
	linkLocal: 'link-local',
	uniqueLocal: 'unique-local',
	unspecified: 'unspecified',
	carrierGradeNat: 'carrier-grade NAT',
};

/**
 * Cloud metadata services, by address. They hand the server's own credentials to whoever asks from inside, so
 * they stay refused with Allow Internal Network on: whoever opens their intranet does not mean to open these.
 * Only `allowMetadataAddresses` lets a URL reach them.
 */
const METADATA_SERVICES: Record<string, string> = {
	'169.254.169.254': 'AWS, Azure, Google Cloud, Oracle Cloud, DigitalOcean, OpenStack',
	'fd00:ec2::254': 'AWS, IPv6',
	'169.254.170.2': 'AWS ECS task credentials',
	'169.254.170.23': 'AWS EKS Pod Identity',
	'fd00:ec2::23': 'AWS EKS Pod Identity, IPv6',
	'fd20:ce::254': 'Google Cloud, IPv6',
	'100.100.100.200': 'Alibaba Cloud',
	'168.63.129.16': 'Azure WireServer',
};
/** Names that reach a metadata service on the cloud itself, whatever a DNS server elsewhere says. */
const METADATA_HOST_NAMES: Record<string, string> = { 'metadata.google.internal': 'Google Cloud' };

interface AddressPolicy {
	allowInternal: boolean;
	allowMetadata: boolean;
}

/** Why an address or host may not be connected to; raised inside DNS lookup, it travels up through undici's errors. */
class RefusedAddressError extends Error {
	constructor(
		readonly address: string,
		/** The metadata service reached, or, for other refusals, undefined. */
		readonly metadataService: string | undefined,
		readonly rangeName?: string,
	) {
		super(`refused ${metadataService ? `cloud metadata (${metadataService})` : rangeName} address ${address}`);
		this.name = 'RefusedAddressError';
	}
}

/** The name of the address's range when it is not a public unicast address, else undefined. */
function internalRange(address: string): string | undefined {
	const range = ipaddr.process(address).range();
	return range === 'unicast' ? undefined : (RANGE_NAMES[range] ?? `non-public (${range})`);
}

/** The metadata service an IP address reaches, if any; an IPv4 address written inside an IPv6 one counts too. */
function metadataService(address: string): string | undefined {
	// ipaddr.process turns IPv4-mapped addresses (::ffff:169.254.169.254) into IPv4 itself.
	const parsed = ipaddr.process(address);
	const forms = [parsed.toString()];
	if (parsed instanceof ipaddr.IPv6) {
		// IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
		const { parts } = parsed;
		const range = parsed.range();
		if (range === 'rfc6145' || range === 'rfc6052' || parts.slice(0, 6).every((part) => part === 0)) {
			forms.push([parts[6] >> 8, parts[6] & 0xff, parts[7] >> 8, parts[7] & 0xff].join('.'));
		}
	}
	return forms.map((form) => METADATA_SERVICES[form]).find(Boolean);
}

/** Why `policy` refuses the IP address, or undefined when it may be connected to. */
function refusedAddress(address: string, policy: AddressPolicy): RefusedAddressError | undefined {
	const service = metadataService(address);
	if (service) return policy.allowMetadata ? undefined : new RefusedAddressError(address, service);
	const range = policy.allowInternal ? undefined : internalRange(address);
	return range ? new RefusedAddressError(address, undefined, range) : undefined;
}

/** A DNS lookup that refuses what `policy` refuses, so the address checked is the address connected to. */
function guardedLookup(policy: AddressPolicy): LookupFunction {
	return (hostname, options, callback) => {
		dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
			if (error) return callback(error, '', 0);
			for (const { address } of addresses) {
				const refused = refusedAddress(address, policy);
				if (refused) return callback(refused, '', 0);
			}
			if (options.all) return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, addresses);
			return callback(null, addresses[0].address, addresses[0].family);
		});
	};
}

/** Refuses what `policy` refuses of a URL's host before any connection: IP literals never reach the lookup. */
function checkHost(url: URL, policy: AddressPolicy): void {
	const host = url.hostname.replace(/^\[|\]$/g, '');
	if (ipaddr.isValid(host)) {
		const refused = refusedAddress(host, policy);
		if (refused) throw refused;
		return;
	}
	const service = METADATA_HOST_NAMES[host.replace(/\.+$/, '')];
	if (service && !policy.allowMetadata) throw new RefusedAddressError(host, service);
}

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
	for (let current = error; current instanceof Error; current = current.cause) {
		if (current instanceof type) return current;
	}
	return undefined;
}

function findCode(error: unknown): string | undefined {
	for (let current = error; current instanceof Error; current = current.cause) {
		const code = (current as NodeJS.ErrnoException).code;
		if (code) return code;
	}
	return undefined;
}

export interface FetchedResource {
	data: Buffer;
	/** URL after redirects. */
	finalUrl: string;
	/** Content-Type header without parameters, lower-cased ('' when absent). */
	mimeType: string;
}

interface FetchOptions extends UrlLoadOptions {
	/** Checks the response's content type before its body is read; throws to refuse it. */
	acceptContentType?: (mimeType: string, url: string) => void;
}

/**
 * The URL without `user:password@`: credentials belong in the request, never in messages, source IDs or
 * citations. A text is otherwise kept exactly as typed (not normalised), so source IDs stay what they were.
 */
export function withoutCredentials(url: string | URL): string {
	if (typeof url === 'string') return urlWithoutUserInfo(url);
	const clean = new URL(url.href);
	clean.username = '';
	clean.password = '';
	return clean.href;
}

/** The Basic authorization header for credentials written into a URL, which undici does not send by itself. */
function basicAuthorization(url: URL): string | undefined {
	if (!url.username && !url.password) return undefined;
	const pair = `${decodeOrKeep(url.username)}:${decodeOrKeep(url.password)}`;
	return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

function refusedAddressMessage(url: string, error: RefusedAddressError): string {
	if (error.metadataService) {
		return (
			`${url} leads to a cloud metadata service (${error.address}: ${error.metadataService}), which hands out this server's ` +
			"credentials; 'Allow Internal Network' does not open it. Enable 'Allow Cloud Metadata Addresses' only if reading it is intended."
		);
	}
	return `${url} resolves to a ${error.rangeName} address ${error.address}; enable 'Allow Internal Network' to fetch it.`;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/** Drops a body we will not read; the listener keeps undici's "aborted" error from crashing the process. */
function discard(body: ResponseBody): void {
	body.on('error', () => undefined);
	body.destroy();
}

async function readCapped(body: ResponseBody, url: string, maxBytes: number): Promise<Buffer> {
	const parts: Buffer[] = [];
	let size = 0;
	for await (const part of body) {
		size += part.length;
		if (size > maxBytes) {
			discard(body);
			throw new InputError(`${url} is larger than ${formatMegabytes(maxBytes)}; ${TOO_BIG_ADVICE}`, 'url');
		}
		parts.push(part);
	}
	return Buffer.concat(parts);
}

/** GETs a URL with the timeout, size cap, redirect cap and address guards of `UrlLoadOptions`. */
export async function fetchResource(url: string, options: FetchOptions = {}): Promise<FetchedResource> {
	const timeoutMs = options.timeoutMs ?? DEFAULT_URL_TIMEOUT_MS;
	const maxBytes = options.maxBytes ?? DEFAULT_URL_MAX_BYTES;
	const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
	const policy: AddressPolicy = {
		allowInternal: options.allowInternalNetwork ?? false,
		allowMetadata: options.allowMetadataAddresses ?? false,
	};
	const timeout = AbortSignal.timeout(timeoutMs);
	const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
	const agent = new Agent({
		connect: { timeout: timeoutMs, ...(policy.allowInternal && policy.allowMetadata ? {} : { lookup: guardedLookup(policy) }) },
		headersTimeout: timeoutMs,
		bodyTimeout: timeoutMs,
	});
	let requested: URL;
	try {
		requested = new URL(url);
	} catch {
		throw new InputError(`"${withoutCredentials(url)}" is not a valid URL; use a full address such as https://example.com/page.`, 'url');
	}
	// Credentials written into the URL are sent as a header, and only to the origin they were written for.
	const authorization = basicAuthorization(requested);
	const first = new URL(withoutCredentials(requested));
	let current = first;
	/** The URL a refusal names: after a redirect, also the URL asked for, which the user knows. */
	const refusedUrl = () => (current === first ? current.href : `${current.href} (redirected from ${first.href})`);
	try {
		for (let redirects = 0; ; redirects++) {
			if (current.protocol !== 'http:' && current.protocol !== 'https:') {
				throw new InputError(`${current.href} uses ${current.protocol.replace(':', '')}; only http and https URLs can be fetched.`, 'url');
			}
			checkHost(current, policy);
			const sameOrigin = current.origin === requested.origin;
			const response = await request(current, {
				method: 'GET',
				dispatcher: agent,
				signal,
				headers: {
					'user-agent': USER_AGENT,
					accept: 'text/html,application/xhtml+xml,application/pdf,text/*;q=0.9,*/*;q=0.8',
					...(authorization && sameOrigin ? { authorization } : {}),
				},
			});
			const location = response.headers.location;
			if (response.statusCode >= 300 && response.statusCode < 400 && location) {
				discard(response.body);
				if (redirects >= maxRedirects) {
					throw new InputError(`${withoutCredentials(requested)} redirected more than ${maxRedirects} times; open it in a browser to find its final address.`, 'url');
				}
				current = new URL(withoutCredentials(new URL(Array.isArray(location) ? location[0] : location, current)));
				continue;
			}
			if (response.statusCode < 200 || response.statusCode >= 300) {
				discard(response.body);
				throw new InputError(`${current.href} returned HTTP ${response.statusCode}; check that the address is right and publicly reachable.`, 'url');
			}
			const contentType = response.headers['content-type'];
			const mimeType = (Array.isArray(contentType) ? contentType[0] : (contentType ?? '')).split(';')[0].trim().toLowerCase();
			try {
				options.acceptContentType?.(mimeType, current.href);
			} catch (error) {
				discard(response.body);
				throw error;
			}
			const declaredLength = Number(response.headers['content-length']);
			if (declaredLength > maxBytes) {
				discard(response.body);
				throw new InputError(`${current.href} is larger than ${formatMegabytes(maxBytes)} (${formatMegabytes(declaredLength)}); ${TOO_BIG_ADVICE}`, 'url');
			}
			const data = await readCapped(response.body, current.href, maxBytes);
			return { data, finalUrl: current.href, mimeType };
		}
	} catch (error) {
		if (error instanceof InputError) throw error;
		const refused = findCause(error, RefusedAddressError);
		if (refused) throw new InputError(refusedAddressMessage(refusedUrl(), refused), 'url');
		if (timeout.aborted) throw new InputError(`${current.href} timed out after ${timeoutMs / 1000} s; the server is too slow or unreachable.`, 'url');
		if (options.signal?.aborted) throw new InputError(`Fetching ${current.href} was cancelled.`, 'url');
		const code = findCode(error);
		if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new InputError(`${current.href} could not be resolved: the host name does not exist.`, 'url');
		if (code === 'ECONNREFUSED') throw new InputError(`${current.href} refused the connection; check the address and port.`, 'url');
		throw new InputError(`${current.href} could not be fetched: ${(error as Error).message}.`, 'url');
	} finally {
		// destroy, not close: after a timeout or refusal nothing on this agent is worth waiting for.
		void agent.destroy().catch(() => undefined);
	}
}

function refuseUnlessAllowed(allowed: UrlContentKind[]) {
	return (mimeType: string, url: string): void => {
		if (GENERIC_MIME.has(mimeType)) return;
		const kind = CONTENT_KIND_BY_MIME[mimeType] ?? (mimeType.endsWith('+json') ? 'json' : undefined);
		if (!kind || !allowed.includes(kind)) {
			throw new InputError(`${url} returned content type ${mimeType}, which is not allowed (allowed: ${allowed.join(', ')}).`, 'url');
		}
	};
}

/** The last path segment, so extension hints work for files served under their own name. */
function fileNameOf(url: string): string | undefined {
	const segment = new URL(url).pathname.split('/').pop();
	return segment ? decodeOrKeep(segment) : undefined;
}

/**
 * Fetches a URL and loads it as one document. `sourceId` is the URL as requested (stable across runs even
 * when the server adds redirects); `url` is the page's canonical URL, else the final URL after redirects.
 * Neither keeps `user:password@` from the URL.
 */
export async function loadUrl(url: string, options: UrlLoadOptions = {}): Promise<LoadedDocument> {
	const allowed = options.allowedContentTypes ?? ALL_CONTENT_KINDS;
	const resource = await fetchResource(url, { ...options, acceptContentType: refuseUnlessAllowed(allowed) });
	const fileName = fileNameOf(resource.finalUrl);
	const detected = detectType(resource.data, { fileName, mimeType: resource.mimeType });
	// The bytes can disagree with the header (a PDF served as octet-stream): check what they really are too.
	if (detected.kind && !allowed.includes(detected.kind)) {
		throw new InputError(`${resource.finalUrl} returned ${detected.label}, which is not allowed (allowed: ${allowed.join(', ')}).`, 'url');
	}
	const [document] = await loadBinary(
		{ data: resource.data, fileName, mimeType: resource.mimeType, sourceId: withoutCredentials(url), url: resource.finalUrl },
		{ maxBytes: options.maxBytes ?? DEFAULT_URL_MAX_BYTES, rowsAsDocuments: false, parseTimeoutMs: options.parseTimeoutMs, skipped: options.skipped },
	);
	return document;
}
