/**
 * HTML main-content quality: our extraction vs Mozilla Readability's expected output on the real pages of
 * ../shared/corpus/html/readability/pages/<page>/{source.html,expected.html}.
 *
 * Run: `npx tsx bench/htmlQuality.ts [corpusDir]`. Scores are token-level precision / recall / F1 of our
 * text against the text of expected.html (lower-cased word tokens, multiset overlap; Han/kana characters count
 * one token each because those scripts have no spaces). The "visible text" baseline keeps every visible text
 * node of the page body, measured in the same run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import * as cheerio from 'cheerio';

import { htmlToDocument } from '../lib/loaders/html';
import { inlineText } from '../lib/loaders/htmlMarkdown';

const TARGET_F1 = 0.93;

interface Score {
	precision: number;
	recall: number;
	f1: number;
}

function tokenize(text: string): string[] {
	return (text.toLowerCase().match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}]+/gu) ?? []);
}

function overlapScore(candidate: string, reference: string): Score {
	const referenceCounts = new Map<string, number>();
	const referenceTokens = tokenize(reference);
	for (const token of referenceTokens) referenceCounts.set(token, (referenceCounts.get(token) ?? 0) + 1);
	const candidateTokens = tokenize(candidate);
	let common = 0;
	for (const token of candidateTokens) {
		const left = referenceCounts.get(token) ?? 0;
		if (left > 0) {
			common++;
			referenceCounts.set(token, left - 1);
		}
	}
	const precision = candidateTokens.length ? common / candidateTokens.length : 0;
	const recall = referenceTokens.length ? common / referenceTokens.length : 0;
	const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
	return { precision, recall, f1 };
}

/** All text a reader could see: the body minus scripts, styles and hidden templates. */
function visibleText(html: string): string {
	const $ = cheerio.load(html);
	$('script, style, noscript, template').remove();
	const body = $('body').get(0);
	return body ? inlineText(body) : '';
}

function format(score: Score): string {
	return [score.precision, score.recall, score.f1].map((value) => value.toFixed(3)).join('  ');
}

function average(scores: Score[]): Score {
	const mean = (pick: (score: Score) => number): number =>
		scores.reduce((sum, score) => sum + pick(score), 0) / scores.length;
	return { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };
}

function main(): void {
	const corpusDir = resolve(process.argv[2] ?? join(__dirname, '../../shared/corpus/html/readability/pages'));
	if (!existsSync(corpusDir)) {
		console.log(`Skipped: the Readability corpus is not at ${corpusDir} (it lives in ../shared, outside the repo).`);
		return;
	}
	const pages = readdirSync(corpusDir)
		.filter((name) => existsSync(join(corpusDir, name, 'source.html')) && existsSync(join(corpusDir, name, 'expected.html')))
		.sort();
	const ours: Score[] = [];
	const baseline: Score[] = [];
	let milliseconds = 0;
	console.log(`${'page'.padEnd(22)} ours: P      R      F1     | visible text: P      R      F1`);
	for (const page of pages) {
		const source = readFileSync(join(corpusDir, page, 'source.html'));
		const expected = visibleText(readFileSync(join(corpusDir, page, 'expected.html'), 'utf8'));
		const started = performance.now();
		const extracted = htmlToDocument(source, 'http://fakehost/').text;
		milliseconds += performance.now() - started;
		const ourScore = overlapScore(extracted, expected);
		// The corpus files are all UTF-8 (one, qq, carries a stale gb2312 <meta>), so the baseline reads them as such.
		const baselineScore = overlapScore(visibleText(source.toString('utf8')), expected);
		ours.push(ourScore);
		baseline.push(baselineScore);
		console.log(`${page.padEnd(22)} ${format(ourScore)}  | ${format(baselineScore)}`);
	}
	const ourAverage = average(ours);
	console.log(`${'AVERAGE'.padEnd(22)} ${format(ourAverage)}  | ${format(average(baseline))}`);
	console.log(
		`${pages.length} pages, extraction ${(milliseconds / pages.length).toFixed(1)} ms/page; ` +
			`target F1 >= ${TARGET_F1}: ${ourAverage.f1 >= TARGET_F1 ? 'met' : 'NOT met'}`,
	);
}

main();
