import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Everything secret the Human Approval node needs, in one place: the key that signs review links, the SMTP
 * account that sends them and, optionally, the chat incoming-webhook URL (whoever holds that URL can post to
 * the channel, so it is a secret too). The node tests it with `humanApprovalCredentialTest` (SMTP login).
 */
export class SymbioticApprovalApi implements ICredentialType {
	name = 'symbioticApprovalApi';

	displayName = 'Symbiotic Approval API';

	icon: Icon = { light: 'file:../icons/humanApproval.svg', dark: 'file:../icons/humanApproval.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-symbiotic#human-approval';

	properties: INodeProperties[] = [
		{
			displayName: 'Link Signing Secret',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			hint: 'At least 32 characters. Generate one with: openssl rand -base64 48',
			description:
				'Signs and encrypts every review link. Changing it invalidates all links already sent.',
		},
		{
			displayName: 'SMTP Host',
			name: 'smtpHost',
			type: 'string',
			default: '',
			placeholder: 'smtp.example.com',
			description: 'Mail server that sends the review emails. Leave empty if you only post to chat.',
		},
		{
			displayName: 'SMTP Port',
			name: 'smtpPort',
			type: 'number',
			default: 587,
			description: '587 (STARTTLS) or 465 (TLS) for most providers; 25 for a local relay',
		},
		{
			displayName: 'SSL/TLS',
			name: 'smtpSecure',
			type: 'boolean',
			default: false,
			description:
				'Whether to connect with TLS from the start (port 465). Off: the connection is upgraded with STARTTLS when the server offers it.',
		},
		{
			displayName: 'SMTP User',
			name: 'smtpUser',
			type: 'string',
			default: '',
			description: 'Leave empty for a relay that needs no login',
		},
		{
			displayName: 'SMTP Password',
			name: 'smtpPassword',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'From Address',
			name: 'fromAddress',
			type: 'string',
			default: '',
			placeholder: 'Marketing Reviews <reviews@example.com>',
			description: 'Sender of the review emails',
		},
		// Whoever has an incoming-webhook URL can post to the channel: it is a secret.
		// eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
		{
			displayName: 'Chat Webhook URL',
			name: 'chatWebhookUrl',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'https://hooks.slack.com/services/…',
			description:
				'Slack or Microsoft Teams incoming-webhook URL, for the "Chat Message" delivery. Anyone in the channel sees every reviewer\'s button.',
		},
	];
}
