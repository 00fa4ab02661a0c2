/** Generate: grounded, cited answers from any OpenAI-compatible chat model. */
export { checkCitations, findCitations, type CheckedCitations, type CitationMark } from './citations';
export {
	createChatClient,
	ModelRequestError,
	type ChatClient,
	type ChatClientOptions,
	type ChatCompletionResult,
	type ChatRequest,
	type ResponseFormat,
	type TokenUsage,
} from './client';
export {
	DEFAULT_NOT_ENOUGH_INFORMATION,
	generate,
	JsonOutputError,
	type AnswerGrounding,
	type Citation,
	type GenerateOptions,
	type GenerateResult,
} from './generate';
export {
	CUSTOMER_TEXT_STYLES,
	customerSourcesFromItem,
	toCustomerJson,
	toCustomerText,
	type CustomerTextSource,
	type CustomerTextStyle,
} from './customerText';
export {
	ANSWER_LANGUAGES,
	notEnoughInformationText,
	recognizeLanguage,
	sourcesHeading,
	type AnswerLanguage,
	type AnswerLanguageTexts,
} from './languages';
export { parseListInput } from './listInput';
export { compileJsonSchema, parseJsonReply, type JsonProblem, type JsonSchemaValidator } from './jsonOutput';
export {
	buildPrompt,
	DEFAULT_BUDGET,
	NOT_IN_SOURCES_SENTINEL,
	type BuiltPrompt,
	type ChatMessage,
	type ExampleInput,
	type NumberedSource,
	type PromptBudget,
	type PromptInput,
	type SourceHit,
	type SourceInput,
	type TrimReport,
} from './prompt';
