import type { INodeProperties } from 'n8n-workflow';

/**
 * Options of a chat request that Generate and the Symbiotic Chat Model share, with the same names and defaults:
 * both send through lib/generate's chat transport, so a user sets them alike in either node.
 */
export function modelRequestOptions(texts: { maxOutputTokens: string; timeout: string }): INodeProperties[] {
	return [
		{
			displayName: 'Max Output Tokens',
			name: 'maxOutputTokens',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 1024,
			description: texts.maxOutputTokens,
		},
		{
			displayName: 'Max Retries',
			name: 'maxRetries',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 10 },
			default: 3,
			description: 'Retries on rate limits, server errors and lost connections, with growing waits; a timeout is retried once at most',
		},
		{
			displayName: 'Temperature',
			name: 'temperature',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
			default: 0.3,
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeoutSeconds',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 60,
			description: texts.timeout,
		},
	];
}

/** Options of a collection sorted by their label, as n8n lists them (its linter checks literal lists only). */
export function inDisplayOrder(options: INodeProperties[]): INodeProperties[] {
	return [...options].sort((a, b) => a.displayName.localeCompare(b.displayName));
}
