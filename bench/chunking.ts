/**
 * Chunking speed on a real corpus: the Markdown handbook pages of ../shared/corpus/markdown (18F and Meltano),
 * chunked with the default options (400 / 50 tokens).
 *
 * The baseline, measured in the same run, is the irreducible tokenizer cost: one js-tiktoken `encode()` over
 * each whole document, straight from the library. Chunking cannot be cheaper than reading the text once, so
 * "chunking ÷ one tokenizer pass" says how much work the chunker adds on top. The chunking run is split into
 * phases by timing every call into the BPE encoder (`Tiktoken.prototype.encode`): time inside the encoder vs
 * everything else (Markdown structure, ICU segmentation, packing, hashing).
 *
 * Times are CPU milliseconds of this process (wall time in brackets). The first chunking run is the one that counts (a first ingest: the token-count cache starts empty); the
 * repeat shows the steady state of a long-running n8n process.
 *
 *   npx tsx bench/chunking.ts [corpus folder]
 */
import { Tiktoken } from 'js-tiktoken/lite';
import { chunkDocument } from '../lib/chunking';
import { loadMarkdownCorpus } from './markdownCorpus';
import { countTokens } from '../lib/tokens';

type TiktokenRanks = ConstructorParameters<typeof Tiktoken>[0];

/** Counts and times every call into the BPE encoder, whoever makes it. */
function instrumentEncoder(): { calls: number; characters: number; ms: number; reset(): void } {
	const stats = {
		calls: 0,
		characters: 0,
		ms: 0,
		reset() {
			stats.calls = 0;
			stats.characters = 0;
			stats.ms = 0;
		},
	};
	const encode = Tiktoken.prototype.encode;
	Tiktoken.prototype.encode = function (this: Tiktoken, ...args: Parameters<Tiktoken['encode']>) {
		const started = performance.now();
		try {
			return encode.apply(this, args);
		} finally {
			stats.ms += performance.now() - started;
			stats.calls++;
			stats.characters += args[0].length;
		}
	};
	return stats;
}

/**
 * CPU time of this process (the work is single-threaded), which is steadier than wall time on a busy machine;
 * wall time is kept for reference.
 */
function timed<T>(work: () => T): { result: T; ms: number; wallMs: number } {
	const cpu = process.cpuUsage();
	const started = performance.now();
	const result = work();
	const used = process.cpuUsage(cpu);
	return { result, ms: (used.user + used.system) / 1000, wallMs: performance.now() - started };
}

async function main(): Promise<void> {
	const docs = await loadMarkdownCorpus(process.argv[2]);
	if (!docs) return;
	const characters = docs.reduce((sum, doc) => sum + doc.text.length, 0);
	console.log(`${docs.length} documents, ${(characters / 1e6).toFixed(2)} M characters, chunkSize 400 / overlap 50 (defaults)\n`);

	// The library's own encoder, outside lib/tokens, so the baseline never touches this package's caches.
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const referenceEncoder = new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenRanks);
	referenceEncoder.encode('warm up the JIT before timing', [], []);
	const tokenizerPass = timed(() => docs.reduce((sum, doc) => sum + referenceEncoder.encode(doc.text, [], []).length, 0));

	// Loading the rank table is a once-per-process cost, not chunking work.
	countTokens('load the rank table');
	const encoder = instrumentEncoder();
	const chunkCorpus = () => docs.reduce((sum, doc) => sum + chunkDocument(doc, { namespace: 'bench', ingestedAt: '2025-01-01T00:00:00.000Z', extra: {} }).length, 0);
	const first = timed(chunkCorpus);
	const firstEncoder = { calls: encoder.calls, characters: encoder.characters, ms: encoder.ms };
	encoder.reset();
	const repeat = timed(chunkCorpus);
	const repeatEncoder = { calls: encoder.calls, characters: encoder.characters, ms: encoder.ms };
	const countPass = timed(() => docs.reduce((sum, doc) => sum + countTokens(doc.text), 0));

	const ms = (value: number) => `${value.toFixed(0).padStart(6)} ms`;
	const cpuAndWall = (run: { ms: number; wallMs: number }) => `${ms(run.ms)} [${run.wallMs.toFixed(0)} wall]`;
	console.log(`baseline: one js-tiktoken encode() per document  ${cpuAndWall(tokenizerPass)}  (${tokenizerPass.result} tokens)`);
	// Differs slightly from the baseline's total by design: lib/tokens encodes runs over 128 characters in parts.
	console.log(`countTokens() per document (after chunking)      ${cpuAndWall(countPass)}  (${countPass.result} tokens)`);
	for (const [label, run, stats] of [
		['chunking, first run', first, firstEncoder],
		['chunking, repeat', repeat, repeatEncoder],
	] as const) {
		console.log(
			`${label.padEnd(48)} ${cpuAndWall(run)}  ${run.result} chunks, ${(run.ms / run.result).toFixed(2)} ms/chunk, ` +
				`${(run.ms / tokenizerPass.ms).toFixed(2)}× the baseline`,
		);
		console.log(
			`  in the BPE encoder ${ms(stats.ms)} wall (${((100 * stats.ms) / run.wallMs).toFixed(0)}%), ${stats.calls} calls over ` +
				`${(stats.characters / characters).toFixed(2)}× the corpus text; everything else ${ms(run.wallMs - stats.ms)} wall`,
		);
	}
}

void main();
