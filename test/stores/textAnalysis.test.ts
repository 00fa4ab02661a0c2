import { encodeDocument, encodeQuery, termId } from '../../lib/stores/sparseEncoder';
import {
	analyzeDocument,
	analyzeDocumentWords,
	analyzeQuery,
	detectKeywordLanguage,
	foldText,
	KEYWORD_LANGUAGES,
	legacyTokens,
	parseKeywordLanguage,
	type KeywordLanguage,
} from '../../lib/textAnalysis';
import { InputError } from '../../lib/types';

/** Does a query find a document under this language's analysis (any query term among the document's terms)? */
function matches(query: string, document: string, language: KeywordLanguage): boolean {
	const terms = new Set(analyzeDocument(document, language));
	return analyzeQuery(query, language).some((term) => terms.has(term));
}

describe('keyword analysis', () => {
	it('folds accents, ligatures and case', () => {
		expect(foldText('Œuvre Élysée Straße Æsir Øresund NAÏVE Łódź')).toBe('oeuvre elysee strasse aesir oresund naive lodz');
		// A decomposed accent (NFD input) folds the same as a composed one.
		expect(analyzeQuery('activite\u0301s', 'french')).toEqual(analyzeQuery('activités', 'french'));
	});

	describe('French', () => {
		it('matches a word typed without its accents', () => {
			expect(matches('activite', 'Les activités du groupe', 'french')).toBe(true);
			expect(matches('activites', 'Une activité', 'french')).toBe(true);
			expect(matches('economie', "L'économie française", 'french')).toBe(true);
			expect(matches('eleve', 'Les élèves', 'french')).toBe(true);
			expect(matches('etat', "Le rôle de l'État", 'french')).toBe(true);
		});

		it('matches other inflections of a word, with or without accents', () => {
			expect(matches('dirige', 'Les équipes sont dirigées par Anne', 'french')).toBe(true);
			expect(matches('dirigées', 'Elle dirige le service', 'french')).toBe(true);
			expect(matches('entreprises', "l'entreprise", 'french')).toBe(true);
			expect(matches('mangé', 'Ils vont manger', 'french')).toBe(true);
		});

		it('strips elisions, so "l\'entreprise" is "entreprise", never "l"', () => {
			expect(analyzeQuery("l'entreprise", 'french')).toEqual(['entrepris']);
			expect(analyzeDocument("L’entreprise qu'il dirige jusqu'à lorsqu'elle d'abord n'est s'il c'est j'ai m'a t'a puisqu'on", 'french')).not.toEqual(
				expect.arrayContaining(['l', 'qu', 'd', 'n', 's', 'c', 'j', 'm', 't', 'jusqu', 'lorsqu', 'puisqu']),
			);
			expect(analyzeDocument("d'abord", 'french')).toEqual(['abord']);
			// Inside a word an apostrophe is no elision.
			expect(analyzeDocument("aujourd'hui", 'french')).toEqual(['aujourd', 'hui']);
			expect(matches("l'avion", "L'entreprise", 'french')).toBe(false);
		});

		it('drops stop words, accented or not, and question words', () => {
			expect(analyzeQuery('Où est le siège de la société ?', 'french')).toEqual(analyzeQuery('siège société', 'french'));
			expect(analyzeQuery('ou est le siege de la societe', 'french')).toEqual(analyzeQuery('siège société', 'french'));
			expect(analyzeQuery('Combien de salariés, et pourquoi ?', 'french')).toEqual(analyzeQuery('salariés', 'french'));
		});

		it('indexes a word twice only when its accented and unaccented stems differ', () => {
			expect(analyzeDocumentWords('activités dirigées maison', 'french')).toEqual([['activ', 'activit'], ['dirig', 'dirige'], ['maison']]);
			// A query term is one per word.
			expect(analyzeQuery('activités dirigées maison', 'french')).toEqual(['activ', 'dirig', 'maison']);
		});
	});

	it('analyses each language with its stemmer, stop words and elisions', () => {
		expect(analyzeQuery("The company's runners were running", 'english')).toEqual(['compani', 'runner', 'run']);
		expect(matches('Hauser', 'Die Häuser der Stadt', 'german')).toBe(true);
		expect(matches('strasse', 'Straße', 'german')).toBe(true);
		expect(analyzeQuery('die und der', 'german')).toEqual([]);
		expect(matches('cancion', 'Las canciones', 'spanish')).toBe(true);
		expect(matches('ninos', 'los niños', 'spanish')).toBe(true);
		expect(analyzeQuery('el acuerdo general', 'spanish')).toEqual(analyzeQuery('acuerdo general', 'spanish'));
		expect(analyzeQuery('acuerdo general', 'spanish')).toHaveLength(2);
		expect(analyzeDocument("Dell'arte e l'università, un'amica", 'italian')).toEqual(['arte', 'univers', 'amic']);
		expect(matches('citta', 'la città', 'italian')).toBe(true);
		expect(matches('acoes', 'as ações', 'portuguese')).toBe(true);
		expect(matches('informacao', 'a informação', 'portuguese')).toBe(true);
		expect(matches('ideeen', 'de ideeën', 'dutch')).toBe(true);
		expect(analyzeQuery('de het en', 'dutch')).toEqual([]);
	});

	it('keeps every word, folded, under "none"', () => {
		expect(analyzeDocument("Les activités de l'entreprise", 'none')).toEqual(['les', 'activites', 'de', 'l', 'entreprise']);
		expect(analyzeQuery('Activités', 'none')).toEqual(['activites']);
	});

	it('turns any query into plain terms', () => {
		for (const language of KEYWORD_LANGUAGES) {
			expect(analyzeQuery('"zebra" OR "banana"', language)).toEqual(analyzeQuery('zebra or banana', language));
			expect(analyzeQuery('😀 *? +-~^\\/[]{}():"\'', language)).toEqual([]);
			expect(analyzeQuery(`word ${'x'.repeat(10_000)}`, language)).toEqual(analyzeQuery('word', language));
		}
	});

	it('detects the language of a new collection from its function words', () => {
		expect(detectKeywordLanguage(["Les dépenses des ménages représentent plus de 50 % de ces montants pour l'État et les entreprises."])).toBe('french');
		expect(detectKeywordLanguage(['The quick brown fox jumps over the lazy dog and the cat is in the house'])).toBe('english');
		expect(detectKeywordLanguage(['Der schnelle braune Fuchs springt über den faulen Hund und die Katze ist im Haus'])).toBe('german');
		expect(detectKeywordLanguage(['El rápido zorro marrón salta sobre el perro perezoso y el gato está en la casa'])).toBe('spanish');
		expect(detectKeywordLanguage(['La volpe marrone veloce salta sopra il cane pigro e il gatto è nella casa con la famiglia'])).toBe('italian');
		expect(detectKeywordLanguage(['De snelle bruine vos springt over de luie hond en de kat is in het huis met de familie'])).toBe('dutch');
		expect(
			detectKeywordLanguage(['O Brasil é o maior país da América do Sul e o seu território tem uma grande diversidade, com muitas regiões que não são iguais.']),
		).toBe('portuguese');
		// Too short to tell.
		expect(detectKeywordLanguage(['Spring pricing'])).toBeUndefined();
	});

	it('validates a language setting', () => {
		expect(parseKeywordLanguage(undefined)).toBe('auto');
		expect(parseKeywordLanguage('')).toBe('auto');
		expect(parseKeywordLanguage(' French ')).toBe('french');
		expect(() => parseKeywordLanguage('klingon')).toThrow(InputError);
		expect(() => parseKeywordLanguage('klingon')).toThrow(/Unknown keyword language "klingon"/);
	});
});

