import { InProcessMemoryBackend } from '../../lib/memory';
import type { InProcessSessions } from '../../lib/memory/inProcessBackend';
import { describeMemoryBehaviour } from './memoryBehaviour';

describe('InProcessMemoryBackend', () => {
	// One store shared by the backends of a test run, as the process-wide store is shared by n8n executions.
	const sessions: InProcessSessions = new Map();
	describeMemoryBehaviour(() => ({
		keyPrefix: 'symbiotic-test',
		create: async (options) => new InProcessMemoryBackend({ keyPrefix: 'symbiotic-test', ...options, sessions }),
	}));

	it('shares the process-wide store between instances by default', async () => {
		const session = { namespace: 'tests', sessionId: `process-wide-${process.pid}` };
		await new InProcessMemoryBackend().appendMessages(session, [{ role: 'user', content: 'remembered' }]);
		expect((await new InProcessMemoryBackend().getHistory(session)).transcript).toBe('User: remembered');
		await new InProcessMemoryBackend().clearSession(session);
	});

	it('says it is single-process and volatile', () => {
		expect(new InProcessMemoryBackend().description).toMatch(/single n8n process only, lost on restart/);
	});
});
