/**
 * One generation: prompt assembly, the model call, JSON validation with one repair, and the grounding check
 * that maps `[n]` citations to the sources the model was shown.
 */
import { measureGrounding } from '../evaluation/grounding';
import { isKeywordLanguage, type KeywordLanguage, type KeywordLanguageSetting } from '../textAnalysis';
import { checkCitations } from './citations';
import type { ChatClient, ChatCompletionResult, ResponseFormat, TokenUsage } from './client';
import { toCustomerJson, toCustomerText, type CustomerTextStyle } from './customerText';
import { compileJsonSchema, formatProblems, parseJsonReply, type JsonProblem } from './jsonOutput';
import { DEFAULT_NOT_ENOUGH_INFORMATION, notEnoughInformationText, recognizeLanguage, type AnswerLanguage } from './languages';
import {
	buildPrompt,
	DEFAULT_BUDGET,
	NOT_IN_SOURCES_SENTINEL,
	type ChatMessage,
	type NumberedSource,
	type PromptBudget,
	type PromptInput,
	type SourceInput,
	type TrimReport,
} from './prompt';

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

/**
 * How well one answer is backed by its sources (lib/evaluation/grounding.ts `measureGrounding`): deterministic,
 * no model call. Shares are rounded to 4 decimals; null when there is nothing to measure (no sentence, no content
 * word) and on a refusal, never NaN.
 */
export interface AnswerGrounding {
	/** Sentences with at least one valid citation / sentences; null without a sentence or on a refusal. */
	citedSentenceShare: number | null;
	/** Sentences counted (headings, list markers and uncited lead-ins ending with `:` excluded; 0 on a refusal). */
	sentences: number;
	/** Sentences with at least one valid citation. */
	citedSentences: number;
	/** Distinct cited numbers that matched no source (the length of `unsupportedCitations`). */
	unsupportedCitations: number;
	/**
	 * Content words of the answer found in the sources it validly cites / content words of the answer (stemmed,
	 * accents folded, stop words dropped); 0 when the answer cites nothing, null without content word or on a refusal.
	 */
	faithfulness: number | null;
	/** Up to 20 distinct answer words found in none of the cited sources, as written, for a reviewer to check. */
	unsupportedWords: string[];
	/** True when the answer is the "not enough information" message. */
	refused: boolean;
	/** Language the words were analysed in: the Language option, else the hits' `keywordLanguage`, else detected. */
	language: KeywordLanguage;
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
	/** True when the answer is the "not enough information" message (the model was not asked, or its reply was replaced). */
	refused: boolean;
	/** Grounding metrics of the answer (see AnswerGrounding). */
	grounding: AnswerGrounding;
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

const KEYWORD_LANGUAGES_BY_ANSWER_LANGUAGE: Readonly<Record<AnswerLanguage, KeywordLanguage>> = {
	en: 'english',
	fr: 'french',
	de: 'german',
	es: 'spanish',
	it: 'italian',
	pt: 'portuguese',
	nl: 'dutch',
};

/**
 * The language to analyse the answer's words in: the answer language the Language option names, else the
 * keyword language the shown hits agree on (a `keywordLanguage` field, when the search gives one), else `auto`
 * (detected from the answer and its cited sources).
 */
function groundingLanguage(answerLanguage: string | undefined, shownHits: SourceInput[]): KeywordLanguageSetting {
	const named = recognizeLanguage(answerLanguage);
	if (named) return KEYWORD_LANGUAGES_BY_ANSWER_LANGUAGE[named];
	const fromHits = new Set(shownHits.map((hit) => (typeof hit === 'object' && hit ? hit.keywordLanguage : undefined)));
	const [only] = fromHits;
	return fromHits.size === 1 && isKeywordLanguage(only) && only !== 'none' ? only : 'auto';
}

const round4 = (value: number | null) => (value === null ? null : Math.round(value * 10_000) / 10_000);

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

	const groundingSources = prompt.sources.map((source, i) => ({ n: source.n, text: prompt.sourceTexts[i] }));
	const language = groundingLanguage(input.language, prompt.sources.map((source) => input.sources![source.inputIndex]));
	/** Adds the grounding metrics; a JSON answer is measured on its string values, one paragraph each. */
	const measured = (result: Omit<GenerateResult, 'grounding'>): GenerateResult => {
		const metrics = measureGrounding({
			answer: validator ? stringValues(result.json).join('\n\n') : result.text,
			sources: groundingSources,
			unsupportedCitations: result.unsupportedCitations,
			refused: result.refused,
			language,
		});
		return {
			...result,
			grounding: {
				citedSentenceShare: round4(metrics.citedSentenceShare),
				sentences: metrics.sentences,
				citedSentences: metrics.citedSentences,
				unsupportedCitations: metrics.unsupportedCitations,
				faithfulness: round4(metrics.faithfulness),
				unsupportedWords: metrics.unsupportedWords,
				refused: metrics.refused,
				language: metrics.language,
			},
		};
	};

	/**
	 * The "not enough information" result; `completion` is the model's reply when it was asked, and
	 * `unsupportedCitations` what that reply cited wrongly.
	 */
	const refuse = (groundingIssue: string, completion?: ChatCompletionResult, unsupportedCitations: number[] = []): GenerateResult =>
		measured({
			...base,
			// In JSON mode there is no valid JSON to give; `json: null` plus the message keeps the item readable.
			text: notEnoughInformation,
			customerText: notEnoughInformation,
			...(validator ? { json: null, customerJson: null } : {}),
			citations: [],
			unsupportedCitations,
			grounded: false,
			groundingIssue,
			refused: true,
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
		return refuse(groundingIssue, completion, unsupportedCitations);
	}
	return measured({
		...base,
		...(validator
			? { json, customerJson: toCustomerJson(json) }
			: { text, customerText: toCustomerText(text ?? '', prompt.sources, options.customerTextStyle ?? 'remove', input.language) }),
		citations,
		unsupportedCitations,
		grounded: groundingIssue === undefined,
		groundingIssue,
		refused: false,
		model: completion.model,
		finishReason: completion.finishReason,
		latencyMs: Date.now() - startedAt,
		modelCalls,
	});
}
