/**
 * Keyword analysis per knowledge-base language, the one place both store backends take their keyword terms
 * from: LanceDB indexes these terms (a `keywords` column with a plain whitespace full-text index) and
 * Qdrant's sparse BM25 vectors are built from them, so both match the same words the same way.
 *
 * For each word of a text, in this order:
 * 1. lower case (Unicode NFC first, so a decomposed "é" is one letter);
 * 2. elisions stripped: French `l'`, `d'`, `qu'`, `jusqu'`…, Italian `l'`, `dell'`, `un'`…, English `'s`;
 * 3. stop words dropped (the language's Snowball list, accented or not: `ou` and `où` alike);
 * 4. stemmed (Snowball, `@orama/stemmers`), then accents folded (`é` → `e`, `œ` → `oe`, `ß` → `ss`).
 *
 * Accent-insensitive stems need folding *before* stemming (`activite` must reach the stem of `activités`:
 * stemmed with its accents, `activités` gives `activ`, while the bare `activite` gives `activit`), but the
 * Snowball rules need the accents to recognise suffixes (`dirigées` → `dirig` with them, `dirige` without):
 * neither order alone keeps both. So a document indexes each word's stem and, when it differs, also the stem
 * of the word with its accents removed; a query uses the first only. A query typed with the accents matches
 * the accented stem, and one typed without them is by construction the second form of the same word.
 *
 * `none` is language-neutral: lower case and folding, no stop words, no stemming.
 */
import { InputError } from './types';

export const KEYWORD_LANGUAGES = ['none', 'english', 'french', 'german', 'spanish', 'italian', 'portuguese', 'dutch'] as const;
export type KeywordLanguage = (typeof KEYWORD_LANGUAGES)[number];
/** A language, or `auto`: the one an existing collection was indexed with, or detected for a new one. */
export type KeywordLanguageSetting = KeywordLanguage | 'auto';

/** What `auto` gives a new collection whose first documents do not tell their language: LanceDB's old default. */
export const FALLBACK_KEYWORD_LANGUAGE: KeywordLanguage = 'english';
/**
 * Version of the analysis below. Stored with each collection next to its language, so a later change of the
 * rules can re-index collections analysed by an older version.
 */
export const KEYWORD_ANALYSIS_VERSION = 1;
/** Longer words are ignored (LanceDB's own limit): no real word is that long, and a 10,000-letter one costs. */
export const MAX_TERM_CHARS = 40;

export function isKeywordLanguage(value: unknown): value is KeywordLanguage {
	return typeof value === 'string' && (KEYWORD_LANGUAGES as readonly string[]).includes(value);
}

/** Validates a language setting from a user or a workflow; undefined and '' mean `auto`. */
export function parseKeywordLanguage(value: unknown, field = 'keywordLanguage'): KeywordLanguageSetting {
	if (value === undefined || value === null || value === '') return 'auto';
	const setting = typeof value === 'string' ? value.trim().toLowerCase() : value;
	if (setting === 'auto' || isKeywordLanguage(setting)) return setting;
	throw new InputError(
		`Unknown keyword language ${JSON.stringify(value)}: use auto, ${KEYWORD_LANGUAGES.join(', ')}.`,
		field,
	);
}

type Stemmer = (word: string) => string;

/** Module names of @orama/stemmers and @orama/stopwords per language. */
const ORAMA_NAMES: Record<Exclude<KeywordLanguage, 'none'>, string> = {
	english: 'english',
	french: 'french',
	german: 'german',
	spanish: 'spanish',
	italian: 'italian',
	portuguese: 'portuguese',
	dutch: 'dutch',
};

/**
 * Spanish: the Snowball list. @orama/stopwords' Spanish list is a different, 577-word one that also drops
 * content words (`acuerdo`, `ejemplo`, `general`, `final`…), which a search must keep.
 */
