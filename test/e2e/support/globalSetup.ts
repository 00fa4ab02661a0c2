/**
 * Runs once before the e2e suite: installs the n8n runtime (first time: ~4 minutes, then cached)
 * and builds + installs the pack once, so test files only start instances.
 * SYMBIOTIC_E2E_SKIP_BUILD=1 packs the dist/ already built (quicker reruns while iterating).
 * SYMBIOTIC_N8N_VERSION=newest (or an exact version) runs the suite in another n8n than the pinned one.
 */
import { ensurePackInstalled, ensureRuntime, N8N_VERSION_ENV, PACK_BUILT_ENV } from './n8nInstance';

export default async function globalSetup(): Promise<void> {
	const started = Date.now();
	const requested = process.env[N8N_VERSION_ENV];
	const runtime = await ensureRuntime();
	// Test files run in this process and ask the runtime script again: `newest` must not move mid-run.
	process.env[N8N_VERSION_ENV] = runtime.n8nVersion;
	await ensurePackInstalled({ build: process.env.SYMBIOTIC_E2E_SKIP_BUILD !== '1' });
	process.env[PACK_BUILT_ENV] = '1';
	const chosen = requested ? `${N8N_VERSION_ENV}=${requested}; pinned: ${runtime.pinnedVersion}` : 'the pinned version';
	console.log(`\n[e2e] n8n ${runtime.n8nVersion} (${chosen}), Node 24 from ${runtime.nodeBin}`);
	for (const note of runtime.versionNotes) console.log(`[e2e]   ${note}`);
	console.log(`[e2e] n8n runtime and pack ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
