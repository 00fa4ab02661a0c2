import { readSession } from './session';
import type { MemoryOperation } from './types';

export const clearSession: MemoryOperation = {
	description: [],
	async execute(ctx, itemIndex, memory) {
		const session = readSession(ctx, itemIndex);
		return { ...session, cleared: await memory.clearSession(session) };
	},
};
