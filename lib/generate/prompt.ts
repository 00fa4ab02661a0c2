/**
 * Prompt assembly: instructions, numbered sources, conversation history and approved examples fitted into the
 * model's context window.
 *
 * Message layout (one system message first, because many self-hosted chat templates — Mistral, Llama — accept
 * a system message only at the start):
 *   system     instructions + citation / grounding / language / tone / format rules + output-only examples
 *   user/asst  few-shot example pairs (approved past outputs with the request that produced them)
 *   …          history, oldest first
 *   user       numbered sources, then the prompt
 *
 * When everything does not fit, whole items are dropped, least relevant first:
 *   1. sources other than the best one, lowest score first (input order breaks ties: later goes first)
 *   2. history, oldest message first
 *   3. examples other than the first, last first
 *   4. the first example
 *   5. the best source is cut to the room left (or dropped when no room is left)
 * The instructions and the prompt are never dropped: if they alone exceed the budget, that is an error.
 * Kept sources are renumbered 1…k in their input order, so the numbers the model sees are the numbers the
 * citations are checked against.
 */
import { countTokens, truncateToTokens } from '../tokens';
import { InputError } from '../types';

/** A Vector Search hit (or anything with text and a source id); plain strings are accepted as sources too. */
export interface SourceHit {
	text: string;
	sourceId: string;
	score?: number;
	title?: string;
	url?: string;
	/** Number assigned by Vector Search; replaced by our own numbering, kept in the mapping. */
	citation?: number | string;
	index?: number;
	[key: string]: unknown;
}
export type SourceInput = SourceHit | string;

export type ChatRole = 'system' | 'user' | 'assistant';
export interface ChatMessage {
	role: ChatRole;
	content: string;
}

/** An approved past output; with `input` it becomes a user/assistant pair, without it a style sample. */
export interface ExampleInput {
	input?: string;
	output: string;
}

export interface PromptInput {
	instructions?: string;
	prompt: string;
	sources?: SourceInput[];
	/** Memory Store messages, oldest first. Roles `human`/`ai` are read as `user`/`assistant`, `tool` as user text. */
	history?: Array<{ role: string; content: string }>;
	examples?: Array<ExampleInput | string>;
	/** e.g. `German`, `fr`; the answer is written in it. */
	language?: string;
	/** e.g. `friendly`, `formal`. */
	tone?: string;
	/** Adds the "answer only from the sources, else reply with the sentinel" rule. */
	answerOnlyFromSources?: boolean;
	/** When set, the system message asks for JSON matching this schema (the request also sets response_format). */
	jsonSchema?: object;
}

export interface PromptBudget {
	/** The model's context window in tokens. */
	contextWindow: number;
	/** Tokens kept free for the answer. */
	reservedOutputTokens: number;
}

/** A source the model was shown, under the number it was shown with. */
export interface NumberedSource {
	n: number;
	sourceId: string;
	title?: string;
	url?: string;
	score?: number;
	/** Position in the input `sources` array. */
	inputIndex: number;
	/** The number Vector Search gave the hit, if any. */
	originalCitation?: number | string;
	/** True when the text was cut to fit the budget. */
	truncated: boolean;
}

export interface TrimReport {
	/** Input indexes of sources dropped. */
	sources: number[];
	/** Input indexes of the source cut short. */
	truncatedSources: number[];
	/** Number of history messages dropped (always the oldest). */
	historyMessages: number;
	/** Input indexes of examples dropped. */
	examples: number[];
}

export interface BuiltPrompt {
	messages: ChatMessage[];
	sources: NumberedSource[];
	/** The text each source was shown with (cut and ending in `…` when truncated), parallel to `sources`. */
	sourceTexts: string[];
	promptTokens: number;
	budgetTokens: number;
	trimmed: TrimReport;
}

/** What the model must reply, exactly, when the sources do not contain the answer. */
export const NOT_IN_SOURCES_SENTINEL = 'NOT_ENOUGH_INFORMATION';

/** Chat formats wrap each message in a few tokens of markup (OpenAI's published estimate: 3 + 3 for the reply). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_FOR_REPLY_PRIMING = 3;
/** A source cut below this many tokens is not worth sending. */
const MIN_SOURCE_TOKENS = 32;

export const DEFAULT_BUDGET: PromptBudget = { contextWindow: 8192, reservedOutputTokens: 1024 };

interface NormalizedSource {
	hit: SourceHit;
	inputIndex: number;
	text: string;
}

function normalizeSources(sources: SourceInput[]): NormalizedSource[] {
	return sources.map((source, inputIndex) => {
		const hit: SourceHit =
			typeof source === 'string' ? { text: source, sourceId: `source-${inputIndex + 1}` } : source;
		if (typeof hit !== 'object' || hit === null || typeof hit.text !== 'string') {
			throw new InputError(
				`Source ${inputIndex + 1} has no text: give Vector Search hits ({ text, sourceId, title, url }) or plain strings`,
				'sources',
			);
		}
		return { hit, inputIndex, text: hit.text.trim() };
	});
}

