/**
 * First-ingest throughput against n8n's built-in pipeline, both embedding through the same local
 * OpenAI-compatible server (test/support/openaiServer.ts) that answers each embedding request after 150 ms
 * (EMBED_LATENCY_MS), with 256-dimension vectors. The server runs in its own process, as a remote endpoint
 * would, so its work does not share a CPU with the pipelines measured.
 *
 * Corpus: Markdown pages generated deterministically (headings, paragraphs, lists, tables, code; a Zipf-like
 * vocabulary of real words), about 5 KB each, so the bench needs nothing outside the repository.
 *
 * - Baseline: n8n's built-in ingest as it runs in n8n 2.x (Default Data Loader → Embeddings OpenAI → Simple
 *   Vector Store, all defaults), with the same LangChain packages n8n uses, as installed here with
 *   @n8n/node-cli: RecursiveCharacterTextSplitter at 1,000 / 200 characters, then the chunks in sequential
 *   slices of 200 (the vector store node's embedding batch size), each one `OpenAIEmbeddings` request, added to
 *   a `MemoryVectorStore`.
 * - Ours: the Ingest Document node's path: each file through `loadBinary`, then one `ingestDocuments` call into
 *   a fresh LanceDB folder with the default embedder (256 texts / 65,536 tokens per request, 4 in flight).
 *
 * Reported: documents per second of both (median of 3 interleaved rounds, each on its own corpus), requests,
 * the most requests in flight the server saw, an unchanged re-run (requests, time), ours once more with a store
 * that discards writes (diagnostic: what LanceDB's writes cost), and the peak RSS and JS memory of a separate
 * process ingesting a ≥ 200 MB corpus generated and fed batch by batch (BIG_CORPUS_MB).
 *
 *   npx tsx bench/ingestThroughput.ts      (DOCS=1000 ROUNDS=3 BIG_CORPUS_MB=200; BIG_CORPUS_MB=0 skips it)
 *
 * With BENCH_JSON_OUT=<file>, every figure is also written there as JSON (bench/run.js uses it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIEmbedder, DEFAULT_EMBEDDING_BATCH_SIZE, DEFAULT_EMBEDDING_CONCURRENCY, DEFAULT_EMBEDDING_MAX_BATCH_TOKENS } from '../lib/embedding';
import { ingestDocuments, type DocumentResult } from '../lib/ingest';
import { loadBinary } from '../lib/loaders';
import { openStore } from '../lib/stores';
import type { LoadedDocument, VectorStore } from '../lib/types';
import { startOpenAITestServer } from '../test/support/openaiServer';

const LATENCY_MS = Number(process.env.EMBED_LATENCY_MS ?? 150);
const DIMENSIONS = 256;
const DOCS = Number(process.env.DOCS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BIG_CORPUS_MB = Number(process.env.BIG_CORPUS_MB ?? 200);
/** Documents per ingest call in the big run: what one n8n execution would carry (Loop Over Items). */
const BIG_BATCH_DOCS = 1000;
const BASELINE_SLICE = 200;

// ---------------------------------------------------------------------------------------------------------
// Corpus

const WORDS = `the of and to a in is that for it as with was on be by this are or from at an not have which you
but all can has more one will their if about when there so what up out other into than its only some time also
these them new may any how each then two first use most where over such through these well make should must
customer customers order orders invoice invoices payment payments account accounts team teams product products
service services support request requests process processes policy policies data report reports review reviews
project projects manager managers meeting meetings document documents email emails contract contracts price
prices plan plans user users access security release releases deployment server servers database backup
schedule deadline budget quarter revenue campaign campaigns partner partners supplier suppliers delivery
warehouse shipment shipments return returns refund refunds ticket tickets escalation onboarding training
handbook guideline guidelines checklist template templates workflow workflows approval approvals budget
office remote hiring interview candidate candidates salary benefits holiday leave travel expense expenses
laptop device devices password passwords network license licenses vendor vendors audit compliance risk
incident incidents outage monitoring alert alerts dashboard metrics goal goals roadmap feature features
issue issues bug bugs test tests quality design research feedback survey analysis strategy market sales
marketing finance legal engineering operations people culture values mission community event events
should would could usually always never often sometimes quickly carefully clearly directly before after
during within without between across against around under above below every another same different
important necessary available responsible current previous following next last early late public private
internal external weekly monthly annual daily regular formal informal simple complex large small clear
check update send create review approve assign track share store delete archive follow ensure provide
include require request submit prepare confirm contact discuss explain describe define measure improve
reduce increase manage plan organize document schedule complete start stop continue keep give take help
ask answer write read find use need want know see get set put let run open close move pay buy sell`
	.split(/\s+/)
	.filter(Boolean);

/** Deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * Draws words with Zipf-like frequencies: the word of rank r with weight 1 / (r + offset), the way word
 * frequencies fall off in real text. `next` is the generator's source of randomness in [0, 1).
 */
export function zipfSampler(words: string[], offset: number): (next: () => number) => string {
	const weights = words.map((_, rank) => 1 / (rank + offset));
	const total = weights.reduce((sum, weight) => sum + weight, 0);
	let running = 0;
	const cumulative = weights.map((weight) => (running += weight / total));
	return (next) => {
		const r = next();
		let low = 0;
		let high = cumulative.length - 1;
		while (low < high) {
			const middle = (low + high) >> 1;
			if (cumulative[middle] < r) low = middle + 1;
			else high = middle;
		}
		return words[low];
	};
}

const word = zipfSampler(WORDS, 3);

export const between = (next: () => number, min: number, max: number) => min + Math.floor(next() * (max - min + 1));
const capitalise = (text: string) => text[0].toUpperCase() + text.slice(1);

function sentence(next: () => number): string {
	const words = Array.from({ length: between(next, 6, 22) }, () => word(next));
	// Numbers and codes make most sentences unique, as in real pages (order numbers, dates, amounts).
	if (next() < 0.5) words.splice(between(next, 1, words.length - 1), 0, String(between(next, 2, 9999)));
	return `${capitalise(words.join(' '))}${next() < 0.1 ? '?' : '.'}`;
}

const paragraph = (next: () => number) => Array.from({ length: between(next, 2, 6) }, () => sentence(next)).join(' ');
const title = (next: () => number) => capitalise(Array.from({ length: between(next, 2, 5) }, () => word(next)).join(' '));

/** One Markdown page, about 5 KB on average (1–12 KB), the same for the same index and seed. */
export function generatePage(index: number, seed = 1): string {
	const next = random(seed * 1_000_003 + index);
	const parts = [`# ${title(next)} ${index}`, paragraph(next)];
	for (let section = between(next, 2, 7); section > 0; section--) {
		parts.push(`## ${title(next)}`);
		for (let block = between(next, 1, 4); block > 0; block--) {
			const kind = next();
			if (kind < 0.6) parts.push(paragraph(next));
			else if (kind < 0.75) parts.push(Array.from({ length: between(next, 3, 7) }, () => `- ${sentence(next)}`).join('\n'));
			else if (kind < 0.85) parts.push(Array.from({ length: between(next, 3, 6) }, (_, step) => `${step + 1}. ${sentence(next)}`).join('\n'));
			else if (kind < 0.93) {
				const rows = Array.from({ length: between(next, 2, 6) }, () => `| ${title(next)} | ${between(next, 1, 500)} | ${word(next)} ${word(next)} |`);
				parts.push(['| Item | Amount | Note |', '|---|---:|---|', ...rows].join('\n'));
			} else parts.push(['```', ...Array.from({ length: between(next, 2, 6) }, () => `${word(next)}_${word(next)} = "${word(next)}-${between(next, 1, 99)}"`), '```'].join('\n'));
		}
		if (next() < 0.3) parts.push(`See [${title(next)}](https://handbook.example.com/${word(next)}/${index}-${section}) for details.`);
	}
	return `${parts.join('\n\n')}\n`;
}

interface File {
	name: string;
	data: Buffer;
}

function corpus(count: number, seed: number, first = 0): File[] {
	return Array.from({ length: count }, (_, offset) => ({
		name: `pages/${seed}/page-${first + offset}.md`,
		data: Buffer.from(generatePage(first + offset, seed)),
	}));
}

const megabytes = (files: File[]) => files.reduce((sum, file) => sum + file.data.length, 0) / 1e6;

// ---------------------------------------------------------------------------------------------------------
// The embedding server, in its own process

interface ServerStats {
	requests: number;
	inputs: number;
	maxInFlight: number;
}

type ServerCommand = { id: number; command: 'reset' | 'stats' };

