/** Conversation memory: messages and per-contact facts, in Redis or in-process. */
export type * from './types';
export { MemoryConnectionError, MESSAGE_ROLES } from './types';
export { DEFAULT_KEY_PREFIX, DEFAULT_RETENTION, MAX_SESSION_ID_LENGTH, normalizeSessionId, parseJsonInput } from './input';
export { sessionKeys } from './keys';
export { InProcessMemoryBackend } from './inProcessBackend';
export type { InProcessMemoryOptions } from './inProcessBackend';
export { RedisMemoryBackend } from './redisBackend';
export type { RedisMemoryOptions } from './redisBackend';
export { createRedisClient, describeEndpoint, parseEndpoints } from './redisConnection';
export type { RedisClient, RedisConnectionConfig, RedisEndpoint } from './redisConnection';
export {
	CHAT_METADATA_KEY,
	FACTS_OPENING,
	factsMessage,
	readableContent,
	SessionChatHistory,
	SessionChatMemory,
	startAtCleanBoundary,
	toChatMessage,
	toMessageInput,
} from './chatHistory';
export type { ChatMemoryOptions, ChatMessage, ChatPart, FactsRole } from './chatHistory';
