import type { INodeExecutionData } from 'n8n-workflow';

import { Generate } from '../../nodes/Generate/Generate.node';
import { linearWorkflow, runWorkflow, type TestNode } from '../support/n8nHarness';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

const API_KEY = 'sk-node-test';
let server: OpenAITestServer;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const GENERATE_TYPE = 'n8n-nodes-symbiotic.generate';
const run = (node: Partial<TestNode>, inputItems: INodeExecutionData[]) =>
	runWorkflow(linearWorkflow({ name: 'Generate', type: GENERATE_TYPE, ...node }), {
		nodeTypes: { [GENERATE_TYPE]: new Generate() },
		credentials: { symbioticModelApi: { baseUrl: server.url, apiKey: API_KEY, chatModel: 'test-chat', embeddingModel: 'test-embedding' } },
		inputItems,
	});

/** An item as Vector Search (one item per query) outputs it, plus the Memory Store messages. */
const searchItem = {
	query: 'Is shipping free?',
	count: 2,
	hits: [
		{ citation: '[1]', index: 1, text: 'Shipping is free above 50 EUR.', score: 0.9, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping' },
		{ citation: '[2]', index: 2, text: 'Gift cards are sold in stores.', score: 0.3, sourceId: 'kb/gift.md', title: 'Gift cards' },
	],
	messages: [
		{ role: 'user', content: 'I am ordering boots.', at: '2025-01-01T10:00:00Z' },
		{ role: 'assistant', content: 'Great choice!', at: '2025-01-01T10:00:05Z' },
	],
};

describe('Generate node', () => {
	it('answers from the Vector Search hits with history and returns mapped citations', async () => {
		server.queueChatReplies('Yes, above 50 EUR [1]. Also free on the moon [5].');
		const result = await run(
			{
				parameters: {
					prompt: '={{ $json.query }}',
					instructions: 'Be brief.',
					options: { history: '={{ $json.messages }}', language: 'English', maxOutputTokens: 300 },
				},
			},
			[{ json: searchItem }],
		);
		expect(result.error).toBeUndefined();
		const [item] = result.outputs.Generate[0];
		expect(item.json).toMatchObject({
			text: 'Yes, above 50 EUR [1]. Also free on the moon.',
			customerText: 'Yes, above 50 EUR. Also free on the moon.',
			citations: [{ n: 1, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping' }],
			unsupportedCitations: [5],
			grounded: true,
			model: 'test-chat',
			finishReason: 'stop',
			modelCalls: 1,
		});
		const [request] = server.requestsTo('/chat/completions');
		expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
		expect(request.body.max_tokens).toBe(300);
		expect(request.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
		expect(request.body.messages[1].content).toBe('I am ordering boots.');
		expect(request.body.messages[3].content).toMatch(/^Sources:\n\n\[1\] Shipping — https:\/\/acme\.test\/shipping\nShipping is free[\s\S]*\[2\] Gift cards\n[\s\S]*Is shipping free\?$/);
	});

	it('gives the customer text with renumbered footnotes when asked', async () => {
		server.queueChatReplies('Gift cards are sold in stores [2]; shipping is free above 50 EUR [1][2].\n\nKind regards');
		const result = await run(
			{ parameters: { prompt: '={{ $json.query }}', options: { customerTextStyle: 'footnotes', language: 'fr-FR' } } },
			[{ json: searchItem }],
		);
		const [item] = result.outputs.Generate[0];
		expect(item.json.text).toBe('Gift cards are sold in stores [2]; shipping is free above 50 EUR [1][2].\n\nKind regards');
		expect(item.json.customerText).toBe(
			'Gift cards are sold in stores [1]; shipping is free above 50 EUR [2, 1].\n\nKind regards\n\n' +
				'Sources\u00a0:\n[1] Gift cards\n[2] Shipping — https://acme.test/shipping',
		);
	});

	it('returns validated JSON in JSON mode', async () => {
		server.queueChatReplies('{"subject": "Free shipping", "body": "Above 50 EUR [1]."}');
		const result = await run({ parameters: { prompt: 'Draft an email', outputFormat: 'json' } }, [{ json: searchItem }]);
		expect(result.outputs.Generate[0][0].json).toMatchObject({
			json: { subject: 'Free shipping', body: 'Above 50 EUR [1].' },
			customerJson: { subject: 'Free shipping', body: 'Above 50 EUR.' },
			grounded: true,
		});
		expect(server.requestsTo('/chat/completions')[0].body.response_format.type).toBe('json_schema');
	});

	it('keeps a JSON answer without citations under the default "answer only from sources"', async () => {
		server.queueChatReplies('{"subject": "Your order", "body": "Line items[0] ships today."}');
		const result = await run({ parameters: { prompt: 'Draft an email', outputFormat: 'json' } }, [{ json: searchItem }]);
		expect(result.outputs.Generate[0][0].json).toMatchObject({
			json: { subject: 'Your order', body: 'Line items[0] ships today.' },
			grounded: false,
			groundingIssue: 'The answer cites none of the sources.',
			unsupportedCitations: [],
		});
	});

	it('refuses without calling the model when an item has no sources', async () => {
		const result = await run({ parameters: { prompt: 'What is the refund policy?' } }, [{ json: { question: 'x' } }]);
		expect(server.count()).toBe(0);
		expect(result.outputs.Generate[0][0].json).toMatchObject({
			text: 'There is not enough information in the sources to answer this.',
			grounded: false,
			modelCalls: 0,
		});
	});

	it('refuses in the answer language when the message is left at its default, and keeps a typed one', async () => {
		const french = 'Les sources disponibles ne contiennent pas suffisamment d’informations pour répondre à cette question.';
		server.queueChatReplies('NOT_ENOUGH_INFORMATION');
		const defaulted = await run({ parameters: { prompt: 'Do you sell bikes?', options: { language: 'Français' } } }, [{ json: searchItem }]);
		expect(defaulted.outputs.Generate[0][0].json).toMatchObject({ text: french, customerText: french, grounded: false, modelCalls: 1 });

		const typed = await run(
			{ parameters: { prompt: 'Do you sell bikes?', notEnoughInformationMessage: 'Nous revenons vers vous très vite.', options: { language: 'fr' } } },
			[{ json: { question: 'x' } }],
		);
		expect(typed.outputs.Generate[0][0].json).toMatchObject({ text: 'Nous revenons vers vous très vite.', customerText: 'Nous revenons vers vous très vite.' });
	});

	it('puts grounding metrics on every output item, refusals included, without changing the other fields', async () => {
		server.queueChatReplies('Shipping is free above 50 EUR [1]. We love boots [4].', 'NOT_ENOUGH_INFORMATION');
		const items = [{ json: searchItem }, { json: { ...searchItem, query: 'Do you sell bikes?' } }];
		const result = await run({ parameters: { prompt: '={{ $json.query }}', options: { language: 'English' } } }, items);
		expect(result.error).toBeUndefined();
		const [answered, refused] = result.outputs.Generate[0];
		expect(answered.json).toMatchObject({
			text: 'Shipping is free above 50 EUR [1]. We love boots.',
			unsupportedCitations: [4],
			grounded: true,
			refused: false,
			grounding: {
				citedSentenceShare: 0.5,
				sentences: 2,
				citedSentences: 1,
				unsupportedCitations: 1,
				// shipping free 50 eur (in [1]) against love boots: 4 / 6, rounded to 4 decimals.
				faithfulness: 0.6667,
				unsupportedWords: ['love', 'boots'],
				refused: false,
				language: 'english',
			},
		});
		// Null shares survive the item's JSON round trip (n8n shows them as null, not as missing fields).
		expect(refused.json).toMatchObject({
			text: 'There is not enough information in the sources to answer this.',
			refused: true,
			grounding: { citedSentenceShare: null, faithfulness: null, sentences: 0, unsupportedCitations: 0, refused: true },
		});
	});

	it('fails an item on a model that never answers after twice the timeout and one backoff step, whatever Max Retries says', async () => {
		server.delayNext(10, 10_000);
		const started = Date.now();
		const result = await run({ parameters: { prompt: '={{ $json.query }}', options: { timeoutSeconds: 1, maxRetries: 3 } } }, [{ json: searchItem }]);
		const elapsed = Date.now() - started;
		expect(result.error?.message).toBe(
			`The model server at ${server.url} did not answer within 1000 ms after 2 attempts. Raise the timeout, use a smaller model, or check that the server is not overloaded.`,
		);
		expect(server.count('/chat/completions')).toBe(2);
		// Default first backoff step: at most 500 ms.
		expect(elapsed).toBeGreaterThanOrEqual(2_000);
		expect(elapsed).toBeLessThan(2_000 + 500 + 500);
	});

	it('turns a failing item into an error item with Continue On Fail, and stops without it', async () => {
		const items = [{ json: searchItem }, { json: { ...searchItem, query: '' } }];
		server.setChatResponder(() => 'Free above 50 EUR [1].');
		const continued = await run({ parameters: { prompt: '={{ $json.query }}' }, onError: 'continueRegularOutput' }, items);
		expect(continued.error).toBeUndefined();
		const [ok, failed] = continued.outputs.Generate[0];
		expect(ok.json.grounded).toBe(true);
		expect(failed.json).toEqual({
			error: 'Prompt is empty: give the task or question for the model',
			description: 'Check the "Prompt" parameter of item 2.',
		});

		server.failNext(1, { status: 401 });
		const stopped = await run({ parameters: { prompt: '={{ $json.query }}' } }, [{ json: searchItem }]);
		expect(stopped.error?.message).toBe(`The model server at ${server.url} refused the API key (HTTP 401). Check the API key in the Symbiotic Model credential.`);
		expect(JSON.stringify(stopped.run)).not.toContain(API_KEY);
	});
});
