/**
 * The README's "What we survive" table and this folder's tests name the same cases: every row's id is the
 * `[id]` of a test here, and every such test has its row. A case added, renamed or dropped on one side only
 * fails this test, so the table cannot drift from what is actually run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

function readmeCaseIds(): string[] {
	const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
	const section = readme.split(/^## /m).find((part) => part.startsWith('What we survive'));
	if (!section) throw new Error('README.md has no "## What we survive" section');
	return [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1]);
}

function testCaseIds(): string[] {
	return readdirSync(__dirname)
		.filter((file) => file.endsWith('.test.ts') && file !== path.basename(__filename))
		.flatMap((file) => [...readFileSync(path.join(__dirname, file), 'utf8').matchAll(/\[([a-z]+(?:-[a-z0-9]+)+)\]/g)].map((match) => match[1]));
}

test('every case of the README table is a test of test/reliability, and the other way round', () => {
	const documented = readmeCaseIds();
	const tested = [...new Set(testCaseIds())];
	expect(new Set(documented).size).toBe(documented.length);
	expect(documented.length).toBeGreaterThan(0);
	expect([...documented].sort()).toEqual([...tested].sort());
});
