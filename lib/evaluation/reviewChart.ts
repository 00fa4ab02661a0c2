/**
 * The weekly (or monthly) review report e-mailed to a marketing lead: a line chart of approval rate and median
 * edit ratio per period, as SVG and PNG, with an HTML and a plain-text body around it.
 *
 * Rendering constraints, and how they are met:
 * - Gmail and Outlook do not show SVG, so the e-mail carries a PNG, rasterised here by resvg (prebuilt native
 *   binaries for glibc and musl, so n8n's Alpine image works) at 2× for sharp display on high-density screens.
 * - n8n's Docker image may have no fonts at all, so no text is left to the renderer: every label is converted
 *   to SVG path outlines with opentype.js from the DejaVu Sans files shipped in `@fontsource/dejavu-sans`. The
 *   PNG then looks the same on every machine and is byte-for-byte deterministic.
 * - The numbers stay machine-readable: `<title>`/`<desc>` spell them out (screen readers, the image's alt
 *   text), and each period's group carries `data-*` attributes with the raw values.
 *
 * Periods missing between two rows (summarizeDecisions only returns periods with decisions) are filled in as
 * periods without decisions, so the x axis is continuous in time and a line never bridges a silent week.
 */
import { readFileSync } from 'node:fs';
import { parse as parseFont, type Font, type Glyph } from 'opentype.js';
import { renderAsync } from '@resvg/resvg-js';
import { escapeHtml, stripControlCharacters } from '../approval/escape';
import { REVIEW_LANGUAGE_TAGS, formatText, isReviewLanguage, validateTimeZone, type PluralText, type ReviewLanguage } from '../approval/i18n';
import { InputError } from '../types';
import { localDate, periodContaining, type PeriodSummary, type SummaryPeriod } from './edits';

export interface ReviewReportOptions {
	language: ReviewLanguage;
	period: SummaryPeriod;
	/** Heading of the report; the localised "Review report" when absent. */
	title?: string;
	/** The knowledge namespace the report is about, shown after the title. */
	namespace?: string;
	/** IANA zone of "today", which tells whether the latest period is still in progress. */
	timeZone: string;
	/** Content id the HTML's `<img src="cid:…">` refers to: the PNG's attachment Content-ID (default `chart`). */
	chartId?: string;
	/** The current time (tests); defaults to now. */
	now?: Date;
}

export interface RenderedReviewReport {
	subject: string;
	svg: string;
	/** The SVG at 2× (1440 px wide), white background; attach it with the content id `chartId` for the HTML. */
	png: Buffer;
	html: string;
	text: string;
}


/** Longest range charted: ten years of weeks (reviewLog's `reportPeriods` accepts up to 520 periods too). */
export const MAX_REPORT_PERIODS = 520;

interface DurationUnits {
	second: string;
	minute: string;
	hour: string;
	/** `{count}` days. */
	day: PluralText;
}

interface ReportLabels {
	reportTitle: string;
	/** What the chart shows, per period kind. */
	chartCaption: Record<SummaryPeriod, string>;
	/** Short x-axis prefix of an ISO week number (`W48`). */
	weekPrefix: string;
	approvalRate: string;
	medianEditRatio: string;
	decisions: string;
	approved: string;
	rejected: string;
	timedOut: string;
	period: string;
	dates: string;
	medianTimeToDecision: string;
	/** `{count}` decisions. */
	decisionCount: PluralText;
	noDecisions: string;
	noDecisionsYet: string;
	notAvailable: string;
	inProgress: string;
	/** A label and its value in running text: `{label}`, `{value}`. */
	labelValue: string;
	/** Summary of the latest period: `{period}`, `{approval}`, `{edit}`, `{decisions}`. */
	summary: string;
	/** Summary when the latest period has no decision: `{period}`. */
	summaryNoDecisions: string;
	/** A value compared with the previous period: `{value}`, `{previous}`. */
	up: string;
	down: string;
	/** `{value}` */
	unchanged: string;
	duration: DurationUnits;
}

// French typography: no-break space (U+00A0) before a colon; the typographic apostrophe ’.
const NBSP = '\u00a0';

const en: ReportLabels = {
	reportTitle: 'Review report',
	chartCaption: { week: 'Approval rate and median edit ratio per week', month: 'Approval rate and median edit ratio per month' },
	weekPrefix: 'W',
	approvalRate: 'Approval rate',
	medianEditRatio: 'Median edit ratio',
	decisions: 'Decisions',
	approved: 'Approved',
	rejected: 'Rejected',
	timedOut: 'Timed out',
	period: 'Period',
	dates: 'Dates',
	medianTimeToDecision: 'Median time to decision',
	decisionCount: { one: '{count} decision', other: '{count} decisions' },
	noDecisions: 'no decisions',
	noDecisionsYet: 'No decisions yet',
	notAvailable: 'n/a',
	inProgress: 'in progress',
	labelValue: '{label}: {value}',
	summary: '{period}: approval rate {approval}, median edit ratio {edit}, {decisions}.',
	summaryNoDecisions: '{period}: no decisions.',
	up: '{value} (up from {previous})',
	down: '{value} (down from {previous})',
	unchanged: '{value} (unchanged)',
	duration: { second: 's', minute: 'min', hour: 'h', day: { one: '{count} day', other: '{count} days' } },
};

