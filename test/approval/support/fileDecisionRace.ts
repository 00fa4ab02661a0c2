/**
 * Child process of the file store's multi-process race: `node --import tsx fileDecisionRace.ts <folder> <key> <name> <count>`.
 * Opens its own store on the folder, prints `ready`, waits for `go` on stdin (so that every process starts racing at
 * once), fires `count` concurrent decideOnce calls for the key and prints their results as one JSON line.
 */
import { FileDecisionStore } from '../../../lib/approval/fileDecisionStore';
import type { ReviewDecision } from '../../../lib/approval/types';

const [folder, key, name, count] = process.argv.slice(2);

function decision(reviewer: string): ReviewDecision {
	return { action: 'approved', comment: '', finalText: 'Draft', reviewer, decidedAt: '2026-01-01T00:00:00.000Z', userAgent: 'test', ip: '127.0.0.1' };
}

async function race(): Promise<void> {
	const store = new FileDecisionStore({ folder });
	const results = await Promise.all(
		Array.from({ length: Number(count) }, (_, index) => store.decideOnce(key, decision(`${name}-${index}@example.com`))),
	);
	process.stdout.write(`${JSON.stringify(results)}\n`);
}

process.stdin.setEncoding('utf8');
let input = '';
process.stdin.on('data', (chunk: string) => {
	input += chunk;
	if (input.includes('go')) {
		process.stdin.pause();
		race().catch((error: unknown) => {
			process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
			process.exitCode = 1;
		});
	}
});
process.stdout.write('ready\n');
