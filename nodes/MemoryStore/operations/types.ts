import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { MemoryBackend } from '../../../lib/memory';

/** One operation of the Memory Store: its UI fields and what it does for one input item. */
export interface MemoryOperation {
	description: INodeProperties[];
	execute(ctx: IExecuteFunctions, itemIndex: number, memory: MemoryBackend): Promise<IDataObject>;
}
