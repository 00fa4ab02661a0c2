import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { InputError } from '../../lib/types';

/** UI labels of the parameters, by the field name lib's InputError carries (`query` → `Query`). */
export type FieldLabels = Record<string, string>;

/**
 * A NodeOperationError that keeps the given message. n8n replaces any message mentioning a network code
 * (ECONNREFUSED, ENOTFOUND…) with a generic sentence such as "The service refused the connection", which
 * would drop the URL or host our message names.
 */
export function itemError(
	ctx: IExecuteFunctions,
	error: Error | string,
	itemIndex: number,
	description?: string,
): NodeOperationError {
	const nodeError = new NodeOperationError(ctx.getNode(), error, { itemIndex, description });
	nodeError.message = typeof error === 'string' ? error : error.message;
	return nodeError;
}

/**
 * Turns any error into the n8n error shown on the item: n8n errors stay as they are, and a lib InputError
 * names the parameter to fix as the user sees it.
 */
export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	fieldLabels: FieldLabels,
): NodeOperationError | NodeApiError {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) {
		error.context.itemIndex ??= itemIndex;
		return error;
	}
	const field = error instanceof InputError ? error.field : undefined;
	const description = field
		? `Check the "${fieldLabels[field] ?? field}" parameter of item ${itemIndex + 1}.`
		: undefined;
	return itemError(ctx, error instanceof Error ? error : String(error), itemIndex, description);
}

/**
 * What a failing item becomes: without "On Error: Continue" the error, thrown, stops the node; with it, an
 * `{ error, description }` item paired with the failing input item, so the run goes on.
 */
export function errorItem(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	fieldLabels: FieldLabels,
): INodeExecutionData {
	const nodeError = toNodeError(ctx, error, itemIndex, fieldLabels);
	if (!ctx.continueOnFail()) throw nodeError;
	const json = nodeError.description
		? { error: nodeError.message, description: nodeError.description }
		: { error: nodeError.message };
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * Runs `run` for every input item, pairing each output item with its input. A failing item stops the node,
 * or, with "On Error: Continue", becomes an `{ error }` item and the next item runs.
 *
 * Once the execution is cancelled the node returns instead of failing: the engine then marks the execution
 * cancelled (manually or by timeout), where a thrown abort error would mark it failed.
 */
export async function executePerItem(
	ctx: IExecuteFunctions,
	fieldLabels: FieldLabels,
	run: (itemIndex: number) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	const itemCount = ctx.getInputData().length;
	const cancelSignal = ctx.getExecutionCancelSignal?.();
	for (let itemIndex = 0; itemIndex < itemCount && !cancelSignal?.aborted; itemIndex++) {
		try {
			for (const item of await run(itemIndex))
				output.push({ ...item, pairedItem: { item: itemIndex } });
		} catch (error) {
			if (cancelSignal?.aborted) break;
			output.push(errorItem(ctx, error, itemIndex, fieldLabels));
		}
	}
	return output;
}
