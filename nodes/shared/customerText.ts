import type { INodePropertyOptions } from 'n8n-workflow';

/** The two ways a cited text becomes the customer's (lib/generate/customerText.ts), offered by Generate and Human Approval. */
export const CUSTOMER_TEXT_STYLE_OPTIONS: INodePropertyOptions[] = [
	{ name: 'Remove Citations', value: 'remove', description: 'The text without its [n] markers' },
	{
		name: 'Footnotes With Links',
		value: 'footnotes',
		description: 'Markers renumbered [1], [2]… by first use, then a list of the cited sources with their links',
	},
];
