import { load } from 'cheerio';

import {
	DEFAULT_REVIEW_LOCALE,
	formatDateTime,
	handleReviewRequest,
	InMemoryDecisionStore,
	MESSAGES,
	messagesFor,
	parseReviewLanguage,
	renderAlreadyDecidedPage,
	renderBeingDecidedPage,
	renderChatWebhookPayload,
	renderConfirmationPage,
	renderErrorPage,
	renderLocalizedErrorPage,
	renderReviewClosedPage,
	renderReviewEmail,
	renderTimedOutPage,
	renderUnavailablePage,
	resolveReviewLocale,
	REVIEW_LANGUAGES,
	validateReviewLocale,
	validateTimeZone,
	type Messages,
	type ReviewDecision,
	type ReviewEndpointOptions,
	type ReviewLanguage,
	type ReviewLocale,
} from '../../lib/approval';
import { formatHtml, formatText, pluralText, placeholdersOf } from '../../lib/approval/i18n';
import { InputError } from '../../lib/types';
import { humanApprovalProperties } from '../../nodes/HumanApproval/properties';
import { reviewLocale } from '../../nodes/HumanApproval/reviewState';
import {
	CLASSIC_XSS,
	formTokenOf,
	getRequest,
	HOUR_MS,
	injectionFindings,
	postRequest,
	REVIEW_ID,
	reviewContent,
	reviewLink,
	reviewToken,
	SECRET,
} from './support/fixtures';

/** Every text of a catalogue by its dotted path (`review.approve`, `confirmation.waitingFor.one`). */
function entries(value: unknown, path = ''): Array<[string, unknown]> {
	if (typeof value !== 'object' || value === null) return [[path, value]];
	return Object.entries(value).flatMap(([key, child]) => entries(child, path ? `${path}.${key}` : key));
}

const EN = new Map(entries(MESSAGES.en));
const OTHER_LANGUAGES = REVIEW_LANGUAGES.filter((language) => language !== 'en');

/** Texts that are the same as in English on purpose (a placeholder-only pattern, a loanword, a shared word). */
const SAME_AS_ENGLISH = new Set([
	'de:labelValue',
	'es:labelValue',
	'it:labelValue',
]);

const PARIS = (language: ReviewLanguage): ReviewLocale => ({ language, timeZone: 'Europe/Paris' });
const DECEMBER_3 = '2026-12-03T13:05:00.000Z'; // 14:05 in Paris (winter time)

function decision(overrides: Partial<ReviewDecision & { edited: boolean }> = {}): ReviewDecision & { edited?: boolean } {
	return {
		action: 'approved',
		reviewer: 'ada@example.com',
		decidedAt: DECEMBER_3,
		userAgent: 'ua',
		ip: '203.0.113.7',
		comment: '',
		finalText: 'text',
		...overrides,
	};
}

function endpoint(locale: ReviewLocale | undefined, overrides: Partial<ReviewEndpointOptions> = {}): ReviewEndpointOptions {
	return { secret: SECRET, store: new InMemoryDecisionStore(), content: reviewContent(), policy: { mode: 'first' }, locale, ...overrides };
}

