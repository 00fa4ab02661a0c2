/**
 * Hybrid weighting on a small labelled set, through the real search path (lib/search.ts on a LanceDB folder):
 * with a deliberately poor embedding model — constant vectors, near-random vectors, the test server's 64-wide
 * hashed words — the default hybrid search must rank at least as well as keyword search alone, where plain
 * reciprocal rank fusion at equal weights fell far below it; with a model that knows synonyms it must beat it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestDocuments } from '../../lib/ingest';
import { loadText } from '../../lib/loaders';
import { searchKnowledge, type SearchOptions } from '../../lib/search';
import { openStore } from '../../lib/stores';
import type { Embedder, VectorStore } from '../../lib/types';
import { embedText } from '../support/openaiServer';

const PAGES: Record<string, string> = {
	refunds: '# Refunds\n\nUnworn shoes can be returned within 30 days for a full refund of the purchase price.',
	shipping: '# Shipping\n\nOrders leave our warehouse within two business days; delivery takes three to five days.',
	boots: '# Alpine boots\n\nWaterproof leather boots with a wool lining for snowy winter hikes.',
	sandals: '# Beach sandals\n\nLight sandals with a cork sole for hot summer days at the beach.',
	care: '# Boot care\n\nClean the leather with a soft brush and apply wax before winter.',
	sizes: '# Size guide\n\nMeasure your foot length in centimetres and pick the size from the table.',
	warranty: '# Warranty\n\nEvery pair is guaranteed for two years against manufacturing defects such as loose soles.',
	payment: '# Payment\n\nWe accept credit cards, PayPal and bank transfer; invoices are sent by e-mail.',
	stores: '# Our shops\n\nVisit us in Berlin, Munich and Vienna, open Monday to Saturday from 9 to 19.',
	loyalty: '# Loyalty club\n\nMembers collect points on every order and get a birthday voucher.',
	vegan: '# Vegan line\n\nShoes made without animal materials, from recycled plastics and cork.',
	kids: "# Children's shoes\n\nFlexible soles and velcro straps for growing feet.",
	contact: '# Customer service\n\nCall our hotline or write to support by e-mail; we answer within a day.',
	gifts: '# Gift cards\n\nBuy a gift card online in any amount, valid for three years.',
	running: '# Running shoes\n\nCushioned soles and breathable mesh for long distance training.',
	privacy: '# Privacy\n\nWe store your address only to deliver orders and never sell personal data.',
};

/** Questions and the page that answers each: some share words with it, some only meaning. */
const QUESTIONS: Array<[string, string]> = [
	['how many days do I have to return shoes', 'refunds'],
	['when will my parcel arrive', 'shipping'],
	['waterproof winter boots', 'boots'],
	['how to clean leather boots', 'care'],
	['which size should I buy', 'sizes'],
	['warranty on defects', 'warranty'],
	['can I pay by credit card', 'payment'],
	['opening hours of the shops', 'stores'],
	['points and rewards for members', 'loyalty'],
	['shoes without leather for vegans', 'vegan'],
	['footwear for toddlers', 'kids'],
	['phone number of the hotline', 'contact'],
	['a present for a friend', 'gifts'],
	['trainers for a marathon', 'running'],
	['do you sell my personal data', 'privacy'],
	['cork sole sandals', 'sandals'],
];

const unit = (vector: number[]) => {
	const norm = Math.hypot(...vector) || 1;
	return vector.map((value) => value / norm);
};

/** The same vector for every text: similarity says nothing at all. */
const constantEmbedder: Embedder = {
	model: 'constant',
	embed: async (texts) => texts.map(() => unit(Array.from({ length: 32 }, (_, index) => (index === 0 ? 1 : 0.2)))),
};

/** A fixed pseudo-random 384-wide vector per text: similarity is noise. */
const randomEmbedder: Embedder = {
	model: 'random',
	embed: async (texts) =>
		texts.map((text) => {
			const seed = createHash('sha256').update(text).digest('hex');
			return unit(
				Array.from({ length: 384 }, (_, index) => {
					const digest = createHash('sha256').update(`${seed}:${index}`).digest();
					const u1 = (digest.readUInt32BE(0) + 1) / 4294967297;
					const u2 = digest.readUInt32BE(4) / 4294967296;
					return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
				}),
			);
		}),
};

/** The test server's model: words hashed into 64 coordinates, so many unrelated words collide. */
const hashedEmbedder: Embedder = { model: 'hashed-64', embed: async (texts) => texts.map((text) => embedText(text, 64)) };

