/**
 * French keyword retrieval: the 782 paragraphs and 1,540 questions of ../shared/corpus/fr-qa-dev (PIAF v1.1,
 * BEIR layout), ingested into LanceDB keyword-only (no embedding model) once per keyword language, searched
 * through the store as Vector Search's keyword mode does.
 *
 * Run: `npx tsx bench/frenchRetrieval.ts [corpusDir]`. Reports nDCG@10, Recall@10 and Recall@100 (BEIR maths,
 * binary relevance) for the questions as written and with their accents removed, with ratios against the
 * baseline measured in the same run: a table indexed as before languages existed (LanceDB's default
 * full-text index on the text: English stemming and stop words, folding after stemming). Writes
 * bench/results/frenchRetrieval.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';

import * as lancedb from '@lancedb/lancedb';

import { openStore } from '../lib/stores';
import type { KeywordLanguageSetting } from '../lib/textAnalysis';
import type { StoredChunk, VectorStore } from '../lib/types';

const NAMESPACE = 'bench';
const DEPTH = 100;

interface Paragraph {
	_id: string;
	title: string;
	text: string;
}
interface Question {
	_id: string;
	text: string;
}

function readJsonl<T>(file: string): T[] {
	return readFileSync(file, 'utf8')
		.split('\n')
		.filter((line) => line.trim())
		.map((line) => JSON.parse(line) as T);
}

function uuid(text: string): string {
	const hex = createHash('sha256').update(text).digest('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function toChunk(paragraph: Paragraph): StoredChunk {
	const sha = (text: string) => createHash('sha256').update(text).digest('hex');
	return {
		id: uuid(`${NAMESPACE}|${paragraph._id}`),
		text: paragraph.text,
		tokens: paragraph.text.split(/\s+/).length,
		metadata: {
			sourceId: paragraph._id,
			namespace: NAMESPACE,
			title: paragraph.title,
			headingPath: [],
			chunkIndex: 0,
			chunkCount: 1,
			contentHash: sha(paragraph.text),
			documentHash: sha(paragraph.text),
			ingestedAt: new Date(0).toISOString(),
			extra: {},
		},
	};
}

/** Accents removed, as people often type: `Où est l'État ?` → `Ou est l'Etat ?`. */
function stripAccents(text: string): string {
	return text.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC');
}

interface Metrics {
	ndcg10: number;
	recall10: number;
	recall100: number;
}

/** BEIR-style metrics of one ranking against the relevant paragraph ids (binary relevance). */
function score(ranking: string[], relevant: Set<string>): Metrics {
	let dcg = 0;
	ranking.slice(0, 10).forEach((id, index) => {
		if (relevant.has(id)) dcg += 1 / Math.log2(index + 2);
	});
	let ideal = 0;
	for (let index = 0; index < Math.min(relevant.size, 10); index++) ideal += 1 / Math.log2(index + 2);
	const found = (k: number) => ranking.slice(0, k).filter((id) => relevant.has(id)).length / relevant.size;
	return { ndcg10: ideal ? dcg / ideal : 0, recall10: found(10), recall100: found(100) };
}

async function evaluate(store: VectorStore, questions: Question[], qrels: Map<string, Set<string>>, transform: (text: string) => string) {
	const sum: Metrics = { ndcg10: 0, recall10: 0, recall100: 0 };
	const started = performance.now();
	for (const question of questions) {
		const hits = await store.search({ namespace: NAMESPACE, mode: 'keyword', text: transform(question.text), topK: DEPTH });
		const metrics = score(
			hits.map((hit) => hit.chunk.metadata.sourceId),
			qrels.get(question._id) as Set<string>,
		);
		sum.ndcg10 += metrics.ndcg10;
		sum.recall10 += metrics.recall10;
		sum.recall100 += metrics.recall100;
	}
	const count = questions.length;
	return {
		ndcg10: sum.ndcg10 / count,
		recall10: sum.recall10 / count,
		recall100: sum.recall100 / count,
		msPerQuery: (performance.now() - started) / count,
	};
}

/** Turns a freshly written table into one as the store created before languages: no keywords column, LanceDB's default index on text. */
async function makeLegacy(folder: string, table: string): Promise<void> {
	const connection = await lancedb.connect(folder);
	const handle = await connection.openTable(table);
	for (const index of await handle.listIndices()) await handle.dropIndex(index.name);
	await handle.dropColumns(['keywords']);
	await handle.createIndex('text', { config: lancedb.Index.fts() });
	handle.close();
	connection.close();
}

