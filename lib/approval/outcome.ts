import { InputError } from '../types';
import { diffText } from './diff';
import { normalizeReviewerId } from './token';
import type { ApprovalOutcomeItem, ApprovalPolicy, ReviewAction, ReviewDecision } from './types';

export type Resolution =
	| { status: 'pending'; waitingFor: string[] }
	| { status: 'decided'; action: ReviewAction; deciding: ReviewDecision; decisions: ReviewDecision[] };

function byTime(a: ReviewDecision, b: ReviewDecision): number {
	return a.decidedAt.localeCompare(b.decidedAt);
}

/**
 * Aggregates the decisions recorded so far. `first`: the earliest decision settles it. `all`: the earliest
 * rejection by a listed reviewer rejects; approval needs every listed reviewer, and the last approval settles it.
 */
export function resolveOutcome(decisions: ReviewDecision[], policy: ApprovalPolicy): Resolution {
	const ordered = [...decisions].sort(byTime);
	if (policy.mode === 'first') {
		return ordered.length
			? { status: 'decided', action: ordered[0].action, deciding: ordered[0], decisions: ordered }
			: { status: 'pending', waitingFor: [] };
	}
	const reviewers = policy.reviewers.map(normalizeReviewerId);
	const counted = ordered.filter((decision) => reviewers.includes(decision.reviewer));
	const rejection = counted.find((decision) => decision.action === 'rejected');
	if (rejection) return { status: 'decided', action: 'rejected', deciding: rejection, decisions: counted };
	const waitingFor = reviewers.filter((reviewer) => !counted.some((decision) => decision.reviewer === reviewer));
	if (waitingFor.length) return { status: 'pending', waitingFor };
	return { status: 'decided', action: 'approved', deciding: counted[counted.length - 1], decisions: counted };
}

/** The item for the Approved / Rejected output, from a settled resolution. */
export function buildOutcomeItem(
	resolution: Extract<Resolution, { status: 'decided' }>,
	originalDraft: string,
	requestedAt: string,
): ApprovalOutcomeItem {
	const { deciding } = resolution;
	const diff = diffText(originalDraft, deciding.finalText);
	return {
		decision: resolution.action,
		reviewer: deciding.reviewer,
		comment: deciding.comment,
		finalText: deciding.finalText,
		originalDraft,
		diff,
		changed: diff.changed,
		decidedAt: deciding.decidedAt,
		requestedAt,
		userAgent: deciding.userAgent,
		ip: deciding.ip,
		decisions: resolution.decisions,
	};
}

export const DEFAULT_WAIT_HOURS = 72;

/** When the wait ends (and the links expire): `requestedAt` plus the limit, 72 hours unless told otherwise. */
export function computeWaitUntil(requestedAt: Date, limitHours: number = DEFAULT_WAIT_HOURS): Date {
	if (!Number.isFinite(limitHours) || limitHours <= 0) {
		throw new InputError(`"Limit wait time" must be a positive number of hours, got ${limitHours}.`, 'limitWaitHours');
	}
	return new Date(requestedAt.getTime() + limitHours * 60 * 60 * 1000);
}

/**
 * The item for the Timed out output: the request was not settled in time, the draft goes out unchanged.
 * `decisions` is always empty, even when some reviewers approved under the `all` policy: n8n resumes a timed-out
 * execution with the item built when the request was sent, and that resume cannot reach the decision store.
 */
export function timedOutOutcome(originalDraft: string, requestedAt: string, timedOutAt: Date): ApprovalOutcomeItem {
	return {
		decision: 'timedOut',
		reviewer: null,
		comment: '',
		finalText: originalDraft,
		originalDraft,
		diff: diffText(originalDraft, originalDraft),
		changed: false,
		decidedAt: timedOutAt.toISOString(),
		requestedAt,
		userAgent: null,
		ip: null,
		decisions: [],
	};
}
