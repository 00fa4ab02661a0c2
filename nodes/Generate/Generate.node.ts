import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { CUSTOMER_TEXT_STYLE_OPTIONS } from '../shared/customerText';
import { inDisplayOrder, modelRequestOptions } from '../shared/modelOptions';
import { executeGenerate, MODEL_CREDENTIAL } from './execute';

export class Generate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Generate',
		name: 'generate',
		icon: { light: 'file:../../icons/symbiotic.svg', dark: 'file:../../icons/symbiotic.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["outputFormat"] === "json" ? "JSON" : "Text" }}',
		description:
			'Writes a draft with any OpenAI-compatible model (OpenAI, Mistral, Ollama, vLLM), grounded in your sources with checked [n] citations',
		defaults: { name: 'Generate' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: MODEL_CREDENTIAL, required: true }],
		properties: [
			{
				displayName: 'Prompt',
				name: 'prompt',
				type: 'string',
				typeOptions: { rows: 3 },
				default: '',
				required: true,
				placeholder: 'e.g. {{ $json.question }}',
				description: 'The task or question for the model',
			},
			{
				displayName: 'Instructions',
				name: 'instructions',
				type: 'string',
				typeOptions: { rows: 4 },
				default: '',
				placeholder: 'You write short, friendly replies for ACME support.',
				description: 'Standing instructions (system message). Never trimmed to fit the context window.',
			},
			{
				displayName: 'Sources',
				name: 'sources',
				type: 'json',
				default: '={{ $json.hits }}',
				description:
					'Passages the answer may use, numbered [1], [2]… for citations: the hits of a Vector Search node (default), any list of passages with text, sourceId, title and URL fields, or a list of texts. Leave empty for none.',
			},
			{
				displayName: 'Answer Only From Sources',
				name: 'answerOnlyFromSources',
				type: 'boolean',
				default: true,
				description:
					'Whether to refuse instead of guessing: without sources the model is not asked, and a text answer that cites no source becomes the "not enough information" message with grounded = false (a JSON answer is kept, with grounded = false, unless the model says the sources lack the answer)',
			},
			{
				displayName: 'Not Enough Information Message',
				name: 'notEnoughInformationMessage',
				type: 'string',
				default: 'There is not enough information in the sources to answer this.',
				displayOptions: { show: { answerOnlyFromSources: [true] } },
				description:
					'Left as is (or empty), it follows the Language option: French, German, Spanish, Italian, Portuguese and Dutch get the same sentence in that language',
			},
			{
				displayName: 'Output Format',
				name: 'outputFormat',
				type: 'options',
				options: [
					{ name: 'Text', value: 'text', description: 'Free text with [n] citations' },
					{ name: 'JSON', value: 'json', description: 'JSON checked against a JSON Schema (one repair attempt)' },
				],
				default: 'text',
			},
			{
				displayName: 'JSON Schema',
				name: 'jsonSchema',
				type: 'json',
				default: '{\n  "type": "object",\n  "properties": {\n    "subject": { "type": "string" },\n    "body": { "type": "string" }\n  },\n  "required": ["subject", "body"]\n}',
				displayOptions: { show: { outputFormat: ['json'] } },
				description: 'The shape the answer must have',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: inDisplayOrder([
					...modelRequestOptions({
						maxOutputTokens: 'Tokens reserved for the answer; longer answers are cut (a warning says so)',
						timeout:
							'Longest wait for one answer from the model. One retry follows a timeout, so a model that never answers fails the item after about twice this.',
					}),
					{
						displayName: 'Context Window',
						name: 'contextWindow',
						type: 'number',
						typeOptions: { minValue: 256 },
						default: 8192,
						description: "The model's context size in tokens; sources, history and examples are trimmed to fit",
					},
					{
						displayName: 'Customer Text',
						name: 'customerTextStyle',
						type: 'options',
						options: CUSTOMER_TEXT_STYLE_OPTIONS,
						default: 'remove',
						description:
							'How the "customerText" output is made from the cited "text": use customerText in what the customer receives, text for reviewers',
					},
					{
						displayName: 'Examples',
						name: 'examples',
						type: 'json',
						default: '',
						placeholder: '={{ $json.approvedDrafts }}',
						description:
							'Approved past outputs to imitate: a list of {input, output} pairs or of texts. Extra examples are dropped first when space is short.',
					},
					{
						displayName: 'History',
						name: 'history',
						type: 'json',
						default: '',
						placeholder: "={{ $('Memory Store').item.json.messages }}",
						description: 'Earlier messages of the conversation, oldest first, as {role, content} (the Memory Store "messages" output)',
					},
					{
						displayName: 'JSON Request Mode',
						name: 'jsonResponseFormat',
						type: 'options',
						options: [
							{ name: 'JSON Schema (Structured Outputs)', value: 'json_schema', description: 'Falls back to JSON Object on servers that reject it' },
							{ name: 'JSON Object', value: 'json_object', description: 'Any JSON; for servers without structured outputs' },
						],
						default: 'json_schema',
					},
					{
						displayName: 'Language',
						name: 'language',
						type: 'string',
						default: '',
						placeholder: 'e.g. German',
						description:
							'The language of the answer (a name or a code such as fr-FR); also that of the default "not enough information" message and of the customer text\'s source list',
					},
					{
						displayName: 'Model',
						name: 'model',
						type: 'string',
						default: '',
						description: "Overrides the credential's chat model for this node",
					},
					{
						displayName: 'Strict Schema',
						name: 'strictSchema',
						type: 'boolean',
						default: false,
						description:
							"Whether to ask OpenAI's strict structured outputs (every property required, additionalProperties false)",
					},
					{
						displayName: 'Tone',
						name: 'tone',
						type: 'string',
						default: '',
						placeholder: 'e.g. friendly',
					},
				]),
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [await executeGenerate(this)];
	}
}
