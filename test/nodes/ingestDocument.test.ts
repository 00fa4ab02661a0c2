import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IBinaryData, IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { minimalPdf, oleFile } from '../loaders/badFileBuilders';
import { linearWorkflow, runWorkflow, type TestNode } from '../support/n8nHarness';
import { nodeTypes, useKnowledgeBaseFixture } from './knowledgeBaseNodes';

const kb = useKnowledgeBaseFixture();

const notes = [
	{
		id: 1,
		title: 'Winter boots',
		note: '# Winter boots\n\nOur Alpine boots are waterproof and lined with wool for snowy winter hikes.',
	},
	{
		id: 2,
		title: 'Summer sandals',
		note: '# Summer sandals\n\nLight leather sandals for beach holidays, with a cork sole.',
	},
	{
		id: 3,
		title: 'Return policy',
		note: '# Returns\n\nCustomers may return unworn shoes within 30 days for a full refund.',
	},
];
const noteItems = (list = notes): INodeExecutionData[] => list.map((json) => ({ json }));

const textParameters = (namespace: string) => ({
	operation: 'ingest',
	source: 'text',
	text: '={{ $json.note }}',
	sourceId: '={{ "note-" + $json.id }}',
	title: '={{ $json.title }}',
	namespace,
	metadata: {
		values: [
			{ key: 'client', value: 'acme' },
			{ key: 'year', value: '2024' },
		],
	},
});
const ingestText = (namespace: string, extra?: Partial<TestNode>) =>
	kb.ingestNode(textParameters(namespace), extra);

const run = kb.run;

const search = (namespace: string, query: string) =>
	run(
		kb.searchNode({
			operation: 'search',
			query,
			mode: 'hybrid',
			topK: 3,
			output: 'perHit',
			namespace,
		}),
	);

