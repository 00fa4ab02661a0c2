import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeHelpers, NodeOperationError, WAIT_INDEFINITELY } from 'n8n-workflow';

import {
	assertApprovalSecret,
	computeWaitUntil,
	createReviewLink,
	newReviewId,
	normalizeReviewerId,
	parseReviewLanguage,
	renderChatWebhookPayload,
	renderReviewEmail,
	timedOutOutcome,
	validateTimeZone,
	type ReviewContextField,
	type ReviewLocale,
} from '../../lib/approval';
import { frontDoorBaseUrl } from '../../lib/approval/forward';
import { isEmailAddress } from '../../lib/approval/reviewedEmail';
import { REVIEW_LOG_NAMESPACE, reviewMetrics } from '../../lib/approval/reviewLog';
import { customerSourcesFromItem, type CustomerTextStyle } from '../../lib/generate';
import { parseListInput } from '../../lib/generate/listInput';
import { InputError } from '../../lib/types';
import { itemError, toNodeError, type FieldLabels } from '../shared/perItem';
import { approvalCredentials, APPROVAL_CREDENTIAL, createSmtpTransport, type ApprovalCredentials } from './credentials';
import { openDecisionStore, readDecisionStoreSetting } from './decisionStore';
import { FRONT_DOOR_PATH } from './http';
import { logReview, unlogReview } from './knowledgeStore';
import { reviewLocale, type OutcomeJson, type RememberSettings, type ReviewState } from './reviewState';

/** Outputs, in the order the node declares them. */
export const OUTPUT = { approved: 0, rejected: 1, timedOut: 2 } as const;

const FIELD_LABELS: FieldLabels = {
	reviewers: 'Reviewers',
	subject: 'Subject',
	draft: 'Draft',
	sources: 'Sources',
	limitAmount: 'Wait For',
	secret: 'Link Signing Secret (credential)',
	baseUrl: 'Review link base URL',
	namespace: 'Namespace',
	language: 'Language',
	timeZone: 'Time Zone',
};

const DECISION_STORE_ADVICE =
	'The Decision Store is Redis and no review link was sent. Fix the Symbiotic Redis credential, or choose "n8n Process Memory" when n8n runs as a single main process.';
const SMTP_TIMEOUT_MS = 15_000;
const CHAT_TIMEOUT_MS = 10_000;

/**
 * Sends the review request for the one input item and leaves the execution waiting. What the node returns here
 * is only shown while it waits; the item that leaves on timeout is placed on the engine's resume entry (see
 * `leaveOnTimeout`).
 */
export async function sendReviewRequest(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	if (items.length !== 1) {
		throw new NodeOperationError(ctx.getNode(), `Human Approval reviews one draft per execution, but it received ${items.length} items.`, {
			description:
				'Put a "Loop Over Items" node (batch size 1) before it, or call a sub-workflow per item, so each draft gets its own review.',
		});
	}
	try {
		return await send(ctx, items[0]);
	} catch (error) {
		throw toNodeError(ctx, error, 0, FIELD_LABELS);
	}
}

