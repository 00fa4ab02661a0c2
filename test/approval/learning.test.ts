/**
 * The learning loop on a real LanceDB folder, embeddings from a real local OpenAI-compatible server: approved
 * versions go in, a semantic search for a similar request finds the closest one with its draft and diff.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildOutcomeItem, type ApprovalOutcomeItem, type ReviewDecision } from '../../lib/approval';
import { APPROVED_EXAMPLES_NAMESPACE, approvedExampleDocument, rememberApprovedVersion } from '../../lib/approval/learning';
import { createOpenAIEmbedder } from '../../lib/embedding';
import { searchKnowledge } from '../../lib/search';
import { openStore } from '../../lib/stores';
import type { Embedder, VectorStore } from '../../lib/types';
import { startOpenAITestServer, type OpenAITestServer } from '../support/openaiServer';

function approved(draft: string, finalText: string, action: ReviewDecision['action'] = 'approved'): ApprovalOutcomeItem {
	const decision: ReviewDecision = {
		action,
		reviewer: 'ada@example.com',
		decidedAt: '2025-11-25T10:00:00.000Z',
		userAgent: 'Mozilla/5.0',
		ip: '127.0.0.1',
		comment: 'Shorter, and name the plan.',
		finalText,
	};
	return buildOutcomeItem({ status: 'decided', action, deciding: decision, decisions: [decision] }, draft, '2025-11-25T09:00:00.000Z');
}

const PRICING = approved(
	'Hi Ada, thanks for asking about our prices. They vary.',
	'Hi Ada, the Starter plan costs 29 euros per month for five seats.',
);
const ONBOARDING = approved(
	'Welcome aboard! We will be in touch.',
	'Welcome aboard! Your kickoff call is booked within two business days.',
);

describe('remembering approved versions', () => {
	let server: OpenAITestServer;
	let folder: string;
	let store: VectorStore;
	let embedder: Embedder;

	beforeAll(async () => {
		server = await startOpenAITestServer({ apiKey: 'sk-test' });
	});
	afterAll(() => server.close());

	beforeEach(async () => {
		folder = await mkdtemp(join(tmpdir(), 'symbiotic-learning-'));
		store = await openStore({ kind: 'lancedb', path: folder });
		embedder = createOpenAIEmbedder({ baseURL: server.url, apiKey: 'sk-test', model: 'test-embedding', maxRetries: 2 });
	});
	afterEach(async () => {
		await store.close();
		await rm(folder, { recursive: true, force: true });
	});

	it('stores the final text with the draft and diff, and a similar request finds it first', async () => {
		const pricing = await rememberApprovedVersion(
			{ outcome: PRICING, reviewId: 'rv-pricing', title: 'Pricing reply', exampleInput: 'What does the Starter plan cost?' },
			{ store, embedder },
		);
		const onboarding = await rememberApprovedVersion(
			{ outcome: ONBOARDING, reviewId: 'rv-onboarding', title: 'Welcome mail' },
			{ store, embedder },
		);
		expect(pricing).toEqual({ stored: true, namespace: APPROVED_EXAMPLES_NAMESPACE, sourceId: 'approval:rv-pricing', chunks: 1 });
		expect(onboarding.stored).toBe(true);

		const [top] = await searchKnowledge({
			store,
			embedder,
			namespace: APPROVED_EXAMPLES_NAMESPACE,
			query: 'How much is the Starter plan per month?',
			mode: 'semantic',
			topK: 2,
		});
		expect(top.sourceId).toBe('approval:rv-pricing');
		expect(top.text).toBe(PRICING.finalText);
		expect(top.metadata.extra).toMatchObject({
			kind: 'approved-example',
			input: 'What does the Starter plan cost?',
			originalDraft: PRICING.originalDraft,
			reviewer: 'ada@example.com',
			changed: true,
		});
		expect(String(top.metadata.extra.diff)).toContain('+Hi Ada, the Starter plan costs 29 euros');
	});

	it('stores each approval once: remembering the same review again changes nothing', async () => {
		const input = { outcome: PRICING, reviewId: 'rv-once', title: 'Pricing reply' };
		await rememberApprovedVersion(input, { store, embedder, namespace: 'acme-examples' });
		await rememberApprovedVersion(input, { store, embedder, namespace: 'acme-examples' });
		const sources = await store.listSources('acme-examples');
		expect(sources.map((source) => source.sourceId)).toEqual(['approval:rv-once']);
	});

	it('refuses rejections and reports store failures in the result instead of throwing', async () => {
		expect(() => approvedExampleDocument({ outcome: approved('a', 'a', 'rejected'), reviewId: 'rv', title: 't' })).toThrow(
			/Only approved versions are remembered; this review was rejected/,
		);
		const result = await rememberApprovedVersion(
			{ outcome: PRICING, reviewId: 'rv-bad', title: 'Pricing reply' },
			{ store, embedder, namespace: 'not a namespace!' },
		);
		expect(result.stored).toBe(false);
		expect(result.error).toMatch(/Namespace "not a namespace!" is not valid/);
	});
});