async function serve(): Promise<void> {
	const server = await startOpenAITestServer({ embeddingDimensions: DIMENSIONS, embeddingLatencyMs: LATENCY_MS });
	let inputs = 0;
	// Keep counts, not the texts: the big run sends hundreds of MB.
	const compact = setInterval(() => {
		for (const request of server.requests) {
			if (request.status !== undefined && Array.isArray(request.body?.input)) {
				inputs += request.body.input.length;
				request.body = { compacted: true };
			}
		}
	}, 200);
	process.on('message', (message: ServerCommand) => {
		if (message.command === 'reset') {
			server.reset();
			inputs = 0;
			process.send?.({ id: message.id });
		} else {
			const pending = server.requests.reduce((sum, request) => sum + (Array.isArray(request.body?.input) ? request.body.input.length : 0), 0);
			const stats: ServerStats = { requests: server.count('/embeddings'), inputs: inputs + pending, maxInFlight: server.maxInFlight };
			process.send?.({ id: message.id, stats });
		}
	});
	process.on('disconnect', () => {
		clearInterval(compact);
		void server.close().then(() => process.exit(0));
	});
	process.send?.({ url: server.url });
}

class RemoteServer {
	private nextId = 0;
	private readonly waiting = new Map<number, (reply: { stats?: ServerStats }) => void>();

	private constructor(
		private readonly child: ChildProcess,
		readonly url: string,
	) {
		child.on('message', (reply: { id?: number; stats?: ServerStats }) => {
			if (reply.id !== undefined) this.waiting.get(reply.id)?.(reply);
		});
	}

