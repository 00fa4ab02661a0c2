/**
 * Grounding metrics on every Generate answer (issue 13): `refused` and `grounding` on the result, computed by
 * lib/evaluation/grounding.ts from the answer and the texts of the sources as the model was shown them.
 */
import { createChatClient, type ChatClient } from '../../lib/generate/client';
import { generate, type GenerateOptions, type GenerateResult } from '../../lib/generate/generate';
import { buildPrompt, NOT_IN_SOURCES_SENTINEL, type PromptInput } from '../../lib/generate/prompt';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

let server: OpenAITestServer;
let client: ChatClient;
beforeAll(async () => {
	server = await startOpenAITestServer({ apiKey: 'sk-grounding' });
	client = createChatClient({ baseURL: server.url, apiKey: 'sk-grounding', model: 'test-chat', retryBaseDelayMs: 10 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const hits = [
	{ citation: 1, index: 0, text: 'Orders above 50 EUR ship for free within Germany.', sourceId: 'kb/shipping.md', title: 'Shipping', score: 0.91 },
	{ citation: 2, index: 1, text: 'Gift cards are sold in our stores only.', sourceId: 'kb/giftcards.md', title: 'Gift cards', score: 0.12 },
	{ citation: 3, index: 2, text: 'Returns are free within 30 days of delivery.', sourceId: 'kb/returns.md', title: 'Returns', score: 0.85 },
];
const frenchHits = [
	{ text: 'La livraison est gratuite pour toute commande supérieure à 50 euros.', sourceId: 'kb/livraison.md', title: 'Livraison' },
	{ text: 'Retour gratuit.', sourceId: 'kb/retours.md', title: 'Retours' },
];
const emailSchema = { type: 'object', properties: { subject: { type: 'string' }, body: { type: 'string' } }, required: ['subject', 'body'] };

async function answer(reply: string, input: Partial<PromptInput> = {}, options: GenerateOptions = {}): Promise<GenerateResult> {
	server.queueChatReplies(reply);
	return generate(client, { prompt: 'Question?', sources: hits, ...input }, options);
}

describe('generate: grounding metrics', () => {
	it('measures a fully cited answer whose words are all in its sources', async () => {
		const result = await answer('Shipping is free above 50 EUR [1]. Returns are free within 30 days [3].');
		expect(result.refused).toBe(false);
		expect(result.grounding).toEqual({
			citedSentenceShare: 1,
			sentences: 2,
			citedSentences: 2,
			unsupportedCitations: 0,
			faithfulness: 1,
			unsupportedWords: [],
			refused: false,
			language: 'english',
		});
	});

	it('measures a half-cited answer, rounded to 4 decimals, and lists the words no cited source backs', async () => {
		const result = await answer('Shipping is free above 50 EUR [1]. We love our loyal customers.');
		// Content words: shipping free 50 eur (in [1]) + love loyal customers (nowhere): 4 / 7.
		expect(result.grounding).toMatchObject({ citedSentenceShare: 0.5, sentences: 2, citedSentences: 1, faithfulness: 0.5714 });
		expect(result.grounding.unsupportedWords).toEqual(['love', 'loyal', 'customers']);
	});

	it('counts a removed citation to an unknown source, and its sentence as uncited', async () => {
		const result = await answer('Shipping is free [1]. We also ship to Mars [9].');
		expect(result.text).toBe('Shipping is free [1]. We also ship to Mars.');
		expect(result.unsupportedCitations).toEqual([9]);
		// shipping free ship (in [1]) against also mars: 3 / 5.
		expect(result.grounding).toMatchObject({ citedSentenceShare: 0.5, unsupportedCitations: 1, faithfulness: 0.6, unsupportedWords: ['also', 'Mars'] });
	});

	it('gives faithfulness 0 to an answer that cites nothing', async () => {
		const result = await answer('Shipping is free above 50 EUR.');
		expect(result.grounding).toMatchObject({ citedSentenceShare: 0, sentences: 1, faithfulness: 0, refused: false });
	});

	it('reports a refusal with null shares, whether the model said so, was not asked, or cited nothing valid', async () => {
		const refusal = { refused: true, citedSentenceShare: null, faithfulness: null, sentences: 0, citedSentences: 0, unsupportedWords: [] };
		const said = await answer(NOT_IN_SOURCES_SENTINEL, { answerOnlyFromSources: true });
		expect(said).toMatchObject({ refused: true, grounding: { ...refusal, unsupportedCitations: 0 } });

		const notAsked = await generate(client, { prompt: 'Question?', answerOnlyFromSources: true });
		expect(server.count('/chat/completions')).toBe(1);
		expect(notAsked).toMatchObject({ refused: true, modelCalls: 0, grounding: refusal });

		const invented = await answer('We ship to Mars [9].', { answerOnlyFromSources: true });
		expect(invented).toMatchObject({ refused: true, unsupportedCitations: [9], grounding: { ...refusal, unsupportedCitations: 1 } });

		const json = await answer(NOT_IN_SOURCES_SENTINEL, { answerOnlyFromSources: true }, { jsonSchema: emailSchema });
		expect(json).toMatchObject({ json: null, refused: true, grounding: refusal });
	});

	it('gives null shares, not NaN, for an empty answer', async () => {
		const result = await answer('');
		expect(result).toMatchObject({ text: '', refused: false });
		expect(result.grounding).toMatchObject({ citedSentenceShare: null, sentences: 0, faithfulness: null, unsupportedCitations: 0, refused: false });
	});

	it('analyses a French answer in French: stems and accents match, French stop words are not content words', async () => {
		const result = await answer('La livraison est gratuite dès 50 euros [1]. Les retours sont gratuits [2].', {
			sources: frenchHits,
			language: 'Français',
		});
		expect(result.grounding).toMatchObject({ citedSentenceShare: 1, sentences: 2, faithfulness: 1, unsupportedWords: [], language: 'french' });
	});

	it('takes the language from the Language option, else from the hits, where detection on a short answer falls back to English', async () => {
		const reply = 'Les retours sont gratuits [2].';
		const detected = await answer(reply, { sources: frenchHits });
		// Too few function words to tell: English, where "les" and "sont" are content words found nowhere.
		expect(detected.grounding).toMatchObject({ language: 'english', faithfulness: 0.5, unsupportedWords: ['Les', 'sont'] });
		const named = await answer(reply, { sources: frenchHits, language: 'fr-FR' });
		expect(named.grounding).toMatchObject({ language: 'french', faithfulness: 1 });
		const fromHits = await answer(reply, { sources: frenchHits.map((hit) => ({ ...hit, keywordLanguage: 'french' })) });
		expect(fromHits.grounding).toMatchObject({ language: 'french', faithfulness: 1 });
		// The option wins over the hits; hits that disagree are not trusted.
		const both = await answer(reply, { sources: frenchHits.map((hit) => ({ ...hit, keywordLanguage: 'french' })), language: 'English' });
		expect(both.grounding.language).toBe('english');
		const mixed = await answer(reply, { sources: [{ ...frenchHits[0], keywordLanguage: 'german' }, { ...frenchHits[1], keywordLanguage: 'french' }] });
		expect(mixed.grounding.language).toBe('english');
	});

	it('measures a JSON answer on its string values, one paragraph each, counting an unknown citation as invalid', async () => {
		const reply = '{"subject": "Free shipping", "body": "Orders above 50 EUR ship free [1]. Ask us anything [7]."}';
		const result = await answer(reply, {}, { jsonSchema: emailSchema });
		expect(result.json).toEqual({ subject: 'Free shipping', body: 'Orders above 50 EUR ship free [1]. Ask us anything [7].' });
		expect(result.unsupportedCitations).toEqual([7]);
		// Sentences: "Free shipping" (uncited), the shipping sentence ([1]), "Ask us anything [7]" (invalid): 1 / 3.
		// Content words: free shipping orders 50 eur ship free (in [1]) + ask anything: 7 / 9.
		expect(result.grounding).toMatchObject({
			citedSentenceShare: 0.3333,
			sentences: 3,
			citedSentences: 1,
			unsupportedCitations: 1,
			faithfulness: 0.7778,
			unsupportedWords: ['Ask', 'anything'],
			refused: false,
		});
	});

	it('checks the answer against the source text as the model was shown it, cut when it did not fit', async () => {
		const filler = Array.from({ length: 60 }, (_, i) => `Store ${i + 1} opens at nine.`).join(' ');
		const source = { text: `${filler} Gift wrapping costs twelve euros.`, sourceId: 'kb/stores.md' };
		const input = { prompt: 'Gift wrapping?', sources: [source] };
		const full = buildPrompt(input).promptTokens;
		const budget = { contextWindow: full - 40 + 50, reservedOutputTokens: 50 };
		expect(buildPrompt(input, budget).sourceTexts[0]).not.toContain('Gift wrapping');

		const reply = 'Gift wrapping costs twelve euros [1].';
		const cut = await answer(reply, input, { budget });
		expect(cut.sources[0].truncated).toBe(true);
		expect(cut.grounding).toMatchObject({ citedSentenceShare: 1, faithfulness: 0 });
		const whole = await answer(reply, input);
		expect(whole.sources[0].truncated).toBe(false);
		expect(whole.grounding).toMatchObject({ citedSentenceShare: 1, faithfulness: 1 });
	});
});
