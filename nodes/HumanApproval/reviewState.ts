import type { IDataObject } from 'n8n-workflow';

import {
	resolveReviewLocale,
	type ApprovalOutcomeItem,
	type ApprovalPolicy,
	type ReviewContent,
	type ReviewContextField,
	type ReviewLanguage,
	type ReviewLocale,
} from '../../lib/approval';
import type { ReviewMetrics } from '../../lib/approval/reviewLog';
import { toCustomerText, type CustomerTextSource, type CustomerTextStyle } from '../../lib/generate';
import type { DecisionStoreSetting } from './decisionStore';

/** Where approved versions go, resolved when the request is sent (expressions see the item only then). */
export interface RememberSettings {
	store: 'lancedb' | 'qdrant';
	folderPath: string;
	collection: string;
	namespace: string;
	exampleInput: string;
	/**
	 * Namespace of the review log (every decision, pending until decided; see lib/approval/reviewLog.ts); empty
	 * = no log. Absent in requests sent before the setting existed: those are not logged.
	 */
	reviewLogNamespace?: string;
}

/**
 * What a review request is, as the webhook needs it later: the webhook runs in another request (maybe after a
 * restart), where parameter expressions no longer see the input item. It travels in the execution itself, as the
 * `review` field of the item the node leaves waiting — nothing secret is in it.
 */
export interface ReviewState {
	id: string;
	subject: string;
	intro: string;
	context: ReviewContextField[];
	allowEdits: boolean;
	policy: ApprovalPolicy['mode'];
	reviewers: string[];
	requestedAt: string;
	expiresAt: string;
	remember?: RememberSettings;
	/** Absent in requests sent before the setting existed: those keep their decisions in process memory. */
	decisionStore?: DecisionStoreSetting;
	/** Language of the pages, e-mail and chat message; absent in requests sent before the setting existed (English). */
	language?: ReviewLanguage;
	/** IANA time zone of the dates shown; absent in requests sent before the setting existed (UTC). */
	timeZone?: string;
	/** How the approved text becomes the customer's: the draft's [n] markers removed or turned into footnotes. */
	customerText?: { style: CustomerTextStyle; sources: CustomerTextSource[] };
}

/** The json of every item the node emits: the outcome, the request, and the input item it decided on. */
export type OutcomeJson = ApprovalOutcomeItem &
	Partial<ReviewMetrics> & {
	review: ReviewState;
	input: IDataObject;
	learning?: IDataObject;
	/** What became of the review-log record written for this outcome. */
	reviewLog?: IDataObject;
	/** Approved items only: the final text as the customer gets it, without the reviewer's citation markers. */
	customerText?: string;
};

/** The approved text for the customer: citation markers are for the reviewer, who saw the sources beside them. */
export function customerVersion(state: ReviewState, finalText: string): string {
	const { style, sources } = state.customerText ?? { style: 'remove', sources: [] };
	return toCustomerText(finalText, sources, style, state.language);
}

export function reviewPolicy(state: ReviewState): ApprovalPolicy {
	return state.policy === 'all' ? { mode: 'all', reviewers: state.reviewers } : { mode: 'first' };
}

/** The locale every page of this review is rendered in: English and UTC for requests sent before the settings. */
export function reviewLocale(state: Pick<ReviewState, 'language' | 'timeZone'>): ReviewLocale {
	return resolveReviewLocale({ language: state.language, timeZone: state.timeZone });
}

export function reviewContent(state: ReviewState, draft: string): ReviewContent {
	return {
		title: state.subject,
		intro: state.intro || undefined,
		draft,
		context: state.context,
		allowEdits: state.allowEdits,
		requestedAt: state.requestedAt,
	};
}

/** Reads the state back from the waiting item; undefined when the item is not one this node wrote. */
export function readOutcomeJson(value: unknown): OutcomeJson | undefined {
	if (!value || typeof value !== 'object') return undefined;
	const json = value as Partial<OutcomeJson>;
	const review = json.review;
	const valid =
		typeof json.originalDraft === 'string' &&
		typeof json.requestedAt === 'string' &&
		review !== undefined &&
		typeof review.id === 'string' &&
		typeof review.subject === 'string' &&
		Array.isArray(review.context) &&
		Array.isArray(review.reviewers) &&
		typeof review.expiresAt === 'string';
	return valid ? (json as OutcomeJson) : undefined;
}
