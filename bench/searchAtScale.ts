/**
 * Search and ingest at ≥ 100,000 chunks on the embedded LanceDB store.
 *
 * Ingest: DOCS generated support articles (one or two chunks each, a vocabulary of ~30,000 words with Zipf
 * frequencies, numbers and codes as real pages have) go through `ingestDocuments` BATCH_DOCS per call, as a
 * Loop Over Items would send them to the Ingest Document node, into one LanceDB folder. Vectors come from the
 * test server's hashed bag-of-words embedding (DIMENSIONS), computed in process: this bench measures the store,
 * not an embedding endpoint (bench/ingestThroughput.ts does that). Reported: each call's time (first tenth of
 * the corpus against the last tenth), the RSS after every tenth, the index segments and table version at the end.
 *
 * Search, warm, on the table as the last ingest call left it, and again after PENDING_DOCS more documents (rows
 * that wait for the next optimisation are searched by flat scan, so this is the slower state): QUERIES questions made of words of random
 * articles, each asked in keyword, semantic and hybrid mode through our path (`searchWithDetails` on the store
 * the nodes open, the Vector Search node's defaults: 10 results, at most 3 per source) and as the raw LanceDB
 * queries that path issues (same column, terms, filter, columns, depth and search parameters, on a connection of
 * its own with the same read consistency),
 * alternating which goes first. p50 / p95 of both, and our overhead at p50.
 *
 *   npx tsx bench/searchAtScale.ts      (DOCS=100000 BATCH_DOCS=1000 QUERIES=200 DIMENSIONS=384)
 *
 * With BENCH_JSON_OUT=<file>, every figure is also written there as JSON (bench/run.js uses it).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { ingestDocuments } from '../lib/ingest';
import { searchWithDetails, type SearchOptions } from '../lib/search';
import { openStore } from '../lib/stores';
import { hybridCandidateCount } from '../lib/stores/common';
import { RESULT_COLUMNS, tunedVectorQuery } from '../lib/stores/lancedb';
import { analyzeQuery, type KeywordLanguage } from '../lib/textAnalysis';
import type { Embedder, LoadedDocument, SearchMode, VectorStore } from '../lib/types';
import { embedText } from '../test/support/openaiServer';
import { between, random, zipfSampler } from './ingestThroughput';

const DOCS = Number(process.env.DOCS ?? 100_000);
const BATCH_DOCS = Number(process.env.BATCH_DOCS ?? 1000);
const QUERIES = Number(process.env.QUERIES ?? 200);
const WARMUP_QUERIES = 20;
/** Documents ingested after the first measurement, to measure search with rows waiting to be indexed. */
const PENDING_DOCS = 4 * BATCH_DOCS;
const DIMENSIONS = Number(process.env.DIMENSIONS ?? 384);
const NAMESPACE = 'scale';
const TOP_K = 10;
const MAX_PER_SOURCE = 3;
const TARGET_P95_MS: Record<SearchMode, number> = { keyword: 150, semantic: 30, hybrid: 200 };
const MAX_OVERHEAD = 0.1;
const MAX_SLOWDOWN = 1.3;

// ---------------------------------------------------------------------------------------------------------
// Corpus: short support articles

const FUNCTION_WORDS = `the of and to a in is that for it as with was on be by this are or from at an not have which you
but all can has more one will their if about when there so what up out other into than its only some time also`.split(/\s+/);