async function send(ctx: IExecuteFunctions, item: INodeExecutionData): Promise<INodeExecutionData[][]> {
	const credentials = await approvalCredentials(ctx);
	assertApprovalSecret(credentials.signingSecret);
	const delivery = ctx.getNodeParameter('delivery', 0) as string[];
	if (!delivery.length) throw new InputError('Choose at least one way to send the review request.', 'delivery');
	const reviewers = parseReviewers(ctx.getNodeParameter('reviewers', 0) as string, delivery.includes('email'));
	const draft = String(ctx.getNodeParameter('draft', 0) ?? '');
	if (!draft.trim()) throw new InputError('The draft is empty: map the text to review, e.g. {{ $json.text }}.', 'draft');

	const policy = ctx.getNodeParameter('policy', 0) as ReviewState['policy'];
	const requestedAt = new Date();
	const waitTill = ctx.getNodeParameter('limitWaitTime', 0)
		? computeWaitUntil(requestedAt, limitHours(ctx))
		: WAIT_INDEFINITELY;
	const sources = parseListInput(ctx.getNodeParameter('sources', 0, ''), 'sources', 'Sources');
	const state: ReviewState = {
		id: newReviewId(),
		subject: ctx.getNodeParameter('subject', 0) as string,
		intro: ctx.getNodeParameter('intro', 0, '') as string,
		context: [...contextFields(ctx), ...sourceFields(sources)],
		allowEdits: policy === 'first' && (ctx.getNodeParameter('allowEdits', 0) as boolean),
		policy,
		reviewers,
		requestedAt: requestedAt.toISOString(),
		expiresAt: waitTill.toISOString(),
		remember: rememberSettings(ctx),
		decisionStore: readDecisionStoreSetting(ctx),
		...readLocale(ctx),
		customerText: {
			style: ctx.getNodeParameter('customerTextStyle', 0, 'remove') as CustomerTextStyle,
			sources: customerSourcesFromItem({ sources }),
		},
	};
	// A decision store that cannot be reached fails the node now, before reviewers get links they cannot use.
	try {
		await (await openDecisionStore(ctx, state.decisionStore, waitTill)).close();
	} catch (error) {
		throw itemError(ctx, error as Error, 0, DECISION_STORE_ADVICE);
	}

	// Logged pending before any link leaves, so a fast decision always replaces it (a timeout, if none comes).
	const reviewLog = await logReview(ctx, state.remember, {
		reviewId: state.id,
		title: state.subject,
		requestedAt: state.requestedAt,
		expiresAt: state.expiresAt,
	});
	let delivered = false;
	try {
		await deliverReviewLinks(ctx, credentials, state, draft, delivery, waitTill);
		delivered = true;
	} finally {
		// No link left: the pending record would count as a timeout later.
		if (!delivered && reviewLog?.stored) await unlogReview(ctx, state.remember, state.id);
	}

	const outcome = timedOutOutcome(draft, state.requestedAt, waitTill);
	const timedOut: OutcomeJson = {
		...outcome,
		...reviewMetrics(outcome),
		review: state,
		input: item.json,
		...(reviewLog ? { reviewLog } : {}),
	};
	const outputs = leaveOnTimeout(ctx, { json: toDataObject(timedOut), pairedItem: { item: 0 } });
	await ctx.putExecutionToWait(waitTill);
	return outputs;
}

/**
 * Signs one personal link per reviewer, bound to this execution, this node and the review, and sends them by
 * email and/or chat. Shared by every node that waits for a review (Human Approval, Send Email After Review).
 */
export async function deliverReviewLinks(
	ctx: IExecuteFunctions,
	credentials: ApprovalCredentials,
	state: ReviewState,
	draft: string,
	delivery: string[],
	waitTill: Date,
): Promise<void> {
	const linkBase = reviewLinkBase(ctx);
	const links = state.reviewers.map((reviewer) => ({
		reviewer,
		url: createReviewLink({
			baseUrl: linkBase,
			reviewId: state.id,
			executionId: ctx.getExecutionId(),
			nodeId: ctx.getNode().id,
			reviewerId: reviewer,
			expiresAt: waitTill,
			secret: credentials.signingSecret,
		}),
	}));
	if (delivery.includes('email')) await sendEmails(ctx, credentials, state, draft, links, waitTill);
	if (delivery.includes('chat')) await postToChat(ctx, credentials, state, links, waitTill);
}

/** Executions that only a published workflow starts: its front door is registered. */
const PUBLISHED_ONLY_MODES = ['webhook', 'trigger'];

/**
 * Links go to the node's front door while the workflow is published (n8n registers it then), so a late click after
 * the execution resumed still gets our page; otherwise — a manual test run — straight to the resume URL. A queue-mode
 * worker does not always know the workflow is published, but a webhook or trigger execution says so.
 */
