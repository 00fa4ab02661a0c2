/**
 * Send Email After Review (the approval-gated agent action): the e-mail text a reviewer sees and edits, the answers
 * the agent reads, the node's description (an agent tool with Human Approval's webhooks and settings), and
 * `execute()` in n8n's engine: the review request goes out, nothing reaches the recipient, the execution waits,
 * and a model-chosen reviewer is refused. The decision round trip runs in the real n8n in test/e2e/agentGate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ICredentialDataDecryptedObject, IExecuteFunctions, INode } from 'n8n-workflow';

import { openSealedState } from '../../lib/approval';
import { HumanApproval } from '../../nodes/HumanApproval/HumanApproval.node';
import {
	changedArguments,
	formatEmailDraft,
	notSentResult,
	parseEmailDraft,
	rejectedResult,
	sentResult,
	timedOutResult,
} from '../../lib/approval/reviewedEmail';
import { requestEmailReview } from '../../nodes/SymbioticReviewedEmail/send';
import { SymbioticReviewedEmail } from '../../nodes/SymbioticReviewedEmail/SymbioticReviewedEmail.node';
import { linearWorkflow, runWorkflow } from '../support/n8nHarness';
import { startSmtpCapture, type SmtpCapture } from '../support/smtpCapture';

const TYPE = 'n8n-nodes-symbiotic.symbioticReviewedEmail';
const SECRET = 'node-test-signing-secret-0123456789-abcdefghij';
const EMAIL = { to: 'ada@lovelace.example', subject: 'Your Starter plan', body: 'Hi Ada,\n\nthe Starter plan costs 29 euros.\n\nBest, Sam' };
const DECIDED = { reviewer: 'grace@example.com', decidedAt: '2026-11-29T12:00:00.000Z' };

describe('the e-mail as the reviewer sees and edits it', () => {
	test('To and Subject lines, a blank line, the body; read back unchanged', () => {
		const text = formatEmailDraft(EMAIL);
		expect(text).toBe(`To: ${EMAIL.to}\nSubject: ${EMAIL.subject}\n\n${EMAIL.body}`);
		expect(parseEmailDraft(text)).toEqual({ email: EMAIL });
		expect(parseEmailDraft(text.replace(/\n/g, '\r\n'))).toEqual({ email: EMAIL });
	});

	test('in the review\'s language, the header names are the ones its mail programs use, and read back in any language', () => {
		const french = formatEmailDraft(EMAIL, { language: 'fr' });
		expect(french).toBe(`À\u00a0: ${EMAIL.to}\nObjet\u00a0: ${EMAIL.subject}\n\n${EMAIL.body}`);
		expect(parseEmailDraft(french)).toEqual({ email: EMAIL });
		expect(formatEmailDraft(EMAIL, { language: 'de' })).toMatch(/^An: ada@lovelace\.example\nBetreff: Your Starter plan\n\n/);
		for (const language of ['de', 'es', 'it'] as const) {
			expect(parseEmailDraft(formatEmailDraft(EMAIL, { language }))).toEqual({ email: EMAIL });
		}
		// A French reviewer retyping the lines without the accent, or in English.
		expect(parseEmailDraft(`a : ${EMAIL.to}\nobjet: ${EMAIL.subject}\n\n${EMAIL.body}`)).toEqual({ email: EMAIL });
		expect(parseEmailDraft(`À : ${EMAIL.to}\nSubject: ${EMAIL.subject}\n\n${EMAIL.body}`)).toEqual({ email: EMAIL });
		// One field under two names is still a repeated header.
		expect(parseEmailDraft(`To: a@example.com\nÀ : b@example.com\nObjet : x\n\nbody`)).toEqual({ error: '"À:" appears twice' });
	});

	test('an edit of any argument is read back and named', () => {
		const edited = parseEmailDraft(`to: grace@example.com\nSUBJECT:  New subject \n\nNew body`);
		expect(edited).toEqual({ email: { to: 'grace@example.com', subject: 'New subject', body: 'New body' } });
		expect(changedArguments(EMAIL, (edited as { email: typeof EMAIL }).email)).toEqual(['to', 'subject', 'body']);
		expect(changedArguments(EMAIL, EMAIL)).toEqual([]);
	});

	test.each([
		['two recipients', `To: a@example.com, b@example.com\nSubject: x\n\nbody`, /not one e-mail address/],
		['no recipient', `Subject: x\n\nbody`, /"To:" line is missing/],
		['no subject line', `To: a@example.com\n\nbody`, /"Subject:" line is missing/],
		['an extra header', `To: a@example.com\nCc: b@example.com\nSubject: x\n\nbody`, /neither "To:" nor "Subject:"/],
		['a repeated header', `To: a@example.com\nTo: b@example.com\nSubject: x\n\nbody`, /appears twice/],
		['no body', `To: a@example.com\nSubject: x\n\n  `, /body is empty/],
	])('an edit with %s is refused, so nothing is sent', (_label, text, error) => {
		const parsed = parseEmailDraft(text);
		expect('error' in parsed && parsed.error).toMatch(error);
	});
});

describe('what the agent reads', () => {
	test('sent: to whom, what the reviewer changed, the comment', () => {
		const result = sentResult({ proposed: EMAIL, email: { ...EMAIL, body: 'Edited' }, changed: ['body'], comment: 'Shorter.', ...DECIDED });
		expect(result).toMatchObject({ status: 'sent', sent: true, email: { body: 'Edited' } });
		expect(result.message).toBe(
			`The reviewer approved and the e-mail was sent to ${EMAIL.to} with the subject "Your Starter plan". The reviewer changed the body before sending; "email" holds what was sent. Reviewer's comment: "Shorter.".`,
		);
	});

	test('rejected: the comment, and that nothing was sent', () => {
		expect(rejectedResult({ proposed: EMAIL, comment: 'Offer a call instead.', ...DECIDED }).message).toMatch(
			/^The reviewer rejected the e-mail to ada@lovelace\.example: "Offer a call instead\."\. Nothing was sent\./,
		);
		expect(rejectedResult({ proposed: EMAIL, comment: ' ', ...DECIDED }).message).toContain('without a comment. Nothing was sent.');
	});

	test('timed out and not sent: nothing was sent', () => {
		const timedOut = timedOutResult(EMAIL, new Date('2026-12-02T12:00:00Z'));
		expect(timedOut).toMatchObject({ status: 'timedOut', sent: false, reviewer: null });
		expect(timedOut.message).toBe('No decision in time: no reviewer decided by 2026-12-02T12:00:00.000Z, so nothing was sent to ada@lovelace.example.');
		const failed = notSentResult({ proposed: EMAIL, reason: 'the mail server refused it (550)', comment: '', changed: [], ...DECIDED });
		expect(failed).toMatchObject({ status: 'notSent', sent: false });
		expect(failed.message).toContain('Nothing was sent.');
	});
});

describe('the node', () => {
	const description = new SymbioticReviewedEmail().description;

	test('is an agent tool that waits with Human Approval\'s resume URL and front door', () => {
		expect(description.usableAsTool).toBe(true);
		expect(description.name.endsWith('HitlTool')).toBe(false);
		expect(description.webhooks).toEqual(new HumanApproval().description.webhooks);
		expect(description.properties.some((property) => property.name === 'operation')).toBe(false);
	});

	test('has the settings Human Approval\'s front door reads, under the same names', () => {
		const names = description.properties.map((property) => property.name);
		for (const name of ['decisionStore', 'decisionFolder', 'keyPrefix', 'language', 'timeZone', 'reviewers', 'delivery']) expect(names).toContain(name);
		expect(new Set(names).size).toBe(names.length);
	});
});

describe('execute', () => {
	let smtp: SmtpCapture;
	let userFolder: string;
	let credentials: Record<string, ICredentialDataDecryptedObject>;
	beforeAll(async () => {
		smtp = await startSmtpCapture();
		userFolder = await mkdtemp(join(tmpdir(), 'symbiotic-reviewed-email-'));
		process.env.N8N_USER_FOLDER = userFolder;
		credentials = {
			symbioticApprovalApi: { signingSecret: SECRET, smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpSecure: false, fromAddress: 'sam@example.com' },
		};
	});
	afterAll(async () => {
		await smtp.close();
		delete process.env.N8N_USER_FOLDER;
		await rm(userFolder, { recursive: true, force: true });
	});

	const run = (parameters: Record<string, unknown>) =>
		runWorkflow(
			linearWorkflow({
				name: 'Send Email After Review',
				type: TYPE,
				parameters: { to: '={{ $json.to }}', mailSubject: '={{ $json.subject }}', mailBody: '={{ $json.body }}', reviewers: 'grace@example.com', ...parameters },
			}),
			{ nodeTypes: { [TYPE]: new SymbioticReviewedEmail() }, credentials, inputItems: [{ json: EMAIL }] },
		);

	test('mails the reviewer the e-mail to review, sends nothing to the recipient, and waits', async () => {
		const before = smtp.messages.length;
		const result = await run({});
		expect(result.error).toBeUndefined();
		expect(result.run.waitTill).toBeInstanceOf(Date);
		expect(result.run.status).toBe('waiting');
		const mail = await smtp.waitForMessage(before + 1, 10_000);
		expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('grace@example.com');
		expect(mail.text).toContain(formatEmailDraft(EMAIL));
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(smtp.messages.slice(before)).toHaveLength(1);
		const waiting = result.outputs['Send Email After Review'][0][0].json;
		expect(waiting).toMatchObject({ status: 'timedOut', sent: false, originalDraft: formatEmailDraft(EMAIL), proposed: EMAIL });
		// On timeout this item is what the agent's model reads: the review request (reviewers, context) is sealed.
		expect(JSON.stringify(waiting)).not.toContain('grace@example.com');
		expect(openSealedState(waiting.sealedReview, SECRET)).toMatchObject({ reviewers: ['grace@example.com'] });
		expect(openSealedState(waiting.sealedReview, 'another secret of at least thirty-two bytes!!')).toBeUndefined();
	});

	test('refuses a reviewer chosen by the model, and an invalid recipient, before anything is sent', async () => {
		const before = smtp.messages.length;
		const chosen = await run({ reviewers: "={{ $fromAI('reviewer') }}" });
		expect(chosen.error?.message).toMatch(/Reviewers/);
		const invalid = await run({ to: 'not an address' });
		expect(invalid.error?.message).toMatch(/not one e-mail address/);
		expect(smtp.messages.length).toBe(before);
	});
});

test('as the tool of an AI Agent older than v3 (called inside the agent, which cannot wait) it refuses before sending anything', async () => {
	const node = { id: 'n', name: 'Send e-mail to the lead', type: `${TYPE}Tool`, typeVersion: 1, position: [0, 0], parameters: {} } as INode;
	const getNodeParameter = jest.fn();
	const ctx = { getInputData: () => [{ json: {} }], getNode: () => node, getNodeParameter } as unknown as IExecuteFunctions;
	await expect(requestEmailReview(ctx)).rejects.toThrow('needs the AI Agent node version 3 or later');
	expect(getNodeParameter).not.toHaveBeenCalled();
	// Agent v3+ marks the node it runs for a tool call: that run goes on to the review.
	const engineRun = { ...node, rewireOutputLogTo: 'ai_tool' } as INode;
	const engineCtx = { getInputData: () => [{ json: {} }], getNode: () => engineRun, getNodeParameter } as unknown as IExecuteFunctions;
	await expect(requestEmailReview(engineCtx)).rejects.not.toThrow('needs the AI Agent node version 3');
	expect(getNodeParameter).toHaveBeenCalled();
});
