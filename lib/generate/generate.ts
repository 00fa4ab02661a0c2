/**
 * One generation: prompt assembly, the model call, JSON validation with one repair, and the grounding check
 * that maps `[n]` citations to the sources the model was shown.
 */
import { checkCitations } from './citations';
import type { ChatClient, ChatCompletionResult, ResponseFormat, TokenUsage } from './client';
import { toCustomerJson, toCustomerText, type CustomerTextStyle } from './customerText';
import { compileJsonSchema, formatProblems, parseJsonReply, type JsonProblem } from './jsonOutput';
import { DEFAULT_NOT_ENOUGH_INFORMATION, notEnoughInformationText } from './languages';
import { buildPrompt, DEFAULT_BUDGET, NOT_IN_SOURCES_SENTINEL, type ChatMessage, type NumberedSource, type PromptBudget, type PromptInput, type TrimReport } from './prompt';

export { DEFAULT_NOT_ENOUGH_INFORMATION };

export interface GenerateOptions {
	/** Context window and tokens reserved for the answer (also sent as the answer's token limit). */
	budget?: PromptBudget;
	temperature?: number;
	/** When given, the reply must be JSON valid against this schema (a JSON string or an object). */
	jsonSchema?: string | object;
	/**
	 * How JSON is requested: `json_schema` (structured outputs; servers that reject it are asked again with
	 * json_object automatically) or `json_object` (any JSON, for servers that only know that). Default json_schema.
	 */
	jsonResponseFormat?: ResponseFormat['type'];
	/** OpenAI strict structured outputs: needs every property required and additionalProperties false. */
	strictSchema?: boolean;
	/**
	 * Text returned when the sources cannot support an answer (answer-only-from-sources mode). Empty or the English
	 * default: the default sentence in the answer language (`input.language`), English when it is not recognised.
	 */
	notEnoughInformationMessage?: string;
	/** How `customerText` is made from a text answer: markers removed (default) or renumbered footnotes. */
	customerTextStyle?: CustomerTextStyle;
	signal?: AbortSignal;
}

export interface Citation {
	n: number;
	sourceId: string;
	title?: string;
	url?: string;
}

export interface GenerateResult {
	/** The answer (text mode), with citations to unknown sources removed. */
	text?: string;
	/**
	 * `text` as the customer should read it (see `toCustomerText`): without `[n]` markers, or with renumbered
	 * markers and a source list. Absent for a JSON answer; the refusal's is the refusal text itself.
	 */
	customerText?: string;
	/**
	 * The parsed, schema-valid answer (JSON mode), exactly as the model sent it: citations to unknown sources are
	 * reported but not removed, because editing a validated value can break its schema (`pattern`, `minLength`…).
	 */
	json?: unknown;
	/** `json` with the citation markers removed from every string value (JSON mode; not re-validated). */
	customerJson?: unknown;
	/** Valid citations in order of first appearance, mapped to their sources. */
	citations: Citation[];
	/** Cited numbers that match no source; removed from a text answer, only reported (and warned about) for JSON. */
	unsupportedCitations: number[];
	/** True when the answer cites at least one source it was given. */
	grounded: boolean;
	/** Why `grounded` is false. */
	groundingIssue?: string;
	/** The model's own reply when it was replaced by the "not enough information" message. */
	modelReply?: string;
	/** The sources the model was shown, under the numbers it saw, with their input positions. */
	sources: NumberedSource[];
	trimmed: TrimReport;
	model: string;
	finishReason: string;
	usage: TokenUsage;
	/** Wall time of the whole generation, repairs and retries included. */
	latencyMs: number;
	/** Model calls made (0 when answered without the model, 2 after a JSON repair). */
	modelCalls: number;
	warnings: string[];
}

/** The reply was not schema-valid JSON even after one repair; the message lists the problems and the reply. */
export class JsonOutputError extends Error {
	constructor(
		readonly problems: JsonProblem[],
		readonly rawReply: string,
	) {
		const shown = rawReply.length > 500 ? `${rawReply.slice(0, 500)}… (${rawReply.length} characters)` : rawReply;
		super(
			`The model's reply does not match the JSON Schema, even after one repair attempt:\n${formatProblems(problems)}\n` +
				`Reply was: ${shown}\nSimplify the schema, describe the fields in the instructions, or use a stronger model.`,
		);
		this.name = 'JsonOutputError';
	}
}

const REPAIR_REQUEST = (problems: JsonProblem[]) =>
	`Your reply does not match the required JSON Schema:\n${formatProblems(problems)}\n` +
	'Reply again with only the corrected JSON value: no explanations, no Markdown fences.';

/** Every string value inside a parsed JSON value (object keys are names, not answer text). */
function stringValues(value: unknown): string[] {
	if (typeof value === 'string') return [value];
	if (value && typeof value === 'object') return Object.values(value).flatMap(stringValues);
	return [];
}

