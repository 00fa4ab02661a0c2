import { createChatClient, type ChatClient } from '../../lib/generate/client';
import { generate, JsonOutputError } from '../../lib/generate/generate';
import { buildPrompt, NOT_IN_SOURCES_SENTINEL } from '../../lib/generate/prompt';
import { InputError } from '../../lib/types';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

let server: OpenAITestServer;
let client: ChatClient;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: 'sk-gen' });
	client = createChatClient({ baseURL: server.url, apiKey: 'sk-gen', model: 'test-chat', retryBaseDelayMs: 10 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Vector Search hits as the Generate node receives them. */
const hits = [
	{ citation: 1, index: 0, text: 'Orders above 50 EUR ship for free within Germany.', sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping', score: 0.91 },
	{ citation: 2, index: 1, text: 'Gift cards are sold in our stores only.', sourceId: 'kb/giftcards.md', title: 'Gift cards', score: 0.12 },
	{ citation: 3, index: 2, text: 'Returns are free within 30 days of delivery.', sourceId: 'kb/returns.md', title: 'Returns', url: 'https://acme.test/returns', score: 0.85 },
];
const chatRequests = () => server.requestsTo('/chat/completions');

describe('generate (text)', () => {
	it('sends numbered sources, history and examples, and maps the citations back', async () => {
		server.queueChatReplies('Shipping is free above 50 EUR [1], and returns are free for 30 days [3].');
		const result = await generate(
			client,
			{
				instructions: 'You answer ACME customers.',
				prompt: 'Do I pay for shipping and returns?',
				sources: hits,
				history: [
					{ role: 'user', content: 'Hello, I ordered a jacket.' },
					{ role: 'assistant', content: 'Thanks! How can I help?' },
				],
				examples: [{ input: 'Do you ship to Austria?', output: 'Yes, we ship to Austria [1].' }],
				language: 'English',
				tone: 'warm',
			},
			{ budget: { contextWindow: 4096, reservedOutputTokens: 512 }, temperature: 0 },
		);

		const [request] = chatRequests();
		expect(request.body.max_tokens).toBe(512);
		expect(request.body.temperature).toBe(0);
		const messages = request.body.messages as Array<{ role: string; content: string }>;
		expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
		expect(messages[0].content).toMatch(/^You answer ACME customers\.[\s\S]*Use a warm tone\./);
		expect(messages[1].content).toBe('Do you ship to Austria?');
		expect(messages[3].content).toBe('Hello, I ordered a jacket.');
		const last = messages[5].content;
		expect(last).toContain('[1] Shipping — https://acme.test/shipping\nOrders above 50 EUR');
		expect(last).toContain('[2] Gift cards\nGift cards are sold');
		expect(last).toContain('[3] Returns — https://acme.test/returns\nReturns are free');
		expect(last.endsWith('Do I pay for shipping and returns?')).toBe(true);

		expect(result).toMatchObject({
			text: 'Shipping is free above 50 EUR [1], and returns are free for 30 days [3].',
			citations: [
				{ n: 1, sourceId: 'kb/shipping.md', title: 'Shipping', url: 'https://acme.test/shipping' },
				{ n: 3, sourceId: 'kb/returns.md', title: 'Returns', url: 'https://acme.test/returns' },
			],
			unsupportedCitations: [],
			grounded: true,
			model: 'test-chat',
			finishReason: 'stop',
			modelCalls: 1,
			warnings: [],
		});
		expect(result.usage.promptTokens).toBeGreaterThan(100);
		expect(result.usage.totalTokens).toBe(result.usage.promptTokens + result.usage.completionTokens);
		expect(result.latencyMs).toBeGreaterThanOrEqual(0);
	});

	it('keeps the numbers the model saw consistent with the citations after trimming', async () => {
		// One token short of the full prompt: the least relevant source (gift cards) goes, returns becomes [2].
		const full = buildPrompt({ prompt: 'Are returns free?', sources: hits }).promptTokens;
		server.setChatResponder((request) => {
			const last = request.messages[request.messages.length - 1].content as string;
			const returns = /\[(\d)\] Returns/.exec(last)![1];
			return `Returns are free [${returns}].`;
		});
		const result = await generate(client, { prompt: 'Are returns free?', sources: hits }, { budget: { contextWindow: full - 1 + 20, reservedOutputTokens: 20 } });
		expect(result.trimmed.sources).toEqual([1]);
		expect(result.sources.map((s) => [s.n, s.sourceId, s.inputIndex, s.originalCitation])).toEqual([
			[1, 'kb/shipping.md', 0, 1],
			[2, 'kb/returns.md', 2, 3],
		]);
		expect(chatRequests()[0].body.messages.at(-1).content).not.toContain('Gift cards');
		expect(result.text).toBe('Returns are free [2].');
		expect(result.citations).toEqual([{ n: 2, sourceId: 'kb/returns.md', title: 'Returns', url: 'https://acme.test/returns' }]);
	});

	it('removes and reports a citation to a source that does not exist', async () => {
		server.queueChatReplies('Shipping is free [1]. We also ship to Mars [9].');
		const result = await generate(client, { prompt: 'Shipping?', sources: hits });
		expect(result.text).toBe('Shipping is free [1]. We also ship to Mars.');
		expect(result.unsupportedCitations).toEqual([9]);
		expect(result.citations.map((c) => c.n)).toEqual([1]);
		expect(result.grounded).toBe(true);
	});

	it('adds the customer text: markers removed by default, or renumbered footnotes in the answer language', async () => {
		const reply = 'Returns are free for 30 days [3], and shipping above 50 EUR [1][3]. Gift cards: stores only [2].';
		server.queueChatReplies(reply, reply);
		const removed = await generate(client, { prompt: 'Costs?', sources: hits });
		expect(removed.text).toBe(reply);
		expect(removed.customerText).toBe('Returns are free for 30 days, and shipping above 50 EUR. Gift cards: stores only.');
		const footnoted = await generate(client, { prompt: 'Costs?', sources: hits, language: 'de-DE' }, { customerTextStyle: 'footnotes' });
		expect(footnoted.customerText).toBe(
			'Returns are free for 30 days [1], and shipping above 50 EUR [2, 1]. Gift cards: stores only [3].\n\n' +
				'Quellen:\n[1] Returns — https://acme.test/returns\n[2] Shipping — https://acme.test/shipping\n[3] Gift cards',
		);
	});

	it('flags an answer that cites nothing as not grounded, and warns when the answer was cut', async () => {
		server.queueChatReplies({ content: 'Probably free, I think', finishReason: 'length' });
		const result = await generate(client, { prompt: 'Shipping?', sources: hits });
		expect(result).toMatchObject({ text: 'Probably free, I think', grounded: false, groundingIssue: 'The answer cites none of the sources.', finishReason: 'length' });
		expect(result.warnings).toEqual([expect.stringMatching(/cut at the 1024-token output limit/)]);
	});
});

describe('generate (answer only from sources)', () => {
	it('does not call the model when there are no sources', async () => {
		const result = await generate(
			client,
			{ prompt: 'What is our refund policy?', sources: [], answerOnlyFromSources: true },
			{ notEnoughInformationMessage: 'Sorry, I have no documented answer.' },
		);
		expect(server.count()).toBe(0);
		expect(result).toMatchObject({
			text: 'Sorry, I have no documented answer.',
			grounded: false,
			groundingIssue: 'No sources were given; the model was not asked.',
			citations: [],
			modelCalls: 0,
			finishReason: 'not_called',
		});
	});

	it('asks for the sentinel and turns it into a "not enough information" result', async () => {
		server.queueChatReplies(NOT_IN_SOURCES_SENTINEL);
		const result = await generate(client, { prompt: 'Do you sell bikes?', sources: hits, answerOnlyFromSources: true });
		expect(chatRequests()[0].body.messages[0].content).toContain(`reply with exactly ${NOT_IN_SOURCES_SENTINEL}`);
		expect(result).toMatchObject({
			text: 'There is not enough information in the sources to answer this.',
			grounded: false,
			groundingIssue: 'The model found no answer in the sources.',
			modelReply: NOT_IN_SOURCES_SENTINEL,
			modelCalls: 1,
		});
	});

	it.each([
		['French', undefined, 'Les sources disponibles ne contiennent pas suffisamment d’informations pour répondre à cette question.'],
		['fr-FR', 'There is not enough information in the sources to answer this.', 'Les sources disponibles ne contiennent pas suffisamment d’informations pour répondre à cette question.'],
		['Deutsch', '  ', 'Die vorliegenden Quellen enthalten nicht genügend Informationen, um diese Frage zu beantworten.'],
		['Klingon', undefined, 'There is not enough information in the sources to answer this.'],
		['French', 'Désolé, je n’ai pas la réponse.', 'Désolé, je n’ai pas la réponse.'],
	])('refuses for answer language %j and message %j in the right words', async (language, message, expected) => {
		const result = await generate(client, { prompt: 'Refunds?', sources: [], answerOnlyFromSources: true, language }, { notEnoughInformationMessage: message });
		expect(result).toMatchObject({ text: expected, customerText: expected, grounded: false });
	});

	it('refuses an answer without a valid citation, keeping the reply and the fake numbers for review', async () => {
		server.queueChatReplies('Bikes are on sale [7].');
		const result = await generate(client, { prompt: 'Do you sell bikes?', sources: hits, answerOnlyFromSources: true });
		expect(result).toMatchObject({
			text: 'There is not enough information in the sources to answer this.',
			grounded: false,
			groundingIssue: 'The answer cites none of the sources.',
			modelReply: 'Bikes are on sale [7].',
			unsupportedCitations: [7],
		});
	});
});

describe('generate (JSON)', () => {
	const schema = {
		title: 'Email draft',
		type: 'object',
		properties: { subject: { type: 'string', minLength: 3 }, body: { type: 'string' } },
		required: ['subject', 'body'],
		additionalProperties: false,
	};

	it('requests json_schema, validates, and reports citations inside strings without editing them', async () => {
		server.queueChatReplies('```json\n{"subject": "Free shipping", "body": "It is free [1] on Mars [8]."}\n```');
		const result = await generate(client, { prompt: 'Draft an email', sources: hits }, { jsonSchema: JSON.stringify(schema) });
		expect(chatRequests()[0].body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'Email_draft', schema, strict: false } });
		expect(result.json).toEqual({ subject: 'Free shipping', body: 'It is free [1] on Mars [8].' });
		expect(result.text).toBeUndefined();
		expect(result.unsupportedCitations).toEqual([8]);
		expect(result.warnings).toEqual([expect.stringMatching(/cites sources that do not exist \(\[8\]\); JSON values are left as the model wrote them/)]);
		expect(result.citations.map((c) => c.sourceId)).toEqual(['kb/shipping.md']);
	});

	describe('with "answer only from sources"', () => {
		const orderSchema = {
			type: 'object',
			properties: {
				subject: { type: 'string' },
				path: { type: 'string' },
				lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string', pattern: '^item\\[\\d+\\]$' } }, required: ['sku'] } },
			},
			required: ['subject', 'path', 'lines'],
		};
		const ask = () => generate(client, { prompt: 'Draft an order email', sources: hits, answerOnlyFromSources: true }, { jsonSchema: orderSchema });

		it('keeps a schema-valid answer that cites nothing, flagged as not grounded', async () => {
			const reply = { subject: 'Your order', path: 'items[0]', lines: [{ sku: 'item[3]' }, { sku: 'item[12]' }] };
			server.queueChatReplies(JSON.stringify(reply));
			const result = await ask();
			expect(result).toMatchObject({
				json: reply,
				citations: [],
				unsupportedCitations: [],
				grounded: false,
				groundingIssue: 'The answer cites none of the sources.',
				modelCalls: 1,
			});
			expect(result.text).toBeUndefined();
			expect(result.warnings).toEqual([]);
		});

		it('maps the citations that appear in string values', async () => {
			server.queueChatReplies('{"subject": "Free shipping [1]", "path": "lines", "lines": [{"sku": "item[3]"}], "note": "Returns too [3], and bikes [7]."}');
			const result = await ask();
			expect(result.json).toEqual({ subject: 'Free shipping [1]', path: 'lines', lines: [{ sku: 'item[3]' }], note: 'Returns too [3], and bikes [7].' });
			expect(result.citations.map((c) => c.n)).toEqual([1, 3]);
			expect(result.unsupportedCitations).toEqual([7]);
			expect(result.grounded).toBe(true);
			expect(result.customerJson).toEqual({ subject: 'Free shipping', path: 'lines', lines: [{ sku: 'item[3]' }], note: 'Returns too, and bikes.' });
			expect(result.customerText).toBeUndefined();
		});

		it.each([
			['as the whole reply', NOT_IN_SOURCES_SENTINEL],
			['inside a string value', `{"subject": "${NOT_IN_SOURCES_SENTINEL}", "path": "", "lines": []}`],
		])('refuses when the model gives the sentinel %s', async (_where, reply) => {
			server.queueChatReplies(reply);
			const result = await ask();
			expect(result).toMatchObject({
				json: null,
				customerJson: null,
				text: 'There is not enough information in the sources to answer this.',
				customerText: 'There is not enough information in the sources to answer this.',
				grounded: false,
				groundingIssue: 'The model found no answer in the sources.',
				modelReply: reply,
				modelCalls: 1,
			});
		});

		it('refuses when the repaired reply gives the sentinel', async () => {
			const repaired = `{"subject": "${NOT_IN_SOURCES_SENTINEL}", "path": "", "lines": []}`;
			server.queueChatReplies('{"subject": 1}', repaired);
			const result = await ask();
			expect(result).toMatchObject({ json: null, groundingIssue: 'The model found no answer in the sources.', modelReply: repaired, modelCalls: 2 });
		});
	});

	it('repairs once by sending the validation problems back', async () => {
		server.queueChatReplies(
			{ content: '{"subject": "Hi", "extra": 1}', usage: { prompt_tokens: 100, completion_tokens: 10 } },
			{ content: '{"subject": "Hello there", "body": "Free shipping [1]."}', usage: { prompt_tokens: 200, completion_tokens: 20 } },
		);
		const result = await generate(client, { prompt: 'Draft an email', sources: hits }, { jsonSchema: schema, jsonResponseFormat: 'json_object' });
		const requests = chatRequests();
		expect(requests).toHaveLength(2);
		expect(requests[0].body.response_format).toEqual({ type: 'json_object' });
		const repair = requests[1].body.messages.slice(-2);
		expect(repair[0]).toEqual({ role: 'assistant', content: '{"subject": "Hi", "extra": 1}' });
		expect(repair[1].role).toBe('user');
		expect(repair[1].content).toContain("- /: must have required property 'body'");
		expect(repair[1].content).toContain('- /: must NOT have additional properties ("extra")');
		expect(repair[1].content).toContain('- /subject: must NOT have fewer than 3 characters');
		expect(result.json).toEqual({ subject: 'Hello there', body: 'Free shipping [1].' });
		expect(result.modelCalls).toBe(2);
		expect(result.usage).toEqual({ promptTokens: 300, completionTokens: 30, totalTokens: 330 });
	});

	it('fails clearly after the repair, showing the problems and the reply', async () => {
		const longReply = `{"subject": 42, "body": "${'x'.repeat(800)}"}`;
		server.queueChatReplies('not json at all', longReply);
		const error = await generate(client, { prompt: 'Draft an email' }, { jsonSchema: schema }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(JsonOutputError);
		const { message, problems } = error as JsonOutputError;
		expect(problems).toEqual([{ path: '/subject', message: 'must be string' }]);
		expect(message).toMatch(/does not match the JSON Schema, even after one repair attempt:\n- \/subject: must be string\nReply was: \{"subject": 42/);
		expect(message).toContain(`${longReply.slice(0, 500)}… (${longReply.length} characters)`);
		expect(chatRequests()[1].body.messages.at(-1).content).toMatch(/the reply is not valid JSON/);
	});

	it('rejects an invalid schema before calling the model', async () => {
		await expect(generate(client, { prompt: 'x' }, { jsonSchema: '{"type": "strin"}' })).rejects.toThrow(InputError);
		await expect(generate(client, { prompt: 'x' }, { jsonSchema: '{"type": "strin"}' })).rejects.toThrow(/JSON Schema is not a valid schema: \/type: must be equal to one of the allowed values/);
		await expect(generate(client, { prompt: 'x' }, { jsonSchema: '{type: object}' })).rejects.toThrow(/JSON Schema is not valid JSON/);
		expect(server.count()).toBe(0);
	});
});
