import nodemailer, { type Transporter } from 'nodemailer';
import type { ICredentialDataDecryptedObject, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

export const APPROVAL_CREDENTIAL = 'symbioticApprovalApi';

/** The Symbiotic Approval credential, typed. */
export interface ApprovalCredentials {
	signingSecret: string;
	smtpHost: string;
	smtpPort: number;
	smtpSecure: boolean;
	smtpUser: string;
	smtpPassword: string;
	fromAddress: string;
	chatWebhookUrl: string;
}

export function toApprovalCredentials(data: ICredentialDataDecryptedObject): ApprovalCredentials {
	const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string).trim() : '');
	return {
		// Not trimmed: the secret is used byte for byte.
		signingSecret: typeof data.signingSecret === 'string' ? data.signingSecret : '',
		smtpHost: text('smtpHost'),
		smtpPort: Number(data.smtpPort) || 587,
		smtpSecure: data.smtpSecure === true,
		smtpUser: text('smtpUser'),
		smtpPassword: typeof data.smtpPassword === 'string' ? data.smtpPassword : '',
		fromAddress: text('fromAddress'),
		chatWebhookUrl: text('chatWebhookUrl'),
	};
}

export async function approvalCredentials(ctx: IExecuteFunctions | IWebhookFunctions): Promise<ApprovalCredentials> {
	return toApprovalCredentials(await ctx.getCredentials(APPROVAL_CREDENTIAL));
}

/** The credential's SMTP server, with every wait bounded so a silent server cannot hang the execution. */
export function createSmtpTransport(credentials: ApprovalCredentials, timeoutMs: number): Transporter {
	return nodemailer.createTransport({
		host: credentials.smtpHost,
		port: credentials.smtpPort,
		secure: credentials.smtpSecure,
		auth: credentials.smtpUser ? { user: credentials.smtpUser, pass: credentials.smtpPassword } : undefined,
		connectionTimeout: timeoutMs,
		greetingTimeout: timeoutMs,
		socketTimeout: timeoutMs,
	});
}