function normalizeHistory(history: Array<{ role: string; content: string }>): ChatMessage[] {
	const aliases: Record<string, ChatRole> = { user: 'user', human: 'user', assistant: 'assistant', ai: 'assistant', system: 'system', tool: 'user' };
	return history.map((message, position) => {
		const spelledRole = String(message?.role).toLowerCase();
		const role = aliases[spelledRole];
		if (!role || typeof message.content !== 'string') {
			throw new InputError(
				`History message ${position + 1} needs a role (user, assistant, system or tool) and a text content; got ${JSON.stringify(message).slice(0, 120)}`,
				'history',
			);
		}
		// A stored tool result has lost the tool call it answered, which the chat API requires: pass it as text.
		return { role, content: spelledRole === 'tool' ? `Tool result:\n${message.content}` : message.content };
	});
}

function normalizeExamples(examples: Array<ExampleInput | string>): ExampleInput[] {
	return examples.map((example, position) => {
		const normalized = typeof example === 'string' ? { output: example } : example;
		if (typeof normalized?.output !== 'string') {
			throw new InputError(`Example ${position + 1} needs an "output" text (and optionally the "input" that produced it)`, 'examples');
		}
		return normalized;
	});
}

function renderSource(n: number, source: NormalizedSource, text: string): string {
	const { title, url } = source.hit;
	const heading = [title, url && url !== title ? url : undefined].filter(Boolean).join(' — ');
	return `[${n}]${heading ? ` ${heading}` : ''}\n${text}`;
}

function systemRules(input: PromptInput, hasSources: boolean, styleSamples: ExampleInput[]): string {
	const parts: string[] = [];
	if (input.instructions?.trim()) parts.push(input.instructions.trim());
	if (hasSources) {
		parts.push(
			'The user message lists numbered sources. Cite the sources you use with their numbers in square brackets, ' +
				'e.g. [1] or [1][3], right after the statement they support. Cite only numbers that are listed.',
		);
	}
	if (input.answerOnlyFromSources) {
		parts.push(
			'Answer only with information found in the sources; do not use outside knowledge. ' +
				`If the sources do not contain the answer, reply with exactly ${NOT_IN_SOURCES_SENTINEL} and nothing else.`,
		);
	}
	if (input.language?.trim()) parts.push(`Write the answer in ${input.language.trim()}.`);
	if (input.tone?.trim()) parts.push(`Use a ${input.tone.trim()} tone.`);
	if (input.jsonSchema) {
		parts.push(
			`Reply with a single JSON value, without Markdown fences, that matches this JSON Schema:\n${JSON.stringify(input.jsonSchema)}`,
		);
	}
	if (styleSamples.length) {
		parts.push(
			'Approved examples of past outputs (match their style and structure, not their facts):\n' +
				styleSamples.map((sample, i) => `--- Example ${i + 1} ---\n${sample.output.trim()}`).join('\n'),
		);
	}
	return parts.join('\n\n');
}

function messageTokens(messages: ChatMessage[]): number {
	return messages.reduce((sum, m) => sum + TOKENS_PER_MESSAGE + countTokens(m.content), TOKENS_FOR_REPLY_PRIMING);
}