function reviewLinkBase(ctx: IExecuteFunctions): string {
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	if (!ctx.getWorkflow().active && !PUBLISHED_ONLY_MODES.includes(ctx.getMode())) return resumeUrl;
	const workflowId = ctx.getWorkflow().id ?? '';
	const path = NodeHelpers.getNodeWebhookPath(workflowId, ctx.getNode(), FRONT_DOOR_PATH, false, false);
	return frontDoorBaseUrl(resumeUrl, path) ?? resumeUrl;
}

/**
 * When the wait runs out, n8n resumes the execution by running this node as disabled on its saved resume entry,
 * which forwards the entry's input on the first output — the Approved one. Replacing the entry's data with the
 * timed-out item on the third output (and telling the engine to forward every output, as it does for a webhook
 * resume) makes a timeout leave through "Timed out". A decision replaces the entry's data again (webhook resume).
 */
function leaveOnTimeout(ctx: IExecuteFunctions, timedOut: INodeExecutionData): INodeExecutionData[][] {
	const outputs: INodeExecutionData[][] = [[], [], []];
	outputs[OUTPUT.timedOut] = [timedOut];
	const resumeEntry = ctx.getExecuteData();
	resumeEntry.data = { main: outputs };
	resumeEntry.metadata = { ...resumeEntry.metadata, forwardAllOutputs: true };
	return outputs;
}

/** n8n stores item json as plain JSON; the outcome is plain data already, this only satisfies the type. */
export function toDataObject(value: object): IDataObject {
	return value as unknown as IDataObject;
}

/** Language and time zone of everything the reviewers read; an unknown zone fails the node, naming the field. */
export function readLocale(ctx: IExecuteFunctions): ReviewLocale {
	const timeZone = String(ctx.getNodeParameter('timeZone', 0, 'UTC') ?? '').trim();
	return {
		language: parseReviewLanguage(ctx.getNodeParameter('language', 0, 'en'), 'language'),
		// Cleared field: UTC, as before the setting existed.
		timeZone: timeZone ? validateTimeZone(timeZone, 'timeZone') : 'UTC',
	};
}

export function limitHours(ctx: IExecuteFunctions): number {
	const amount = Number(ctx.getNodeParameter('limitAmount', 0));
	if (!Number.isFinite(amount) || amount <= 0) {
		throw new InputError(`"Wait For" must be a positive number, got ${String(amount)}.`, 'limitAmount');
	}
	return ctx.getNodeParameter('limitUnit', 0) === 'minutes' ? amount / 60 : amount;
}

export function parseReviewers(value: string, mustBeEmails: boolean): string[] {
	const reviewers = [...new Set(String(value ?? '').split(/[,;\n]/).map(normalizeReviewerId).filter(Boolean))];
	if (!reviewers.length) throw new InputError('Add at least one reviewer (an email address).', 'reviewers');
	// A reviewer list is typed by hand; anything that does not look like an address is named in the error.
	const invalid = mustBeEmails ? reviewers.filter((reviewer) => !isEmailAddress(reviewer)) : [];
	if (invalid.length) {
		throw new InputError(`These reviewers are not email addresses: ${invalid.join(', ')}. Separate addresses with commas.`, 'reviewers');
	}
	return reviewers;
}

export function contextFields(ctx: IExecuteFunctions): ReviewContextField[] {
	const rows = (ctx.getNodeParameter('context.fields', 0, []) as Array<{ label?: string; value?: unknown; url?: string }>) ?? [];
	return rows
		.filter((row) => row.label || row.value)
		.map((row) => ({ label: String(row.label ?? ''), value: String(row.value ?? ''), ...(row.url ? { url: String(row.url) } : {}) }));
}

/** Generate's citations, `{title, url}` objects or plain texts, listed as "Source [n]" with their links. */
function sourceFields(sources: unknown[]): ReviewContextField[] {
	return sources.map((source, position) => {
		if (typeof source !== 'object' || source === null) return { label: `Source [${position + 1}]`, value: String(source) };
		const entry = source as Record<string, unknown>;
		const text = (key: string) => (typeof entry[key] === 'string' && entry[key] ? (entry[key] as string) : undefined);
		const number = typeof entry.n === 'number' ? entry.n : position + 1;
		const url = text('url');
		return {
			label: `Source [${number}]`,
			value: text('title') ?? text('sourceId') ?? url ?? text('text') ?? JSON.stringify(entry),
			...(url ? { url } : {}),
		};
	});
}

