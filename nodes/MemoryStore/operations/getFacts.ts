import { readSession } from './session';
import type { MemoryOperation } from './types';

export const getFacts: MemoryOperation = {
	description: [],
	async execute(ctx, itemIndex, memory) {
		const session = readSession(ctx, itemIndex);
		return { ...session, facts: await memory.getFacts(session) };
	},
};