const fr: ReportLabels = {
	reportTitle: 'Rapport de relecture',
	chartCaption: {
		week: 'Taux d’approbation et taux de modification médian par semaine',
		month: 'Taux d’approbation et taux de modification médian par mois',
	},
	weekPrefix: 'S',
	approvalRate: 'Taux d’approbation',
	medianEditRatio: 'Taux de modification médian',
	decisions: 'Décisions',
	approved: 'Approuvés',
	rejected: 'Rejetés',
	timedOut: 'Expirés',
	period: 'Période',
	dates: 'Dates',
	medianTimeToDecision: 'Délai médian de décision',
	decisionCount: { one: '{count} décision', other: '{count} décisions' },
	noDecisions: 'aucune décision',
	noDecisionsYet: 'Aucune décision pour l’instant',
	notAvailable: 'n.\u00a0d.',
	inProgress: 'en cours',
	labelValue: `{label}${NBSP}: {value}`,
	summary: `{period}${NBSP}: taux d’approbation {approval}, taux de modification médian {edit}, {decisions}.`,
	summaryNoDecisions: `{period}${NBSP}: aucune décision.`,
	up: '{value} (en hausse, contre {previous})',
	down: '{value} (en baisse, contre {previous})',
	unchanged: '{value} (stable)',
	duration: { second: 's', minute: 'min', hour: 'h', day: { one: '{count} jour', other: '{count} jours' } },
};

const de: ReportLabels = {
	reportTitle: 'Prüfbericht',
	chartCaption: {
		week: 'Freigabequote und mediane Änderungsquote pro Woche',
		month: 'Freigabequote und mediane Änderungsquote pro Monat',
	},
	weekPrefix: 'KW',
	approvalRate: 'Freigabequote',
	medianEditRatio: 'Mediane Änderungsquote',
	decisions: 'Entscheidungen',
	approved: 'Freigegeben',
	rejected: 'Abgelehnt',
	timedOut: 'Abgelaufen',
	period: 'Zeitraum',
	dates: 'Datum',
	medianTimeToDecision: 'Mediane Entscheidungszeit',
	decisionCount: { one: '{count} Entscheidung', other: '{count} Entscheidungen' },
	noDecisions: 'keine Entscheidungen',
	noDecisionsYet: 'Noch keine Entscheidungen',
	notAvailable: 'k.\u00a0A.',
	inProgress: 'laufend',
	labelValue: '{label}: {value}',
	summary: '{period}: Freigabequote {approval}, mediane Änderungsquote {edit}, {decisions}.',
	summaryNoDecisions: '{period}: keine Entscheidungen.',
	up: '{value} (gestiegen von {previous})',
	down: '{value} (gesunken von {previous})',
	unchanged: '{value} (unverändert)',
	duration: { second: 's', minute: 'min', hour: 'h', day: { one: '{count} Tag', other: '{count} Tage' } },
};

const es: ReportLabels = {
	reportTitle: 'Informe de revisión',
	chartCaption: {
		week: 'Tasa de aprobación y proporción de edición mediana por semana',
		month: 'Tasa de aprobación y proporción de edición mediana por mes',
	},
	weekPrefix: 'S',
	approvalRate: 'Tasa de aprobación',
	medianEditRatio: 'Proporción de edición mediana',
	decisions: 'Decisiones',
	approved: 'Aprobados',
	rejected: 'Rechazados',
	timedOut: 'Caducados',
	period: 'Periodo',
	dates: 'Fechas',
	medianTimeToDecision: 'Tiempo mediano de decisión',
	decisionCount: { one: '{count} decisión', other: '{count} decisiones' },
	noDecisions: 'sin decisiones',
	noDecisionsYet: 'Aún no hay decisiones',
	notAvailable: 'n/d',
	inProgress: 'en curso',
	labelValue: '{label}: {value}',
	summary: '{period}: tasa de aprobación {approval}, proporción de edición mediana {edit}, {decisions}.',
	summaryNoDecisions: '{period}: sin decisiones.',
	up: '{value} (sube desde {previous})',
	down: '{value} (baja desde {previous})',
	unchanged: '{value} (sin cambios)',
	duration: { second: 's', minute: 'min', hour: 'h', day: { one: '{count} día', other: '{count} días' } },
};

const it: ReportLabels = {
	reportTitle: 'Rapporto di revisione',
	chartCaption: {
		week: 'Tasso di approvazione e quota di modifica mediana per settimana',
		month: 'Tasso di approvazione e quota di modifica mediana per mese',
	},
	weekPrefix: 'S',
	approvalRate: 'Tasso di approvazione',
	medianEditRatio: 'Quota di modifica mediana',
	decisions: 'Decisioni',
	approved: 'Approvati',
	rejected: 'Rifiutati',
	timedOut: 'Scaduti',
	period: 'Periodo',
	dates: 'Date',
	medianTimeToDecision: 'Tempo mediano di decisione',
	decisionCount: { one: '{count} decisione', other: '{count} decisioni' },
	noDecisions: 'nessuna decisione',
	noDecisionsYet: 'Ancora nessuna decisione',
	notAvailable: 'n/d',
	inProgress: 'in corso',
	labelValue: '{label}: {value}',
	summary: '{period}: tasso di approvazione {approval}, quota di modifica mediana {edit}, {decisions}.',
	summaryNoDecisions: '{period}: nessuna decisione.',
	up: '{value} (in aumento da {previous})',
	down: '{value} (in calo da {previous})',
	unchanged: '{value} (invariato)',
	duration: { second: 's', minute: 'min', hour: 'h', day: { one: '{count} giorno', other: '{count} giorni' } },
};

