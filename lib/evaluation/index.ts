/** Evaluation metrics (issue 13): retrieval quality, answer grounding, reviewer edits. Pure functions, no n8n. */
export {
	evaluateRetrieval,
	normalizeUrl,
	parseExpectedSources,
	summarizeRetrieval,
	type RankedHit,
	type RetrievalEvaluation,
	type RetrievalSummary,
} from './retrieval';
export { isRefusal, measureGrounding, splitSentences, type GroundingInput, type GroundingMetrics, type Sentence } from './grounding';
export {
	decisionRecord,
	editRatio,
	editWords,
	localDate,
	median,
	periodContaining,
	secondsToDecision,
	summarizeDecisions,
	type DecisionKind,
	type DecisionRecord,
	type PeriodSummary,
	type SummaryPeriod,
} from './edits';
export { MAX_REPORT_PERIODS, renderReviewReport, type RenderedReviewReport, type ReviewReportOptions } from './reviewChart';