describe('Ingest Document node (n8n engine, LanceDB, OpenAI-compatible test server)', () => {
	beforeEach(() => kb.server.reset());

	it("takes the embedding request limits from the Model credential (texts, requests in flight)", async () => {
		const many = Array.from({ length: 9 }, (_, index) => ({ id: 100 + index, title: `Note ${index}`, note: `Distinct note number ${index} about topic ${index * 7}` }));
		kb.server.embeddingLatencyMs = 30;
		const result = await runWorkflow(linearWorkflow(ingestText('limits')), {
			nodeTypes,
			credentials: { symbioticModelApi: { ...kb.modelCredentials.symbioticModelApi, embeddingBatchSize: 2, embeddingConcurrency: 1 } },
			inputItems: noteItems(many),
		});
		expect(result.error).toBeUndefined();
		const requests = kb.server.requestsTo('/embeddings');
		expect(requests.map((request) => (request.body?.input as string[]).length)).toEqual([2, 2, 2, 2, 1]);
		expect(kb.server.maxInFlight).toBe(1);
	});

	it('refuses a cloud metadata address even with Allow Internal Network, naming the option that opens it', async () => {
		const node = kb.ingestNode({ operation: 'ingest', source: 'url', urls: 'http://169.254.169.254/latest/meta-data/', namespace: 'metadata', options: { allowInternalNetwork: true } });
		const result = await run(node, [{ json: {} }]);
		expect(result.error?.message).toMatch(/cloud metadata service.*'Allow Internal Network' does not open it.*'Allow Cloud Metadata Addresses'/);
	});

	it('ingests text items into a store that Vector Search then finds them in', async () => {
		const ingest = await run(ingestText('shop'), noteItems());
		expect(ingest.error).toBeUndefined();
		expect(ingest.items).toMatchObject([
			{
				sourceId: 'note-1',
				title: 'Winter boots',
				status: 'created',
				chunks: 1,
				embedded: 1,
				namespace: 'shop',
			},
			{ sourceId: 'note-2', status: 'created', embedded: 1 },
			{ sourceId: 'note-3', status: 'created', embedded: 1 },
		]);
		expect(kb.server.count('/embeddings')).toBeGreaterThan(0);

		const found = await search('shop', 'waterproof winter boots for snow');
		expect(found.error).toBeUndefined();
		expect(found.items[0]).toMatchObject({
			citation: '[1]',
			sourceId: 'note-1',
			title: 'Winter boots',
		});
		expect((found.items[0].metadata as IDataObject).extra).toEqual({ client: 'acme', year: 2024 });
	});

	it('re-ingesting unchanged documents sends zero embedding requests; a changed one is updated', async () => {
		await run(ingestText('rerun'), noteItems());
		kb.server.reset();

		const again = await run(ingestText('rerun'), noteItems());
		expect(again.items.map((item) => item.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
		expect(kb.server.count('/embeddings')).toBe(0);

		const changed = [
			{ ...notes[0], note: `${notes[0].note}\n\nNow also in red.` },
			notes[1],
			notes[2],
		];
		const update = await run(ingestText('rerun'), noteItems(changed));
		expect(update.items.map((item) => item.status)).toEqual(['updated', 'unchanged', 'unchanged']);
		expect(update.items[0]).toMatchObject({ embedded: 1, deleted: 1 });
	});

	it('stops on an item with empty text, naming the parameter and the item', async () => {
		const items = noteItems([notes[0], { id: 9, title: 'Empty', note: '   ' }, notes[2]]);
		const failed = await run(ingestText('strict'), items);
		expect(failed.error?.message).toContain('"note-9" is empty');
		expect(failed.error?.description).toBe('Check the "Text" parameter of item 2.');
		expect(failed.run.status).toBe('error');
	});

	it('with On Error: Continue, reports the bad item and ingests the others', async () => {
		const items = noteItems([notes[0], { id: 9, title: 'Empty', note: '' }, notes[2]]);
		const result = await run(ingestText('lenient', { onError: 'continueRegularOutput' }), items);
		expect(result.error).toBeUndefined();
		expect(result.items).toMatchObject([
			{ sourceId: 'note-1', status: 'created' },
			{
				error: expect.stringContaining('"note-9" is empty'),
				description: 'Check the "Text" parameter of item 2.',
			},
			{ sourceId: 'note-3', status: 'created' },
		]);
		const pairing = result.outputs['Ingest Document'][0].map((item) => item.pairedItem);
		expect(pairing).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	describe('many items in one execution', () => {
		const products = Array.from({ length: 50 }, (_, index) => ({
			id: index + 1,
			title: `Product ${index + 1}`,
			note: `# Product ${index + 1}\n\nModel ${index + 1} of our trail shoe, colour code c${index + 1}.`,
			segment: index % 2 === 0 ? 'outdoor' : 'city',
		}));
		// Each item carries its own metadata through an expression, so one run mixes different labels.
		const catalogNode = (namespace: string, extra?: Partial<TestNode>) =>
			kb.ingestNode(
				{
					...textParameters(namespace),
					metadata: { values: [{ key: 'segment', value: '={{ $json.segment }}' }] },
				},
				extra,
			);

		it('embeds the documents of all items together: 50 items cost one request, a re-run none', async () => {
			const first = await run(catalogNode('bulk'), noteItems(products));
			expect(first.error).toBeUndefined();
			expect(first.items).toHaveLength(50);
			expect(first.items.every((item) => item.status === 'created')).toBe(true);
			const firstRequests = kb.server.count('/embeddings');
			expect(firstRequests).toBeLessThanOrEqual(2);
			const pairing = first.outputs['Ingest Document'][0].map((item) => item.pairedItem);
			expect(pairing).toEqual(products.map((_, index) => ({ item: index })));
			expect(first.items[7]).toMatchObject({ sourceId: 'note-8', title: 'Product 8' });

			kb.server.reset();
			const again = await run(catalogNode('bulk'), noteItems(products));
			expect(again.items.every((item) => item.status === 'unchanged')).toBe(true);
			expect(kb.server.count('/embeddings')).toBe(0);

			// Every document kept the metadata of its own item.
			const outdoor = await run(
				kb.searchNode({
					operation: 'search',
					query: 'trail shoe colour code',
					mode: 'keyword',
					topK: 50,
					output: 'perHit',
					namespace: 'bulk',
					filters: { conditions: [{ key: 'segment', op: 'eq', value: 'outdoor' }] },
				}),
			);
			expect(outdoor.items.map((item) => item.sourceId).sort()).toEqual(
				products
					.filter((product) => product.segment === 'outdoor')
					.map((product) => `note-${product.id}`)
					.sort(),
			);
			console.log(`50 text items: ${firstRequests} embedding request(s); unchanged re-run: 0`);
		});

		it('with On Error: Continue, a failing item becomes an error item in its place; the others are stored', async () => {
			const withEmptyNote = products.map((product) =>
				product.id === 18 ? { ...product, note: ' ' } : product,
			);
			const lenient = catalogNode('bulk-lenient', { onError: 'continueRegularOutput' });
			const result = await run(lenient, noteItems(withEmptyNote));
			expect(result.error).toBeUndefined();
			expect(result.items).toHaveLength(50);
			expect(result.items[17]).toEqual({
				error: expect.stringContaining('"note-18" is empty'),
				description: 'Check the "Text" parameter of item 18.',
			});
			const stored = result.items.filter((item) => item.status === 'created');
			expect(stored).toHaveLength(49);
			expect(kb.server.count('/embeddings')).toBeLessThanOrEqual(2);
			const pairing = result.outputs['Ingest Document'][0].map((item) => item.pairedItem);
			expect(pairing).toEqual(products.map((_, index) => ({ item: index })));

			const listed = await run(
				kb.ingestNode({ operation: 'listSources', returnAll: true, namespace: 'bulk-lenient' }),
			);
			expect(listed.items).toHaveLength(49);
			expect(listed.items.map((item) => item.sourceId)).not.toContain('note-18');
		});

		it('two items with the same source ID in one run behave as if run one after the other', async () => {
			const items = noteItems([
				notes[0],
				{ ...notes[0], note: `${notes[0].note}\n\nNow also in red.` },
			]);
			const result = await run(ingestText('same-source'), items);
			expect(result.items).toMatchObject([
				{ sourceId: 'note-1', status: 'created' },
				{ sourceId: 'note-1', status: 'updated', deleted: 1 },
			]);
			const found = await search('same-source', 'alpine boots red');
			expect(found.items).toHaveLength(1);
			expect(found.items[0].text).toContain('Now also in red.');
		});
	});

	it('without a model credential stores documents for keyword search, with no embedding request', async () => {
		const keywordOnly = kb.ingestNode({
			...textParameters('keywords'),
			collection: 'keyword-only',
		});
		const result = await run(keywordOnly, noteItems(), false);
		expect(result.items.map((item) => [item.status, item.embedded])).toEqual([
			['created', 0],
			['created', 0],
			['created', 0],
		]);
		expect(kb.server.count()).toBe(0);
	});

	it('refuses keyword-only documents in a collection of vectors, saying what to do', async () => {
		await run(ingestText('mixed'), noteItems([notes[0]]));
		const result = await run(ingestText('mixed'), noteItems([notes[1]]), false);
		expect(result.error?.message).toContain('no embedding model is configured');
		expect(result.error?.message).toContain('ingest into a new collection');
	});

	it('ingests a file from a binary field, named after the file', async () => {
		const markdown = '# Price list\n\n- Alpine boots: 189 EUR\n- Beach sandals: 49 EUR\n';
		const item: INodeExecutionData = {
			json: {},
			binary: {
				data: {
					data: Buffer.from(markdown).toString('base64'),
					mimeType: 'text/markdown',
					fileName: 'prices.md',
				},
			},
		};
		const result = await run(
			kb.ingestNode({ operation: 'ingest', source: 'binary', namespace: 'files' }),
			[item],
		);
		expect(result.error).toBeUndefined();
		expect(result.items).toMatchObject([{ sourceId: 'prices.md', status: 'created', chunks: 1 }]);

		const missing = await run(
			kb.ingestNode({
				operation: 'ingest',
				source: 'binary',
				binaryPropertyName: 'attachment',
				namespace: 'files',
			}),
			[item],
		);
		expect(missing.error?.message).toMatch(/attachment/);
	});

	it('reports CSV rows it leaves out (no values, values beyond the header) on the file\'s first output item', async () => {
		const csv = 'name,city\nAda,London\n,\nBob,Paris,France\n';
		const item: INodeExecutionData = {
			json: {},
			binary: { data: { data: Buffer.from(csv).toString('base64'), mimeType: 'text/csv', fileName: 'people.csv' } },
		};
		const result = await run(kb.ingestNode({ operation: 'ingest', source: 'binary', namespace: 'csv-rows' }), [item]);
		expect(result.error).toBeUndefined();
		expect(result.items.map((each) => each.sourceId)).toEqual(['people.csv#1', 'people.csv#3']);
		expect(result.items[0].skipped).toEqual([
			expect.objectContaining({ count: 1, reason: "values beyond the header's 2 columns left out", examples: ['people.csv#3'] }),
			expect.objectContaining({ count: 1, reason: 'no text extracted', examples: ['people.csv#2'] }),
		]);
		expect(result.items[0].skippedSummary).toMatch(/^1 row cut \(values beyond .*; 1 row skipped \(no text extracted\)/);
		expect(result.items[1]).toMatchObject({ skipped: [], skippedSummary: '' });
	});

	describe('files that are bad or hard to read', () => {
		const fileItem = (data: Buffer, fileName: string, mimeType: string): INodeExecutionData => ({
			json: {},
			binary: { data: { data: data.toString('base64'), mimeType, fileName } },
		});
		const goodFile = (fileName: string, text: string) => fileItem(Buffer.from(text), fileName, 'text/markdown');
		const fileNode = (namespace: string, options: INodeParameters = {}, extra?: Partial<TestNode>) =>
			kb.ingestNode({ operation: 'ingest', source: 'binary', namespace, options }, extra);

		it('puts a warning on the output item of a PDF with very little text, and no warnings field on the others', async () => {
			const result = await run(fileNode('scans'), [
				fileItem(minimalPdf(['Scan01']), 'scan.pdf', 'application/pdf'),
				goodFile('prices.md', '# Price list\n\n- Alpine boots: 189 EUR'),
			]);
			expect(result.error).toBeUndefined();
			expect(result.items[0]).toMatchObject({ sourceId: 'scan.pdf', status: 'created' });
			expect(result.items[0].warnings).toEqual([
				'"scan.pdf" has very little text (6 characters on 1 page): is it a scanned document (pictures of text)? ' +
					'Then run it through OCR first (for example with OCRmyPDF) and ingest the result; until then, searches will hardly find it.',
			]);
			expect(result.items[1]).toMatchObject({ sourceId: 'prices.md', status: 'created' });
			expect(result.items[1]).not.toHaveProperty('warnings');
		});

		it('with On Error: Continue, a bad file becomes an error item naming the file, its binary field and item; the good files are stored', async () => {
			const encrypted = oleFile(['Root Entry', 'EncryptionInfo', 'EncryptedPackage']);
			const items = [
				goodFile('boots.md', '# Boots\n\nAlpine boots are waterproof.'),
				fileItem(encrypted, 'contract.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'),
				goodFile('sandals.md', '# Sandals\n\nBeach sandals with a cork sole.'),
			];
			const result = await run(fileNode('bad-files', {}, { onError: 'continueRegularOutput' }), items);
			expect(result.error).toBeUndefined();
			expect(result.items).toEqual([
				expect.objectContaining({ sourceId: 'boots.md', status: 'created' }),
				{
					error:
						'"contract.docx" is password-protected (an encrypted Word, Excel or PowerPoint file), so it cannot be read. Open it, ' +
						'remove the password (File → Info → Protect Document → Encrypt with Password, then clear the password) and save it again.',
					description: 'Check the file in the binary field "data" of item 2.',
				},
				expect.objectContaining({ sourceId: 'sandals.md', status: 'created' }),
			]);
			const pairing = result.outputs['Ingest Document'][0].map((item) => item.pairedItem);
			expect(pairing).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		});

		it('refuses a file above "Max File Size (MB)", naming that option', async () => {
			const big = goodFile('big.md', `# Big\n\n${'word '.repeat(300_000)}`);
			const result = await run(fileNode('big-files', { maxFileSize: 1 }), [big]);
			expect(result.error?.message).toBe(
				'"big.md" is 1.4 MB, larger than the 1 MB limit; split it into smaller files, or raise "Max File Size (MB)" under Options.',
			);
			expect(result.error?.description).toBe('Check the file in the binary field "data" of item 1.');
		});
	});

	describe('files without a file name (an HTTP Request download)', () => {
		const download = (text: string, json: IDataObject = {}): INodeExecutionData => ({
			json,
			binary: { data: { data: Buffer.from(text).toString('base64'), mimeType: 'text/plain' } },
		});
		const files = [
			download('Spring catalogue: light trail shoes in three colours.', { doc: 'catalogue-spring' }),
			download('Autumn catalogue: insulated boots for wet weather.', { doc: 'catalogue-autumn' }),
		];
		const listSources = async (namespace: string) =>
			(await run(kb.ingestNode({ operation: 'listSources', returnAll: true, namespace }))).items
				.map((item) => item.sourceId)
				.sort();

		it('are identified by a hash of their content, so one does not replace the other', async () => {
			const result = await run(
				kb.ingestNode({ operation: 'ingest', source: 'binary', namespace: 'downloads' }),
				files,
			);
			expect(result.error).toBeUndefined();
			const ids = result.items.map((item) => item.sourceId);
			expect(ids).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{16}$/), expect.stringMatching(/^sha256:[0-9a-f]{16}$/)]);
			expect(ids[0]).not.toBe(ids[1]);
			expect(await listSources('downloads')).toEqual([...ids].sort());
		});

		it('take the Source ID parameter when it is set', async () => {
			const node = (namespace: string, binaryPropertyName = 'data') =>
				kb.ingestNode({
					operation: 'ingest',
					source: 'binary',
					binaryPropertyName,
					fileSourceId: '={{ $json.doc }}',
					namespace,
				});
			const result = await run(node('named-downloads'), files);
			expect(result.items).toMatchObject([
				{ sourceId: 'catalogue-spring', status: 'created' },
				{ sourceId: 'catalogue-autumn', status: 'created' },
			]);
			const twoFields: INodeExecutionData = {
				json: { doc: 'mail-42' },
				binary: { ...files[0].binary, attachment: files[1].binary?.data as IBinaryData },
			};
			const several = await run(node('named-attachments', 'data, attachment'), [twoFields]);
			expect(several.items.map((item) => item.sourceId)).toEqual(['mail-42/data', 'mail-42/attachment']);
		});
	});

	it('lists the sources of a namespace and deletes one', async () => {
		await run(ingestText('catalog'), noteItems());
		const listNode = kb.ingestNode({
			operation: 'listSources',
			returnAll: true,
			namespace: 'catalog',
		});
		const listed = await run(listNode);
		expect(listed.items.map((item) => item.sourceId).sort()).toEqual([
			'note-1',
			'note-2',
			'note-3',
		]);
		expect(listed.items[0]).toMatchObject({ chunks: 1, namespace: 'catalog' });

		const limited = await run(
			kb.ingestNode({ operation: 'listSources', returnAll: false, limit: 2, namespace: 'catalog' }),
		);
		expect(limited.items).toHaveLength(2);

		const deleted = await run(
			kb.ingestNode({ operation: 'deleteSource', sourceId: 'note-2', namespace: 'catalog' }),
		);
		expect(deleted.items).toEqual([{ sourceId: 'note-2', deleted: 1, namespace: 'catalog' }]);
		const after = await run(listNode);
		expect(after.items.map((item) => item.sourceId).sort()).toEqual(['note-1', 'note-3']);
		const found = await search('catalog', 'leather sandals beach cork');
		expect(found.items.map((item) => item.sourceId)).not.toContain('note-2');
	});

	it('keeps namespaces apart', async () => {
		await run(ingestText('client-a'), noteItems([notes[0]]));
		const other = await search('client-b', 'waterproof winter boots');
		expect(other.error).toBeUndefined();
		expect(other.items).toEqual([]);
	});

	it('stops promptly when the execution is cancelled while embedding, writing nothing', async () => {
		kb.server.delayNext(1, 20_000, { path: '/embeddings' });
		const stop = new AbortController();
		setTimeout(() => stop.abort(), 300);
		const startedAt = Date.now();
		const result = await runWorkflow(linearWorkflow(ingestText('cancelled')), {
			nodeTypes,
			credentials: kb.modelCredentials,
			inputItems: noteItems([notes[0]]),
			signal: stop.signal,
		});
		expect(result.run.status).toBe('canceled');
		expect(Date.now() - startedAt).toBeLessThan(5_000);
		const listed = await run(
			kb.ingestNode({ operation: 'listSources', returnAll: true, namespace: 'cancelled' }),
		);
		expect(listed.items).toEqual([]);
	});

	describe('web pages and sitemaps', () => {
		let server: Server;
		let base: string;
		// Nothing listens on port 1. (A 404 page would be the natural case, but lib/loaders/url.ts currently
		// crashes the process on any non-2xx answer with a body: undici emits an unhandled 'error' on destroy.)
		const unreachable = 'http://127.0.0.1:1/gone';
		const shopPages = Array.from({ length: 8 }, (_, index) => `/shop/${index + 1}`);
		beforeAll(async () => {
			server = createServer((request, response) => {
				const pages: Record<string, string> = {
					'/boots':
						'<html><head><title>Boots</title></head><body><main><h1>Boots</h1><p>Alpine boots keep feet dry in deep snow.</p></main></body></html>',
					'/sandals':
						'<html><head><title>Sandals</title></head><body><main><h1>Sandals</h1><p>Cork sandals for hot summer days.</p></main></body></html>',
					'/wiki/Washington,_D.C.':
						'<html><head><title>Washington, D.C.</title></head><body><main><h1>Washington, D.C.</h1><p>The capital city on the Potomac river.</p></main></body></html>',
					'/items?ids=1,2':
						'<html><head><title>Items</title></head><body><main><h1>Items 1 and 2</h1><p>Two products compared side by side.</p></main></body></html>',
					'/sitemap.xml': `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${base}/boots</loc></url><url><loc>${base}/sandals</loc></url><url><loc>${unreachable}</loc></url></urlset>`,
					'/shop-sitemap.xml': `<?xml version="1.0"?><urlset>${shopPages.map((page) => `<url><loc>${base}${page}</loc></url>`).join('')}</urlset>`,
					'/empty-sitemap.xml': '<?xml version="1.0"?><urlset><url><loc>/relative</loc></url></urlset>',
					...Object.fromEntries(
						shopPages.map((page, index) => [
							page,
							`<html><head><title>Shoe ${index + 1}</title></head><body><main><h1>Shoe ${index + 1}</h1><p>Trail shoe model ${index + 1}, light and waterproof.</p></main></body></html>`,
						]),
					),
				};
				const body = pages[request.url ?? ''];
				const type = request.url?.endsWith('.xml') ? 'application/xml' : 'text/html';
				response.writeHead(body ? 200 : 404, { 'content-type': type }).end(body ?? 'not found');
			});
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		});
		afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

		const sitemapNode = (options: INodeParameters) =>
			kb.ingestNode({
				operation: 'ingest',
				source: 'sitemap',
				sitemapUrl: `${base}/sitemap.xml`,
				maxPages: 10,
				namespace: 'web',
				options,
			});

		it('refuses local addresses unless Allow Internal Network is on', async () => {
			const refused = await run(sitemapNode({}));
			expect(refused.error?.message).toContain("enable 'Allow Internal Network'");
			expect(refused.error?.description).toBe('Check the "Sitemap URL" parameter of item 1.');
		});

		it('ingests every page of a sitemap and reports the page that failed', async () => {
			const result = await run(sitemapNode({ allowInternalNetwork: true }));
			expect(result.error).toBeUndefined();
			const byUrl = Object.fromEntries(result.items.map((item) => [item.sourceId, item]));
			expect(byUrl[`${base}/boots`]).toMatchObject({ status: 'created', title: 'Boots' });
			expect(byUrl[`${base}/sandals`]).toMatchObject({ status: 'created' });
			expect(byUrl[unreachable]).toMatchObject({
				status: 'failed',
				error: expect.stringContaining('ECONNREFUSED'),
			});
		});

		it('says how many sitemap pages Max Pages left out and how to include them, on the first output item', async () => {
			const shop = kb.ingestNode({
				operation: 'ingest',
				source: 'sitemap',
				sitemapUrl: `${base}/shop-sitemap.xml`,
				maxPages: 5,
				namespace: 'web-shop',
				options: { allowInternalNetwork: true },
			});
			const result = await run(shop);
			expect(result.error).toBeUndefined();
			expect(result.items).toHaveLength(5);
			expect(result.items.every((item) => item.status === 'created')).toBe(true);
			const expectedReport = {
				skipped: [
					{
						count: 3,
						reason: 'beyond Max Pages 5',
						advice: 'Raise "Max Pages" to 8 to include them',
						examples: [`${base}/shop/6`, `${base}/shop/7`, `${base}/shop/8`],
					},
				],
				skippedSummary: '3 pages skipped (beyond Max Pages 5) — raise "Max Pages" to 8 to include them',
			};
			expect(result.items[0]).toMatchObject(expectedReport);
			// Reported once per source, so adding up over all items counts each skipped page once.
			for (const item of result.items.slice(1)) expect(item).toMatchObject({ skipped: [], skippedSummary: '' });

			// The report is no part of the documents: an unchanged re-run still costs nothing, and still reports.
			kb.server.reset();
			const again = await run(shop);
			expect(again.items.map((item) => item.status)).toEqual(Array(5).fill('unchanged'));
			expect(kb.server.count('/embeddings')).toBe(0);
			expect(again.items[0]).toMatchObject(expectedReport);

			const all = await run({ ...shop, parameters: { ...shop.parameters, maxPages: 8 } });
			expect(all.items.map((item) => item.status)).toEqual([...Array(5).fill('unchanged'), 'created', 'created', 'created']);
			expect(all.items[0]).toMatchObject({ skipped: [], skippedSummary: '' });
		});

		it('fails a sitemap that lists no page it can ingest, saying why', async () => {
			const result = await run(
				kb.ingestNode({
					operation: 'ingest',
					source: 'sitemap',
					sitemapUrl: `${base}/empty-sitemap.xml`,
					maxPages: 5,
					namespace: 'web-empty',
					options: { allowInternalNetwork: true },
				}),
			);
			expect(result.error?.message).toBe(
				`Sitemap ${base}/empty-sitemap.xml lists no pages to ingest: 1 entry skipped (not a full http(s) address) — correct them in the sitemap: each entry must be a full address starting with http:// or https://.`,
			);
			expect(result.error?.description).toBe('Check the "Sitemap URL" parameter of item 1.');
		});

		it('splits URLs on new lines and spaces, not on the commas inside them, and hides URL passwords', async () => {
			const hidden = 'http://user:secretpw@127.0.0.1:1/gone';
			const result = await run(
				kb.ingestNode({
					operation: 'ingest',
					source: 'url',
					urls: `${base}/wiki/Washington,_D.C.\n  ${base}/items?ids=1,2 ${hidden}\n`,
					namespace: 'web-commas',
					options: { allowInternalNetwork: true },
				}),
			);
			expect(result.error).toBeUndefined();
			expect(result.items).toMatchObject([
				{ sourceId: `${base}/wiki/Washington,_D.C.`, status: 'created', title: 'Washington, D.C.' },
				{ sourceId: `${base}/items?ids=1,2`, status: 'created', title: 'Items' },
				{ sourceId: unreachable, status: 'failed', error: expect.stringContaining('ECONNREFUSED') },
			]);
			expect(JSON.stringify(result.items)).not.toContain('secretpw');
		});

		it('fails the item when its only URL cannot be loaded', async () => {
			const result = await run(
				kb.ingestNode({
					operation: 'ingest',
					source: 'url',
					urls: unreachable,
					namespace: 'web',
					options: { allowInternalNetwork: true },
				}),
			);
			expect(result.error?.message).toContain('ECONNREFUSED');
			expect(result.error?.description).toBe('Check the "URLs" parameter of item 1.');
		});
	});
});