const SPANISH_STOP_WORDS = (
	'de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este sí porque ' +
	'esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni ' +
	'contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho ' +
	'quienes nada muchos cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu tus ellas nosotras ' +
	'vosotros vosotras os mío mía míos mías tuyo tuya tuyos tuyas suyo suya suyos suyas nuestro nuestra nuestros ' +
	'nuestras vuestro vuestra vuestros vuestras esos esas estoy estás está estamos estáis están esté estés ' +
	'estemos estéis estén estaré estarás estará estaremos estaréis estarán estaba estabas estábamos estabais ' +
	'estaban estuve estuviste estuvo estuvimos estuvisteis estuvieron estuviera estuvieras estuviéramos ' +
	'estuvieran estando estado estada estados estadas estad he has ha hemos habéis han haya hayas hayamos hayáis ' +
	'hayan habré habrás habrá habremos habréis habrán había habías habíamos habíais habían hube hubiste hubo ' +
	'hubimos hubisteis hubieron hubiera hubieras hubiéramos hubieran habiendo habido soy eres es somos sois son ' +
	'sea seas seamos seáis sean seré serás será seremos seréis serán sería serías seríamos seríais serían era ' +
	'eras éramos erais eran fui fuiste fue fuimos fuisteis fueron fuera fueras fuéramos fueran siendo sido tengo ' +
	'tienes tiene tenemos tenéis tienen tenga tengas tengamos tengan tendré tendrá tendremos tendrán tenía ' +
	'tenías teníamos tenían tuve tuvo tuvimos tuvieron tuviera tuvieran teniendo tenido'
).split(' ');

/**
 * Question words some Snowball lists lack (`combien`, `pourquoi`…): a question to a knowledge base starts with
 * one, and the passage that answers it rarely contains it.
 */
const QUESTION_WORDS: Partial<Record<KeywordLanguage, string[]>> = {
	french: ['combien', 'comment', 'pourquoi', 'quand', 'lequel', 'laquelle', 'lesquels', 'lesquelles'],
	german: ['warum', 'wann', 'wieso', 'weshalb', 'woher', 'wohin'],
	spanish: ['cómo', 'cuándo', 'dónde', 'cuál', 'cuáles', 'cuánto', 'cuánta', 'cuántos', 'cuántas'],
	italian: ['quando', 'perche'],
	portuguese: ['onde', 'porque', 'porquê', 'quanto', 'quanta', 'quantos', 'quantas', 'quais'],
	dutch: ['waar', 'wanneer', 'waarom', 'welke', 'welk'],
};

/** Words written before an apostrophe and glued to the next word (Lucene's elision lists). */
const ELISIONS: Partial<Record<KeywordLanguage, string[]>> = {
	french: ['l', 'm', 't', 'qu', 'n', 's', 'j', 'd', 'c', 'jusqu', 'quoiqu', 'lorsqu', 'puisqu'],
	italian: [
		'c', 'l', 'all', 'dall', 'dell', 'nell', 'sull', 'coll', 'pell', 'gl', 'agl', 'dagl', 'degl', 'negl', 'sugl',
		'un', 'm', 't', 's', 'v', 'd', 'quell', 'quest', 'nessun',
	],
};
const APOSTROPHES = "'\u2019\u02bc\u2018";
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const DIGITS_ONLY = /^\p{N}+$/u;
const COMBINING_MARKS = /\p{M}+/gu;
/** Letters NFKD does not decompose. */
const SPECIAL_LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i' };
const SPECIAL_LETTER = new RegExp(`[${Object.keys(SPECIAL_LETTERS).join('')}]`, 'g');

/** Lower-cased, accents and ligatures removed: `Œuvre Élysée Straße` → `oeuvre elysee strasse`. */
export function foldText(text: string): string {
	return text
		.toLowerCase()
		.normalize('NFKD')
		.replace(COMBINING_MARKS, '')
		.replace(SPECIAL_LETTER, (letter) => SPECIAL_LETTERS[letter]);
}

interface Analyzer {
	language: KeywordLanguage;
	elision?: RegExp;
	stopWords: Set<string>;
	stem?: Stemmer;
	/** Memo of each word's terms: text repeats words, and stemming is most of the cost. */
	cache: Map<string, string[]>;
}

const CACHE_LIMIT = 200_000;
const analyzers = new Map<KeywordLanguage, Analyzer>();

function loadStopWords(language: Exclude<KeywordLanguage, 'none'>): string[] {
	if (language === 'spanish') return SPANISH_STOP_WORDS;
	// The packages' subpath exports have no types under this project's module resolution.
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return (require(`@orama/stopwords/${ORAMA_NAMES[language]}`) as { stopwords: string[] }).stopwords;
}

