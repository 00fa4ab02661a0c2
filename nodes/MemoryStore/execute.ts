import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { MemoryBackend } from '../../lib/memory';
import { refuseAgentChosenParameters, type OwnerParameter } from '../shared/agentGuard';
import { executePerItem } from '../shared/perItem';
import { openMemory } from './backend';
import { appendMessages } from './operations/appendMessages';
import { clearSession } from './operations/clearSession';
import { getFacts } from './operations/getFacts';
import { getHistory } from './operations/getHistory';
import { listSessions } from './operations/listSessions';
import { setFacts } from './operations/setFacts';
import { SESSION_OPERATIONS } from './operations/session';
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

/**
 * What decides whose memory is read, changed or listed. Filled in by an AI agent (`$fromAI()`, or as a tool
 * the tool call's input), a prompt could make the agent read, clear or list another contact's memory.
 */
const ownerParameters: OwnerParameter[] = [
	{
		path: 'sessionId',
		field: 'sessionId',
		label: fieldLabels.sessionId,
		decides: 'whose conversation is read or changed',
		instead:
			"Set it from the workflow, e.g. the chat's session: {{ $('When chat message received').item.json.sessionId }}.",
	},
	{
		path: 'namespace',
		field: 'namespace',
		label: fieldLabels.namespace,
		decides: 'whose memories are read, changed or listed',
		instead: "Set a fixed value, or an expression on another node's output, e.g. {{ $('Node name').item.json.namespace }}.",
	},
	{
		path: 'storageOptions.keyPrefix',
		field: 'keyPrefix',
		label: fieldLabels.keyPrefix,
		decides: 'which stored memories are read, changed or listed',
		instead: 'Set a fixed value.',
	},
];

export async function executeMemoryStore(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operationName = ctx.getNodeParameter('operation', 0) as string;
	const operation = memoryOperations[operationName];
	// Opened once for all items; a failed connection is not retried per item (each would wait for the
	// timeout again), every item reports the same error instead.
	let memory: Promise<MemoryBackend> | undefined;
	// Session ID is only read (and shown) by the operations on one session, not by List Sessions.
	const guarded = SESSION_OPERATIONS.includes(operationName)
		? ownerParameters
		: ownerParameters.filter((parameter) => parameter.path !== 'sessionId');
	try {
		const items = await executePerItem(ctx, fieldLabels, async (itemIndex) => {
			refuseAgentChosenParameters(ctx.getNode(), guarded);
			memory ??= openMemory(ctx);
			return [{ json: await operation.execute(ctx, itemIndex, await memory) }];
		});
		return [items];
	} finally {
		await memory?.then((opened) => opened.close()).catch(() => undefined);
	}
}