describe('sparse vectors per language', () => {
	it('keeps the legacy encoding by default (collections created before languages)', () => {
		expect(legacyTokens("L'activité de l'entreprise")).toEqual(['l', 'activite', 'de', 'l', 'entreprise']);
		expect(encodeQuery("L'activité")).toEqual(encodeQuery("L'activité", 'legacy'));
	});

	it('encodes the analysed terms of the language', () => {
		const query = encodeQuery("l'activite dirige", 'french');
		expect(query).toEqual({ indices: [termId('activit'), termId('dirig')].sort((a, b) => a - b), values: [1, 1] });
		const document = encodeDocument('Les activités dirigées', 'french');
		for (const term of ['activ', 'activit', 'dirig', 'dirige']) expect(document.indices).toContain(termId(term));
		expect(document.indices).not.toContain(termId('les'));
		// Every query term of an unaccented question is in the accented document.
		for (const index of query.indices) expect(document.indices).toContain(index);
	});

	it('counts words, not terms, for the length normalisation', () => {
		// "activités" indexes two terms, "maison" one: each still weighs as one occurrence of a one-word text.
		const twoTerms = encodeDocument('activités', 'french');
		const oneTerm = encodeDocument('maison', 'french');
		expect(twoTerms.values[0]).toBeCloseTo(oneTerm.values[0], 10);
	});
});
