import { ingestDocuments, type DocumentResult } from '../ingest';
import { InputError, type Embedder, type LoadedDocument, type UserMetadata, type VectorStore } from '../types';
import { reviewMetrics } from './reviewLog';
import type { ApprovalOutcomeItem } from './types';

/**
 * The learning loop: an approved text (the reviewer's edit, if any) goes into the knowledge store as one
 * document, with the original draft and the diff beside it, so a Vector Search in this namespace finds the
 * closest approved examples and Generate can imitate them (its "Examples" option).
 */

export const APPROVED_EXAMPLES_NAMESPACE = 'approved-examples';

/**
 * Large enough that a typical approved message (an email, a post) stays one chunk: a few-shot example is only
 * useful whole. Longer texts are still stored, split like any document.
 */
const EXAMPLE_CHUNK_TOKENS = 2000;

export interface ApprovedExampleInput {
	outcome: ApprovalOutcomeItem;
	/** The approval request id (all reviewers' links share it): makes the stored document's id. */
	reviewId: string;
	/** Subject of the review request, stored as the document title. */
	title: string;
	/**
	 * What the text answers (the request, the lead's question): stored as `input`, so a search hit maps onto
	 * Generate's `{input, output}` examples.
	 */
	exampleInput?: string;
	/** Extra metadata to filter examples by later, e.g. `{ channel: 'email' }`. */
	metadata?: UserMetadata;
}

/** The document the store keeps for one approval; throws unless the outcome is an approval. */
export function approvedExampleDocument(input: ApprovedExampleInput): LoadedDocument {
	const { outcome } = input;
	if (outcome.decision !== 'approved') {
		throw new InputError(`Only approved versions are remembered; this review was ${outcome.decision}.`, 'decision');
	}
	if (!outcome.finalText.trim()) {
		throw new InputError('The approved text is empty, so there is nothing to remember.', 'finalText');
	}
	const metrics = reviewMetrics(outcome);
	return {
		sourceId: `approval:${input.reviewId}`,
		text: outcome.finalText,
		title: input.title,
		mimeType: 'text/plain',
		metadata: {
			...input.metadata,
			kind: 'approved-example',
			input: input.exampleInput ?? '',
			originalDraft: outcome.originalDraft,
			diff: outcome.diff.unified,
			changed: outcome.changed,
			addedWords: outcome.diff.addedWords,
			removedWords: outcome.diff.removedWords,
			reviewer: outcome.reviewer ?? '',
			comment: outcome.comment,
			requestedAt: outcome.requestedAt,
			decidedAt: outcome.decidedAt,
			// Reviewer-edit metrics (lib/evaluation/edits.ts): how much was changed, how long the decision took.
			editRatio: metrics.editRatio,
			secondsToDecision: metrics.secondsToDecision,
		},
	};
}

export interface RememberOptions {
	store: VectorStore;
	/** Without one the example is stored for keyword search only. */
	embedder?: Embedder;
	/** Default `approved-examples`. */
	namespace?: string;
	signal?: AbortSignal;
}

export interface RememberResult {
	stored: boolean;
	namespace: string;
	sourceId: string;
	chunks: number;
	/** Why it was not stored. */
	error?: string;
}

/** Stores an approved version; a failure is reported in the result, never thrown (the decision stands). */
export async function rememberApprovedVersion(input: ApprovedExampleInput, options: RememberOptions): Promise<RememberResult> {
	const namespace = options.namespace?.trim() || APPROVED_EXAMPLES_NAMESPACE;
	const sourceId = `approval:${input.reviewId}`;
	let result: DocumentResult | undefined;
	try {
		[result] = await ingestDocuments([approvedExampleDocument(input)], {
			store: options.store,
			embedder: options.embedder,
			namespace,
			chunking: { chunkSize: EXAMPLE_CHUNK_TOKENS },
			signal: options.signal,
		});
	} catch (error) {
		return { stored: false, namespace, sourceId, chunks: 0, error: error instanceof Error ? error.message : String(error) };
	}
	if (result.status === 'failed') return { stored: false, namespace, sourceId, chunks: 0, error: result.error };
	return { stored: true, namespace, sourceId, chunks: result.chunks };
}
