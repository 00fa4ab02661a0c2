import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { MemoryBackend } from '../../lib/memory';
import { executePerItem } from '../shared/perItem';
import { openMemory } from './backend';
import { appendMessages } from './operations/appendMessages';
import { clearSession } from './operations/clearSession';
import { getFacts } from './operations/getFacts';
import { getHistory } from './operations/getHistory';
import { listSessions } from './operations/listSessions';
import { setFacts } from './operations/setFacts';
import type { MemoryOperation } from './operations/types';

export const memoryOperations: Record<string, MemoryOperation> = {
	appendMessages,
	getHistory,
	setFacts,
	getFacts,
	clearSession,
	listSessions,
};

/** UI labels by the field name lib's InputError carries. */
const fieldLabels = {
	sessionId: 'Session ID',
	namespace: 'Namespace',
	messages: 'Messages',
	messagesJson: 'Messages (JSON)',
	role: 'Role',
	content: 'Content',
	at: 'Messages (JSON)',
	metadata: 'Metadata (JSON)',
	facts: 'Facts',
	lastN: 'Last N Messages',
	tokenBudget: 'Token Budget',
	limit: 'Limit',
	cursor: 'Cursor',
	ttl: 'Forget After (Days)',
	maxMessages: 'Max Messages Kept',
	keyPrefix: 'Key Prefix',
};

export async function executeMemoryStore(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = memoryOperations[ctx.getNodeParameter('operation', 0) as string];
	// Opened once for all items; a failed connection is not retried per item (each would wait for the
	// timeout again), every item reports the same error instead.
	let memory: Promise<MemoryBackend> | undefined;
	try {
		const items = await executePerItem(ctx, fieldLabels, async (itemIndex) => {
			memory ??= openMemory(ctx);
			return [{ json: await operation.execute(ctx, itemIndex, await memory) }];
		});
		return [items];
	} finally {
		await memory?.then((opened) => opened.close()).catch(() => undefined);
	}
}
