import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { loadSitemapUrls, loadUrl, SkipReport, USER_AGENT } from '../../lib/loaders';
import { InputError } from '../../lib/types';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '../fixtures/loaders', name));
const internal = { allowInternalNetwork: true };

let server: Server;
let base: string;
const userAgents: string[] = [];
/** The Authorization header of each request to /private and of each request to the other origin. */
const authorizations: Array<string | undefined> = [];
const otherOriginAuthorizations: Array<string | undefined> = [];
let otherOrigin: Server;
let otherBase: string;
const credentials = 'user:secret%20pw';
const expectedAuthorization = `Basic ${Buffer.from('user:secret pw').toString('base64')}`;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** `body` may be a function: sitemaps embed the server's address, known only once it listens. */
function send(type: string, body: string | Buffer | (() => string | Buffer)): Handler {
	return (_, response) => {
		response.writeHead(200, { 'content-type': type });
		response.end(typeof body === 'function' ? body() : body);
	};
}

const urlset = (paths: string[]): string =>
	`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths
		.map((path) => `<url><loc>${base}${path}</loc><lastmod>2024-01-01</lastmod></url>`)
		.join('')}</urlset>`;
const sitemapIndex = (paths: string[]): string =>
	`<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths
		.map((path) => `<sitemap><loc>${base}${path}</loc></sitemap>`)
		.join('')}</sitemapindex>`;

const routes: Record<string, Handler> = {
	'/page': send('text/html; charset=utf-8', fixture('messy-page.html')),
	'/brochure': send('application/octet-stream', fixture('brochure.pdf')),
	'/logo.png': send('image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])),
	'/redirect-1': (_, response) => response.writeHead(302, { location: '/redirect-2' }).end(),
	'/redirect-2': (_, response) => response.writeHead(301, { location: `${base}/page` }).end(),
	'/loop': (_, response) => response.writeHead(302, { location: '/loop' }).end(),
	'/slow-headers': (_, response) => {
		setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end('late'), 3000).unref();
	},
	'/slow-body': (_, response) => {
		response.writeHead(200, { 'content-type': 'text/plain' });
		response.write('first part arrives, ');
		setTimeout(() => response.end('the rest never in time'), 3000).unref();
	},
	'/big-declared': (_, response) => {
		response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(3 * 1024 * 1024) });
		response.end(Buffer.alloc(3 * 1024 * 1024, 'a'));
	},
	'/big-streamed': (_, response) => {
		// Chunked, no Content-Length: only counting the streamed bytes can catch it.
		response.writeHead(200, { 'content-type': 'text/plain' });
		const chunk = Buffer.alloc(64 * 1024, 'b');
		let sent = 0;
		const pump = (): void => {
			while (sent < 200 && response.write(chunk)) sent++;
			if (sent < 200) response.once('drain', pump);
			else response.end();
		};
		pump();
	},
	'/sitemap.xml': send('application/xml', () => urlset(['/a', '/b', '/a', '/c'])),
	'/sitemap_index.xml': send('application/xml', () => sitemapIndex(['/sitemap-posts.xml', '/sitemap-pages.xml.gz', '/nested-index.xml', '/sitemap-posts.xml'])),
	'/sitemap-posts.xml': send('text/xml', () => urlset(['/post-1', '/post-2'])),
	'/sitemap-pages.xml.gz': send('application/gzip', () => gzipSync(urlset(['/about', '/post-1', '/contact']))),
	'/nested-index.xml': send('application/xml', () => sitemapIndex(['/sitemap-deep.xml', '/sitemap_index.xml'])),
	'/sitemap-deep.xml': send('application/xml', () => urlset(['/deep'])),
	'/sitemap.txt': send('text/plain', () => `${base}/x\n${base}/y\n`),
	'/sitemap-115.xml': send('application/xml', () => urlset(Array.from({ length: 115 }, (_, index) => `/p/${index + 1}`))),
	'/sitemap-messy.xml': send(
		'application/xml',
		() =>
			`<urlset><url><loc>${base}/a</loc></url><url><loc>/relative/page</loc></url><url><loc></loc></url>` +
			`<url><loc>${base}/b</loc></url><url><loc>ftp://example.com/file</loc></url><url><loc>${base}/a</loc></url></urlset>`,
	),
	'/sitemap-junk.txt': send('text/plain', () => `${base}/x\nsee also: our blog\n\n${base}/y\n`),
	'/index-broken.xml': send('application/xml', () => sitemapIndex(['/sitemap-posts.xml', '/missing-sitemap.xml'])),
	'/not-a-sitemap.xml': send('application/xml', '<rss><channel><title>Feed</title></channel></rss>'),
	'/%E0%A4%A': send('text/plain', 'A page whose name is a broken percent-encoding.'),
	'/private': (request, response) => {
		authorizations.push(request.headers.authorization);
		if (request.headers.authorization === expectedAuthorization) send('text/html', fixture('messy-page.html'))(request, response);
		else response.writeHead(401, { 'www-authenticate': 'Basic' }).end();
	},
	'/private-moved': (_, response) => response.writeHead(302, { location: '/private' }).end(),
	'/to-other-origin': (_, response) => response.writeHead(302, { location: `${otherBase}/elsewhere` }).end(),
	'/redirect-to': (request, response) =>
		response.writeHead(302, { location: new URL(request.url ?? '/', 'http://localhost').searchParams.get('url') ?? '/' }).end(),
};

