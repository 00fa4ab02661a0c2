import * as path from 'node:path';

import { n8nDataFolder } from '../n8nFolder';
import { parseKeywordLanguage, type KeywordLanguageSetting } from '../textAnalysis';
import { InputError, type VectorStore } from '../types';
import { DEFAULT_COLLECTION } from './common';
import { QdrantStore } from './qdrant';

export type StoreConfig =
	| {
			kind: 'lancedb';
			/** Folder holding the LanceDB tables; created on first write. */
			path: string;
			table?: string;
			/** Rows from which an ANN vector index is built (default 10,000). */
			vectorIndexThreshold?: number;
			/** Keyword-search language (default `auto`); see KeywordLanguageSetting. */
			keywordLanguage?: KeywordLanguageSetting;
	  }
	| {
			kind: 'qdrant';
			url: string;
			apiKey?: string;
			collection: string;
			timeoutMs?: number;
			/** Keyword-search language (default `auto`); see KeywordLanguageSetting. */
			keywordLanguage?: KeywordLanguageSetting;
	  };

export { DEFAULT_COLLECTION } from './common';
export { reciprocalRankFusion, RRF_K } from './fusion';
export { QdrantStore } from './qdrant';
export { KEYWORD_LANGUAGES, type KeywordLanguage, type KeywordLanguageSetting } from '../textAnalysis';

/** The embedded store's folder when none is configured: beside n8n's own data, so it survives upgrades. */
export function defaultLanceDbPath(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(n8nDataFolder(env), 'symbiotic-lancedb');
}

/**
 * LanceDB is loaded on first use, not with the nodes: its native module exists only for some platforms (no arm64
 * musl build since 0.31, so not in n8n's Alpine image on arm64), and Qdrant users there must still get working nodes.
 */
async function loadLanceDb(): Promise<typeof import('./lancedb').LanceDbStore> {
	try {
		return (await import('./lancedb')).LanceDbStore;
	} catch (error) {
		throw new InputError(
			`The embedded LanceDB store cannot run on this machine (${process.platform} ${process.arch}): ${(error as Error).message.split('\n')[0]}. ` +
				'Choose Store: Qdrant, or run n8n on x64, or on arm64 with a glibc-based image.',
			'store',
		);
	}
}

export async function openStore(config: StoreConfig): Promise<VectorStore> {
	switch (config.kind) {
		case 'lancedb':
			if (!config.path?.trim()) throw new InputError('The LanceDB folder is empty: set a folder path or keep the default.', 'path');
			return new (await loadLanceDb())({
				path: path.resolve(config.path),
				table: config.table?.trim() || DEFAULT_COLLECTION,
				vectorIndexThreshold: config.vectorIndexThreshold,
				keywordLanguage: parseKeywordLanguage(config.keywordLanguage),
			});
		case 'qdrant':
			return new QdrantStore({
				url: config.url,
				apiKey: config.apiKey,
				collection: config.collection?.trim() || DEFAULT_COLLECTION,
				timeoutMs: config.timeoutMs,
				keywordLanguage: parseKeywordLanguage(config.keywordLanguage),
			});
		default:
			throw new InputError(`Unknown vector store "${String((config as { kind: unknown }).kind)}": use lancedb or qdrant.`, 'store');
	}
}
