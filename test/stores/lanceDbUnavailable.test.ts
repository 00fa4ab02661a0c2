import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * Where LanceDB has no native build (n8n's Alpine image on arm64: no musl arm64 build since 0.31), the nodes must
 * still load and Qdrant still work; only choosing the LanceDB store fails, saying what to do. Simulated in a
 * separate process in which resolving @lancedb/lancedb fails the way a missing native package does.
 */
it('loads the stores without LanceDB, and opening a LanceDB store then says to choose Qdrant', async () => {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'symbiotic-no-lancedb-'));
	try {
		const script = path.join(folder, 'no-lancedb.ts');
		fs.writeFileSync(
			script,
			`const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request: string, ...rest: unknown[]) {
	if (request === '@lancedb/lancedb') throw new Error("Cannot find module '@lancedb/lancedb-linux-arm64-musl'");
	return resolve.call(this, request, ...rest);
};
(async () => {
	const stores = await import(${JSON.stringify(path.resolve(__dirname, '../../lib/stores'))});
	const qdrant = await stores.openStore({ kind: 'qdrant', url: 'http://127.0.0.1:1', collection: 'knowledge' });
	let lancedb = '';
	try {
		await stores.openStore({ kind: 'lancedb', path: ${JSON.stringify(folder)} });
	} catch (error) {
		lancedb = (error as Error).name + ': ' + (error as Error).message;
	}
	console.log(JSON.stringify({ qdrant: qdrant.constructor.name, lancedb }));
})();
`,
		);
		const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
		const { stdout } = await promisify(execFile)(tsx, [script], { timeout: 60_000 });
		const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { qdrant: string; lancedb: string };
		expect(result.qdrant).toBe('QdrantStore');
		expect(result.lancedb).toMatch(/^InputError: The embedded LanceDB store cannot run on this machine \(linux x64\): Cannot find module '@lancedb\/lancedb-linux-arm64-musl'\. Choose Store: Qdrant/);
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
	}
}, 90_000);
