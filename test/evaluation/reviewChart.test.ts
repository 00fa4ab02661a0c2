import { readFileSync } from 'node:fs';
import { parse as parseFont } from 'opentype.js';
import { PNG } from 'pngjs';
import { renderReviewReport, type PeriodSummary, type ReviewReportOptions } from '../../lib/evaluation';
import { periodContaining } from '../../lib/evaluation/edits';
import { InputError } from '../../lib/types';

const NOW = new Date('2026-03-25T10:00:00Z'); // Wednesday of 2026-W13
const options: ReviewReportOptions = { language: 'en', period: 'week', timeZone: 'Europe/Paris', now: NOW };

/** A week's row; `approved`/`rejected` give the approval rate. */
function week(
	key: string,
	counts: { approved: number; rejected: number; timedOut?: number },
	medianEditRatio: number | null,
	medianSecondsToDecision: number | null = 3600,
): PeriodSummary {
	const [year, number] = key.split('-W').map(Number);
	// ISO week N's Thursday is 3 days after its Monday; Jan 4 is always in week 1.
	const jan4 = Date.UTC(year, 0, 4);
	const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86_400_000 + (number - 1) * 7 * 86_400_000;
	const { period, start, end } = periodContaining(new Date(monday).toISOString().slice(0, 10), 'week');
	const timedOut = counts.timedOut ?? 0;
	const decided = counts.approved + counts.rejected;
	return {
		period,
		from: start,
		to: end,
		decisions: decided + timedOut,
		approved: counts.approved,
		rejected: counts.rejected,
		timedOut,
		approvalRate: decided ? counts.approved / decided : null,
		medianEditRatio,
		medianSecondsToDecision: decided ? medianSecondsToDecision : null,
	};
}

/**
 * ICU versions differ in which no-break or thin space they put in a date range or before `%` (U+00A0, U+202F,
 * U+2009); tests read them all as U+00A0 so they check the wording, not the ICU build.
 */
const icuSpaces = (text: string) => text.replace(/[\u2009\u202f]/g, '\u00a0');