beforeAll(async () => {
	server = createServer((request, response) => {
		userAgents.push(String(request.headers['user-agent']));
		const handler = routes[new URL(request.url ?? '/', 'http://localhost').pathname];
		if (handler) handler(request, response);
		else response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	otherOrigin = createServer((request, response) => {
		otherOriginAuthorizations.push(request.headers.authorization);
		response.writeHead(200, { 'content-type': 'text/plain' }).end('Another origin.');
	});
	await new Promise<void>((resolve) => otherOrigin.listen(0, '127.0.0.1', resolve));
	otherBase = `http://127.0.0.1:${(otherOrigin.address() as AddressInfo).port}`;
});

afterAll(async () => {
	server.closeAllConnections();
	otherOrigin.closeAllConnections();
	await Promise.all([server, otherOrigin].map((each) => new Promise((resolve) => each.close(resolve))));
});

async function urlError(promise: Promise<unknown>): Promise<string> {
	const error = await promise.then(
		() => undefined,
		(caught: unknown) => caught,
	);
	expect(error).toBeInstanceOf(InputError);
	expect((error as InputError).field).toBe('url');
	return (error as InputError).message;
}

describe('loadUrl', () => {
	it('loads a page: main content, canonical URL, the requested URL as sourceId, our User-Agent', async () => {
		const document = await loadUrl(`${base}/page?ref=mail`, internal);
		expect(document.sourceId).toBe(`${base}/page?ref=mail`);
		expect(document.url).toBe(`${base}/blog/cold-brew-guide`);
		expect(document.title).toBe('Cold Brew at Home: A Complete Guide');
		expect(document.mimeType).toBe('text/html');
		expect(document.text).toContain('| Concentrate | 1:4 | 18 hours |');
		expect(document.text).not.toContain('cookies');
		expect(userAgents).toContain(USER_AGENT);
		expect(USER_AGENT).toMatch(/^n8n-nodes-symbiotic\//);
	});

	it('detects a PDF served as application/octet-stream from its bytes', async () => {
		const document = await loadUrl(`${base}/brochure`, internal);
		expect(document.mimeType).toBe('application/pdf');
		expect(document.metadata.pageCount).toBe(3);
	});

	it('follows redirects within the cap and reports the final URL', async () => {
		const document = await loadUrl(`${base}/redirect-1`, internal);
		expect(document.sourceId).toBe(`${base}/redirect-1`);
		expect(document.title).toBe('Cold Brew at Home: A Complete Guide');
	});

	it('stops after maxRedirects', async () => {
		const message = await urlError(loadUrl(`${base}/loop`, { ...internal, maxRedirects: 3 }));
		expect(message).toBe(`${base}/loop redirected more than 3 times; open it in a browser to find its final address.`);
	});

	it('reports HTTP errors with the status', async () => {
		const message = await urlError(loadUrl(`${base}/missing`, internal));
		expect(message).toBe(`${base}/missing returned HTTP 404; check that the address is right and publicly reachable.`);
	});

	it('times out on slow headers and on a stalled body', async () => {
		let started = Date.now();
		const headers = await urlError(loadUrl(`${base}/slow-headers`, { ...internal, timeoutMs: 300 }));
		expect(headers).toBe(`${base}/slow-headers timed out after 0.3 s; the server is too slow or unreachable.`);
		expect(Date.now() - started).toBeLessThan(2000);
		started = Date.now();
		const body = await urlError(loadUrl(`${base}/slow-body`, { ...internal, timeoutMs: 300 }));
		expect(body).toBe(`${base}/slow-body timed out after 0.3 s; the server is too slow or unreachable.`);
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it('refuses bodies over maxBytes, declared or streamed', async () => {
		const declared = await urlError(loadUrl(`${base}/big-declared`, { ...internal, maxBytes: 1024 * 1024 }));
		expect(declared).toMatch(new RegExp(`^${base}/big-declared is larger than 1 MB \\(3 MB\\)`));
		const streamed = await urlError(loadUrl(`${base}/big-streamed`, { ...internal, maxBytes: 1024 * 1024 }));
		expect(streamed).toBe(
			`${base}/big-streamed is larger than 1 MB; the download limit has no option: download it with an HTTP Request node and ingest it with Source "File From Input" (up to 25 MB by default, more with its "Max File Size (MB)" option), or pick a smaller document.`,
		);
	});

	it('refuses content types that are not allowed, by header and by bytes', async () => {
		const image = await urlError(loadUrl(`${base}/logo.png`, internal));
		expect(image).toBe(`${base}/logo.png returned content type image/png, which is not allowed (allowed: html, text, markdown, pdf, docx, json, csv).`);
		const pdf = await urlError(loadUrl(`${base}/brochure`, { ...internal, allowedContentTypes: ['html'] }));
		expect(pdf).toBe(`${base}/brochure returned PDF, which is not allowed (allowed: html).`);
	});

	it('refuses loopback addresses unless the internal network is allowed', async () => {
		const requestsBefore = userAgents.length;
		const literal = await urlError(loadUrl(`${base}/page`));
		expect(literal).toBe(`${base}/page resolves to a loopback address 127.0.0.1; enable 'Allow Internal Network' to fetch it.`);
		// A host name goes through DNS: the check runs on the address actually connected to.
		const port = (server.address() as AddressInfo).port;
		const named = await urlError(loadUrl(`http://localhost:${port}/page`));
		expect(named).toMatch(new RegExp(`^http://localhost:${port}/page resolves to a loopback address (127\\.0\\.0\\.1|::1); enable 'Allow Internal Network' to fetch it\\.$`));
		const linkLocal = await urlError(loadUrl('http://169.254.1.1/'));
		expect(linkLocal).toBe("http://169.254.1.1/ resolves to a link-local address 169.254.1.1; enable 'Allow Internal Network' to fetch it.");
		expect(userAgents.length).toBe(requestsBefore);
	});

	describe('cloud metadata services', () => {
		const refusal = (url: string, address: string, service: string) =>
			`${url} leads to a cloud metadata service (${address}: ${service}), which hands out this server's credentials; ` +
			"'Allow Internal Network' does not open it. Enable 'Allow Cloud Metadata Addresses' only if reading it is intended.";
		const AWS_AND_OTHERS = 'AWS, Azure, Google Cloud, Oracle Cloud, DigitalOcean, OpenStack';
		/** [URL, the address or name as the message shows it, the service]. */
		const targets: Array<[string, string, string]> = [
			['http://169.254.169.254/latest/meta-data/iam/security-credentials/', '169.254.169.254', AWS_AND_OTHERS],
			['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254', 'AWS, IPv6'],
			['http://metadata.google.internal/computeMetadata/v1/', 'metadata.google.internal', 'Google Cloud'],
			['http://METADATA.google.internal./computeMetadata/v1/', 'metadata.google.internal.', 'Google Cloud'],
			['http://100.100.100.200/latest/meta-data/', '100.100.100.200', 'Alibaba Cloud'],
			['http://169.254.170.2/v2/credentials/', '169.254.170.2', 'AWS ECS task credentials'],
			// IPv4-mapped IPv6, as typed and as the URL parser writes it; and a number the parser turns into dotted form.
			['http://[::ffff:169.254.169.254]/latest/', '::ffff:a9fe:a9fe', AWS_AND_OTHERS],
			['http://[::ffff:a9fe:a9fe]/latest/', '::ffff:a9fe:a9fe', AWS_AND_OTHERS],
			['http://[::ffff:100.100.100.200]/', '::ffff:6464:64c8', 'Alibaba Cloud'],
			['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe', AWS_AND_OTHERS],
			['http://2852039166/latest/', '169.254.169.254', AWS_AND_OTHERS],
		];
		let lookup: jest.SpyInstance;
		beforeEach(() => {
			const realLookup = dns.lookup.bind(dns) as (...args: unknown[]) => void;
			// Stand-ins for DNS names an attacker controls, pointing at metadata services. "mixed" answers our local
			// server first: a connection, if allowed, goes there and never to the metadata address.
			const fakeRecords: Record<string, dns.LookupAddress[]> = {
				'imds.attacker.test': [{ address: '169.254.169.254', family: 4 }],
				'mapped.attacker.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
				'alibaba.attacker.test': [{ address: '100.100.100.200', family: 4 }],
				'mixed.attacker.test': [
					{ address: '127.0.0.1', family: 4 },
					{ address: '169.254.169.254', family: 4 },
				],
			};
			lookup = jest.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
				const records = fakeRecords[hostname];
				if (!records) return realLookup(hostname, options, callback);
				if (options.all) return process.nextTick(callback, null, records);
				return process.nextTick(callback, null, records[0].address, records[0].family);
			}) as unknown as typeof dns.lookup);
		});
		afterEach(() => lookup.mockRestore());

		it.each(targets)('refuses %s, with or without Allow Internal Network', async (url, address, service) => {
			const requestsBefore = userAgents.length;
			expect(await urlError(loadUrl(url))).toBe(refusal(new URL(url).href, address, service));
			expect(await urlError(loadUrl(url, internal))).toBe(refusal(new URL(url).href, address, service));
			expect(userAgents.length).toBe(requestsBefore);
		});

		it.each(targets)('refuses a redirect to %s with Allow Internal Network', async (url, address, service) => {
			const start = new URL(`${base}/redirect-to?url=${encodeURIComponent(url)}`).href;
			const requestsBefore = userAgents.length;
			expect(await urlError(loadUrl(start, internal))).toBe(refusal(`${new URL(url).href} (redirected from ${start})`, address, service));
			expect(userAgents.length).toBe(requestsBefore + 1);
		});

		it('refuses names that resolve to a metadata address, asked for directly or reached by a redirect', async () => {
			for (const [name, address, service] of [
				['imds.attacker.test', '169.254.169.254', AWS_AND_OTHERS],
				['mapped.attacker.test', '::ffff:169.254.169.254', AWS_AND_OTHERS],
				['alibaba.attacker.test', '100.100.100.200', 'Alibaba Cloud'],
			]) {
				const url = `http://${name}/latest/meta-data/`;
				expect(await urlError(loadUrl(url, internal))).toBe(refusal(url, address, service));
				const start = new URL(`${base}/redirect-to?url=${encodeURIComponent(url)}`).href;
				expect(await urlError(loadUrl(start, internal))).toBe(refusal(`${url} (redirected from ${start})`, address, service));
			}
			expect(lookup).toHaveBeenCalledWith('imds.attacker.test', expect.anything(), expect.any(Function));
		});

		it('lets a name with a metadata address through only with allowMetadataAddresses, which opens nothing else', async () => {
			const mixed = `http://mixed.attacker.test:${(server.address() as AddressInfo).port}/page`;
			expect(await urlError(loadUrl(mixed, internal))).toBe(refusal(mixed, '169.254.169.254', AWS_AND_OTHERS));
			const document = await loadUrl(mixed, { ...internal, allowMetadataAddresses: true });
			expect(document.title).toBe('Cold Brew at Home: A Complete Guide');
			expect(await urlError(loadUrl(`${base}/page`, { allowMetadataAddresses: true }))).toBe(
				`${base}/page resolves to a loopback address 127.0.0.1; enable 'Allow Internal Network' to fetch it.`,
			);
		});
	});

	it('refuses IPv6 loopback literals before connecting', async () => {
		const message = await urlError(loadUrl('http://[::1]:9/'));
		expect(message).toBe("http://[::1]:9/ resolves to a loopback address ::1; enable 'Allow Internal Network' to fetch it.");
	});

	it('rejects malformed URLs and non-HTTP schemes', async () => {
		expect(await urlError(loadUrl('not a url'))).toBe('"not a url" is not a valid URL; use a full address such as https://example.com/page.');
		expect(await urlError(loadUrl('file:///etc/passwd'))).toBe('file:///etc/passwd uses file; only http and https URLs can be fetched.');
	});

	it('keeps a malformed percent-encoding in the file name as written instead of failing', async () => {
		const document = await loadUrl(`${base}/%E0%A4%A`, internal);
		expect(document.text).toBe('A page whose name is a broken percent-encoding.');
		expect(document.title).toBe('%E0%A4%A');
	});

	describe('credentials in the URL', () => {
		const withCredentials = (url: string) => url.replace('http://', `http://${credentials}@`);
		beforeEach(() => {
			authorizations.length = 0;
			otherOriginAuthorizations.length = 0;
		});

		it('sends them as Basic authorization, keeps them out of sourceId and url, and across same-origin redirects', async () => {
			const document = await loadUrl(withCredentials(`${base}/private?ref=mail`), internal);
			expect(authorizations).toEqual([expectedAuthorization]);
			expect(document.sourceId).toBe(`${base}/private?ref=mail`);
			expect(JSON.stringify(document)).not.toContain('secret');
			const moved = await loadUrl(withCredentials(`${base}/private-moved`), internal);
			expect(moved.sourceId).toBe(`${base}/private-moved`);
			expect(authorizations).toEqual([expectedAuthorization, expectedAuthorization]);
		});

		it('does not forward them to another origin on a redirect', async () => {
			const document = await loadUrl(withCredentials(`${base}/to-other-origin`), internal);
			expect(document.text).toBe('Another origin.');
			expect(document.url).toBe(`${otherBase}/elsewhere`);
			expect(otherOriginAuthorizations).toEqual([undefined]);
		});

		it('never shows the password in error messages', async () => {
			const port = (server.address() as AddressInfo).port;
			const messages = [
				await urlError(loadUrl(withCredentials(`${base}/missing`), internal)),
				await urlError(loadUrl(withCredentials(`${base}/page`))),
				await urlError(loadUrl(withCredentials('http://127.0.0.1:1/gone'), internal)),
				await urlError(loadUrl(withCredentials(`${base}/loop`), { ...internal, maxRedirects: 1 })),
				await urlError(loadUrl(withCredentials(`${base}/logo.png`), internal)),
				await urlError(loadUrl(`http://${credentials}@127.0.0.1:${port}:bad/`)),
			];
			expect(messages[0]).toBe(`${base}/missing returned HTTP 404; check that the address is right and publicly reachable.`);
			expect(messages[2]).toMatch(/^http:\/\/127\.0\.0\.1:1\/gone .*ECONNREFUSED/);
			expect(messages[5]).toBe(`"http://127.0.0.1:${port}:bad/" is not a valid URL; use a full address such as https://example.com/page.`);
			for (const message of messages) expect(message).not.toMatch(/secret|user:/);
		});
	});

	it('stops when the caller cancels', async () => {
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 100);
		const message = await urlError(loadUrl(`${base}/slow-headers`, { ...internal, signal: controller.signal }));
		expect(message).toBe(`Fetching ${base}/slow-headers was cancelled.`);
	});
});

describe('loadSitemapUrls', () => {
	it('lists a urlset, deduplicated, in order', async () => {
		expect(await loadSitemapUrls(`${base}/sitemap.xml`, { ...internal, maxPages: 100 })).toEqual([`${base}/a`, `${base}/b`, `${base}/c`]);
	});

	it('walks a sitemap index with gzip children and nested indexes, each sitemap once', async () => {
		const pages = await loadSitemapUrls(`${base}/sitemap_index.xml`, { ...internal, maxPages: 100 });
		expect(pages).toEqual([`${base}/post-1`, `${base}/post-2`, `${base}/about`, `${base}/contact`, `${base}/deep`]);
	});

	it('stops at maxPages', async () => {
		expect(await loadSitemapUrls(`${base}/sitemap_index.xml`, { ...internal, maxPages: 3 })).toEqual([`${base}/post-1`, `${base}/post-2`, `${base}/about`]);
	});

	it('reads plain-text sitemaps', async () => {
		expect(await loadSitemapUrls(`${base}/sitemap.txt`, { ...internal, maxPages: 10 })).toEqual([`${base}/x`, `${base}/y`]);
	});

	it('explains what is wrong with a document that is not a sitemap, or a missing one', async () => {
		expect(await urlError(loadSitemapUrls(`${base}/not-a-sitemap.xml`, { ...internal, maxPages: 10 }))).toBe(
			`${base}/not-a-sitemap.xml is not a sitemap: it has neither <urlset> nor <sitemapindex>.`,
		);
		expect(await urlError(loadSitemapUrls(`${base}/nope.xml`, { ...internal, maxPages: 10 }))).toMatch(/returned HTTP 404/);
	});

	describe('reporting what is left out', () => {
		const report = async (path: string, options: { maxPages: number; maxSitemaps?: number }) => {
			const skipped = new SkipReport();
			const pages = await loadSitemapUrls(`${base}${path}`, { ...internal, ...options, skipped });
			return { pages, skipped: skipped.list(), summary: skipped.summary() };
		};

		it('counts every page beyond Max Pages, with examples and the value that includes them all', async () => {
			const { pages, skipped, summary } = await report('/sitemap-115.xml', { maxPages: 50 });
			expect(pages).toHaveLength(50);
			expect(pages[49]).toBe(`${base}/p/50`);
			expect(skipped).toEqual([
				{
					count: 65,
					reason: 'beyond Max Pages 50',
					advice: 'Raise "Max Pages" to 115 to include them',
					examples: [51, 52, 53, 54, 55].map((page) => `${base}/p/${page}`),
				},
			]);
			expect(summary).toBe('65 pages skipped (beyond Max Pages 50) — raise "Max Pages" to 115 to include them');
		});

		it('reports nothing when everything fits', async () => {
			const { pages, skipped, summary } = await report('/sitemap-115.xml', { maxPages: 115 });
			expect(pages).toHaveLength(115);
			expect(skipped).toEqual([]);
			expect(summary).toBe('');
		});

		it('keeps reading nested sitemaps after the limit to count their pages, and reports URLs listed twice', async () => {
			const { pages, skipped } = await report('/sitemap_index.xml', { maxPages: 3 });
			expect(pages).toEqual([`${base}/post-1`, `${base}/post-2`, `${base}/about`]);
			expect(skipped).toEqual([
				{ count: 2, reason: 'beyond Max Pages 3', advice: 'Raise "Max Pages" to 5 to include them', examples: [`${base}/contact`, `${base}/deep`] },
				{ count: 1, reason: 'listed more than once in the sitemap', advice: 'Nothing to do: each page is ingested once', examples: [`${base}/post-1`] },
			]);
		});

		it('reports entries that are not http(s) addresses, in XML and plain-text sitemaps', async () => {
			const messy = await report('/sitemap-messy.xml', { maxPages: 10 });
			expect(messy.pages).toEqual([`${base}/a`, `${base}/b`]);
			expect(messy.skipped).toEqual([
				expect.objectContaining({ count: 1, reason: 'listed more than once in the sitemap' }),
				{
					count: 3,
					reason: 'not a full http(s) address',
					advice: 'Correct them in the sitemap: each entry must be a full address starting with http:// or https://',
					examples: ['/relative/page', '(empty <loc>)', 'ftp://example.com/file'],
				},
			]);
			const junk = await report('/sitemap-junk.txt', { maxPages: 10 });
			expect(junk.pages).toEqual([`${base}/x`, `${base}/y`]);
			expect(junk.summary).toBe(
				'1 entry skipped (not a full http(s) address) — correct them in the sitemap: each entry must be a full address starting with http:// or https://',
			);
		});

		it('reports nested sitemaps beyond maxSitemaps, and counts Max Pages as a lower bound then', async () => {
			const { pages, skipped } = await report('/sitemap_index.xml', { maxPages: 1, maxSitemaps: 2 });
			expect(pages).toEqual([`${base}/post-1`]);
			expect(skipped).toEqual([
				{ count: 1, reason: 'beyond Max Pages 1', advice: 'Raise "Max Pages" to at least 2 to include them', examples: [`${base}/post-2`] },
				{
					count: 2,
					reason: 'beyond the limit of 2 sitemap files read per run; their pages are not counted',
					advice: 'This limit has no option: ingest these sitemaps separately, each as the "Sitemap URL" of its own item',
					examples: [`${base}/sitemap-pages.xml.gz`, `${base}/nested-index.xml`],
				},
			]);
		});

		it('reports a nested sitemap that cannot be read instead of failing the walk (without a report, it fails)', async () => {
			const { pages, skipped } = await report('/index-broken.xml', { maxPages: 10 });
			expect(pages).toEqual([`${base}/post-1`, `${base}/post-2`]);
			expect(skipped).toEqual([
				{
					count: 1,
					reason: 'nested sitemap could not be read; its pages are not counted',
					advice: expect.stringMatching(/^Check the sitemap address \(first error: .*returned HTTP 404/),
					examples: [`${base}/missing-sitemap.xml`],
				},
			]);
			expect(await urlError(loadSitemapUrls(`${base}/index-broken.xml`, { ...internal, maxPages: 10 }))).toMatch(/missing-sitemap\.xml returned HTTP 404/);
		});

		it('still fails when the sitemap asked for cannot be read', async () => {
			const skipped = new SkipReport();
			expect(await urlError(loadSitemapUrls(`${base}/nope.xml`, { ...internal, maxPages: 10, skipped }))).toMatch(/returned HTTP 404/);
		});
	});

	it('applies the internal-network guard to sitemaps too', async () => {
		expect(await urlError(loadSitemapUrls(`${base}/sitemap.xml`, { maxPages: 10 }))).toMatch(/resolves to a loopback address 127\.0\.0\.1/);
	});
});