/** ~30,000 pronounceable words, the same every run. */
const CONTENT_WORDS = (() => {
	const onsets = ['b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'br', 'cl', 'dr', 'gr', 'pl', 'st', 'tr'];
	const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ea'];
	const codas = ['', 'n', 'r', 's', 'l', 'x', 'nt', 'st'];
	const next = random(424242);
	const words = new Set<string>();
	while (words.size < 30_000) {
		let word = '';
		for (let syllable = 2 + Math.floor(next() * 2); syllable > 0; syllable--) {
			word += onsets[Math.floor(next() * onsets.length)] + vowels[Math.floor(next() * vowels.length)];
		}
		words.add(word + codas[Math.floor(next() * codas.length)]);
	}
	return [...words];
})();

/** Content words with Zipf-like frequencies (rank r with weight 1 / (r + 10)). */
const contentWord = zipfSampler(CONTENT_WORDS, 10);


function sentence(next: () => number): string {
	const words = Array.from({ length: between(next, 6, 20) }, () =>
		next() < 0.4 ? FUNCTION_WORDS[Math.floor(next() * FUNCTION_WORDS.length)] : contentWord(next),
	);
	if (next() < 0.4) words.push(String(between(next, 2, 99_999)));
	return `${words.join(' ')}.`;
}

/** One article of 60–420 words: most become one chunk, the longest two. */
function article(index: number): LoadedDocument {
	const next = random(7_000_003 + index);
	const title = Array.from({ length: between(next, 2, 5) }, () => contentWord(next)).join(' ');
	const paragraphs = Array.from({ length: between(next, 1, 4) }, () => Array.from({ length: between(next, 2, 5) }, () => sentence(next)).join(' '));
	return {
		sourceId: `kb/article-${index}`,
		title,
		url: `https://help.example.com/article-${index}`,
		text: `# ${title}\n\n${paragraphs.join('\n\n')}\n`,
		mimeType: 'text/markdown',
		metadata: {},
	};
}

/** A question: 2–6 words of one article, the way people type a few words they remember. */
function question(next: () => number): string {
	const words = article(Math.floor(next() * DOCS)).text.replace(/[#.\n]/g, ' ').split(/\s+/).filter(Boolean);
	const start = Math.floor(next() * Math.max(1, words.length - 6));
	return words.slice(start, start + between(next, 2, 6)).join(' ');
}

const embedder: Embedder = {
	model: `hashed-bag-of-words-${DIMENSIONS}`,
	embed: async (texts) => texts.map((text) => embedText(text, DIMENSIONS)),
};

// ---------------------------------------------------------------------------------------------------------

const percentile = (values: number[], p: number) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const mb = (bytes: number) => Math.round(bytes / 1e6);

interface IngestFigures {
	documents: number;
	chunks: number;
	seconds: number;
	callMs: number[];
	firstTenthMeanMs: number;
	lastTenthMeanMs: number;
	slowdown: number;
	rssAtTenthMB: number[];
	/** JS heap + external buffers: what is not LanceDB's native memory. */
	heapAtTenthMB: number[];
	peakRssMB: number;
	tableVersion: number;
	indexes: Array<{ name: string; type: string; segments: number; unindexedRows: number }>;
}

/** One ingest call of BATCH_DOCS articles from `first` on; returns the chunks stored. */
async function ingestBatch(store: VectorStore, first: number): Promise<number> {
	const docs = Array.from({ length: BATCH_DOCS }, (_, offset) => article(first + offset));
	const results = await ingestDocuments(docs, { store, embedder, namespace: NAMESPACE });
	const failed = results.find((result) => result.status !== 'created');
	if (failed) throw new Error(`ingest: ${failed.sourceId} ${failed.status} ${failed.error ?? ''}`);
	return results.reduce((sum, result) => sum + result.chunks, 0);
}

async function ingest(folder: string): Promise<IngestFigures> {
	const store = await openStore({ kind: 'lancedb', path: folder });
	const callMs: number[] = [];
	const rssAtTenth: number[] = [];
	const heapAtTenth: number[] = [];
	let peak = 0;
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
	let chunks = 0;
	const started = performance.now();
	try {
		for (let first = 0; first < DOCS; first += BATCH_DOCS) {
			const callStarted = performance.now();
			chunks += await ingestBatch(store, first);
			callMs.push(performance.now() - callStarted);
			const done = Math.min(DOCS, first + BATCH_DOCS);
			while (rssAtTenth.length < 10 && done >= (DOCS * (rssAtTenth.length + 1)) / 10) {
				const usage = process.memoryUsage();
				rssAtTenth.push(mb(usage.rss));
				heapAtTenth.push(mb(usage.heapUsed + usage.external));
			}
			if (process.stdout.isTTY) process.stdout.write(`\r  ${done} / ${DOCS} documents, ${chunks} chunks, last call ${callMs.at(-1)?.toFixed(0)} ms, RSS ${mb(process.memoryUsage().rss)} MB   `);
		}
	} finally {
		clearInterval(sampler);
		if (process.stdout.isTTY) process.stdout.write('\n');
		await store.close();
	}
	const seconds = (performance.now() - started) / 1000;
	const tenth = Math.max(1, Math.floor(callMs.length / 10));
	const firstTenthMeanMs = mean(callMs.slice(0, tenth));
	const lastTenthMeanMs = mean(callMs.slice(-tenth));
	const connection = await lancedb.connect(folder);
	const table = await connection.openTable('knowledge');
	const indexes = [];
	for (const index of await table.listIndices()) {
		const stats = await table.indexStats(index.name);
		indexes.push({ name: index.name, type: index.indexType, segments: stats?.numIndices ?? 0, unindexedRows: stats?.numUnindexedRows ?? 0 });
	}
	const tableVersion = await table.version();
	table.close();
	connection.close();
	return {
		documents: DOCS,
		chunks,
		seconds,
		callMs: callMs.map(Math.round),
		firstTenthMeanMs,
		lastTenthMeanMs,
		slowdown: lastTenthMeanMs / firstTenthMeanMs,
		rssAtTenthMB: rssAtTenth,
		heapAtTenthMB: heapAtTenth,
		peakRssMB: mb(Math.max(peak, process.resourceUsage().maxRSS * 1024)),
		tableVersion,
		indexes,
	};
}

// ---------------------------------------------------------------------------------------------------------


/** The store queries our path issues for one request (same search parameters), sent straight to LanceDB. */
function rawQuery(table: lancedb.Table, language: KeywordLanguage, mode: SearchMode, text: string, vector: number[]): () => Promise<unknown> {
	const where = `namespace = '${NAMESPACE}'`;
	const pool = Math.max(TOP_K * 4, 20);
	const terms = [...new Set(analyzeQuery(text, language))].join(' ');
	const keyword = (limit: number) => () =>
		table
			.query()
			.fullTextSearch(new lancedb.MatchQuery(terms, 'keywords', { operator: lancedb.Operator.Or }))
			.where(where)
			.select([...RESULT_COLUMNS, '_score'])
			.limit(limit)
			.toArray();
	const semantic = (limit: number) => () =>
		tunedVectorQuery(table.query().nearestTo(vector).distanceType('cosine'), limit)
			.where(where)
			.select([...RESULT_COLUMNS, '_distance'])
			.limit(limit)
			.toArray();
	if (mode === 'keyword') return keyword(pool);
	if (mode === 'semantic') return semantic(pool);
	const depth = hybridCandidateCount(pool);
	return () => Promise.all([semantic(depth)(), keyword(depth)()]);
}

/**
 * Share of the exact top 10 (a full scan, no index) that our semantic search finds, over the given questions:
 * what the vector index's speed costs in results.
 */
async function vectorRecallAt10(store: VectorStore, table: lancedb.Table, questions: string[]): Promise<number> {
	let found = 0;
	for (const text of questions) {
		const vector = embedText(text, DIMENSIONS);
		const ours = await store.search({ namespace: NAMESPACE, mode: 'semantic', vector, topK: 10 });
		const ids = new Set(ours.map((hit) => hit.chunk.id));
		const exact = await table.query().nearestTo(vector).bypassVectorIndex().distanceType('cosine').where(`namespace = '${NAMESPACE}'`).select(['id', '_distance']).limit(10).toArray();
		found += exact.filter((row) => ids.has(row.id as string)).length / exact.length;
	}
	return found / questions.length;
}

interface ModeFigures {
	ours: { p50: number; p95: number };
	raw: { p50: number; p95: number };
	overheadAtP50: number;
	targetP95Ms: number;
	met: boolean;
}

interface SearchFigures {
	/** Rows the indexes had not taken in yet (searched by flat scan) while measuring. */
	unindexedRows: number;
	questions: number;
	modes: Record<SearchMode, ModeFigures>;
	vectorRecallAt10: number;
}

async function measureSearch(folder: string, count: number): Promise<SearchFigures> {
	const store = await openStore({ kind: 'lancedb', path: folder });
	// The same consistency as our store's connection (every read sees other processes' writes).
	const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
	const table = await connection.openTable('knowledge');
	const language = (await table.schema()).fields.find((field) => field.name === 'keywords')?.metadata.get('symbiotic:keywordLanguage') as KeywordLanguage;
	const next = random(99);
	const questions = Array.from({ length: count + WARMUP_QUERIES }, () => question(next));
	const keywordIndex = (await table.listIndices()).find((index) => index.columns.includes('keywords'));
	const unindexedRows = keywordIndex ? ((await table.indexStats(keywordIndex.name))?.numUnindexedRows ?? 0) : 0;
	const figures = {} as Record<SearchMode, ModeFigures>;
	try {
		for (const mode of ['keyword', 'semantic', 'hybrid'] as SearchMode[]) {
			const ours: number[] = [];
			const raw: number[] = [];
			for (const [position, text] of questions.entries()) {
				const options: SearchOptions = { store, embedder, namespace: NAMESPACE, query: text, mode, topK: TOP_K, maxPerSource: MAX_PER_SOURCE };
				const direct = rawQuery(table, language, mode, text, embedText(text, DIMENSIONS));
				const time = async (work: () => Promise<unknown>) => {
					const started = performance.now();
					await work();
					return performance.now() - started;
				};
				// Alternate the order, so neither side profits from the other's warm caches more than the other.
				const oursFirst = position % 2 === 0;
				const first = await time(oursFirst ? () => searchWithDetails(options) : direct);
				const second = await time(oursFirst ? direct : () => searchWithDetails(options));
				if (position < WARMUP_QUERIES) continue;
				ours.push(oursFirst ? first : second);
				raw.push(oursFirst ? second : first);
			}
			const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) });
			const oursSummary = summary(ours);
			const rawSummary = summary(raw);
			figures[mode] = {
				ours: oursSummary,
				raw: rawSummary,
				overheadAtP50: oursSummary.p50 / rawSummary.p50 - 1,
				targetP95Ms: TARGET_P95_MS[mode],
				met: oursSummary.p95 <= TARGET_P95_MS[mode] && oursSummary.p50 / rawSummary.p50 - 1 <= MAX_OVERHEAD,
			};
		}
		return { unindexedRows, questions: count, modes: figures, vectorRecallAt10: await vectorRecallAt10(store, table, questions.slice(0, 50)) };
	} finally {
		await store.close();
		table.close();
		connection.close();
	}
}