/** The `data-*` attributes of each period group, in order. */
function dataPoints(svg: string): Array<Record<string, string>> {
	return [...svg.matchAll(/<g class="period"([^>]*)>(.*?)<\/g>/g)].map(([, attributes, content]) => ({
		...Object.fromEntries([...attributes.matchAll(/data-([\w-]+)="([^"]*)"/g)].map(([, name, value]) => [name, value])),
		content,
	}));
}

function pngSize(png: Buffer): { width: number; height: number } {
	expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
	expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
	return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const rows = [
	week('2026-W11', { approved: 2, rejected: 1, timedOut: 1 }, 0.25, 12_000), // 2/3 approved
	week('2026-W12', { approved: 3, rejected: 1 }, 0.1, 172_800), // 3/4
	week('2026-W13', { approved: 4, rejected: 0 }, 0.05, 45), // 4/4, in progress on NOW
];

describe('renderReviewReport: chart data', () => {
	it('puts each row on the chart with its raw values, rounded to 4 decimals', async () => {
		const { svg } = await renderReviewReport(rows, options);
		expect(dataPoints(svg).map(({ content: _, ...data }) => data)).toEqual([
			{ period: '2026-W11', 'approval-rate': '0.6667', 'median-edit-ratio': '0.25', decisions: '4' },
			{ period: '2026-W12', 'approval-rate': '0.75', 'median-edit-ratio': '0.1', decisions: '4' },
			{ period: '2026-W13', 'approval-rate': '1', 'median-edit-ratio': '0.05', decisions: '4' },
		]);
		// One unbroken line per series through the three points.
		expect(svg.match(/class="approval-line"/g)).toHaveLength(1);
		expect(svg.match(/class="edit-line"/g)).toHaveLength(1);
		expect(svg).toContain('<desc id="review-chart-desc">Approval rate and median edit ratio per week. 2026-W11: Approval rate: 66.7%, Median edit ratio: 25.0%, 4 decisions.');
	});

	it('leaves a gap for a null value and for a period missing between two rows', async () => {
		const { svg, text } = await renderReviewReport(
			[
				week('2026-W08', { approved: 1, rejected: 1 }, 0.2),
				week('2026-W09', { approved: 1, rejected: 0 }, 0.4),
				week('2026-W10', { approved: 0, rejected: 0, timedOut: 3 }, null), // only timeouts: no rate, no ratio
				week('2026-W11', { approved: 3, rejected: 1 }, 0.3),
				week('2026-W12', { approved: 1, rejected: 3 }, 0.1),
				// 2026-W13 has no row: summarizeDecisions leaves out periods without decisions.
				week('2026-W14', { approved: 2, rejected: 2 }, null),
			],
			{ ...options, now: new Date('2026-04-10T12:00:00Z') },
		);
		const points = dataPoints(svg);
		expect(points.map((point) => [point.period, point['approval-rate'], point.decisions])).toEqual([
			['2026-W08', '0.5', '2'],
			['2026-W09', '1', '1'],
			['2026-W10', '', '3'],
			['2026-W11', '0.75', '4'],
			['2026-W12', '0.25', '4'],
			['2026-W13', '', '0'],
			['2026-W14', '0.5', '4'],
		]);
		expect(points[2].content).not.toMatch(/approval-point|edit-point/);
		expect(points[5].content).toBe('');
		expect(points[6].content).toMatch(/approval-point/);
		expect(points[6].content).not.toMatch(/edit-point/);
		// W08–W09 and W11–W12: two approval lines; W14 stands alone (a marker, no line).
		expect(svg.match(/class="approval-line"/g)).toHaveLength(2);
		expect(svg.match(/class="edit-line"/g)).toHaveLength(2);
		expect(svg).toContain('2026-W13: no decisions.');
		expect(icuSpaces(text)).toContain('2026-W13 (23\u00a0–\u00a029 Mar 2026)\n  no decisions');
	});

	it('draws an empty chart saying there are no decisions yet for zero rows', async () => {
		const report = await renderReviewReport([], options);
		expect(report.subject).toBe('Review report');
		expect(dataPoints(report.svg)).toEqual([]);
		expect(report.svg).toContain('No decisions yet');
		expect(pngSize(report.png)).toEqual({ width: 1440, height: 720 });
		expect(report.html).toContain('<p style="margin:0 0 16px;">No decisions yet.</p>');
		expect(report.html).not.toContain('<table');
		expect(report.text).toBe('Review report\n\nNo decisions yet.\n');
	});

	it('charts months with localised month names', async () => {
		const { svg, html } = await renderReviewReport(
			[
				{ ...week('2026-W45', { approved: 1, rejected: 1 }, 0.5), period: '2026-11', from: '2026-11-01', to: '2026-11-30' },
				{ ...week('2026-W50', { approved: 1, rejected: 0 }, 0.1), period: '2026-12', from: '2026-12-01', to: '2026-12-31' },
			],
			{ ...options, language: 'fr', period: 'month' },
		);
		expect(dataPoints(svg).map((point) => point.period)).toEqual(['2026-11', '2026-12']);
		expect(svg).toContain('par mois');
		expect(html).toContain('1–30 nov. 2026');
	});
});

describe('renderReviewReport: e-mail bodies', () => {
	it('writes the English subject, summary and table', async () => {
		const report = await renderReviewReport(rows, { ...options, namespace: 'newsletter' });
		expect(report.subject).toBe('Review report – newsletter 2026-W11 – 2026-W13');
		const summary =
			'2026-W13 (23\u00a0–\u00a029 Mar 2026, in progress): approval rate 100.0% (up from 75.0%), median edit ratio 5.0% (down from 10.0%), 4 decisions.';
		expect(icuSpaces(report.text)).toContain(summary);
		expect(report.html).toContain(`<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3;">Review report – newsletter</h1>`);
		expect(report.html).toMatch(/<img src="cid:chart" width="720" alt="Approval rate and median edit ratio per week\. 2026-W11: /);
		expect(report.html.match(/<tr>/g)).toHaveLength(4); // header + 3 periods
		expect(icuSpaces(report.text)).toContain(
			'2026-W11 (9\u00a0–\u00a015 Mar 2026)\n  Decisions: 4 | Approved: 2 | Rejected: 1 | Timed out: 1 | Approval rate: 66.7% | Median edit ratio: 25.0% | Median time to decision: 3\u00a0h 20\u00a0min',
		);
		expect(report.text).toContain('Median time to decision: 2\u00a0days');
		expect(report.text).toContain('Median time to decision: 45\u00a0s');
		expect(report.html).toContain('2026-W13 (in progress)');
	});

	it('uses the content id it is given', async () => {
		const { html } = await renderReviewReport(rows, { ...options, chartId: 'reviewChart' });
		expect(html).toContain('<img src="cid:reviewChart"');
		await expect(renderReviewReport(rows, { ...options, chartId: 'a"b' })).rejects.toThrow(InputError);
	});

	it('speaks French with French typography and number formatting', async () => {
		const report = await renderReviewReport(rows, { ...options, language: 'fr' });
		expect(report.subject).toBe('Rapport de relecture 2026-W11 – 2026-W13');
		const text = icuSpaces(report.text);
		expect(text).toContain(
			'2026-W13 (23–29 mars 2026, en cours)\u00a0: taux d’approbation 100,0\u00a0% (en hausse, contre 75,0\u00a0%), taux de modification médian 5,0\u00a0% (en baisse, contre 10,0\u00a0%), 4 décisions.',
		);
		expect(icuSpaces(report.html)).toContain('>66,7\u00a0%</td>');
		expect(report.html).toContain('>3\u00a0h 20\u00a0min</td>');
		expect(report.html).toContain('>2\u00a0jours</td>');
		expect(report.html).toContain('<th scope="col" style="padding:6px 10px;border-bottom:1px solid #e6e6e6;text-align:right;font-weight:bold;background:#f4f4f4;">Taux d’approbation</th>');
		expect(report.html).toContain('<html lang="fr">');
		// A % or a colon after an ordinary space would break across lines.
		expect(text).not.toMatch(/ [%:]/);
		expect(report.svg).toContain('Taux d’approbation et taux de modification médian par semaine');
	});

	it('escapes a hostile title and namespace in the HTML and the SVG', async () => {
		const attack = '<img src=x onerror=alert(1)>';
		const report = await renderReviewReport(rows, { ...options, title: attack, namespace: `"><script>alert(2)</script>` });
		for (const markup of [report.html, report.svg]) {
			expect(markup).not.toContain('<img src=x');
			expect(markup).not.toContain('<script');
			expect(markup).toContain('&lt;img src=x onerror=alert(1)&gt;');
			expect(markup).toContain('&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
		}
		expect(report.html.match(/<img /g)).toHaveLength(1);
		// The subject is plain text: kept as typed, but on one line.
		expect(report.subject).toBe(`${attack} – "><script>alert(2)</script> 2026-W11 – 2026-W13`);
		const multiline = await renderReviewReport(rows, { ...options, title: 'Weekly\r\nBcc: someone@example.com' });
		expect(multiline.subject).toBe('Weekly Bcc: someone@example.com 2026-W11 – 2026-W13');
	});
});

describe('renderReviewReport: SVG and PNG', () => {
	it('draws all text as paths and refers to nothing outside the SVG', async () => {
		const { svg } = await renderReviewReport(rows, { ...options, title: 'Équipe Ça été «\u00a0top\u00a0» – ß ñ ü ô è à’' });
		expect(svg).not.toMatch(/<text[\s>]/);
		expect(svg).not.toMatch(/<(image|foreignObject|style)[\s>]/);
		expect(svg.replace(' xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/http|url\(|@import/i);
		for (const [, target] of svg.matchAll(/href="([^"]*)"/g)) expect(target).toMatch(/^#/);
	});

	it('has a glyph in DejaVu Sans for every character French, German and Spanish labels need', () => {
		const file = readFileSync(require.resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff'));
		const font = parseFont(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
		const missing = [...'éèàçôüßñ«»’–…ÄÖÜäöÉÈÀÇŒœ€\u00a0\u202f'].filter((character) => font.charToGlyph(character).index === 0);
		expect(missing).toEqual([]);
	});

	it('renders a 1440 px wide PNG with the approval line in it', async () => {
		const { png } = await renderReviewReport(rows, options);
		expect(pngSize(png)).toEqual({ width: 1440, height: 720 });
		const image = PNG.sync.read(png);
		let approvalBlue = 0;
		let white = 0;
		for (let offset = 0; offset < image.data.length; offset += 4) {
			const [red, green, blue] = image.data.subarray(offset, offset + 3);
			if (Math.abs(red - 0x00) < 8 && Math.abs(green - 0x72) < 8 && Math.abs(blue - 0xb2) < 8) approvalBlue++;
			if (red === 255 && green === 255 && blue === 255) white++;
		}
		// Two 2.5 px segments across ~430 CSS px at 2×, plus three markers: well over a thousand pixels.
		expect(approvalBlue).toBeGreaterThan(1000);
		expect(white / (image.width * image.height)).toBeGreaterThan(0.8);
		expect(image.data[3]).toBe(255); // opaque background: no transparency for dark-mode clients to show through
	});

	it('gives the same bytes for the same input', async () => {
		const first = await renderReviewReport(rows, options);
		const second = await renderReviewReport(rows, options);
		expect(second.svg).toBe(first.svg);
		expect(Buffer.compare(second.png, first.png)).toBe(0);
	});
});

describe('renderReviewReport: validation', () => {
	const invalid: Array<[string, unknown, string]> = [
		['rows not an array', { period: '2026-W11' }, 'rows'],
		['a row not an object', [null], 'rows[0]'],
		['an approval rate above 1', [{ ...rows[0], approvalRate: 1.2 }], 'rows[0].approvalRate'],
		['a negative edit ratio', [{ ...rows[0], medianEditRatio: -0.1 }], 'rows[0].medianEditRatio'],
		['a NaN rate', [{ ...rows[0], approvalRate: Number.NaN }], 'rows[0].approvalRate'],
		['an infinite duration', [{ ...rows[0], medianSecondsToDecision: Number.POSITIVE_INFINITY }], 'rows[0].medianSecondsToDecision'],
		['a fractional count', [{ ...rows[0], decisions: 1.5 }], 'rows[0].decisions'],
		['a month key in a weekly report', [{ ...rows[0], period: '2026-03' }], 'rows[0].period'],
		['dates of another week', [{ ...rows[0], from: '2026-03-16', to: '2026-03-22' }], 'rows[0].from'],
		['rows newest first', [rows[1], rows[0]], 'rows[1].period'],
		['a duplicated period', [rows[0], rows[0]], 'rows[1].period'],
		['too many periods', [week('2010-W01', { approved: 1, rejected: 0 }, 0), rows[0]], 'rows'],
	];
	it.each(invalid)('rejects %s', async (_, input, field) => {
		const error = await renderReviewReport(input as PeriodSummary[], options).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(InputError);
		expect((error as InputError).field).toBe(field);
	});

	it('rejects an unknown language, period or time zone', async () => {
		for (const bad of [{ language: 'nl' }, { period: 'day' }, { timeZone: 'Mars/Olympus' }]) {
			await expect(renderReviewReport(rows, { ...options, ...bad } as ReviewReportOptions)).rejects.toThrow(InputError);
		}
	});
});