async function main(): Promise<void> {
	const corpusDir = resolve(process.argv[2] ?? join(__dirname, '..', '..', 'shared', 'corpus', 'fr-qa-dev'));
	if (!existsSync(join(corpusDir, 'corpus.jsonl'))) throw new Error(`No fr-qa-dev corpus at ${corpusDir}`);
	const paragraphs = readJsonl<Paragraph>(join(corpusDir, 'corpus.jsonl'));
	const questions = readJsonl<Question>(join(corpusDir, 'queries.jsonl'));
	const qrels = new Map<string, Set<string>>();
	for (const line of readFileSync(join(corpusDir, 'qrels.tsv'), 'utf8').split('\n').slice(1)) {
		const [queryId, corpusId, relevance] = line.split('\t');
		if (!queryId || Number(relevance) <= 0) continue;
		qrels.set(queryId, (qrels.get(queryId) ?? new Set()).add(corpusId));
	}
	const judged = questions.filter((question) => qrels.has(question._id));
	console.log(`fr-qa-dev: ${paragraphs.length} paragraphs, ${judged.length} judged questions`);

	const folder = mkdtempSync(join(os.tmpdir(), 'symbiotic-french-bench-'));
	const chunks = paragraphs.map(toChunk);
	const configurations: Array<{ name: string; setting: KeywordLanguageSetting; legacy?: boolean }> = [
		{ name: 'before languages (baseline)', setting: 'english', legacy: true },
		{ name: 'none', setting: 'none' },
		{ name: 'english', setting: 'english' },
		{ name: 'french', setting: 'french' },
		{ name: 'auto', setting: 'auto' },
	];
	const results: Array<Record<string, unknown>> = [];
	try {
		for (const [index, configuration] of configurations.entries()) {
			const table = `bench_${index}`;
			const writer = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: configuration.setting });
			const ingestStarted = performance.now();
			await writer.upsert(chunks);
			const ingestMs = performance.now() - ingestStarted;
			await writer.close();
			if (configuration.legacy) await makeLegacy(folder, table);
			// Searched with Auto, as Vector Search left on its default would: the table's own language.
			const store = await openStore({ kind: 'lancedb', path: folder, table, keywordLanguage: 'auto' });
			const connection = await lancedb.connect(folder);
			const handle = await connection.openTable(table);
			const keywords = (await handle.schema()).fields.find((field) => field.name === 'keywords');
			const language = keywords?.metadata.get('symbiotic:keywordLanguage') ?? 'legacy';
			handle.close();
			connection.close();
			const written = await evaluate(store, judged, qrels, (text) => text);
			const unaccented = await evaluate(store, judged, qrels, stripAccents);
			await store.close();
			results.push({ name: configuration.name, setting: configuration.setting, language, ingestMs, written, unaccented });
		}
	} finally {
		rmSync(folder, { recursive: true, force: true });
	}

	const baseline = results[0] as { written: Metrics; unaccented: Metrics };
	const ratio = (value: number, base: number) => (base ? `${(value / base).toFixed(2)}×` : 'n/a');
	const header = '| keyword analysis | questions | nDCG@10 | Recall@10 | Recall@100 | ms/query |';
	console.log(`\n${header}\n|---|---|---:|---:|---:|---:|`);
	for (const result of results) {
		for (const kind of ['written', 'unaccented'] as const) {
			const metrics = result[kind] as Metrics & { msPerQuery: number };
			const base = baseline[kind];
			const cell = (key: keyof Metrics) =>
				result === baseline ? metrics[key].toFixed(3) : `${metrics[key].toFixed(3)} (${ratio(metrics[key], base[key])})`;
			const label = result.language === result.setting || result.language === 'legacy' ? result.name : `${result.name} → ${result.language}`;
			console.log(
				`| ${label} | ${kind === 'written' ? 'as written' : 'accents removed'} | ${cell('ndcg10')} | ${cell('recall10')} | ${cell('recall100')} | ${metrics.msPerQuery.toFixed(1)} |`,
			);
		}
	}
	const outDir = join(__dirname, 'results');
	mkdirSync(outDir, { recursive: true });
	const report = {
		date: new Date().toISOString(),
		corpus: 'fr-qa-dev (PIAF v1.1, Etalab/DINUM): 782 paragraphs, 1,540 questions',
		machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, node ${process.version}`,
		store: 'LanceDB, keyword mode, top 100',
		baseline: 'before languages: LanceDB default full-text index on text (English stemming and stop words)',
		results,
	};
	writeFileSync(join(outDir, 'frenchRetrieval.json'), `${JSON.stringify(report, null, 2)}\n`);
	console.log(`\nwritten to ${join(outDir, 'frenchRetrieval.json')}`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