/** Words of the same meaning share a concept: a small stand-in for a good embedding model. */
const CONCEPTS: Record<string, string> = {
	parcel: 'order', orders: 'order', arrive: 'delivery', delivery: 'delivery', shipping: 'delivery',
	toddlers: 'child', children: 'child', kids: 'child', growing: 'child',
	footwear: 'shoe', shoes: 'shoe', trainers: 'running', marathon: 'running', running: 'running', distance: 'running',
	present: 'gift', gift: 'gift', voucher: 'gift',
	phone: 'call', hotline: 'call', call: 'call', support: 'service', service: 'service',
	warranty: 'warranty', guaranteed: 'warranty', defects: 'defect',
	rewards: 'points', points: 'points', members: 'member', loyalty: 'member', club: 'member',
	vegans: 'vegan', vegan: 'vegan', animal: 'vegan',
	opening: 'open', open: 'open', hours: 'open', shops: 'shop', visit: 'shop',
	return: 'refund', returned: 'refund', refund: 'refund', size: 'size', measure: 'size', buy: 'buy',
	pay: 'payment', payment: 'payment', credit: 'payment', cards: 'card', card: 'card',
	sell: 'sell', personal: 'privacy', data: 'privacy', privacy: 'privacy',
	clean: 'care', care: 'care', brush: 'care', wax: 'care',
	waterproof: 'waterproof', winter: 'winter', snowy: 'winter', boots: 'boot', boot: 'boot', leather: 'leather',
	sandals: 'sandal', cork: 'cork', sole: 'sole', soles: 'sole', beach: 'summer', summer: 'summer',
};
const conceptEmbedder: Embedder = {
	model: 'concepts',
	embed: async (texts) =>
		texts.map((text) => {
			const vector = new Array<number>(256).fill(0);
			for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
				const concept = CONCEPTS[word];
				if (!concept) continue;
				const digest = createHash('sha256').update(concept).digest();
				vector[digest.readUInt32BE(0) % 256] += 1;
			}
			return unit(vector);
		}),
};

/** Mean reciprocal rank of the answering page within the top 5 (0 when it is not there). */
async function mrrAt5(store: VectorStore, embedder: Embedder | undefined, options: Partial<SearchOptions>): Promise<number> {
	let sum = 0;
	for (const [question, page] of QUESTIONS) {
		const hits = await searchKnowledge({ store, embedder, namespace: 'shop', query: question, mode: 'hybrid', topK: 5, ...options });
		const rank = hits.findIndex((hit) => hit.sourceId === page);
		if (rank >= 0) sum += 1 / (rank + 1);
	}
	return sum / QUESTIONS.length;
}

describe.each([
	['constant vectors', constantEmbedder],
	['near-random vectors', randomEmbedder],
	['64-wide hashed words', hashedEmbedder],
	['a synonym-aware model', conceptEmbedder],
])('hybrid weighting with %s', (name, embedder) => {
	let folder: string;
	let store: VectorStore;
	beforeAll(async () => {
		folder = await mkdtemp(join(tmpdir(), 'symbiotic-hybrid-'));
		store = await openStore({ kind: 'lancedb', path: folder });
		const documents = Object.entries(PAGES).map(([sourceId, text]) => loadText(text, { sourceId, format: 'markdown' }));
		await ingestDocuments(documents, { store, embedder, namespace: 'shop' });
	});
	afterAll(async () => {
		await store.close();
		await rm(folder, { recursive: true, force: true });
	});

	it('ranks at least as well as keyword search alone at the default weight', async () => {
		const keyword = await mrrAt5(store, undefined, { mode: 'keyword' });
		const semantic = await mrrAt5(store, embedder, { mode: 'semantic' });
		const hybrid = await mrrAt5(store, embedder, {});
		const plainRrf = await mrrAt5(store, embedder, { fusion: 'rrf', semanticWeight: 0.5 });
		console.log(
			`${name}: MRR@5 keyword ${keyword.toFixed(3)}, semantic ${semantic.toFixed(3)}, hybrid (default) ${hybrid.toFixed(3)}, hybrid (equal RRF, before) ${plainRrf.toFixed(3)}`,
		);
		expect(hybrid).toBeGreaterThanOrEqual(keyword);
		if (embedder === conceptEmbedder) {
			// A good model finds the paraphrased questions keyword search misses.
			expect(hybrid).toBeGreaterThan(keyword + 0.1);
		} else {
			// Rank fusion at equal weights let the noise push keyword matches out of the top 5.
			expect(plainRrf).toBeLessThan(keyword);
		}
	});

	it('Semantic Weight 0 ranks like keyword search, 1 like semantic search', async () => {
		for (const [question] of QUESTIONS.slice(0, 6)) {
			const ids = async (options: Partial<SearchOptions>) =>
				(await searchKnowledge({ store, embedder, namespace: 'shop', query: question, topK: 5, mode: 'hybrid', ...options })).map(
					(hit) => hit.sourceId,
				);
			const keywordIds = await ids({ mode: 'keyword' });
			expect((await ids({ semanticWeight: 0 })).slice(0, keywordIds.length)).toEqual(keywordIds);
			if (embedder === conceptEmbedder) {
				const semanticHits = await searchKnowledge({ store, embedder, namespace: 'shop', query: question, topK: 5, mode: 'semantic' });
				const fused = await searchKnowledge({ store, embedder, namespace: 'shop', query: question, topK: 5, mode: 'hybrid', semanticWeight: 1 });
				expect(fused.map((hit) => hit.score)).toEqual(semanticHits.map((hit) => Math.max(0, hit.score)));
			}
		}
	});
});