function rememberSettings(ctx: IExecuteFunctions): RememberSettings | undefined {
	if (!ctx.getNodeParameter('rememberApproved', 0)) return undefined;
	return {
		store: ctx.getNodeParameter('store', 0) as RememberSettings['store'],
		folderPath: (ctx.getNodeParameter('folderPath', 0, '') as string).trim(),
		collection: (ctx.getNodeParameter('collection', 0) as string).trim(),
		namespace: (ctx.getNodeParameter('namespace', 0) as string).trim(),
		exampleInput: String(ctx.getNodeParameter('exampleInput', 0, '') ?? ''),
		reviewLogNamespace: String(ctx.getNodeParameter('reviewLogNamespace', 0, REVIEW_LOG_NAMESPACE) ?? '').trim(),
	};
}

async function sendEmails(
	ctx: IExecuteFunctions,
	credentials: ApprovalCredentials,
	state: ReviewState,
	draft: string,
	links: Array<{ reviewer: string; url: string }>,
	expiresAt: Date,
): Promise<void> {
	if (!credentials.smtpHost || !credentials.fromAddress) {
		throw new NodeOperationError(ctx.getNode(), 'Email delivery needs an SMTP host and a From address.', {
			description: `Fill in "SMTP Host" and "From Address" in the ${APPROVAL_CREDENTIAL} credential, or send via chat only.`,
		});
	}
	const transport = createSmtpTransport(credentials, SMTP_TIMEOUT_MS);
	try {
		for (const { reviewer, url } of links) {
			const email = renderReviewEmail(
				{ subject: state.subject, intro: state.intro || undefined, draft, context: state.context, reviewUrl: url, expiresAt },
				reviewLocale(state),
			);
			try {
				await transport.sendMail({ from: credentials.fromAddress, to: reviewer, subject: email.subject, text: email.text, html: email.html });
			} catch (error) {
				throw new NodeOperationError(ctx.getNode(), `Sending the review email to ${reviewer} failed: ${(error as Error).message}`, {
					description: `Check the SMTP settings (${credentials.smtpHost}:${credentials.smtpPort}) in the credential. Reviewers before ${reviewer} already got their email.`,
				});
			}
		}
	} finally {
		transport.close();
	}
}

async function postToChat(
	ctx: IExecuteFunctions,
	credentials: ApprovalCredentials,
	state: ReviewState,
	links: Array<{ reviewer: string; url: string }>,
	expiresAt: Date,
): Promise<void> {
	if (!credentials.chatWebhookUrl) {
		throw new NodeOperationError(ctx.getNode(), 'Chat delivery needs a chat webhook URL.', {
			description: `Fill in "Chat Webhook URL" in the ${APPROVAL_CREDENTIAL} credential, or send by email only.`,
		});
	}
	const body = renderChatWebhookPayload(
		{
			format: ctx.getNodeParameter('chatFormat', 0) as 'slack' | 'teams',
			title: state.subject,
			intro: state.intro || undefined,
			links: links.map(({ reviewer, url }) => ({ reviewerName: reviewer, url })),
			expiresAt,
		},
		reviewLocale(state),
	);
	try {
		await ctx.helpers.httpRequest({ method: 'POST', url: credentials.chatWebhookUrl, body, json: true, timeout: CHAT_TIMEOUT_MS });
	} catch (error) {
		// The webhook URL is a secret: name the host only.
		const host = URL.canParse(credentials.chatWebhookUrl) ? new URL(credentials.chatWebhookUrl).host : 'the chat webhook';
		throw new NodeOperationError(ctx.getNode(), `Posting the review links to ${host} failed.`, {
			description: `The chat server answered: ${(error as Error).message.replace(credentials.chatWebhookUrl, '<chat webhook URL>')}`,
		});
	}
}