const REVIEW_REPORT_LABELS: Readonly<Record<ReviewLanguage, ReportLabels>> = { en, fr, de, es, it };

// ---------------------------------------------------------------------------------------------------------
// Input validation

const WEEK_KEY = /^(\d{4})-W(\d{2})$/;
const MONTH_KEY = /^(\d{4})-(\d{2})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function checkCount(value: unknown, field: string): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
		throw new InputError(`${field} must be a whole number of at least 0, got ${JSON.stringify(value)}.`, field);
	}
	return value;
}

function checkRate(value: unknown, field: string): number | null {
	if (value === null) return null;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
		throw new InputError(`${field} must be null or a share from 0 to 1, got ${JSON.stringify(value)}.`, field);
	}
	return value;
}

function checkRow(value: unknown, index: number, period: SummaryPeriod): PeriodSummary {
	const field = `rows[${index}]`;
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new InputError(`${field} must be a period summary object.`, field);
	}
	const row = value as Record<string, unknown>;
	const key = row.period;
	if (typeof key !== 'string' || !(period === 'week' ? WEEK_KEY : MONTH_KEY).test(key)) {
		const example = period === 'week' ? '2026-W48' : '2026-11';
		throw new InputError(`${field}.period must be a ${period} such as ${example}, got ${JSON.stringify(key)}.`, `${field}.period`);
	}
	const { from, to } = row;
	for (const [name, day] of [
		['from', from],
		['to', to],
	]) {
		if (typeof day !== 'string' || !DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
			throw new InputError(`${field}.${name} must be a day YYYY-MM-DD, got ${JSON.stringify(day)}.`, `${field}.${name}`);
		}
	}
	// Gap filling steps from one period's last day to the next period: the dates must be the period's own.
	const expected = periodContaining(from as string, period);
	if (expected.period !== key || expected.start !== from || expected.end !== to) {
		throw new InputError(
			`${field}: ${key} runs from ${expected.start} to ${expected.end}, not ${String(from)} to ${String(to)}.`,
			`${field}.from`,
		);
	}
	const seconds = row.medianSecondsToDecision;
	if (seconds !== null && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)) {
		throw new InputError(
			`${field}.medianSecondsToDecision must be null or a number of seconds of at least 0, got ${JSON.stringify(seconds)}.`,
			`${field}.medianSecondsToDecision`,
		);
	}
	return {
		period: key,
		from: from as string,
		to: to as string,
		decisions: checkCount(row.decisions, `${field}.decisions`),
		approved: checkCount(row.approved, `${field}.approved`),
		rejected: checkCount(row.rejected, `${field}.rejected`),
		timedOut: checkCount(row.timedOut, `${field}.timedOut`),
		approvalRate: checkRate(row.approvalRate, `${field}.approvalRate`),
		medianEditRatio: checkRate(row.medianEditRatio, `${field}.medianEditRatio`),
		medianSecondsToDecision: seconds as number | null,
	};
}

function emptyPeriod(period: { period: string; start: string; end: string }): PeriodSummary {
	return {
		period: period.period,
		from: period.start,
		to: period.end,
		decisions: 0,
		approved: 0,
		rejected: 0,
		timedOut: 0,
		approvalRate: null,
		medianEditRatio: null,
		medianSecondsToDecision: null,
	};
}

function nextDay(day: string): string {
	return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Validated rows, oldest first, with the periods missing between two rows added as periods without decisions. */
function continuousPeriods(rows: unknown, period: SummaryPeriod): PeriodSummary[] {
	if (!Array.isArray(rows)) throw new InputError('rows must be an array of period summaries.', 'rows');
	const periods: PeriodSummary[] = [];
	rows.forEach((value, index) => {
		const row = checkRow(value, index, period);
		const previous = periods[periods.length - 1];
		if (previous && row.period <= previous.period) {
			throw new InputError(`rows must be oldest first, one per period: ${row.period} comes after ${previous.period}.`, `rows[${index}].period`);
		}
		if (previous) {
			for (let gap = periodContaining(nextDay(previous.to), period); gap.period < row.period; gap = periodContaining(nextDay(gap.end), period)) {
				periods.push(emptyPeriod(gap));
				if (periods.length > MAX_REPORT_PERIODS) break;
			}
		}
		periods.push(row);
		if (periods.length > MAX_REPORT_PERIODS) {
			throw new InputError(`A report charts at most ${MAX_REPORT_PERIODS} periods; these rows span more. Pass a shorter range.`, 'rows');
		}
	});
	return periods;
}

// ---------------------------------------------------------------------------------------------------------
// Text as outlines

/** opentype.js 2 API that @types/opentype.js (written for 1.x) does not declare: GPOS kerning per script. */
interface FontWithPositioning extends Font {
	position: {
		getKerningTables(script: string): unknown;
		getKerningValue(tables: unknown, leftGlyphIndex: number, rightGlyphIndex: number): number;
	};
}

interface LoadedFont {
	font: Font;
	/** DejaVu keeps its kerning under the `latn` script only, not the default one font.getKerningValue reads. */
	kerning: (left: Glyph, right: Glyph) => number;
}

type FontWeight = 400 | 700;

const loadedFonts = new Map<FontWeight, LoadedFont>();

/** Parsed once per process, on first use: a WOFF takes ~150 ms to inflate and parse. */
function fontOf(weight: FontWeight): LoadedFont {
	let loaded = loadedFonts.get(weight);
	if (!loaded) {
		const file = readFileSync(require.resolve(`@fontsource/dejavu-sans/files/dejavu-sans-latin-${weight}-normal.woff`));
		const font = parseFont(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength)) as FontWithPositioning;
		const tables = font.position.getKerningTables('latn');
		loaded = {
			font,
			kerning: tables ? (left, right) => font.position.getKerningValue(tables, left.index, right.index) : () => 0,
		};
		loadedFonts.set(weight, loaded);
	}
	return loaded;
}

