/**
 * Maps the Generate node's parameters onto lib/generate, one item at a time.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import {
	createChatClient,
	generate,
	parseListInput,
	type ChatClient,
	type ChatClientOptions,
	type CustomerTextStyle,
	type PromptInput,
} from '../../lib/generate';
import { executePerItem, type FieldLabels } from '../shared/perItem';

/** Same credential as the knowledge-base nodes; named here so this node does not load the store modules. */
export const MODEL_CREDENTIAL = 'symbioticModelApi';

const fieldLabels: FieldLabels = {
	prompt: 'Prompt',
	instructions: 'Instructions',
	sources: 'Sources',
	history: 'History',
	examples: 'Examples',
	jsonSchema: 'JSON Schema',
	contextWindow: 'Context Window',
	baseUrl: 'Base URL (credential)',
	chatModel: 'Model',
};

interface GenerateNodeOptions {
	contextWindow?: number;
	customerTextStyle?: CustomerTextStyle;
	examples?: unknown;
	history?: unknown;
	jsonResponseFormat?: 'json_schema' | 'json_object';
	language?: string;
	maxOutputTokens?: number;
	maxRetries?: number;
	model?: string;
	strictSchema?: boolean;
	temperature?: number;
	timeoutSeconds?: number;
	tone?: string;
}

export async function executeGenerate(ctx: IExecuteFunctions): Promise<INodeExecutionData[]> {
	// One client per distinct setting: items of a run share connection reuse and nothing else.
	const clients = new Map<string, ChatClient>();
	const clientFor = async (itemIndex: number, options: GenerateNodeOptions): Promise<ChatClient> => {
		const credentials = await ctx.getCredentials(MODEL_CREDENTIAL, itemIndex);
		const config: ChatClientOptions = {
			baseURL: String(credentials.baseUrl ?? ''),
			apiKey: (credentials.apiKey as string) || undefined,
			model: options.model?.trim() || String(credentials.chatModel ?? ''),
			timeoutMs: (options.timeoutSeconds ?? 60) * 1000,
			maxRetries: options.maxRetries ?? 3,
		};
		const key = JSON.stringify(config);
		let client = clients.get(key);
		if (!client) {
			client = createChatClient(config);
			clients.set(key, client);
		}
		return client;
	};

	return await executePerItem(ctx, fieldLabels, async (itemIndex) => {
		const parameter = <T>(name: string, fallback?: T) => ctx.getNodeParameter(name, itemIndex, fallback) as T;
		const options = parameter<GenerateNodeOptions>('options', {});
		const answerOnlyFromSources = parameter<boolean>('answerOnlyFromSources', true);
		const input: PromptInput = {
			prompt: parameter<string>('prompt'),
			instructions: parameter<string>('instructions', ''),
			sources: parseListInput(parameter('sources', ''), 'sources', 'Sources'),
			history: parseListInput(options.history, 'history', 'History'),
			examples: parseListInput(options.examples, 'examples', 'Examples'),
			language: options.language,
			tone: options.tone,
			answerOnlyFromSources,
		};
		const maxOutputTokens = options.maxOutputTokens ?? 1024;
		const result = await generate(await clientFor(itemIndex, options), input, {
			budget: { contextWindow: options.contextWindow ?? 8192, reservedOutputTokens: maxOutputTokens },
			temperature: options.temperature,
			jsonSchema: parameter<string>('outputFormat', 'text') === 'json' ? parameter<string | object>('jsonSchema') : undefined,
			jsonResponseFormat: options.jsonResponseFormat,
			strictSchema: options.strictSchema,
			notEnoughInformationMessage: answerOnlyFromSources ? parameter<string>('notEnoughInformationMessage', '') : undefined,
			customerTextStyle: options.customerTextStyle,
			signal: ctx.getExecutionCancelSignal?.(),
		});
		// JSON round trip drops `undefined` fields, which n8n's item view would otherwise show as empty.
		return [{ json: JSON.parse(JSON.stringify(result)) as IDataObject }];
	});
}
