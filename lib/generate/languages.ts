/**
 * The answer languages Generate has customer-facing text for: the "not enough information" refusal and the heading
 * of the source list in `customerText`. One table; `recognizeLanguage` reads the node's free-text Language option.
 *
 * French follows French typography (the apostrophe ’, a no-break space before the colon of the heading).
 */

export type AnswerLanguage = 'en' | 'fr' | 'de' | 'es' | 'it' | 'pt' | 'nl';

export interface AnswerLanguageTexts {
	/** ISO 639-2 and 639-3 codes besides the two-letter code (the key of the table). */
	codes: readonly string[];
	/**
	 * Names of the language, compared without case or accents: in English, in the language itself, and in the
	 * table's other languages (a German user may type "Französisch").
	 */
	names: readonly string[];
	/** The refusal a customer reads when the sources do not contain the answer. */
	notEnoughInformation: string;
	/** The line that opens the source list of a `footnotes` customer text. */
	sourcesHeading: string;
}

export const ANSWER_LANGUAGES: Readonly<Record<AnswerLanguage, AnswerLanguageTexts>> = {
	en: {
		codes: ['eng'],
		names: ['english', 'anglais', 'englisch', 'ingles', 'inglese', 'engels'],
		notEnoughInformation: 'There is not enough information in the sources to answer this.',
		sourcesHeading: 'Sources:',
	},
	fr: {
		codes: ['fra', 'fre'],
		names: ['french', 'francais', 'franzosisch', 'franzoesisch', 'frances', 'francese', 'frans'],
		notEnoughInformation: 'Les sources disponibles ne contiennent pas suffisamment d’informations pour répondre à cette question.',
		sourcesHeading: 'Sources\u00a0:',
	},
	de: {
		codes: ['deu', 'ger'],
		names: ['german', 'deutsch', 'allemand', 'aleman', 'tedesco', 'alemao', 'duits'],
		notEnoughInformation: 'Die vorliegenden Quellen enthalten nicht genügend Informationen, um diese Frage zu beantworten.',
		sourcesHeading: 'Quellen:',
	},
	es: {
		codes: ['spa'],
		names: ['spanish', 'espanol', 'castellano', 'espagnol', 'spanisch', 'spagnolo', 'espanhol', 'spaans'],
		notEnoughInformation: 'Las fuentes disponibles no contienen información suficiente para responder a esta pregunta.',
		sourcesHeading: 'Fuentes:',
	},
	it: {
		codes: ['ita'],
		names: ['italian', 'italiano', 'italien', 'italienisch', 'italiaans'],
		notEnoughInformation: 'Le fonti disponibili non contengono informazioni sufficienti per rispondere a questa domanda.',
		sourcesHeading: 'Fonti:',
	},
	pt: {
		codes: ['por'],
		names: ['portuguese', 'portugues', 'portugais', 'portugiesisch', 'portoghese', 'portugees'],
		notEnoughInformation: 'As fontes disponíveis não contêm informações suficientes para responder a esta pergunta.',
		sourcesHeading: 'Fontes:',
	},
	nl: {
		codes: ['nld', 'dut'],
		names: ['dutch', 'nederlands', 'flemish', 'vlaams', 'neerlandais', 'niederlandisch', 'niederlaendisch', 'neerlandes', 'olandese', 'holandes'],
		notEnoughInformation: 'De beschikbare bronnen bevatten niet genoeg informatie om deze vraag te beantwoorden.',
		sourcesHeading: 'Bronnen:',
	},
};

const LANGUAGES = Object.keys(ANSWER_LANGUAGES) as AnswerLanguage[];

/** The English refusal, also the default of the node's "Not Enough Information Message". */
export const DEFAULT_NOT_ENOUGH_INFORMATION = ANSWER_LANGUAGES.en.notEnoughInformation;

/** Lower case without accents, so "Français", "FRANCAIS" and "français" compare equal. */
const fold = (value: string) =>
	value
		.normalize('NFD')
		.replace(/\p{M}/gu, '')
		.toLowerCase();

function byWord(word: string): AnswerLanguage | undefined {
	return LANGUAGES.find((language) => language === word || ANSWER_LANGUAGES[language].codes.includes(word) || ANSWER_LANGUAGES[language].names.includes(word));
}

/**
 * The table language a free-text Language option names, or undefined (unknown, empty, or several languages):
 * ISO codes with or without a region (`fr`, `fr-FR`, `pt_BR`, `deu`), names in English, natively or in another
 * table language, in any case and with or without accents (`French`, `Français`, `francais`), also inside a
 * longer phrase naming one language only (`Brazilian Portuguese`, `English (UK)`, `Swiss German`).
 */
export function recognizeLanguage(value: unknown): AnswerLanguage | undefined {
	if (typeof value !== 'string') return undefined;
	const folded = fold(value.trim());
	const code = /^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$/.exec(folded);
	if (code) {
		const language = byWord(code[1]);
		if (language) return language;
	}
	const found = new Set(folded.split(/[^\p{L}]+/u).flatMap((word) => {
		// Two- and three-letter words inside a phrase are ordinary words ("it", "en", "por"), not codes.
		const language = word.length > 3 ? byWord(word) : undefined;
		return language ? [language] : [];
	}));
	return found.size === 1 ? [...found][0] : undefined;
}

/**
 * The refusal text: the message the user typed, unless it is empty or the English default, in which case the
 * default sentence in the answer language (English when the language is not in the table).
 */
export function notEnoughInformationText(message: string | undefined, language: unknown): string {
	const typed = message?.trim();
	if (typed && typed !== DEFAULT_NOT_ENOUGH_INFORMATION) return typed;
	return ANSWER_LANGUAGES[recognizeLanguage(language) ?? 'en'].notEnoughInformation;
}

/** The heading line of a customer text's source list in the answer language (English when unknown). */
export function sourcesHeading(language: unknown): string {
	return ANSWER_LANGUAGES[recognizeLanguage(language) ?? 'en'].sourcesHeading;
}