interface PlacedGlyph {
	glyph: Glyph;
	x: number;
}

/**
 * Glyphs placed left to right with kerning. Laid out here rather than with Font.getPath because opentype.js 2
 * throws on DejaVu's `ccmp` lookups (chained contextual substitution, format 2) that getPath always applies;
 * chart labels need none of them (text is NFC, so accented letters are single precomposed glyphs).
 */
function layoutText(text: string, size: number, weight: FontWeight): { glyphs: PlacedGlyph[]; width: number } {
	const { font, kerning } = fontOf(weight);
	const scale = size / font.unitsPerEm;
	const glyphs: PlacedGlyph[] = [];
	let x = 0;
	let previous: Glyph | undefined;
	for (const character of text.normalize('NFC')) {
		const glyph = font.charToGlyph(character);
		if (previous) x += kerning(previous, glyph) * scale;
		glyphs.push({ glyph, x });
		x += (glyph.advanceWidth ?? 0) * scale;
		previous = glyph;
	}
	return { glyphs, width: x };
}

function textWidth(text: string, size: number, weight: FontWeight = 400): number {
	return layoutText(text, size, weight).width;
}

interface TextStyle {
	x: number;
	/** Baseline. */
	y: number;
	size: number;
	fill: string;
	weight?: FontWeight;
	anchor?: 'start' | 'middle' | 'end';
	/** A white outline under the glyphs, so a label stays legible over a line or a grid line. */
	halo?: boolean;
}

function textPath(text: string, style: TextStyle): string {
	const weight = style.weight ?? 400;
	const { glyphs, width } = layoutText(text, style.size, weight);
	const left = style.x - (style.anchor === 'middle' ? width / 2 : style.anchor === 'end' ? width : 0);
	const data = glyphs.map(({ glyph, x }) => glyph.getPath(left + x, style.y, style.size).toPathData(2)).join('');
	if (!data) return '';
	const halo = style.halo ? ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"' : '';
	return `<path d="${data}" fill="${style.fill}"${halo}/>`;
}

/** Cuts the text with an ellipsis so it fits the width. */
function fitText(text: string, maxWidth: number, size: number, weight: FontWeight): string {
	if (textWidth(text, size, weight) <= maxWidth) return text;
	const characters = [...text];
	while (characters.length > 1 && textWidth(`${characters.join('').trimEnd()}…`, size, weight) > maxWidth) characters.pop();
	return `${characters.join('').trimEnd()}…`;
}

