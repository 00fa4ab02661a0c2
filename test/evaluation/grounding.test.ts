import { isRefusal, measureGrounding, splitSentences } from '../../lib/evaluation';
import { analyzeDocument } from '../../lib/textAnalysis';

const sentencesOf = (text: string) => splitSentences(text).map((sentence) => [sentence.text, sentence.citations]);

describe('splitSentences', () => {
	it('splits French prose with titles, elisions, decimals and etc.', () => {
		expect(
			sentencesOf(
				"M. Dupont a confirmé l'offre à 29,90 € par mois [1]. Elle inclut l'assistance, la formation, etc. Le contrat dure 12 mois [2].",
			),
		).toEqual([
			["M. Dupont a confirmé l'offre à 29,90 € par mois [1].", [1]],
			["Elle inclut l'assistance, la formation, etc.", []],
			['Le contrat dure 12 mois [2].', [2]],
		]);
	});

	it('attaches citations written after the period, and groups like [1, 2], to the sentence before', () => {
		expect(sentencesOf('Le prix est fixe. [1] Il baisse en mars.[2] Les deux offres existent [1, 2].')).toEqual([
			['Le prix est fixe. [1]', [1]],
			['Il baisse en mars.[2]', [2]],
			['Les deux offres existent [1, 2].', [1, 2]],
		]);
	});

	it('handles « guillemets » with French spacing, ellipses and ? !', () => {
		expect(sentencesOf('Il a dit « C\u2019est gratuit. » Puis il est parti [1]. « Vraiment ? » demanda-t-elle. Attendez... Non ! Oui.')).toEqual([
			['Il a dit « C\u2019est gratuit. »', []],
			['Puis il est parti [1].', [1]],
			['« Vraiment ? » demanda-t-elle.', []],
			['Attendez...', []],
			['Non !', []],
			['Oui.', []],
		]);
	});

	it('does not split after abbreviations and initials in several languages', () => {
		expect(sentencesOf('Voir p. 12 du guide, cf. Article 3. Dr. Martin et J. Dupont répondent. Das gilt z. B. für Hr. Meier. Use e.g. The plan.')).toEqual([
			['Voir p. 12 du guide, cf. Article 3.', []],
			['Dr. Martin et J. Dupont répondent.', []],
			['Das gilt z. B. für Hr. Meier.', []],
			['Use e.g. The plan.', []],
		]);
		expect(sentencesOf('Par ex. p.ex. Dupont. Visitez example.com. Puis revenez.')).toEqual([
			['Par ex. p.ex. Dupont.', []],
			['Visitez example.com.', []],
			['Puis revenez.', []],
		]);
		expect(sentencesOf('Der Kurs beginnt am 1. Mai. Er endet im Juni.')).toEqual([
			['Der Kurs beginnt am 1. Mai.', []],
			['Er endet im Juni.', []],
		]);
		expect(sentencesOf('Version 3.5 coûte 29.90 EUR. Fin.')).toEqual([
			['Version 3.5 coûte 29.90 EUR.', []],
			['Fin.', []],
		]);
	});

	it('reads Markdown: headings and code ignored, list items separate, paragraph lines joined', () => {
		const answer = [
			'# Nos offres',
			'',
			'- Premier point [1]',
			'- Second point',
			'1. Troisième point [2]',
			'',
			'Un paragraphe',
			'continué ici [2].',
			'',
			'```',
			'code [1]. Pas une phrase.',
			'```',
			'---',
			'[3]',
		].join('\n');
		expect(sentencesOf(answer)).toEqual([
			['Premier point [1]', [1]],
			['Second point', []],
			['Troisième point [2]', [2]],
			['Un paragraphe\ncontinué ici [2].', [2]],
		]);
	});

	it('gives no sentence for an empty answer or one without words', () => {
		expect(splitSentences('')).toEqual([]);
		expect(splitSentences('  \n\n# Titre\n---\n')).toEqual([]);
	});
});

