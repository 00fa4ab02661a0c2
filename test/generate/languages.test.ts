import {
	ANSWER_LANGUAGES,
	DEFAULT_NOT_ENOUGH_INFORMATION,
	notEnoughInformationText,
	recognizeLanguage,
	sourcesHeading,
	type AnswerLanguage,
} from '../../lib/generate/languages';

describe('recognizeLanguage', () => {
	it.each<[string, AnswerLanguage]>([
		['English', 'en'],
		['en-GB', 'en'],
		['French', 'fr'],
		['Français', 'fr'],
		['francais', 'fr'],
		['FRANÇAIS', 'fr'],
		['fr', 'fr'],
		['fr-FR', 'fr'],
		['fr_CA', 'fr'],
		['fra', 'fr'],
		['Französisch', 'fr'],
		['  french  ', 'fr'],
		['French (Canada)', 'fr'],
		['German', 'de'],
		['Deutsch', 'de'],
		['de-DE', 'de'],
		['DE', 'de'],
		['ger', 'de'],
		['Swiss German', 'de'],
		['Spanish', 'es'],
		['Español', 'es'],
		['castellano', 'es'],
		['es-419', 'es'],
		['Italian', 'it'],
		['italiano', 'it'],
		['it-IT', 'it'],
		['it', 'it'],
		['Portuguese', 'pt'],
		['Português', 'pt'],
		['pt-BR', 'pt'],
		['Brazilian Portuguese', 'pt'],
		['Dutch', 'nl'],
		['Nederlands', 'nl'],
		['nl-BE', 'nl'],
		['Flemish', 'nl'],
	])('reads %j as %s', (value, expected) => {
		expect(recognizeLanguage(value)).toBe(expected);
	});

	it.each([[''], ['   '], ['Klingon'], ['ja'], ['zh-CN'], ['French or German'], ['xx-FR'], [undefined], [42]])('does not recognise %j', (value) => {
		expect(recognizeLanguage(value)).toBeUndefined();
	});

	it('reads every name and code of the table back as its language', () => {
		for (const [language, texts] of Object.entries(ANSWER_LANGUAGES)) {
			for (const spelled of [language, ...texts.codes, ...texts.names]) expect([spelled, recognizeLanguage(spelled)]).toEqual([spelled, language]);
		}
	});

	it('has no name or code shared by two languages', () => {
		const all = Object.entries(ANSWER_LANGUAGES).flatMap(([language, texts]) => [language, ...texts.codes, ...texts.names]);
		expect(new Set(all).size).toBe(all.length);
	});
});

describe('notEnoughInformationText', () => {
	it('translates the default for a recognised language', () => {
		expect(notEnoughInformationText(undefined, 'French')).toBe(
			'Les sources disponibles ne contiennent pas suffisamment d’informations pour répondre à cette question.',
		);
		expect(notEnoughInformationText('', 'es')).toBe(ANSWER_LANGUAGES.es.notEnoughInformation);
		expect(notEnoughInformationText(` ${DEFAULT_NOT_ENOUGH_INFORMATION} `, 'it-IT')).toBe(ANSWER_LANGUAGES.it.notEnoughInformation);
		expect(notEnoughInformationText(DEFAULT_NOT_ENOUGH_INFORMATION, 'pt')).toBe(ANSWER_LANGUAGES.pt.notEnoughInformation);
		expect(notEnoughInformationText(undefined, 'Nederlands')).toBe(ANSWER_LANGUAGES.nl.notEnoughInformation);
		expect(notEnoughInformationText(undefined, 'Deutsch')).toBe(ANSWER_LANGUAGES.de.notEnoughInformation);
	});

	it('keeps English for English, an unknown language or none', () => {
		for (const language of ['English', 'Klingon', '', undefined]) {
			expect(notEnoughInformationText(undefined, language)).toBe(DEFAULT_NOT_ENOUGH_INFORMATION);
		}
	});

	it('always keeps a message the user typed', () => {
		expect(notEnoughInformationText('  Désolé, nous n’avons pas la réponse.  ', 'French')).toBe('Désolé, nous n’avons pas la réponse.');
		expect(notEnoughInformationText('No idea, sorry.', 'German')).toBe('No idea, sorry.');
	});

	it('has a distinct sentence for every language', () => {
		const sentences = Object.values(ANSWER_LANGUAGES).map((texts) => texts.notEnoughInformation);
		expect(new Set(sentences).size).toBe(sentences.length);
	});
});

describe('sourcesHeading', () => {
	it.each([
		['en', 'Sources:'],
		['fr', 'Sources\u00a0:'],
		['de', 'Quellen:'],
		['es', 'Fuentes:'],
		['it', 'Fonti:'],
		['pt', 'Fontes:'],
		['nl', 'Bronnen:'],
		['sv', 'Sources:'],
	])('is %j → %j', (language, heading) => {
		expect(sourcesHeading(language)).toBe(heading);
	});
});