	static async start(): Promise<RemoteServer> {
		const child = fork(__filename, [], { env: { ...process.env, BENCH_ROLE: 'server' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		const url = await new Promise<string>((resolve, reject) => {
			child.once('message', (message: { url: string }) => resolve(message.url));
			child.once('exit', (code) => reject(new Error(`the embedding server exited (${code})`)));
		});
		return new RemoteServer(child, url);
	}

	private ask(command: ServerCommand['command']): Promise<{ stats?: ServerStats }> {
		const id = this.nextId++;
		return new Promise((resolve) => {
			this.waiting.set(id, resolve);
			this.child.send({ id, command });
		});
	}

	async reset(): Promise<void> {
		await this.ask('reset');
	}

	async stats(): Promise<ServerStats> {
		return (await this.ask('stats')).stats as ServerStats;
	}

	close(): void {
		this.child.disconnect();
	}
}

// ---------------------------------------------------------------------------------------------------------
// The two pipelines

interface RunFigures {
	ms: number;
	docsPerSecond: number;
	chunks: number;
	requests: number;
	inputsEmbedded: number;
	maxInFlight: number;
}

/** n8n's Default Data Loader + Embeddings OpenAI + Simple Vector Store insert, with n8n's own LangChain packages. */
async function runBaseline(files: File[], server: RemoteServer): Promise<RunFigures> {
	const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
	const { OpenAIEmbeddings } = await import('@langchain/openai');
	const { MemoryVectorStore } = await import('@langchain/classic/vectorstores/memory');
	const { Document } = await import('@langchain/core/documents');
	await server.reset();
	const started = performance.now();
	const embeddings = new OpenAIEmbeddings({ model: 'bench-embedding', apiKey: 'bench', configuration: { baseURL: server.url } });
	const store = new MemoryVectorStore(embeddings);
	const splitter = new RecursiveCharacterTextSplitter({ chunkSize: 1000, chunkOverlap: 200 });
	const documents = files.map(
		(file) => new Document({ pageContent: file.data.toString('utf8'), metadata: { source: 'blob', blobType: 'text/markdown', fileName: file.name } }),
	);
	const chunks = await splitter.splitDocuments(documents);
	for (let start = 0; start < chunks.length; start += BASELINE_SLICE) {
		await store.addDocuments(chunks.slice(start, start + BASELINE_SLICE));
	}
	const ms = performance.now() - started;
	const stats = await server.stats();
	if (store.memoryVectors.length !== chunks.length) throw new Error('baseline: not every chunk was stored');
	return { ms, docsPerSecond: (files.length * 1000) / ms, chunks: chunks.length, requests: stats.requests, inputsEmbedded: stats.inputs, maxInFlight: stats.maxInFlight };
}

async function loadFiles(files: File[]): Promise<LoadedDocument[]> {
	const docs: LoadedDocument[] = [];
	for (const file of files) docs.push(...(await loadBinary({ data: file.data, fileName: file.name, sourceId: file.name })));
	return docs;
}

interface OursFigures extends RunFigures {
	/** Reading the files (`loadBinary`): what n8n's Default Data Loader does for the baseline. */
	loadMs: number;
	/** `ingestDocuments` alone, store opening included. */
	ingestMs: number;
	results: DocumentResult[];
}

/**
 * Diagnostic only: a store that keeps nothing, to show what the pipeline does when writes cost nothing (the gap
 * to the LanceDB figure is LanceDB's write path: merge-insert and index upkeep on every write).
 */
function discardingStore(): VectorStore {
	const unsupported = () => Promise.reject(new Error('the discarding bench store keeps nothing'));
	return {
		kind: 'lancedb',
		upsert: async () => undefined,
		versions: async () => new Map(),
		vectorsByContentHash: async () => new Map(),
		deleteSource: async () => 0,
		listSources: unsupported,
		search: unsupported,
		close: async () => undefined,
	};
}

async function runOurs(files: File[], server: RemoteServer, folder: string | undefined): Promise<OursFigures> {
	await server.reset();
	const started = performance.now();
	const docs = await loadFiles(files);
	const loaded = performance.now();
	const store = folder ? await openStore({ kind: 'lancedb', path: folder }) : discardingStore();
	try {
		const embedder = createOpenAIEmbedder({ baseURL: server.url, apiKey: 'bench', model: 'bench-embedding' });
		const results = await ingestDocuments(docs, { store, embedder, namespace: 'bench' });
		const ms = performance.now() - started;
		const failed = results.filter((result) => result.status === 'failed');
		if (failed.length > 0) throw new Error(`ours: ${failed.length} documents failed, e.g. ${failed[0].error}`);
		const stats = await server.stats();
		return {
			ms,
			loadMs: loaded - started,
			ingestMs: ms - (loaded - started),
			docsPerSecond: (files.length * 1000) / ms,
			chunks: results.reduce((sum, result) => sum + result.chunks, 0),
			requests: stats.requests,
			inputsEmbedded: stats.inputs,
			maxInFlight: stats.maxInFlight,
			results,
		};
	} finally {
		await store.close();
	}
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// ---------------------------------------------------------------------------------------------------------
// The ≥ 200 MB run, in its own process so that its peak RSS is its own

interface BigFigures {
	megabytes: number;
	documents: number;
	chunks: number;
	requests: number;
	seconds: number;
	docsPerSecond: number;
	peakRssMB: number;
	rssAtQuarterMB: number[];
	peakHeapMB: number;
	heapAtQuarterMB: number[];
	batchDocs: number;
}

async function runBig(): Promise<void> {
	const url = process.env.BENCH_SERVER_URL as string;
	const folder = await mkdtemp(join(tmpdir(), 'symbiotic-bench-big-'));
	const store = await openStore({ kind: 'lancedb', path: folder });
	const embedder = createOpenAIEmbedder({ baseURL: url, apiKey: 'bench', model: 'bench-embedding' });
	let peak = 0;
	let peakHeap = 0;
	const sample = () => {
		const usage = process.memoryUsage();
		peak = Math.max(peak, usage.rss);
		peakHeap = Math.max(peakHeap, usage.heapUsed + usage.external);
	};
	const sampler = setInterval(sample, 50);
	const target = BIG_CORPUS_MB * 1e6;
	const quarters: number[] = [];
	const heapQuarters: number[] = [];
	let bytes = 0;
	let documents = 0;
	let chunks = 0;
	const started = performance.now();
	try {
		// Generated batch by batch and dropped after its ingest: the corpus is never in memory as a whole.
		for (let first = 0; bytes < target; first += BIG_BATCH_DOCS) {
			const files = corpus(BIG_BATCH_DOCS, 7, first);
			bytes += files.reduce((sum, file) => sum + file.data.length, 0);
			const results = await ingestDocuments(await loadFiles(files), { store, embedder, namespace: 'big' });
			const failed = results.find((result) => result.status === 'failed');
			if (failed) throw new Error(`big run: ${failed.error}`);
			documents += results.length;
			chunks += results.reduce((sum, result) => sum + result.chunks, 0);
			sample();
			while (quarters.length < 4 && bytes >= (target * (quarters.length + 1)) / 4) {
				quarters.push(Math.round(peak / 1e6));
				heapQuarters.push(Math.round(peakHeap / 1e6));
			}
			if (process.stdout.isTTY) {
				process.stdout.write(`\r  ${(bytes / 1e6).toFixed(0)} / ${BIG_CORPUS_MB} MB, peak RSS so far ${(peak / 1e6).toFixed(0)} MB   `);
			}
		}
	} finally {
		clearInterval(sampler);
		if (process.stdout.isTTY) process.stdout.write('\n');
		await store.close();
		await rm(folder, { recursive: true, force: true });
	}
	const seconds = (performance.now() - started) / 1000;
	const maxRss = process.resourceUsage().maxRSS * 1024;
	const figures: BigFigures = {
		megabytes: Math.round(bytes / 1e6),
		documents,
		chunks,
		requests: 0,
		seconds,
		docsPerSecond: documents / seconds,
		peakRssMB: Math.round(Math.max(peak, maxRss) / 1e6),
		rssAtQuarterMB: quarters,
		peakHeapMB: Math.round(peakHeap / 1e6),
		heapAtQuarterMB: heapQuarters,
		batchDocs: BIG_BATCH_DOCS,
	};
	process.send?.(figures);
}

async function bigRun(server: RemoteServer): Promise<BigFigures> {
	await server.reset();
	const child = fork(__filename, [], { env: { ...process.env, BENCH_ROLE: 'big', BENCH_SERVER_URL: server.url }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	const figures = await new Promise<BigFigures>((resolve, reject) => {
		child.once('message', (message: BigFigures) => resolve(message));
		child.once('exit', (code) => reject(new Error(`the big run exited (${code})`)));
	});
	child.disconnect();
	figures.requests = (await server.stats()).requests;
	return figures;
}

// ---------------------------------------------------------------------------------------------------------

const ms = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`);

async function main(): Promise<void> {
	const server = await RemoteServer.start();
	const folders: string[] = [];
	const figures: Record<string, unknown> = {
		date: new Date().toISOString(),
		setup: {
			documents: DOCS,
			rounds: ROUNDS,
			embeddingLatencyMs: LATENCY_MS,
			dimensions: DIMENSIONS,
			ours: { batchSize: DEFAULT_EMBEDDING_BATCH_SIZE, maxBatchTokens: DEFAULT_EMBEDDING_MAX_BATCH_TOKENS, concurrency: DEFAULT_EMBEDDING_CONCURRENCY, chunking: '400 / 50 tokens', store: 'LanceDB' },
			baseline: { splitter: 'RecursiveCharacterTextSplitter 1000 / 200 characters', slice: BASELINE_SLICE, embeddings: '@langchain/openai OpenAIEmbeddings', store: 'MemoryVectorStore' },
		},
	};
	try {
		const sample = corpus(DOCS, 1);
		console.log(
			`${DOCS} generated Markdown pages per round (${megabytes(sample).toFixed(1)} MB), embedding server in its own process answering each request after ${LATENCY_MS} ms, ` +
				`${DIMENSIONS}-dimension vectors; median of ${ROUNDS} rounds, each on its own corpus\n`,
		);
		const baselineRuns: RunFigures[] = [];
		const oursRuns: OursFigures[] = [];
		const discardRuns: OursFigures[] = [];
		const rerunRuns: Array<{ ms: number; loadMs: number; ingestMs: number; requests: number; unchanged: number }> = [];
		for (let round = 0; round < ROUNDS; round++) {
			const files = round === 0 ? sample : corpus(DOCS, round + 1);
			baselineRuns.push(await runBaseline(files, server));
			const folder = await mkdtemp(join(tmpdir(), 'symbiotic-bench-throughput-'));
			folders.push(folder);
			const first = await runOurs(files, server, folder);
			oursRuns.push(first);
			const again = await runOurs(files, server, folder);
			const unchanged = again.results.filter((result) => result.status === 'unchanged').length;
			if (unchanged !== again.results.length) throw new Error(`re-run: ${again.results.length - unchanged} documents not unchanged`);
			rerunRuns.push({ ms: again.ms, loadMs: again.loadMs, ingestMs: again.ingestMs, requests: again.requests, unchanged });
			discardRuns.push(await runOurs(files, server, undefined));
			console.log(
				`  round ${round + 1}: baseline ${ms(baselineRuns[round].ms)}, ours ${ms(first.ms)} (${(baselineRuns[round].ms / first.ms).toFixed(1)}×), ` +
					`unchanged re-run ${ms(again.ms)}, ${again.requests} requests`,
			);
		}
		const pick = <T extends { ms: number }>(runs: T[]) => runs.find((run) => run.ms === median(runs.map((r) => r.ms))) as T;
		const baseline = pick(baselineRuns);
		const ours = pick(oursRuns);
		const rerun = pick(rerunRuns);
		const discard = pick(discardRuns);
		const speedup = baseline.ms / ours.ms;
		const rerunPercent = (100 * rerun.ms) / ours.ms;
		const rerunIngestPercent = (100 * rerun.ingestMs) / ours.ingestMs;
		console.log('');
		console.log('| pipeline | time | docs/s | chunks | embedding requests | texts embedded | most requests in flight |');
		console.log('|---|---:|---:|---:|---:|---:|---:|');
		console.log(
			`| n8n built-in (baseline) | ${ms(baseline.ms)} | ${baseline.docsPerSecond.toFixed(0)} | ${baseline.chunks} | ${baseline.requests} | ${baseline.inputsEmbedded} | ${baseline.maxInFlight} |`,
		);
		console.log(
			`| ours, first ingest | ${ms(ours.ms)} (load ${ms(ours.loadMs)}, ingest ${ms(ours.ingestMs)}) | ${ours.docsPerSecond.toFixed(0)} (${speedup.toFixed(1)}×) | ${ours.chunks} | ${ours.requests} | ${ours.inputsEmbedded} | ${ours.maxInFlight} (limit ${DEFAULT_EMBEDDING_CONCURRENCY}) |`,
		);
		console.log(
			`| ours, unchanged re-run | ${ms(rerun.ms)} = ${rerunPercent.toFixed(1)} % of first (ingest ${ms(rerun.ingestMs)} = ${rerunIngestPercent.toFixed(1)} %) | ${((DOCS * 1000) / rerun.ms).toFixed(0)} | — | ${rerun.requests} | 0 | — |`,
		);
		console.log(
			`| ours, store writes discarded (diagnostic) | ${ms(discard.ms)} (load ${ms(discard.loadMs)}, ingest ${ms(discard.ingestMs)}) | ${discard.docsPerSecond.toFixed(0)} (${(baseline.ms / discard.ms).toFixed(1)}×) | ${discard.chunks} | ${discard.requests} | ${discard.inputsEmbedded} | ${discard.maxInFlight} |`,
		);
		figures.baseline = baseline;
		figures.oursStoreDiscarded = { ...discard, results: undefined, speedup: baseline.ms / discard.ms };
		figures.ours = { ...ours, results: undefined, speedup, maxInFlightLimit: DEFAULT_EMBEDDING_CONCURRENCY };
		figures.unchangedRerun = { ...rerun, percentOfFirst: rerunPercent, ingestPercentOfFirstIngest: rerunIngestPercent };
		figures.rounds = {
			baselineMs: baselineRuns.map((run) => run.ms),
			oursMs: oursRuns.map((run) => run.ms),
			oursIngestMs: oursRuns.map((run) => run.ingestMs),
			rerunMs: rerunRuns.map((run) => run.ms),
			rerunIngestMs: rerunRuns.map((run) => run.ingestMs),
			oursStoreDiscardedMs: discardRuns.map((run) => run.ms),
		};

		if (BIG_CORPUS_MB > 0) {
			console.log(`\n${BIG_CORPUS_MB} MB corpus, generated and ingested ${BIG_BATCH_DOCS} documents per call in a fresh process:`);
			const big = await bigRun(server);
			console.log(
				`${big.megabytes} MB, ${big.documents} documents, ${big.chunks} chunks, ${big.requests} embedding requests in ${big.seconds.toFixed(0)} s ` +
					`(${big.docsPerSecond.toFixed(0)} docs/s)\npeak RSS ${big.peakRssMB} MB (after each quarter of the corpus: ${big.rssAtQuarterMB.join(', ')} MB); ` +
					`peak JS heap + external ${big.peakHeapMB} MB (${big.heapAtQuarterMB.join(', ')} MB)`,
			);
			figures.big = big;
		}
	} finally {
		server.close();
		for (const folder of folders) await rm(folder, { recursive: true, force: true });
	}
	if (process.env.BENCH_JSON_OUT) await writeFile(process.env.BENCH_JSON_OUT, `${JSON.stringify(figures, null, 2)}\n`);
}

if (require.main === module) {
	const role = process.env.BENCH_ROLE;
	(role === 'server' ? serve() : role === 'big' ? runBig() : main()).catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