export async function generate(client: ChatClient, input: Omit<PromptInput, 'jsonSchema'>, options: GenerateOptions = {}): Promise<GenerateResult> {
	const startedAt = Date.now();
	const budget = options.budget ?? DEFAULT_BUDGET;
	const validator = options.jsonSchema === undefined ? undefined : compileJsonSchema(options.jsonSchema);
	const prompt = buildPrompt({ ...input, jsonSchema: validator?.schema }, budget);
	const notEnoughInformation = notEnoughInformationText(options.notEnoughInformationMessage, input.language);
	const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
	const warnings: string[] = [];
	const base = { sources: prompt.sources, trimmed: prompt.trimmed, usage, warnings };
	let modelCalls = 0;

	/** The "not enough information" result; `completion` is the model's reply when it was asked. */
	const refuse = (groundingIssue: string, completion?: ChatCompletionResult): GenerateResult => ({
		...base,
		// In JSON mode there is no valid JSON to give; `json: null` plus the message keeps the item readable.
		text: notEnoughInformation,
		customerText: notEnoughInformation,
		...(validator ? { json: null, customerJson: null } : {}),
		citations: [],
		unsupportedCitations: [],
		grounded: false,
		groundingIssue,
		modelReply: completion?.text,
		model: completion?.model ?? client.model,
		finishReason: completion?.finishReason ?? 'not_called',
		latencyMs: Date.now() - startedAt,
		modelCalls,
	});

	if (input.answerOnlyFromSources && prompt.sources.length === 0) {
		// Without sources the model could only guess; answering from nothing is exactly what this mode forbids.
		const issue = prompt.trimmed.sources.length
			? 'No source fitted into the context window; the model was not asked.'
			: 'No sources were given; the model was not asked.';
		return refuse(issue);
	}

	const responseFormat: ResponseFormat | undefined = !validator
		? undefined
		: options.jsonResponseFormat === 'json_object'
			? { type: 'json_object' }
			: { type: 'json_schema', json_schema: { name: validator.name, schema: validator.schema, strict: options.strictSchema ?? false } };
	const messages: ChatMessage[] = [...prompt.messages];
	const ask = async () => {
		const completion = await client.complete(
			{ messages, maxTokens: budget.reservedOutputTokens, temperature: options.temperature, responseFormat },
			options.signal,
		);
		modelCalls++;
		usage.promptTokens += completion.usage.promptTokens;
		usage.completionTokens += completion.usage.completionTokens;
		usage.totalTokens += completion.usage.totalTokens;
		return completion;
	};

	// Checked on the raw reply, so in JSON mode the sentinel counts both as the whole reply and inside any value.
	const saysNotInSources = (reply: ChatCompletionResult) => input.answerOnlyFromSources === true && reply.text.includes(NOT_IN_SOURCES_SENTINEL);
	let completion = await ask();
	if (saysNotInSources(completion)) return refuse('The model found no answer in the sources.', completion);

	const isKnown = (n: number) => n >= 1 && n <= prompt.sources.length;
	const cited = new Set<number>();
	const unsupported = new Set<number>();
	const checkAnswerCitations = (text: string) => {
		const checked = checkCitations(text, isKnown);
		checked.cited.forEach((n) => cited.add(n));
		checked.unsupported.forEach((n) => unsupported.add(n));
		return checked.text;
	};

	let text: string | undefined;
	let json: unknown;
	if (validator) {
		let parsed = parseJsonReply(completion.text, validator);
		if (!parsed.ok) {
			messages.push({ role: 'assistant', content: completion.text }, { role: 'user', content: REPAIR_REQUEST(parsed.problems) });
			completion = await ask();
			parsed = parseJsonReply(completion.text, validator);
			if (!parsed.ok) throw new JsonOutputError(parsed.problems, completion.text);
			if (saysNotInSources(completion)) return refuse('The model found no answer in the sources.', completion);
		}
		json = parsed.value;
		stringValues(json).forEach(checkAnswerCitations);
	} else {
		text = checkAnswerCitations(completion.text);
	}
	const unsupportedCitations = [...unsupported].sort((a, b) => a - b);
	if (validator && unsupportedCitations.length) {
		warnings.push(
			`The JSON answer cites sources that do not exist (${unsupportedCitations.map((n) => `[${n}]`).join(', ')}); ` +
				'JSON values are left as the model wrote them, so review those citations.',
		);
	}

	if (completion.finishReason === 'length') {
		warnings.push(
			`The answer was cut at the ${budget.reservedOutputTokens}-token output limit; reserve more output tokens for complete answers.`,
		);
	}
	const citations = [...cited].map((n): Citation => {
		const { sourceId, title, url } = prompt.sources[n - 1];
		return { n, sourceId, title, url };
	});
	const groundingIssue =
		prompt.sources.length === 0 ? 'No sources were given.' : citations.length === 0 ? 'The answer cites none of the sources.' : undefined;
	// A JSON answer is refused only through the sentinel: structured fields (subject lines, SKUs) rarely carry
	// citations, so "cites nothing" would throw valid answers away. It still comes back with grounded = false.
	if (input.answerOnlyFromSources && groundingIssue && !validator) {
		return { ...refuse(groundingIssue, completion), unsupportedCitations };
	}
	return {
		...base,
		...(validator
			? { json, customerJson: toCustomerJson(json) }
			: { text, customerText: toCustomerText(text ?? '', prompt.sources, options.customerTextStyle ?? 'remove', input.language) }),
		citations,
		unsupportedCitations,
		grounded: groundingIssue === undefined,
		groundingIssue,
		model: completion.model,
		finishReason: completion.finishReason,
		latencyMs: Date.now() - startedAt,
		modelCalls,
	};
}
