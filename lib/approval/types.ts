/**
 * Shapes of the Human Approval core. Framework-free: the n8n node maps its webhook request onto
 * `ReviewRequest`, sends back `ReviewResponse`, and resumes the execution with an `ApprovalOutcomeItem`.
 */

export type ReviewAction = 'approved' | 'rejected';

/** One reviewer's recorded decision. */
export interface ReviewDecision {
	action: ReviewAction;
	/** Normalised reviewer id (e.g. lower-cased email) taken from the signed link, never from the form. */
	reviewer: string;
	/** ISO-8601. */
	decidedAt: string;
	userAgent: string;
	ip: string;
	comment: string;
	/** The text the reviewer approved (the draft, or their edit when edits are allowed). */
	finalText: string;
}

/** `first`: the first decision of any reviewer decides. `all`: every listed reviewer must approve; one rejection rejects. */
export type ApprovalPolicy = { mode: 'first' } | { mode: 'all'; reviewers: string[] };

/** What the signed link carries, recovered only after the signature checked out. */
export interface ReviewClaims {
	/** Random id shared by all reviewers' links of one approval request; keys the decision store. */
	reviewId: string;
	executionId: string;
	nodeId: string;
	reviewerId: string;
	/** Epoch milliseconds. */
	expiresAt: number;
}

/** A labelled piece of context shown next to the draft (lead name, company, a source…). */
export interface ReviewContextField {
	label: string;
	value: string;
	/** Rendered as a link only when it is an absolute http(s) URL; shown as plain text otherwise. */
	url?: string;
}

/** What the review page shows. */
export interface ReviewContent {
	title: string;
	intro?: string;
	draft: string;
	context: ReviewContextField[];
	allowEdits: boolean;
	/** ISO-8601 time the approval was requested. */
	requestedAt: string;
}

/** An HTTP request reduced to what the review endpoint reads. Header names may be in any case. */
export interface ReviewRequest {
	method: string;
	query: Record<string, unknown>;
	/** The parsed `application/x-www-form-urlencoded` body of a POST. */
	body?: Record<string, unknown>;
	headers: Record<string, string | string[] | undefined>;
	/** Client address as the server sees it (behind a proxy: the proxy-resolved address). */
	ip?: string;
}

export interface ReviewResponse {
	status: number;
	headers: Record<string, string>;
	/** A complete HTML document. */
	body: string;
	/** Set when this request recorded a decision. */
	decision?: ReviewDecision;
	/** Set on exactly one response per approval request: the one that completed it. Resume the execution with it. */
	outcome?: ApprovalOutcomeItem;
}

export interface TextDiffChange {
	type: 'added' | 'removed' | 'unchanged';
	value: string;
}

export interface TextDiff {
	changed: boolean;
	/** Word-level changes, in order; joining the non-removed values gives the final text. */
	changes: TextDiffChange[];
	/** Line-level unified diff (`@@` hunks, no file headers); empty when unchanged. */
	unified: string;
	addedWords: number;
	removedWords: number;
}

export type OutcomeDecision = ReviewAction | 'timedOut';

/** The item the node emits on its Approved / Rejected / Timed out output. */
export interface ApprovalOutcomeItem {
	decision: OutcomeDecision;
	/** The reviewer whose decision settled the request; null on timeout. */
	reviewer: string | null;
	comment: string;
	finalText: string;
	originalDraft: string;
	diff: TextDiff;
	changed: boolean;
	/** ISO-8601; on timeout, the time the wait ended. */
	decidedAt: string;
	requestedAt: string;
	userAgent: string | null;
	ip: string | null;
	/**
	 * Every decision recorded for the request (several under the `all` policy). Empty on timeout: partial approvals
	 * under `all` are not reported there.
	 */
	decisions: ReviewDecision[];
}