/** Greedy word wrap to the width; a word longer than the width gets a line of its own. */
function wrapText(text: string, maxWidth: number, size: number): string[] {
	const lines: string[] = [];
	for (const word of text.split(' ')) {
		const last = lines[lines.length - 1];
		if (last !== undefined && textWidth(`${last} ${word}`, size) <= maxWidth) lines[lines.length - 1] = `${last} ${word}`;
		else lines.push(word);
	}
	return lines;
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

interface Formatters {
	labels: ReportLabels;
	tag: string;
	/** 66.7 % in tables and sentences. */
	percent: (value: number) => string;
	/** 67 % on the chart, where space is short. */
	percentShort: (value: number) => string;
	count: (value: number) => string;
	plural: (forms: PluralText, count: number) => string;
}

function formattersFor(language: ReviewLanguage): Formatters {
	const tag = REVIEW_LANGUAGE_TAGS[language];
	const percent = new Intl.NumberFormat(tag, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
	const percentShort = new Intl.NumberFormat(tag, { style: 'percent', maximumFractionDigits: 0 });
	const count = new Intl.NumberFormat(tag);
	const pluralRules = new Intl.PluralRules(tag);
	return {
		labels: REVIEW_REPORT_LABELS[language],
		tag,
		percent: (value) => percent.format(value),
		percentShort: (value) => percentShort.format(value),
		count: (value) => count.format(value),
		plural: (forms, value) => formatText(pluralRules.select(value) === 'one' ? forms.one : forms.other, { count: count.format(value) }),
	};
}

/** "45 s", "12 min", "3 h 20 min", "2 days 3 h": precise enough to compare reviewers' pace week to week. */
function formatDuration(seconds: number, format: Formatters): string {
	const { duration } = format.labels;
	const unit = (value: number, name: string) => `${format.count(value)}${NBSP}${name}`;
	if (Math.round(seconds) < 60) return unit(Math.round(seconds), duration.second);
	const minutes = Math.round(seconds / 60);
	if (minutes < 60) return unit(minutes, duration.minute);
	if (minutes < 24 * 60) {
		const hours = Math.floor(minutes / 60);
		return minutes % 60 ? `${unit(hours, duration.hour)} ${unit(minutes % 60, duration.minute)}` : unit(hours, duration.hour);
	}
	const hours = Math.round(seconds / 3600);
	const days = format.plural(duration.day, Math.floor(hours / 24)).replace(' ', NBSP);
	return hours % 24 ? `${days} ${unit(hours % 24, duration.hour)}` : days;
}

function formatDates(row: PeriodSummary, format: Formatters): string {
	const days = new Intl.DateTimeFormat(format.tag, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
	return days.formatRange(new Date(`${row.from}T00:00:00Z`), new Date(`${row.to}T00:00:00Z`));
}

/** Two-line x-axis label: `W48` or `nov.`, and the year. */
function axisLabel(key: string, period: SummaryPeriod, format: Formatters): { label: string; year: string } {
	const [year, number] = key.split(/-W?/);
	if (period === 'week') return { label: `${format.labels.weekPrefix}${number}`, year };
	const month = new Intl.DateTimeFormat(format.tag, { month: 'short', timeZone: 'UTC' });
	return { label: month.format(new Date(Date.UTC(Number(year), Number(number) - 1, 1))), year };
}

function valueOrNotAvailable(value: number | null, format: Formatters): string {
	return value === null ? format.labels.notAvailable : format.percent(value);
}

/** The chart's numbers in words: the SVG's <desc> and the image's alt text. */
function describe(periods: PeriodSummary[], period: SummaryPeriod, format: Formatters): string {
	const { labels } = format;
	if (periods.length === 0) return `${labels.chartCaption[period]}. ${labels.noDecisionsYet}.`;
	const parts = periods.map((row) => {
		const head = formatText(labels.labelValue, { label: row.period, value: '' }).trimEnd();
		if (row.decisions === 0) return `${head} ${labels.noDecisions}.`;
		const approval = formatText(labels.labelValue, { label: labels.approvalRate, value: valueOrNotAvailable(row.approvalRate, format) });
		const edit = formatText(labels.labelValue, { label: labels.medianEditRatio, value: valueOrNotAvailable(row.medianEditRatio, format) });
		return `${head} ${approval}, ${edit}, ${format.plural(labels.decisionCount, row.decisions)}.`;
	});
	return `${labels.chartCaption[period]}. ${parts.join(' ')}`;
}

/** Tenths of a percentage point: what the reader sees, so "unchanged" is never said of two different numbers. */
const shownPercent = (value: number) => Math.round(value * 1000);

function compared(current: number | null, previous: number | null, format: Formatters): string {
	if (current === null) return format.labels.notAvailable;
	const value = format.percent(current);
	if (previous === null) return value;
	const difference = shownPercent(current) - shownPercent(previous);
	const template = difference > 0 ? format.labels.up : difference < 0 ? format.labels.down : format.labels.unchanged;
	return formatText(template, { value, previous: format.percent(previous) });
}

function periodHeading(row: PeriodSummary, inProgress: boolean, format: Formatters): string {
	const dates = formatDates(row, format);
	return `${row.period} (${inProgress ? `${dates}, ${format.labels.inProgress}` : dates})`;
}

// ---------------------------------------------------------------------------------------------------------
// Chart

const WIDTH = 720;
const HEIGHT = 360;
const PLOT = { left: 56, right: 700, top: 64, bottom: 250 };
const DECISION_BAND = { bottom: 344, maxBarHeight: 40 };

/**
 * Okabe–Ito blue and vermillion: told apart with any colour-vision deficiency. Both are dark in grey, so the
 * series also differ in dash (solid / dashed) and marker (circle / square). Text colours are darker shades
 * that reach 4.5:1 contrast on white.
 */
const COLOURS = {
	approval: '#0072B2',
	approvalText: '#005A8C',
	edit: '#D55E00',
	editText: '#A84A00',
	text: '#222222',
	muted: '#5E5E5E',
	grid: '#E6E6E6',
	axis: '#B0B0B0',
	bar: '#D3D3D3',
	emptyPeriod: '#F4F4F4',
};

const yOf = (value: number) => PLOT.bottom - value * (PLOT.bottom - PLOT.top);
const round2 = (value: number) => String(Math.round(value * 100) / 100);
/** Raw share for data attributes, 4 decimals; empty for null. */
const dataValue = (value: number | null) => (value === null ? '' : String(Math.round(value * 10_000) / 10_000));

type SeriesKey = 'approvalRate' | 'medianEditRatio';

function marker(series: SeriesKey, x: number, y: number, size: number): string {
	if (series === 'approvalRate') {
		return `<circle class="approval-point" cx="${round2(x)}" cy="${round2(y)}" r="${round2(size)}" fill="${COLOURS.approval}" stroke="#ffffff" stroke-width="1.5"/>`;
	}
	const side = size * 1.8;
	return `<rect class="edit-point" x="${round2(x - side / 2)}" y="${round2(y - side / 2)}" width="${round2(side)}" height="${round2(side)}" fill="${COLOURS.edit}" stroke="#ffffff" stroke-width="1.5"/>`;
}

/** One path per run of consecutive known values: a null period breaks the line. */
function seriesLines(periods: PeriodSummary[], series: SeriesKey, xOf: (index: number) => number): string {
	const runs: string[][] = [];
	let run: string[] | undefined;
	periods.forEach((row, index) => {
		const value = row[series];
		if (value === null) {
			run = undefined;
			return;
		}
		if (!run) runs.push((run = []));
		run.push(`${round2(xOf(index))} ${round2(yOf(value))}`);
	});
	const style =
		series === 'approvalRate'
			? `class="approval-line" stroke="${COLOURS.approval}"`
			: `class="edit-line" stroke="${COLOURS.edit}" stroke-dasharray="7 4"`;
	return runs
		.filter((points) => points.length > 1)
		.map((points) => `<path ${style} d="M${points.join('L')}" fill="none" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>`)
		.join('');
}

/**
 * Baselines of the two value labels of a period: the higher value's label above its point, the lower one's
 * below, unless that would cross the x axis; then both go above, 12 px apart so they never overlap.
 */
function valueLabelBaselines(approvalY: number | null, editY: number | null): { approval?: number; edit?: number } {
	const above = (y: number) => y - 8;
	if (approvalY === null || editY === null) {
		return { approval: approvalY === null ? undefined : above(approvalY), edit: editY === null ? undefined : above(editY) };
	}
	const approvalIsHigher = approvalY <= editY;
	const higherY = approvalIsHigher ? approvalY : editY;
	const lowerY = approvalIsHigher ? editY : approvalY;
	let higher = above(higherY);
	let lower = lowerY + 16;
	if (lower > PLOT.bottom - 3) {
		lower = above(lowerY);
		higher = Math.min(higher, lower - 12);
	}
	return approvalIsHigher ? { approval: higher, edit: lower } : { approval: lower, edit: higher };
}

function legend(format: Formatters): string {
	const y = 44;
	const size = 11;
	const parts: string[] = [];
	let x = 16;
	const item = (sample: string, sampleWidth: number, label: string) => {
		parts.push(sample, textPath(label, { x: x + sampleWidth + 6, y, size, fill: COLOURS.text }));
		x += sampleWidth + 6 + textWidth(label, size) + 20;
	};
	const lineY = y - 4;
	item(
		`<path d="M${x} ${lineY}H${x + 24}" stroke="${COLOURS.approval}" stroke-width="2.5"/>${marker('approvalRate', x + 12, lineY, 4)}`,
		24,
		format.labels.approvalRate,
	);
	item(
		`<path d="M${x} ${lineY}H${x + 29}" stroke="${COLOURS.edit}" stroke-width="2.5" stroke-dasharray="7 4"/>${marker('medianEditRatio', x + 14.5, lineY, 4)}`,
		29,
		format.labels.medianEditRatio,
	);
	item(`<rect x="${x}" y="${lineY - 6}" width="12" height="12" fill="${COLOURS.bar}"/>`, 12, format.labels.decisions);
	return `<g class="legend">${parts.join('')}</g>`;
}

function yAxis(format: Formatters): string {
	return [0, 0.25, 0.5, 0.75, 1]
		.map((tick) => {
			const y = round2(yOf(tick));
			const line = `<path d="M${PLOT.left} ${y}H${PLOT.right}" stroke="${tick === 0 ? COLOURS.axis : COLOURS.grid}" stroke-width="1"/>`;
			return line + textPath(format.percentShort(tick), { x: PLOT.left - 6, y: yOf(tick) + 4, size: 11, fill: COLOURS.muted, anchor: 'end' });
		})
		.join('');
}

function periodsChart(periods: PeriodSummary[], period: SummaryPeriod, format: Formatters): string {
	const slot = (PLOT.right - PLOT.left) / periods.length;
	const xOf = (index: number) => PLOT.left + slot * (index + 0.5);
	// Thin out labels when periods are narrow; count from the latest so the newest period is always labelled.
	const labelStep = Math.ceil(36 / slot);
	const showValues = slot >= 30;
	const markerSize = Math.max(1.5, Math.min(4, slot / 5));
	const maxDecisions = Math.max(1, ...periods.map((row) => row.decisions));
	const parts: string[] = [];
	let lastYearShown: string | undefined;
	periods.forEach((row, index) => {
		const x = xOf(index);
		if (row.decisions === 0) {
			parts.push(`<rect x="${round2(x - slot / 2 + 1)}" y="${PLOT.top}" width="${round2(Math.max(slot - 2, 0.5))}" height="${PLOT.bottom - PLOT.top}" fill="${COLOURS.emptyPeriod}"/>`);
			if (slot >= 24) {
				const lines = wrapText(format.labels.noDecisions, slot - 6, 10);
				const middle = (PLOT.top + PLOT.bottom) / 2 - ((lines.length - 1) * 12) / 2 + 4;
				lines.forEach((line, number) => parts.push(textPath(line, { x, y: middle + number * 12, size: 10, fill: COLOURS.muted, anchor: 'middle' })));
			}
		}
		const barHeight = (row.decisions / maxDecisions) * DECISION_BAND.maxBarHeight;
		if (barHeight > 0) {
			const barWidth = Math.min(slot * 0.6, 28);
			parts.push(`<rect x="${round2(x - barWidth / 2)}" y="${round2(DECISION_BAND.bottom - barHeight)}" width="${round2(barWidth)}" height="${round2(barHeight)}" fill="${COLOURS.bar}"/>`);
		}
		if (slot >= 18) {
			parts.push(textPath(format.count(row.decisions), { x, y: DECISION_BAND.bottom - barHeight - 3, size: 10, fill: COLOURS.muted, anchor: 'middle' }));
		}
		if ((periods.length - 1 - index) % labelStep === 0) {
			const { label, year } = axisLabel(row.period, period, format);
			parts.push(textPath(label, { x, y: PLOT.bottom + 16, size: 11, fill: COLOURS.text, anchor: 'middle' }));
			if (year !== lastYearShown) parts.push(textPath(year, { x, y: PLOT.bottom + 29, size: 10, fill: COLOURS.muted, anchor: 'middle' }));
			lastYearShown = year;
		}
	});
	parts.push(`<path d="M${PLOT.left} ${DECISION_BAND.bottom}H${PLOT.right}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
	parts.push(seriesLines(periods, 'approvalRate', xOf), seriesLines(periods, 'medianEditRatio', xOf));
	periods.forEach((row, index) => {
		const x = xOf(index);
		const approvalY = row.approvalRate === null ? null : yOf(row.approvalRate);
		const editY = row.medianEditRatio === null ? null : yOf(row.medianEditRatio);
		const baselines = valueLabelBaselines(approvalY, editY);
		const content: string[] = [];
		if (approvalY !== null && row.approvalRate !== null) {
			content.push(marker('approvalRate', x, approvalY, markerSize));
			if (showValues && baselines.approval !== undefined) {
				content.push(textPath(format.percentShort(row.approvalRate), { x, y: baselines.approval, size: 10, fill: COLOURS.approvalText, anchor: 'middle', halo: true }));
			}
		}
		if (editY !== null && row.medianEditRatio !== null) {
			content.push(marker('medianEditRatio', x, editY, markerSize));
			if (showValues && baselines.edit !== undefined) {
				content.push(textPath(format.percentShort(row.medianEditRatio), { x, y: baselines.edit, size: 10, fill: COLOURS.editText, anchor: 'middle', halo: true }));
			}
		}
		parts.push(
			`<g class="period" data-period="${escapeHtml(row.period)}" data-approval-rate="${dataValue(row.approvalRate)}" data-median-edit-ratio="${dataValue(row.medianEditRatio)}" data-decisions="${row.decisions}">${content.join('')}</g>`,
		);
	});
	return parts.join('');
}

function renderSvg(periods: PeriodSummary[], heading: string, period: SummaryPeriod, format: Formatters): string {
	const title = `${heading}: ${format.labels.chartCaption[period]}`;
	const body =
		periods.length === 0
			? textPath(format.labels.noDecisionsYet, { x: (PLOT.left + PLOT.right) / 2, y: (PLOT.top + PLOT.bottom) / 2 + 5, size: 14, fill: COLOURS.muted, anchor: 'middle' })
			: periodsChart(periods, period, format);
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="review-chart-title review-chart-desc">`,
		`<title id="review-chart-title">${escapeHtml(title)}</title>`,
		`<desc id="review-chart-desc">${escapeHtml(describe(periods, period, format))}</desc>`,
		`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
		textPath(fitText(heading, WIDTH - 32, 15, 700), { x: 16, y: 24, size: 15, weight: 700, fill: COLOURS.text }),
		legend(format),
		yAxis(format),
		body,
		'</svg>',
	].join('\n');
}

async function renderPng(svg: string): Promise<Buffer> {
	// Off the main thread (resvg's worker pool), so a report does not stall n8n's other executions. Text is
	// outlines already: no system font is read, so the result does not depend on the machine.
	const image = await renderAsync(svg, { fitTo: { mode: 'width', value: WIDTH * 2 }, background: '#ffffff', font: { loadSystemFonts: false } });
	return image.asPng();
}

// ---------------------------------------------------------------------------------------------------------
// E-mail bodies

/** User text for one-line places (subject, chart heading): control characters and line breaks removed. */
function oneLine(value: string | undefined): string {
	return stripControlCharacters(value ?? '')
		.replace(/\s+/g, ' ')
		.trim();
}

function summarySentence(periods: PeriodSummary[], today: string, format: Formatters): string {
	const { labels } = format;
	const latest = periods[periods.length - 1];
	if (!latest) return `${labels.noDecisionsYet}.`;
	const previous = periods[periods.length - 2];
	const heading = periodHeading(latest, latest.from <= today && today <= latest.to, format);
	if (latest.decisions === 0) return formatText(labels.summaryNoDecisions, { period: heading });
	return formatText(labels.summary, {
		period: heading,
		approval: compared(latest.approvalRate, previous?.approvalRate ?? null, format),
		edit: compared(latest.medianEditRatio, previous?.medianEditRatio ?? null, format),
		decisions: format.plural(labels.decisionCount, latest.decisions),
	});
}

interface TableRow {
	heading: string;
	decisions: number;
	cells: string[];
}

function tableRows(periods: PeriodSummary[], today: string, format: Formatters): { columns: string[]; rows: TableRow[] } {
	const { labels } = format;
	const columns = [
		labels.period,
		labels.dates,
		labels.decisions,
		labels.approved,
		labels.rejected,
		labels.timedOut,
		labels.approvalRate,
		labels.medianEditRatio,
		labels.medianTimeToDecision,
	];
	const rows = periods.map((row): TableRow => {
		const inProgress = row.from <= today && today <= row.to;
		return {
			heading: periodHeading(row, inProgress, format),
			decisions: row.decisions,
			cells: [
				inProgress ? `${row.period} (${labels.inProgress})` : row.period,
				formatDates(row, format),
				format.count(row.decisions),
				format.count(row.approved),
				format.count(row.rejected),
				format.count(row.timedOut),
				valueOrNotAvailable(row.approvalRate, format),
				valueOrNotAvailable(row.medianEditRatio, format),
				row.medianSecondsToDecision === null ? labels.notAvailable : formatDuration(row.medianSecondsToDecision, format),
			],
		};
	});
	return { columns, rows };
}

const CELL = 'padding:6px 10px;border-bottom:1px solid #e6e6e6;';

function renderHtml(
	language: ReviewLanguage,
	heading: string,
	summary: string,
	chart: { id: string; alt: string },
	table: ReturnType<typeof tableRows>,
): string {
	// Columns 0-1 are text (left-aligned), the rest numbers (right-aligned, so digits line up).
	const align = (column: number) => (column < 2 ? 'left' : 'right');
	const header = table.columns
		.map((column, index) => `<th scope="col" style="${CELL}text-align:${align(index)};font-weight:bold;background:#f4f4f4;">${escapeHtml(column)}</th>`)
		.join('');
	const body = table.rows
		.map(({ cells }) => {
			const [period, ...rest] = cells;
			const data = rest.map((cell, index) => `<td style="${CELL}text-align:${align(index + 1)};white-space:nowrap;">${escapeHtml(cell)}</td>`);
			return `<tr><th scope="row" style="${CELL}text-align:left;font-weight:normal;white-space:nowrap;">${escapeHtml(period)}</th>${data.join('')}</tr>`;
		})
		.join('\n');
	const tableHtml = table.rows.length
		? `<table cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:16px 0 0;font-size:13px;">\n<thead><tr>${header}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`
		: '';
	return [
		'<!DOCTYPE html>',
		`<html lang="${language}">`,
		'<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
		`<title>${escapeHtml(heading)}</title></head>`,
		'<body style="margin:0;padding:16px;background:#ffffff;color:#222222;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.45;">',
		`<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3;">${escapeHtml(heading)}</h1>`,
		`<p style="margin:0 0 16px;">${escapeHtml(summary)}</p>`,
		`<img src="cid:${escapeHtml(chart.id)}" width="${WIDTH}" alt="${escapeHtml(chart.alt)}" style="display:block;width:100%;max-width:${WIDTH}px;height:auto;border:0;">`,
		tableHtml,
		'</body>',
		'</html>',
	]
		.filter(Boolean)
		.join('\n');
}

function renderText(heading: string, summary: string, table: ReturnType<typeof tableRows>, format: Formatters): string {
	const blocks = table.rows.map(({ heading: rowHeading, cells, decisions }) => {
		if (decisions === 0) return `${rowHeading}\n  ${format.labels.noDecisions}`;
		// Period and dates are the block's heading; the other columns follow as "label: value".
		const pairs = cells.slice(2).map((value, index) => formatText(format.labels.labelValue, { label: table.columns[index + 2], value }));
		return `${rowHeading}\n  ${pairs.join(' | ')}`;
	});
	return [heading, '', summary, ...(blocks.length ? ['', ...blocks] : [])].join('\n') + '\n';
}

const CHART_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Renders the review report: chart (SVG and 2× PNG), HTML and plain-text bodies and the subject. Rows are
 * periods oldest first; invalid rows or options are an InputError naming the field.
 */
export async function renderReviewReport(rows: readonly PeriodSummary[], options: ReviewReportOptions): Promise<RenderedReviewReport> {
	if (!isReviewLanguage(options.language)) {
		throw new InputError(`Unknown report language ${JSON.stringify(options.language)}: use en, fr, de, es or it.`, 'language');
	}
	if (options.period !== 'week' && options.period !== 'month') {
		throw new InputError(`Unknown period ${JSON.stringify(options.period)}: use week or month.`, 'period');
	}
	const timeZone = validateTimeZone(options.timeZone);
	const chartId = options.chartId ?? 'chart';
	// A cid is a URL part: restricting it keeps the <img src> a plain reference to the attachment.
	if (!CHART_ID.test(chartId)) {
		throw new InputError(`The chart's name becomes its cid: letters, digits, "_" or "-" only, got ${JSON.stringify(chartId)}.`, 'chartId');
	}
	const format = formattersFor(options.language);
	const periods = continuousPeriods(rows, options.period);
	const today = localDate(options.now ?? new Date(), timeZone);

	const title = oneLine(options.title) || format.labels.reportTitle;
	const namespace = oneLine(options.namespace);
	const heading = namespace ? `${title} – ${namespace}` : title;
	const first = periods[0]?.period;
	const last = periods[periods.length - 1]?.period;
	const subject = !first ? heading : first === last ? `${heading} ${first}` : `${heading} ${first} – ${last}`;

	const svg = renderSvg(periods, heading, options.period, format);
	const summary = summarySentence(periods, today, format);
	const table = tableRows(periods, today, format);
	return {
		subject,
		svg,
		png: await renderPng(svg),
		html: renderHtml(options.language, heading, summary, { id: chartId, alt: describe(periods, options.period, format) }, table),
		text: renderText(heading, summary, table, format),
	};
}
