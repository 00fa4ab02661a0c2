import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadBinary } from '../lib/loaders';
import type { LoadedDocument } from '../lib/types';

/**
 * The real Markdown handbook pages of ../shared/corpus/markdown (or another folder), loaded as the Ingest
 * Document node would load the files. Undefined, after saying why, when the folder is not there: the corpus
 * lives beside the repository, not in it.
 */
export async function loadMarkdownCorpus(folder = join(__dirname, '../../shared/corpus/markdown')): Promise<LoadedDocument[] | undefined> {
	let entries;
	try {
		entries = await readdir(folder, { withFileTypes: true, recursive: true });
	} catch {
		console.log(`skipped: corpus folder ${folder} not found (it lives in ../shared/corpus/markdown beside the repo)`);
		return undefined;
	}
	const files = entries
		.filter((entry) => entry.isFile() && entry.name.endsWith('.md') && !/^(SOURCE|LICENSE|README)/.test(entry.name))
		.map((entry) => join(entry.parentPath, entry.name))
		.sort();
	const docs: LoadedDocument[] = [];
	for (const file of files) {
		docs.push(...(await loadBinary({ data: await readFile(file), fileName: file, sourceId: relative(folder, file) })));
	}
	return docs;
}
