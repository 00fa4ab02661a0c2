import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';
import { defineConfig, globalIgnores } from 'eslint/config';

export default defineConfig(
	// Tests and benchmarks are not part of the published package (tsc type-checks them); the community-node
	// rules (no child processes, no console, usableAsTool on every node class) are about shipped code.
	globalIgnores(['test/**', 'bench/**', 'coverage/**']),
	// The CLI's own config for packages that are not meant for n8n Cloud (`n8n-node cloud-support disable`,
	// `"strict": false` in package.json): this pack is self-hosted because it needs native and SDK packages.
	configWithoutCloudSupport,
	{
		// Same reason: LanceDB (native bindings), the Qdrant and OpenAI SDKs and ioredis are runtime
		// dependencies, which a self-hosted n8n installs with the package; only n8n Cloud forbids them.
		files: ['package.json'],
		rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
	},
	{
		// lib/ may not import n8n (project rule), so it throws its own errors; the nodes wrap every error that
		// reaches them in NodeOperationError, where this rule stays on.
		files: ['lib/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
);
