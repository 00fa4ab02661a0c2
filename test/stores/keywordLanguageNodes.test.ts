/**
 * The Language option of the knowledge-base nodes (Ingest Document and Vector Search, through n8n's engine)
 * reaches the store: a French knowledge base answers questions typed without accents.
 */
import * as lancedb from '@lancedb/lancedb';

import { knowledgeBaseProperties } from '../../nodes/shared/storeOptions';
import { useKnowledgeBaseFixture } from '../nodes/knowledgeBaseNodes';

const kb = useKnowledgeBaseFixture();

const pages = [
	{ id: 'activites', text: "# Nos activités\n\nLes activités de l'entreprise sont dirigées par le conseil d'administration." },
	{ id: 'avion', text: "# Voyage\n\nL'avion décolle à midi depuis l'aéroport." },
];

const ingest = (collection: string, keywordLanguage?: string) =>
	kb.run(
		kb.ingestNode({
			operation: 'ingest',
			source: 'text',
			text: '={{ $json.text }}',
			sourceId: '={{ $json.id }}',
			collection,
			namespace: 'fr',
			...(keywordLanguage ? { keywordLanguage } : {}),
		}),
		pages.map((json) => ({ json })),
		false,
	);

const search = (collection: string, question: string, keywordLanguage?: string) =>
	kb.run(
		kb.searchNode({
			operation: 'search',
			query: '={{ $json.question }}',
			namespace: 'fr',
			topK: 3,
			mode: 'keyword',
			output: 'perHit',
			collection,
			...(keywordLanguage ? { keywordLanguage } : {}),
		}),
		[{ json: { question } }],
		false,
	);

async function tableLanguage(folder: string, table: string): Promise<string | undefined> {
	const connection = await lancedb.connect(folder, { readConsistencyInterval: 0 });
	const handle = await connection.openTable(table);
	const language = (await handle.schema()).fields.find((field) => field.name === 'keywords')?.metadata.get('symbiotic:keywordLanguage');
	handle.close();
	connection.close();
	return language;
}

describe('Language option of the knowledge-base nodes', () => {
	it('is a store option defaulting to Auto, with the seven languages and None', () => {
		const option = knowledgeBaseProperties.find((property) => property.name === 'keywordLanguage');
		expect(option).toMatchObject({ type: 'options', default: 'auto' });
		expect(option?.options?.map((entry) => (entry as { value: string }).value).sort()).toEqual(
			['auto', 'dutch', 'english', 'french', 'german', 'italian', 'none', 'portuguese', 'spanish'],
		);
	});

	it('indexes in the chosen language and finds "activités" from "activite l\'entreprise dirige"', async () => {
		expect((await ingest('french', 'french')).error).toBeUndefined();
		expect(await tableLanguage(kb.folder, 'french')).toBe('french');
		const result = await search('french', "activite de l'entreprise dirige");
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.sourceId)).toEqual(['activites']);
	});

	it('detects French on Auto, and a quoted question never fails', async () => {
		expect((await ingest('auto')).error).toBeUndefined();
		expect(await tableLanguage(kb.folder, 'auto')).toBe('french');
		const result = await search('auto', '"aeroport" OR (avion:*)');
		expect(result.error).toBeUndefined();
		expect(result.items[0]).toMatchObject({ sourceId: 'avion' });
	});

	it('names the Language parameter when its value is unknown', async () => {
		const result = await search('french', 'activite', 'klingon');
		expect(result.error?.message).toContain('Unknown keyword language "klingon"');
		expect(result.error?.description).toBe('Check the "Language" parameter of item 1.');
	});
});
