/**
 * End-to-end tests: a real n8n 2.41.1 (Node 24, from the runtime cache) with the packed pack installed;
 * SYMBIOTIC_N8N_VERSION=newest (or an exact version) runs them in another n8n (scripts/n8n-runtime.sh).
 * globalSetup installs the runtime once and builds + installs the pack once per run; each test file
 * starts its own n8n instances. In-band: two cores cannot carry several n8n processes in parallel.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e', '<rootDir>/test/reliability'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
	},
	globalSetup: '<rootDir>/test/e2e/support/globalSetup.ts',
	testTimeout: 300000,
	maxWorkers: 1,
};