describe('measureGrounding', () => {
	const sources = [
		{ n: 1, text: 'Le forfait Essentiel coûte 29,90 € par mois.' },
		{ n: 2, text: "L'assistance téléphonique est incluse." },
		{ n: 3, text: 'Les cadeaux sont offerts aux nouveaux clients.' },
	];

	it('checks the French stop words the hand computations rely on', () => {
		expect(analyzeDocument('le par il est nous un les sont', 'french')).toEqual([]);
	});

	it('measures cited sentences and faithfulness on a French answer', () => {
		const metrics = measureGrounding({
			answer: "Le forfait coûte 29,90 € par mois [1]. L'assistance téléphonique est incluse [2]. Nous offrons un cadeau.",
			sources,
			unsupportedCitations: [],
			language: 'french',
		});
		// 3 sentences, 2 cited. Content words: forfait coûte 29 90 mois (5, all in [1]) + assistance téléphonique
		// incluse (3, all in [2]) + offrons cadeau (2; source 3 has them but is not cited) = 8 / 10.
		expect(metrics).toEqual({
			sentences: 3,
			citedSentences: 2,
			citedSentenceShare: 2 / 3,
			unsupportedCitations: 0,
			contentWords: 10,
			supportedContentWords: 8,
			faithfulness: 0.8,
			unsupportedWords: ['offrons', 'cadeau'],
			refused: false,
			language: 'french',
		});
	});

	it('matches words with or without accents, elided, in another inflection', () => {
		const metrics = measureGrounding({
			answer: "Les activites sont dirigees par l'équipe d'experts [1].",
			sources: [{ n: 1, text: 'Les activités dirigées par notre équipe ; un expert vous répond.' }],
			language: 'french',
		});
		// activites dirigees équipe experts: 4 content words, all found (folded, stemmed, elision removed).
		expect(metrics).toMatchObject({ contentWords: 4, supportedContentWords: 4, faithfulness: 1 });
	});

	it('flags a changed number as unsupported', () => {
		const metrics = measureGrounding({ answer: 'Le forfait coûte 39,90 € [1].', sources, language: 'french' });
		// forfait coûte 39 90: 39 is not in source 1, 90 is.
		expect(metrics).toMatchObject({ contentWords: 4, supportedContentWords: 3, faithfulness: 0.75, unsupportedWords: ['39,90'] });
	});

	it('gives 0, not null, to an answer that cites nothing, and ignores citations of unknown sources', () => {
		expect(measureGrounding({ answer: 'Le forfait coûte 29,90 €.', sources, language: 'french' })).toMatchObject({
			sentences: 1,
			citedSentenceShare: 0,
			faithfulness: 0,
		});
		// JSON answers keep unknown citations: [9] is not a source.
		expect(measureGrounding({ answer: 'Le forfait coûte 29,90 € [9].', sources, unsupportedCitations: [9], language: 'french' })).toMatchObject({
			citedSentences: 0,
			citedSentenceShare: 0,
			faithfulness: 0,
			unsupportedCitations: 1,
		});
	});

	it('does not count an uncited lead-in ending with a colon as a sentence', () => {
		const metrics = measureGrounding({
			answer: 'Voici nos forfaits :\n- Essentiel à 29,90 € par mois [1]\n- Assistance téléphonique incluse [2]\n\nCadeau offert.',
			sources,
			language: 'french',
		});
		// Sentences: the two items (cited) and "Cadeau offert." (not cited); the lead-in is left out: 2 / 3.
		expect(metrics.sentences).toBe(3);
		expect(metrics.citedSentenceShare).toBeCloseTo(2 / 3, 10);
		expect(splitSentences('Voici nos forfaits :\n- A').map((sentence) => sentence.leadIn)).toEqual([true, false]);
	});

	it('counts distinct unsupported citations reported by Generate', () => {
		expect(measureGrounding({ answer: 'Texte [1].', sources, unsupportedCitations: [4, 4, 7] }).unsupportedCitations).toBe(2);
	});

	it('gives nulls, never NaN, for an empty answer or one of stop words only', () => {
		for (const answer of ['', undefined, null, '\n# Titre\n']) {
			expect(measureGrounding({ answer, sources, language: 'french' })).toMatchObject({
				sentences: 0,
				citedSentences: 0,
				citedSentenceShare: null,
				contentWords: 0,
				faithfulness: null,
				refused: false,
			});
		}
		expect(measureGrounding({ answer: 'Il est là [1].', sources, language: 'french' })).toMatchObject({
			sentences: 1,
			citedSentenceShare: 1,
			contentWords: 0,
			faithfulness: null,
		});
	});

	it('gives nulls and refused: true for a refusal', () => {
		expect(
			measureGrounding({ answer: "Je n'ai pas assez d'informations pour répondre.", sources, refused: true, unsupportedCitations: [5], language: 'french' }),
		).toEqual({
			sentences: 0,
			citedSentences: 0,
			citedSentenceShare: null,
			unsupportedCitations: 1,
			contentWords: 0,
			supportedContentWords: 0,
			faithfulness: null,
			unsupportedWords: [],
			refused: true,
			language: 'french',
		});
	});

	it('detects the language when not given (English answer)', () => {
		const metrics = measureGrounding({
			answer: "Mr. Smith's plan costs 10 dollars per month [1]. It includes phone support and the training is free [1].",
			sources: [{ n: 1, text: 'The plan costs 10 dollars per month and includes phone support for Mr Smith. Training is free of charge.' }],
		});
		expect(metrics.language).toBe('english');
		expect(metrics).toMatchObject({ sentences: 2, citedSentenceShare: 1, faithfulness: 1 });
	});
});

describe('isRefusal', () => {
	it('recognises the refusal shape of a Generate result', () => {
		expect(isRefusal({ finishReason: 'stop', modelReply: 'NOT_IN_SOURCES' })).toBe(true);
		expect(isRefusal({ finishReason: 'not_called', modelReply: undefined })).toBe(true);
		expect(isRefusal({ finishReason: 'not_called' })).toBe(true);
		expect(isRefusal({ finishReason: 'stop' })).toBe(false);
	});
});