/** Builds the messages for one generation, trimming to the budget; see the module comment for the order. */
export function buildPrompt(input: PromptInput, budget: PromptBudget = DEFAULT_BUDGET): BuiltPrompt {
	if (!input.prompt?.trim()) throw new InputError('Prompt is empty: give the task or question for the model', 'prompt');
	const budgetTokens = budget.contextWindow - budget.reservedOutputTokens;
	if (!(budgetTokens > 0)) {
		throw new InputError(
			`Reserved output tokens (${budget.reservedOutputTokens}) must be smaller than the context window (${budget.contextWindow})`,
			'contextWindow',
		);
	}

	const sources = normalizeSources(input.sources ?? []).filter((source) => source.text !== '');
	const history = normalizeHistory(input.history ?? []);
	const examples = normalizeExamples(input.examples ?? []).map((example, inputIndex) => ({ example, inputIndex }));

	// The best source is the one with the highest score (the first one when scores are absent).
	const bestSource = [...sources].sort(
		(a, b) => (b.hit.score ?? -Infinity) - (a.hit.score ?? -Infinity) || a.inputIndex - b.inputIndex,
	)[0];
	// Mutable selection, shrunk by the trimming steps below.
	let keptSources = [...sources];
	let bestSourceText: string | undefined;
	let keptHistory = history;
	let keptExamples = examples;
	const trimmed: TrimReport = { sources: [], truncatedSources: [], historyMessages: 0, examples: [] };

	const assemble = () => {
		const numbered = keptSources.map((source, i) => ({
			source,
			n: i + 1,
			text: source === bestSource && bestSourceText !== undefined ? bestSourceText : source.text,
		}));
		const pairs = keptExamples.filter(({ example }) => example.input?.trim());
		const samples = keptExamples.filter(({ example }) => !example.input?.trim()).map(({ example }) => example);
		const sourceBlock = numbered.length
			? `Sources:\n\n${numbered.map(({ n, source, text }) => renderSource(n, source, text)).join('\n\n')}\n\n---\n\n`
			: '';
		const system = systemRules(input, numbered.length > 0, samples);
		const messages: ChatMessage[] = [
			...(system ? [{ role: 'system' as const, content: system }] : []),
			...pairs.flatMap(({ example }): ChatMessage[] => [
				{ role: 'user', content: example.input!.trim() },
				{ role: 'assistant', content: example.output.trim() },
			]),
			...keptHistory,
			{ role: 'user', content: sourceBlock + input.prompt.trim() },
		];
		return { messages, numbered };
	};
	const tokensNow = () => messageTokens(assemble().messages);

	// Steps 1–4 of the module comment, as one sequence of whole-item removals. Removing an item never makes the
	// prompt longer, so the fewest removals that fit are found by binary search: a handful of exact counts
	// instead of one per item (50 hits into 8k tokens: ~1 s item by item, ~0.1 s this way).
	type Removal = { source: NormalizedSource } | { history: true } | { example: (typeof examples)[number] };
	const removals: Removal[] = [
		...sources
			.filter((source) => source !== bestSource)
			.sort((a, b) => (a.hit.score ?? -Infinity) - (b.hit.score ?? -Infinity) || b.inputIndex - a.inputIndex)
			.map((source) => ({ source })),
		...history.map(() => ({ history: true as const })),
		...[...examples].reverse().map((example) => ({ example })),
	];
	const applyRemovals = (count: number) => {
		const applied = removals.slice(0, count);
		const droppedSources = applied.flatMap((removal) => ('source' in removal ? [removal.source] : []));
		const droppedExamples = applied.flatMap((removal) => ('example' in removal ? [removal.example] : []));
		keptSources = sources.filter((source) => !droppedSources.includes(source));
		keptHistory = history.slice(applied.filter((removal) => 'history' in removal).length);
		keptExamples = examples.filter((example) => !droppedExamples.includes(example));
		trimmed.sources = droppedSources.map((source) => source.inputIndex);
		trimmed.historyMessages = history.length - keptHistory.length;
		trimmed.examples = droppedExamples.map((example) => example.inputIndex);
	};
	if (tokensNow() > budgetTokens) {
		let low = 1;
		let high = removals.length;
		while (low < high) {
			const middle = Math.floor((low + high) / 2);
			applyRemovals(middle);
			if (tokensNow() <= budgetTokens) high = middle;
			else low = middle + 1;
		}
		applyRemovals(low);
	}
	if (bestSource && tokensNow() > budgetTokens) {
		// Token counts are not exactly additive across a cut, so shrink until the whole prompt fits.
		let room = countTokens(bestSource.text);
		for (let overflow = tokensNow() - budgetTokens; overflow > 0 && room >= MIN_SOURCE_TOKENS; overflow = tokensNow() - budgetTokens) {
			room -= overflow + 1;
			bestSourceText = `${truncateToTokens(bestSource.text, room)}…`;
		}
		if (room >= MIN_SOURCE_TOKENS) {
			trimmed.truncatedSources.push(bestSource.inputIndex);
		} else {
			keptSources = [];
			trimmed.sources.push(bestSource.inputIndex);
		}
	}

	const { messages, numbered } = assemble();
	const promptTokens = messageTokens(messages);
	if (promptTokens > budgetTokens) {
		throw new InputError(
			`The instructions and the prompt alone take ${promptTokens} tokens, more than the ${budgetTokens} available ` +
				`(context window ${budget.contextWindow} minus ${budget.reservedOutputTokens} reserved for the answer). ` +
				'Shorten them, raise the context window if the model allows it, or reserve fewer output tokens.',
			'prompt',
		);
	}
	return {
		messages,
		sources: numbered.map(({ n, source, text }) => ({
			n,
			sourceId: source.hit.sourceId,
			title: source.hit.title,
			url: source.hit.url,
			score: source.hit.score,
			inputIndex: source.inputIndex,
			originalCitation: source.hit.citation,
			truncated: text !== source.text,
		})),
		sourceTexts: numbered.map(({ text }) => text),
		promptTokens,
		budgetTokens,
		trimmed,
	};
}
