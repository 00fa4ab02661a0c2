#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark of this folder with tsx, one after the other (they measure time and
 * memory, so never two at once), prints each one's table as it goes, and writes bench/results.json: the date,
 * the machine, and per benchmark its status, duration, printed output and — for benchmarks that write them
 * (BENCH_JSON_OUT) — its figures as JSON.
 *
 * Benchmarks on the real corpora of ../shared (beside the repository, not in it) are skipped, saying so, when
 * those folders are absent; the Redis one when Redis does not answer. The rest needs nothing but this
 * repository, so a clean clone runs it (in about 11 minutes on 2 cores, most of it the 200 MB and 100,000-document
 * ingests).
 *
 *   npm run bench                    all of them
 *   npm run bench -- ingestThroughput reingest   only these
 */
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const shared = path.join(root, '..', 'shared', 'corpus');
/** Whole-run budget is 15 minutes; no single benchmark may take the run past it. */
const TIMEOUT_MS = 12 * 60 * 1000;

function redisAnswers() {
	const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
	return new Promise((resolve) => {
		const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
		const done = (ok) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.once('error', () => done(false));
		socket.once('connect', () => {
			socket.write('PING\r\n');
			socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
		});
	});
}

/** Each benchmark and what it needs; `needs` resolves to a reason to skip, or undefined. */
const BENCHES = [
	{
		name: 'ingestThroughput',
		script: 'bench/ingestThroughput.ts',
		about: 'first ingest vs n8n built-in pipeline, re-run, 200 MB RSS (generated corpus)',
		needs: async () => undefined,
	},
	{
		name: 'searchAtScale',
		script: 'bench/searchAtScale.ts',
		about: 'search p50/p95 vs raw LanceDB, ingest speed and RSS at 100,000 documents (generated corpus)',
		needs: async () => undefined,
	},
	{
		name: 'reingest',
		script: 'bench/reingest.ts',
		about: 'incremental re-ingest on the Markdown handbook pages',
		needs: async () => (existsSync(path.join(shared, 'markdown')) ? undefined : `${path.join(shared, 'markdown')} is absent (../shared is not part of the repository)`),
	},
	{
		name: 'chunking',
		script: 'bench/chunking.ts',
		about: 'chunking speed on the Markdown handbook pages',
		needs: async () => (existsSync(path.join(shared, 'markdown')) ? undefined : `${path.join(shared, 'markdown')} is absent (../shared is not part of the repository)`),
	},
	{
		name: 'htmlQuality',
		script: 'bench/htmlQuality.ts',
		about: "HTML main-content extraction vs Readability's expected output",
		needs: async () => {
			const folder = path.join(shared, 'html', 'readability', 'pages');
			return existsSync(folder) ? undefined : `${folder} is absent (../shared is not part of the repository)`;
		},
	},
	{
		name: 'memoryAppend',
		script: 'bench/memoryAppend.ts',
		about: 'Redis memory appends vs LangChain RedisChatMessageHistory',
		needs: async () => ((await redisAnswers()) ? undefined : `no Redis answers at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'} (set REDIS_URL)`),
	},
];

/** Runs one script with tsx, echoing its output and keeping it (progress lines rewritten with \r are dropped). */
function runScript(script, env) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		const keep = (stream, target) =>
			stream.on('data', (data) => {
				target.write(data);
				output += data.toString();
			});
		keep(child.stdout, process.stdout);
		keep(child.stderr, process.stderr);
		const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			const lines = output
				.split('\n')
				.map((line) => line.split('\r').pop().replace(/\x1b\[[0-9;]*m/g, '').trimEnd())
				.filter((line) => line !== '');
			resolve({ code, signal, lines });
		});
	});
}

async function main() {
	const wanted = process.argv.slice(2);
	const unknown = wanted.filter((name) => !BENCHES.some((bench) => bench.name === name));
	if (unknown.length > 0) {
		console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${BENCHES.map((bench) => bench.name).join(', ')}`);
		process.exit(2);
	}
	const started = Date.now();
	const results = {
		date: new Date().toISOString(),
		machine: {
			cpus: os.cpus().length,
			cpuModel: os.cpus()[0]?.model,
			memoryGB: Math.round(os.totalmem() / 1e9),
			platform: `${os.type()} ${os.release()}`,
			node: process.version,
		},
		benches: [],
	};
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'symbiotic-bench-run-'));
	let failed = 0;
	try {
		for (const bench of BENCHES.filter((candidate) => wanted.length === 0 || wanted.includes(candidate.name))) {
			console.log(`\n=== ${bench.name}: ${bench.about} (${bench.script})\n`);
			const reason = await bench.needs();
			if (reason) {
				console.log(`skipped: ${reason}`);
				results.benches.push({ name: bench.name, script: bench.script, status: 'skipped', reason });
				continue;
			}
			const jsonOut = path.join(scratch, `${bench.name}.json`);
			const benchStarted = Date.now();
			const { code, signal, lines } = await runScript(bench.script, { BENCH_JSON_OUT: jsonOut });
			const entry = { name: bench.name, script: bench.script, status: code === 0 ? 'ok' : 'failed', seconds: Math.round((Date.now() - benchStarted) / 100) / 10 };
			if (code !== 0) {
				failed++;
				entry.reason = signal ? `stopped by ${signal} (over ${TIMEOUT_MS / 60000} minutes?)` : `exit code ${code}`;
			}
			// A benchmark that prints "skipped" itself (its own check) is reported as skipped.
			const skippedLine = lines.find((line) => /^skipped:/i.test(line));
			if (code === 0 && skippedLine && lines.length <= 2) Object.assign(entry, { status: 'skipped', reason: skippedLine });
			if (existsSync(jsonOut)) entry.figures = JSON.parse(readFileSync(jsonOut, 'utf8'));
			entry.output = lines;
			results.benches.push(entry);
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	results.totalSeconds = Math.round((Date.now() - started) / 1000);
	const file = path.join(__dirname, 'results.json');
	writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
	console.log(`\n${results.benches.map((bench) => `${bench.name}: ${bench.status}${bench.seconds !== undefined ? ` (${bench.seconds} s)` : ''}`).join(', ')}`);
	console.log(`All figures in ${path.relative(process.cwd(), file)}; total ${results.totalSeconds} s.`);
	if (failed > 0) process.exit(1);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
