/**
 * Re-ingest saving: ingest a real corpus (287 Markdown handbook pages from ../shared/corpus) into a fresh
 * LanceDB folder, then ingest it again unchanged, then again with 10 documents edited. Embeddings come
 * from the local OpenAI-compatible test server over HTTP, with an optional per-request latency to stand in
 * for a remote API (EMBED_LATENCY_MS, default 30).
 *
 * The baseline is the first run: it is what a pipeline without change detection (n8n's built-in ingest)
 * pays on every run. Ratios are against it, measured in the same process.
 *
 *   npx tsx bench/reingest.ts [corpus folder]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIEmbedder } from '../lib/embedding';
import { ingestDocuments, type DocumentResult } from '../lib/ingest';
import { openStore } from '../lib/stores';
import type { LoadedDocument } from '../lib/types';
import { startOpenAITestServer } from '../test/support/openaiServer';
import { loadMarkdownCorpus } from './markdownCorpus';

function summarise(label: string, results: DocumentResult[], requests: number, ms: number): string {
	const count = (status: string) => results.filter((result) => result.status === status).length;
	const sum = (key: 'chunks' | 'embedded' | 'reused' | 'deleted') => results.reduce((total, result) => total + result[key], 0);
	return (
		`${label.padEnd(22)} ${String(ms.toFixed(0)).padStart(7)} ms  ${String(requests).padStart(4)} embedding requests  ` +
		`created ${count('created')}, updated ${count('updated')}, unchanged ${count('unchanged')}, failed ${count('failed')}; ` +
		`chunks ${sum('chunks')}, embedded ${sum('embedded')}, reused ${sum('reused')}, deleted ${sum('deleted')}`
	);
}

async function main(): Promise<void> {
	const docs = await loadMarkdownCorpus(process.argv[2]);
	if (!docs) return;

	const latency = Number(process.env.EMBED_LATENCY_MS ?? 30);
	const server = await startOpenAITestServer({ embeddingDimensions: 256 });
	const folder = await mkdtemp(join(tmpdir(), 'symbiotic-bench-'));
	const store = await openStore({ kind: 'lancedb', path: folder });
	const embedder = createOpenAIEmbedder({ baseURL: server.url, apiKey: 'bench', model: 'bench-embedding' });
	const run = async (label: string, corpus: LoadedDocument[]) => {
		server.reset();
		server.delayNext(1_000_000, latency, { path: '/embeddings' });
		const started = performance.now();
		const results = await ingestDocuments(corpus, { store, embedder, namespace: 'bench' });
		const ms = performance.now() - started;
		console.log(summarise(label, results, server.count('/embeddings'), ms));
		return { ms, requests: server.count('/embeddings') };
	};

	try {
		console.log(`${docs.length} documents (${(docs.reduce((n, doc) => n + doc.text.length, 0) / 1e6).toFixed(1)} MB of text), embedding latency ${latency} ms/request\n`);
		const first = await run('first run (baseline)', docs);
		const unchanged = await run('unchanged re-run', docs);
		const edited = docs.map((doc, index) => (index % Math.ceil(docs.length / 10) === 0 ? { ...doc, text: `${doc.text}\n\nEdited paragraph ${index}.` } : doc));
		const tenEdited = await run('10 documents edited', edited);
		console.log('');
		for (const [label, result] of [['unchanged re-run', unchanged], ['10 documents edited', tenEdited]] as const) {
			console.log(
				`${label}: ${(result.ms / first.ms).toFixed(3)}× the baseline time, ${result.requests}/${first.requests} embedding requests ` +
					`(${(100 * (1 - result.requests / first.requests)).toFixed(1)}% saved)`,
			);
		}
	} finally {
		await store.close();
		await server.close();
		await rm(folder, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