function analyzer(language: KeywordLanguage): Analyzer {
	let found = analyzers.get(language);
	if (found) return found;
	if (language === 'none') {
		found = { language, stopWords: new Set(), cache: new Map() };
	} else {
		const words = [...loadStopWords(language), ...(QUESTION_WORDS[language] ?? [])].filter((word) => word !== '');
		const elisions = ELISIONS[language];
		found = {
			language,
			// After a non-letter only: `aujourd'hui` keeps its `d`.
			elision: elisions
				? new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])(?:${elisions.join('|')})[${APOSTROPHES}](?=[\\p{L}\\p{N}])`, 'gu')
				: language === 'english'
					? new RegExp(`(?<=[\\p{L}\\p{N}])[${APOSTROPHES}]s(?![\\p{L}\\p{M}\\p{N}])`, 'gu')
					: undefined,
			stopWords: new Set([...words.map((word) => word.normalize('NFC').toLowerCase()), ...words.map(foldText)]),
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			stem: (require(`@orama/stemmers/${ORAMA_NAMES[language]}`) as { stemmer: Stemmer }).stemmer,
			cache: new Map(),
		};
	}
	analyzers.set(language, found);
	return found;
}

/** A word's index terms: its folded stem, then the stem of its folded form when that differs. */
function wordTerms(analysis: Analyzer, word: string): string[] {
	let terms = analysis.cache.get(word);
	if (terms) return terms;
	const folded = foldText(word);
	if (analysis.stopWords.has(word) || analysis.stopWords.has(folded)) terms = [];
	else if (!analysis.stem || DIGITS_ONLY.test(folded)) terms = [folded];
	else {
		const stemmed = foldText(analysis.stem(word));
		const foldedStem = foldText(analysis.stem(folded));
		terms = stemmed === foldedStem ? [stemmed] : [stemmed, foldedStem];
	}
	terms = terms.filter((term) => term !== '');
	if (analysis.cache.size >= CACHE_LIMIT) analysis.cache.clear();
	analysis.cache.set(word, terms);
	return terms;
}

/** The words of a text after lower-casing and elision, before stop words (each at most MAX_TERM_CHARS). */
function words(analysis: Analyzer, text: string): string[] {
	let lower = text.normalize('NFC').toLowerCase();
	if (analysis.elision) lower = lower.replace(analysis.elision, '');
	return (lower.match(WORD) ?? []).filter((word) => word.length <= MAX_TERM_CHARS);
}

/** Index terms of a document, word by word (a word gives 0 to 2 terms; stop words none). */
export function analyzeDocumentWords(text: string, language: KeywordLanguage): string[][] {
	const analysis = analyzer(language);
	return words(analysis, text).map((word) => wordTerms(analysis, word));
}

/** Index terms of a document, in order. */
export function analyzeDocument(text: string, language: KeywordLanguage): string[] {
	return analyzeDocumentWords(text, language).flat();
}

/**
 * Terms of a query: one per word (the stem of the word as typed, accents folded), in order, repeats kept.
 * Never fails: any text, quotes, operators or emoji included, gives plain terms (or none).
 */
export function analyzeQuery(text: string, language: KeywordLanguage): string[] {
	const analysis = analyzer(language);
	const terms: string[] = [];
	for (const word of words(analysis, text)) {
		const first = wordTerms(analysis, word)[0];
		if (first) terms.push(first);
	}
	return terms;
}

/** Characters of text read to detect a language: enough for a clear majority of function words. */
const DETECTION_CHARS = 20_000;
/** Function words a text must show before its language is trusted. */
const DETECTION_MIN_HITS = 4;

/**
 * The language of some texts, told by their function words (each language's stop words), or undefined when
 * too few are there or two languages come too close (then `auto` uses FALLBACK_KEYWORD_LANGUAGE).
 */
export function detectKeywordLanguage(texts: string[]): KeywordLanguage | undefined {
	let sample = '';
	for (const text of texts) {
		if (sample.length >= DETECTION_CHARS) break;
		sample += `${text.slice(0, DETECTION_CHARS - sample.length)}\n`;
	}
	const tokens = sample.normalize('NFC').toLowerCase().match(WORD) ?? [];
	const scores = KEYWORD_LANGUAGES.filter((language) => language !== 'none').map((language) => {
		const { stopWords } = analyzer(language);
		return { language, hits: tokens.filter((token) => stopWords.has(token)).length };
	});
	scores.sort((a, b) => b.hits - a.hits);
	const [best, second] = scores;
	if (best.hits < DETECTION_MIN_HITS || best.hits < second.hits * 1.3) return undefined;
	return best.language;
}

/**
 * The tokens of the first sparse encoder (before languages): folded, lower-cased words minus a few English
 * function words, no stemming. Qdrant collections created before languages were introduced hold vectors of
 * these tokens; a query must use them too until the collection is re-indexed with a language.
 */
const LEGACY_STOP_WORDS = new Set(
	(
		'a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or our ' +
		'she so than that the their them then there these they this to was we were what when where which who will with you your'
	).split(' '),
);
const LEGACY_WORD = /[\p{L}\p{N}]+/gu;

export function legacyTokens(text: string): string[] {
	const folded = text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
	return (folded.match(LEGACY_WORD) ?? []).filter((word) => !LEGACY_STOP_WORDS.has(word));
}
