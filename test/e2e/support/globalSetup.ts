/**
 * Runs once before the e2e suite: installs the n8n runtime (first time: ~4 minutes, then cached)
 * and builds + installs the pack once, so test files only start instances.
 * SYMBIOTIC_E2E_SKIP_BUILD=1 packs the dist/ already built (quicker reruns while iterating).
 */
import { ensurePackInstalled, ensureRuntime, PACK_BUILT_ENV } from './n8nInstance';

export default async function globalSetup(): Promise<void> {
	const started = Date.now();
	await ensureRuntime();
	await ensurePackInstalled({ build: process.env.SYMBIOTIC_E2E_SKIP_BUILD !== '1' });
	process.env[PACK_BUILT_ENV] = '1';
	console.log(`\n[e2e] n8n runtime and pack ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