function printSearch(when: string, search: SearchFigures): void {
	console.log(
		`${when} (${search.unindexedRows} rows not yet indexed): ${search.questions} questions per mode after ${WARMUP_QUERIES} warm-up ones, ` +
			`top ${TOP_K}, at most ${MAX_PER_SOURCE} per source\n`,
	);
	console.log('| mode | ours p50 | ours p95 | raw LanceDB p50 | raw p95 | overhead at p50 | target p95 | met |');
	console.log('|---|---:|---:|---:|---:|---:|---:|---|');
	for (const [mode, figures] of Object.entries(search.modes)) {
		console.log(
			`| ${mode} | ${figures.ours.p50.toFixed(1)} ms | ${figures.ours.p95.toFixed(1)} ms | ${figures.raw.p50.toFixed(1)} ms | ${figures.raw.p95.toFixed(1)} ms | ` +
				`${(100 * figures.overheadAtP50).toFixed(1)} % | ≤ ${figures.targetP95Ms} ms | ${figures.met ? 'yes' : 'no'} |`,
		);
	}
	console.log(`\nsemantic recall@10 against an exact scan: ${(100 * search.vectorRecallAt10).toFixed(1)} % (50 questions)\n`);
}

async function main(): Promise<void> {
	// KEEP_FOLDER=<path>: build the table there and keep it, to examine it afterwards.
	const folder = process.env.KEEP_FOLDER ?? (await mkdtemp(join(tmpdir(), 'symbiotic-bench-scale-')));
	try {
		console.log(`${DOCS} generated articles, ${BATCH_DOCS} per ingest call, ${DIMENSIONS}-dimension vectors computed in process\n`);
		const ingestFigures = await ingest(folder);
		const tenth = (values: number[]) => values.join(', ');
		console.log(
			`${ingestFigures.documents} documents, ${ingestFigures.chunks} chunks in ${ingestFigures.seconds.toFixed(0)} s; ` +
				`a call of ${BATCH_DOCS}: first tenth ${ingestFigures.firstTenthMeanMs.toFixed(0)} ms, last tenth ${ingestFigures.lastTenthMeanMs.toFixed(0)} ms ` +
				`(${ingestFigures.slowdown.toFixed(2)}×, target ≤ ${MAX_SLOWDOWN}×)`,
		);
		console.log(
			`RSS after each tenth: ${tenth(ingestFigures.rssAtTenthMB)} MB; peak ${ingestFigures.peakRssMB} MB ` +
				`(JS heap + buffers: ${tenth(ingestFigures.heapAtTenthMB)} MB)`,
		);
		console.log(
			`table version ${ingestFigures.tableVersion}; indexes: ${ingestFigures.indexes.map((index) => `${index.name} (${index.type}) ${index.segments} segment(s), ${index.unindexedRows} unindexed rows`).join('; ')}\n`,
		);
		const search = await measureSearch(folder, QUERIES);
		printSearch('Right after the last ingest call', search);
		// Between two optimisations, up to OPTIMIZE_FRACTION of the table waits unindexed: measure that state too.
		const store = await openStore({ kind: 'lancedb', path: folder });
		try {
			for (let first = DOCS; first < DOCS + PENDING_DOCS; first += BATCH_DOCS) await ingestBatch(store, first);
		} finally {
			await store.close();
		}
		const pending = await measureSearch(folder, QUERIES / 2);
		printSearch(`After ${PENDING_DOCS} more documents`, pending);
		if (process.env.BENCH_JSON_OUT) {
			const figures = { date: new Date().toISOString(), setup: { documents: DOCS, batchDocs: BATCH_DOCS, dimensions: DIMENSIONS, queries: QUERIES, topK: TOP_K, maxPerSource: MAX_PER_SOURCE }, ingest: ingestFigures, search, searchWithPendingRows: pending };
			await writeFile(process.env.BENCH_JSON_OUT, `${JSON.stringify(figures, null, 2)}\n`);
		}
	} finally {
		if (!process.env.KEEP_FOLDER) await rm(folder, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