describe('the message catalogue', () => {
	test('a catalogue with a missing key does not compile', () => {
		const { approve: _approve, ...review } = MESSAGES.en.review;
		// @ts-expect-error — `review.approve` is missing: the Messages interface makes that a compile error.
		const incomplete: Messages = { ...MESSAGES.en, review };
		expect(incomplete.review).not.toHaveProperty('approve');
	});

	test.each(REVIEW_LANGUAGES)('%s has every key of the English catalogue, each a non-empty string, and no other key', (language) => {
		const texts = entries(MESSAGES[language]);
		expect(texts.map(([path]) => path).sort()).toEqual([...EN.keys()].sort());
		for (const [path, text] of texts) {
			expect({ path, type: typeof text }).toEqual({ path, type: 'string' });
			expect({ path, text: (text as string).trim().length > 0 }).toEqual({ path, text: true });
		}
	});

	test.each(OTHER_LANGUAGES)('%s leaves no text in English, except the allow-listed ones', (language) => {
		const untranslated = entries(MESSAGES[language])
			.filter(([path, text]) => text === EN.get(path) && !SAME_AS_ENGLISH.has(`${language}:${path}`))
			.map(([path]) => path);
		expect(untranslated).toEqual([]);
	});

	test('the allow-list names only texts that really are the same as in English', () => {
		for (const entry of SAME_AS_ENGLISH) {
			const [language, path] = entry.split(':') as [ReviewLanguage, string];
			expect(new Map(entries(MESSAGES[language])).get(path)).toBe(EN.get(path));
		}
	});

	test.each(OTHER_LANGUAGES)('%s uses the same placeholders as English in every text', (language) => {
		for (const [path, text] of entries(MESSAGES[language])) {
			expect({ path, placeholders: placeholdersOf(text as string).sort() }).toEqual({
				path,
				placeholders: placeholdersOf(EN.get(path) as string).sort(),
			});
		}
	});

	test('formatHtml escapes the static text and inserts the values as given; values are never read as templates', () => {
		expect(formatHtml('Tom & <Jerry> "{who}"', { who: '<bdi>x</bdi>' })).toBe('Tom &amp; &lt;Jerry&gt; &quot;<bdi>x</bdi>&quot;');
		expect(formatText('Hello {name},', { name: '{url} <b>' })).toBe('Hello {url} <b>,');
		expect(() => formatText('Hello {name},')).toThrow(/\{name\}/);
	});

	test('French typography: no-break space before : ; ! ? and inside « », typographic apostrophe', () => {
		for (const [path, value] of entries(MESSAGES.fr)) {
			const text = value as string;
			expect({ path, breakingSpaceBeforePunctuation: /[ ][:;!?]/.test(text) }).toEqual({ path, breakingSpaceBeforePunctuation: false });
			expect({ path, noSpaceBeforePunctuation: /[^\s\u00a0\u202f][;!?]/.test(text) }).toEqual({ path, noSpaceBeforePunctuation: false });
			expect({ path, colon: /[^\u00a0\u202f]:/.test(text) }).toEqual({ path, colon: false });
			expect({ path, guillemets: /«[^\u00a0\u202f]|[^\u00a0\u202f]»/.test(text) }).toEqual({ path, guillemets: false });
		}
	});

	test.each(OTHER_LANGUAGES)('%s uses typographic quotes and apostrophes only', (language) => {
		const straight = entries(MESSAGES[language]).filter(([, text]) => /['"]/.test(text as string));
		expect(straight).toEqual([]);
	});

	test('plural forms follow the language: French "1 autre relecteur", "2 autres relecteurs"; CLDR "many" reads as other', () => {
		const fr = MESSAGES.fr.confirmation.waitingFor;
		expect(pluralText(fr, 1, PARIS('fr'))).toBe(fr.one);
		expect(pluralText(fr, 2, PARIS('fr'))).toBe(fr.other);
		expect(pluralText(fr, 1_000_000, PARIS('fr'))).toBe(fr.other);
		for (const language of REVIEW_LANGUAGES) {
			const confirmation = (count: number) => load(renderConfirmationPage(decision(), count, PARIS(language)).body)('p').first().text();
			expect(confirmation(1)).toContain(MESSAGES[language].confirmation.waitingFor.one.replace('{count}', '1'));
			expect(confirmation(2)).toContain(MESSAGES[language].confirmation.waitingFor.other.replace('{count}', '2'));
		}
	});
});

describe('locales and time zones', () => {
	test('an unknown time zone is an InputError naming timeZone and showing an IANA example', () => {
		for (const zone of ['Paris', 'Mars/Base', 'CEST+1', '', '   ']) {
			let error: unknown;
			try {
				validateTimeZone(zone);
			} catch (caught) {
				error = caught;
			}
			expect(error).toBeInstanceOf(InputError);
			expect(error).toMatchObject({ field: 'timeZone', message: expect.stringContaining('use an IANA name such as Europe/Paris') });
		}
		expect(() => validateReviewLocale({ language: 'fr', timeZone: 'Europe/Pariss' })).toThrow(
			expect.objectContaining({ field: 'timeZone' }),
		);
	});

	test('a valid zone comes back in its canonical spelling', () => {
		expect(validateTimeZone('europe/paris')).toBe('Europe/Paris');
		expect(validateTimeZone(' UTC ')).toBe('UTC');
		expect(validateTimeZone('Europe/Rome')).toBe('Europe/Rome');
	});

	test('languages: codes and regional tags are accepted, anything else names the field', () => {
		expect(parseReviewLanguage('fr')).toBe('fr');
		expect(parseReviewLanguage('DE')).toBe('de');
		expect(parseReviewLanguage('es-ES')).toBe('es');
		expect(parseReviewLanguage('it_IT')).toBe('it');
		expect(() => parseReviewLanguage('nl')).toThrow(expect.objectContaining({ field: 'language', message: expect.stringContaining('fr (Français)') }));
	});

	test('rendering never fails on a bad locale: English and UTC stand in', () => {
		expect(resolveReviewLocale(undefined)).toEqual(DEFAULT_REVIEW_LOCALE);
		expect(resolveReviewLocale({ language: 'xx' as ReviewLanguage, timeZone: 'Nowhere/Land' })).toEqual({ language: 'en', timeZone: 'UTC' });
		expect(messagesFor({ language: 'fr' })).toBe(MESSAGES.fr);
		const page = renderReviewClosedPage(410, { language: 'fr', timeZone: 'Nowhere/Land' });
		expect(page.body).toContain('<html lang="fr">');
	});

	test('reviews sent before the setting existed read English and UTC', () => {
		expect(reviewLocale({})).toEqual({ language: 'en', timeZone: 'UTC' });
		expect(reviewLocale({ language: 'it', timeZone: 'Europe/Rome' })).toEqual({ language: 'it', timeZone: 'Europe/Rome' });
	});

	test.each([
		['en', '3 Dec 2026, 14:05 (Europe/Paris)'],
		['fr', '3 déc. 2026 à 14:05 (Europe/Paris)'],
		['de', '03.12.2026 um 14:05 Uhr (Europe/Paris)'],
		['es', '3 dic 2026 a las 14:05 (Europe/Paris)'],
		['it', '3 dic 2026 alle 14:05 (Europe/Paris)'],
	] as Array<[ReviewLanguage, string]>)('%s: 2026-12-03T13:05Z reads %j in Europe/Paris', (language, expected) => {
		expect(formatDateTime(DECEMBER_3, PARIS(language))).toBe(expected);
	});

	test('UTC keeps the plain " UTC" suffix, and summer time is applied', () => {
		expect(formatDateTime(DECEMBER_3)).toBe('3 Dec 2026, 13:05 UTC');
		expect(formatDateTime('2026-07-03T13:05:00Z', PARIS('fr'))).toBe('3 juil. 2026 à 15:05 (Europe/Paris)');
	});

	test('dates on pages sit in a machine-readable <time> in the given zone; the sentence reads naturally', () => {
		const html = (language: ReviewLanguage) => renderAlreadyDecidedPage(200, decision(), false, PARIS(language)).body;
		const $ = load(html('fr'));
		expect($('time').attr('datetime')).toBe(DECEMBER_3);
		expect($('p').first().text()).toBe('Approuvé par ada@example.com le 3 déc. 2026 à 14:05 (Europe/Paris).');
		expect(load(html('de'))('p').first().text()).toBe('Freigegeben von ada@example.com am 03.12.2026 um 14:05 Uhr (Europe/Paris).');
		expect(load(html('es'))('p').first().text()).toBe('Aprobado por ada@example.com el 3 dic 2026 a las 14:05 (Europe/Paris).');
		expect(load(html('it'))('p').first().text()).toBe('Approvato da ada@example.com il giorno 3 dic 2026 alle 14:05 (Europe/Paris).');
		expect(load(html('en'))('p').first().text()).toBe('Approved by ada@example.com on 3 Dec 2026, 14:05 (Europe/Paris).');
	});

	test('e-mail and chat show the expiry as a full date in the zone', () => {
		const input = { subject: 's', draft: 'd', context: [], reviewUrl: reviewLink(), expiresAt: new Date(DECEMBER_3) };
		expect(renderReviewEmail(input, PARIS('fr')).text).toContain('expire le jeudi 3 décembre 2026 à 14:05 (Europe/Paris)');
		expect(renderReviewEmail(input, PARIS('de')).text).toContain('läuft am Donnerstag, 3. Dezember 2026 um 14:05 (Europe/Paris) ab');
		expect(renderReviewEmail(input).text).toContain('expires on Thursday, 3 December 2026 at 13:05 UTC');
		const chat = renderChatWebhookPayload(
			{ format: 'slack', title: 't', links: [{ reviewerName: 'Ada', url: reviewLink() }], expiresAt: new Date(DECEMBER_3) },
			PARIS('it'),
		);
		expect(JSON.stringify(chat)).toContain('I link scadono giovedì 3 dicembre 2026 alle ore 14:05 (Europe/Paris).');
		expect(chat).toMatchObject({ blocks: [{}, { elements: [{ text: { text: 'Rivedi come Ada' } }] }] });
	});
});

describe.each(REVIEW_LANGUAGES)('pages and messages in %s', (language) => {
	const locale = PARIS(language);
	const text = MESSAGES[language];
	const langOf = (html: string) => load(html)('html').attr('lang');
	const headingOf = (html: string) => load(html)('h1').text();

	test('every page carries lang and the headers; the new late-visit pages say what happened', () => {
		const pages = {
			timedOut: renderTimedOutPage(410, { expiredAt: DECEMBER_3 }, locale),
			closed: renderReviewClosedPage(410, locale),
			beingDecided: renderBeingDecidedPage(503, locale),
			unavailable: renderUnavailablePage(503, locale),
			alreadyDecided: renderAlreadyDecidedPage(409, decision({ action: 'rejected' }), true, locale),
			confirmation: renderConfirmationPage(decision(), 0, locale),
			error: renderErrorPage(400, 'h', 'a', locale),
			localizedError: renderLocalizedErrorPage(400, 'commentTooLong', locale, { max: 5000 }),
		};
		for (const page of Object.values(pages)) {
			expect(langOf(page.body)).toBe(language);
			expect(page.headers['Content-Security-Policy']).toContain("default-src 'none'");
			expect(load(page.body)('script, form').length).toBe(0);
			expect(injectionFindings(page.body)).toEqual([]);
		}
		expect(pages.timedOut.status).toBe(410);
		expect(headingOf(pages.timedOut.body)).toBe(text.closed.timedOutHeading);
		expect(load(pages.timedOut.body)('time').attr('datetime')).toBe(DECEMBER_3);
		expect(load(pages.timedOut.body)('p').text()).toContain(formatDateTime(DECEMBER_3, locale));
		expect(headingOf(pages.closed.body)).toBe(text.closed.closedHeading);
		expect(load(pages.closed.body)('p').text()).toBe(text.closed.closed);
		expect(headingOf(pages.beingDecided.body)).toBe(text.closed.beingDecidedHeading);
		expect(pages.beingDecided.status).toBe(503);
		expect(headingOf(pages.unavailable.body)).toBe(text.closed.unavailableHeading);
		expect(load(pages.unavailable.body)('p').text()).toBe(text.closed.unavailable);
		expect(headingOf(pages.alreadyDecided.body)).toBe(text.alreadyDecided.headingOwn);
		expect(load(pages.alreadyDecided.body)('p').first().text()).toContain(text.decision.rejectedBy.split('{reviewer}')[0]);
		expect(headingOf(pages.confirmation.body)).toBe(text.decision.approved);
		expect(load(pages.localizedError.body)('p').text()).not.toContain('{max}');
	});

	test('the review endpoint answers every page in the language: review, confirmation, already decided, errors', async () => {
		const store = new InMemoryDecisionStore();
		const options = endpoint(locale, { store });
		const token = reviewToken();
		const page = await handleReviewRequest(getRequest(token), options);
		const $ = load(page.body);
		expect(langOf(page.body)).toBe(language);
		expect($('button[value="approve"]').text()).toBe(text.review.approve);
		expect($('button[value="reject"]').text()).toBe(text.review.reject);
		expect($('h2').first().text()).toBe(text.review.context);
		expect($('label[for="comment"]').text()).toBe(text.review.comment);
		expect($('time').first().attr('datetime')).toBe(reviewContent().requestedAt);

		const form = { formToken: formTokenOf(page.body), finalText: `${reviewContent().draft} (edited)`, comment: 'ok' };
		const confirmation = await handleReviewRequest(postRequest(token, { ...form, action: 'approve' }), options);
		expect(langOf(confirmation.body)).toBe(language);
		expect(headingOf(confirmation.body)).toBe(text.decision.approved);
		expect(load(confirmation.body)('p').first().text()).toBe(text.confirmation.done);

		// Approved with an edit: the page says so, who and when.
		const later = await handleReviewRequest(getRequest(reviewToken({ reviewerId: 'bob@example.com' })), options);
		expect(headingOf(later.body)).toBe(text.alreadyDecided.headingSettled);
		const [before] = text.decision.approvedWithEditsBy.split('{reviewer}');
		expect(load(later.body)('p').first().text().startsWith(before)).toBe(true);
		expect(load(later.body)('bdi').text()).toBe('ada.reviewer@example.com');

		const expiredToken = reviewToken({ expiresAt: Date.now() - HOUR_MS });
		const fresh = endpoint(locale);
		const refusals: Array<[Promise<{ status: number; body: string }>, number, string]> = [
			[handleReviewRequest({ ...getRequest(''), query: {} }, fresh), 400, text.errors.malformed.heading],
			[handleReviewRequest(getRequest(`${token.slice(0, 30)}${token[30] === 'A' ? 'B' : 'A'}${token.slice(31)}`), fresh), 403, text.errors.tampered.heading],
			[handleReviewRequest(getRequest(expiredToken), fresh), 410, text.errors.expired.heading],
			[handleReviewRequest({ ...getRequest(token), method: 'PUT' }, fresh), 405, text.errors.methodNotAllowed.heading],
			[handleReviewRequest(postRequest(token, { action: 'approve' }), fresh), 403, text.errors.foreignForm.heading],
			[
				handleReviewRequest(getRequest(reviewToken({ reviewerId: 'eve@example.com' })), endpoint(locale, { policy: { mode: 'all', reviewers: ['ada@example.com'] } })),
				403,
				text.errors.notReviewer.heading,
			],
			[
				handleReviewRequest(getRequest(token), endpoint(locale, { store: { get: () => Promise.reject(new Error('down')), decideOnce: () => Promise.reject(new Error('down')) } })),
				500,
				text.errors.serverError.heading,
			],
		];
		for (const [response, status, heading] of refusals) {
			const answer = await response;
			expect({ status: answer.status, heading: headingOf(answer.body), lang: langOf(answer.body) }).toEqual({ status, heading, lang: language });
		}
	});

	test('400 form errors are localised, with the limit written the local way', async () => {
		const options = endpoint(locale);
		const token = reviewToken();
		const page = await handleReviewRequest(getRequest(token), options);
		const post = (fields: Record<string, unknown>) =>
			handleReviewRequest(postRequest(token, { formToken: formTokenOf(page.body), finalText: reviewContent().draft, ...fields }), options);
		const tooLong = await post({ action: 'approve', comment: 'x'.repeat(5001) });
		expect(headingOf(tooLong.body)).toBe(text.errors.commentTooLong.heading);
		expect(load(tooLong.body)('p').text()).toContain(new Intl.NumberFormat(language === 'en' ? 'en-GB' : `${language}-${language.toUpperCase()}`).format(5000));
		expect(headingOf((await post({ action: 'maybe' })).body)).toBe(text.errors.noDecision.heading);
		expect(headingOf((await post({ action: 'approve', finalText: undefined })).body)).toBe(text.errors.draftMissing.heading);
		expect(headingOf((await post({ action: 'approve', finalText: 'x'.repeat(200_001) })).body)).toBe(text.errors.textTooLong.heading);
		expect(await options.store.get(REVIEW_ID)).toBeUndefined();
	});

	test.each(CLASSIC_XSS)('user content stays escaped: %j', async (payload) => {
		const content = reviewContent({ title: payload, intro: payload, draft: payload, context: [{ label: payload, value: payload, url: payload }] });
		const options = endpoint(locale, { content });
		const token = reviewToken({ reviewerId: `${payload}@example.com` });
		const page = await handleReviewRequest(getRequest(token), options);
		const confirmation = await handleReviewRequest(
			postRequest(token, { formToken: formTokenOf(page.body), action: 'reject', finalText: payload, comment: payload }),
			options,
		);
		const alreadyDecided = await handleReviewRequest(getRequest(token), options);
		const email = renderReviewEmail(
			{ subject: payload, intro: payload, draft: payload, context: content.context, reviewUrl: reviewLink(), expiresAt: new Date(), reviewerName: payload },
			locale,
		);
		for (const html of [page.body, confirmation.body, alreadyDecided.body, email.html]) {
			expect(injectionFindings(html)).toEqual([]);
			expect(langOf(html)).toBe(language);
		}
		const stripped = payload.replace(/\u0000/g, '');
		expect(load(page.body)('textarea[name="finalText"]').text()).toBe(stripped);
		expect(load(page.body)('h1').text()).toBe(stripped);
		expect(load(confirmation.body)('.draft-text').text()).toBe(stripped.trim());
		expect(load(alreadyDecided.body)('bdi').text()).toBe(`${stripped}@example.com`.trim().toLowerCase());
		expect(load(email.html)('p').first().text()).toBe(text.email.greetingNamed.replace('{name}', stripped));
	});

	test('the e-mail and the chat message are in the language', () => {
		const email = renderReviewEmail(
			{ subject: 's', draft: 'd', context: [{ label: 'L', value: 'v' }], reviewUrl: reviewLink(), expiresAt: new Date(DECEMBER_3) },
			locale,
		);
		const $ = load(email.html);
		expect($('html').attr('lang')).toBe(language);
		expect($('a').first().text()).toBe(text.email.reviewButton);
		expect($('p').first().text()).toBe(text.email.greeting);
		expect($('p').eq(1).text()).toBe(text.email.defaultIntro);
		expect(email.text).toContain(text.labelValue.replace('{label}', 'L').replace('{value}', 'v'));
		expect(email.text).toContain(text.email.draftText);
		expect(email.text).toContain(text.email.reviewHere.replace('{url}', reviewLink().slice(0, 40)).split(reviewLink().slice(0, 40))[0]);
		const teams = renderChatWebhookPayload({ format: 'teams', title: 't', links: [{ reviewerName: 'Ada', url: reviewLink() }], expiresAt: new Date(DECEMBER_3) }, locale);
		const card = (teams.attachments as Array<{ content: { actions: Array<{ title: string }> } }>)[0].content;
		expect(card.actions[0].title).toBe(text.chat.reviewAs.replace('{name}', 'Ada'));
	});
});

test('the node offers every review language and a time zone defaulting to UTC', () => {
	const language = humanApprovalProperties.find((property) => property.name === 'language');
	const timeZone = humanApprovalProperties.find((property) => property.name === 'timeZone');
	expect(language).toMatchObject({ type: 'options', default: 'en' });
	expect((language?.options as Array<{ value: string }>).map((option) => option.value).sort()).toEqual([...REVIEW_LANGUAGES].sort());
	expect(timeZone).toMatchObject({ type: 'string', default: 'UTC', placeholder: 'Europe/Paris' });
});
