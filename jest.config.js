/** Tests run in-band against real services (Redis, LanceDB on disk, local HTTP servers). */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
	},
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/', '\\.e2e\\.test\\.ts$'],
	testTimeout: 60000,
};
