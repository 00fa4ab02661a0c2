import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { isToolType, NodeOperationError } from 'n8n-workflow';

import {
	evaluateRetrieval,
	parseExpectedSources,
	summarizeRetrieval,
	type RankedHit,
	type RetrievalEvaluation,
} from '../../../lib/evaluation';
import { InputError } from '../../../lib/types';
import { executePerItem, type FieldLabels } from '../../shared/perItem';
import type { KnowledgeBase, KnowledgeBases } from '../../shared/storeOptions';
import { runSearch } from './search';

const show = { show: { operation: ['evaluate'] } };

/**
 * Evaluate has two outputs: the questions (one item each, or an error item with "On Error: Continue") and
 * the summary (one item). On its own output the summary connects straight to n8n's Evaluation node (Set
 * Metrics) without filtering it out of the questions first. Search keeps its single output.
 */
export const outputs =
	'={{ $parameter.operation === "evaluate" ? [{ "type": "main", "displayName": "Questions" }, { "type": "main", "displayName": "Summary" }] : ["main"] }}';

/** Evaluate's own parameters; the search settings (mode, Number of Results = k, filters, rerank…) are Search's. */
export const description: INodeProperties[] = [
	{
		displayName:
			'Runs the search set below for each question, as Search would, and scores where the expected sources rank among the first k results (k = Number of Results): rank of the first one, hit@k, reciprocal rank, nDCG@k. Output "Questions": one item per question with its hits; output "Summary": one item with the averages (hit rate, MRR, nDCG) for the Evaluation node\'s Set Metrics. A "relevant" hit is the first result from an expected source; further passages of the same source are not counted again.',
		name: 'evaluateNotice',
		type: 'notice',
		default: '',
		displayOptions: show,
	},
	{
		displayName: 'Question',
		name: 'question',
		type: 'string',
		default: '={{ $json.question }}',
		required: true,
		description: 'The question to search for, as a user would ask it',
		displayOptions: show,
	},
	{
		displayName: 'Expected Sources',
		name: 'expectedSources',
		type: 'string',
		default: '={{ $json.expectedSources }}',
		required: true,
		description:
			'The sources the answer should come from: source IDs (as given at ingest, case-sensitive) or URLs, as a list or as text separated by commas, semicolons or line breaks',
		hint: 'A question without any expected source is an error item and is left out of the summary',
		displayOptions: show,
	},
];

const round = (value: number) => Math.round(value * 10_000) / 10_000;
const roundOrNull = (value: number | null) => (value === null ? null : round(value));

/**
 * Evaluates every input item, then appends the summary of the questions scored as the last item; the node
 * puts that item on the "Summary" output (`toOutputs`).
 */
export async function executeAll(
	ctx: IExecuteFunctions,
	knowledgeBases: KnowledgeBases,
	fieldLabels: FieldLabels,
): Promise<INodeExecutionData[]> {
	// An agent's tool does not offer Evaluate; a workflow written by hand cannot reach it either.
	if (isToolType(ctx.getNode().type)) {
		throw new NodeOperationError(ctx.getNode(), 'Evaluate is not available to an AI agent: use Search.');
	}
	const scored: RetrievalEvaluation[] = [];
	const items = await executePerItem(ctx, fieldLabels, async (itemIndex) => {
		const { json, evaluation } = await evaluateItem(ctx, itemIndex, await knowledgeBases.forItem(itemIndex));
		scored.push(evaluation);
		return [{ json }];
	});
	const summary = summarizeRetrieval(scored);
	const json: IDataObject = {
		summary: true,
		questions: summary.questions,
		k: summary.k,
		meanHitAtK: roundOrNull(summary.meanHitAtK),
		mrr: roundOrNull(summary.mrr),
		meanNdcgAtK: roundOrNull(summary.meanNdcgAtK),
		noExpectedSourceFound: summary.noExpectedSourceFound,
		// Items that failed (no question, no expected source…) with "On Error: Continue": not in the averages.
		skipped: ctx.getInputData().length - summary.questions,
	};
	return [...items, { json, pairedItem: ctx.getInputData().map((_, item) => ({ item })) }];
}

/** Evaluate's outputs from `executeAll`'s items: the questions, and the summary (the last item). */
export function toOutputs(items: INodeExecutionData[]): INodeExecutionData[][] {
	return [items.slice(0, -1), items.slice(-1)];
}

async function evaluateItem(ctx: IExecuteFunctions, itemIndex: number, knowledgeBase: KnowledgeBase) {
	const rawQuestion = ctx.getNodeParameter('question', itemIndex, '') as unknown;
	if (rawQuestion !== undefined && rawQuestion !== null && typeof rawQuestion !== 'string' && typeof rawQuestion !== 'number') {
		throw new InputError(`The question must be text, got ${JSON.stringify(rawQuestion)}.`, 'question');
	}
	const question = String(rawQuestion ?? '').trim();
	if (!question) throw new InputError('This item has no question to search for.', 'question');
	const expected = parseExpectedSources(ctx.getNodeParameter('expectedSources', itemIndex, '') as unknown);
	const k = ctx.getNodeParameter('topK', itemIndex) as number;
	// Fails before searching when there is no expected source (or k is not valid).
	evaluateRetrieval([], expected, k);

	const { hits, ran } = await runSearch(ctx, itemIndex, knowledgeBase, question);
	const ranked: RankedHit[] = hits.map(({ sourceId, url, score }) => ({ sourceId, url, score }));
	const evaluation = evaluateRetrieval(ranked, expected, k);
	const relevant = gains(ranked, expected, k);
	const json: IDataObject = {
		question,
		expectedSources: expected,
		firstRank: evaluation.firstRank,
		hitAtK: evaluation.hitAtK,
		reciprocalRank: round(evaluation.reciprocalRank),
		ndcgAtK: round(evaluation.ndcgAtK),
		k,
		...ran,
		// url and title only when the document has them, as in Search's hits.
		hits: hits.map(({ sourceId, url, title, score }, index) => ({
			rank: index + 1,
			sourceId,
			...(url === undefined ? {} : { url }),
			...(title === undefined ? {} : { title }),
			score: round(score),
			relevant: relevant[index],
		})),
	};
	return { json, evaluation };
}

/**
 * Whether each hit counts as relevant in nDCG@k (gain 1): it is in the top k and from an expected source no
 * earlier hit came from. Read from `evaluateRetrieval` itself, so the flags always add up to its score.
 */
function gains(ranked: RankedHit[], expected: string[], k: number): boolean[] {
	let found = 0;
	return ranked.map((_, index) => {
		const now = evaluateRetrieval(ranked.slice(0, index + 1), expected, k).found.length;
		const fresh = now > found;
		found = now;
		return fresh;
	});
}
