import type { INode, NodeParameterValueType } from 'n8n-workflow';
import { isToolType } from 'n8n-workflow';

import { InputError } from '../../lib/types';

/**
 * A parameter that decides whose data a node reads or changes (namespace, session, collection…). As an AI
 * Agent tool, such a parameter filled in by the agent's model would let a prompt steer the node to another
 * client's or contact's data: it must come from the workflow.
 */
export interface OwnerParameter {
	/** Where it is in the node's parameters, dot-separated inside collections: `storageOptions.keyPrefix`. */
	path: string;
	/** Field name the InputError carries, which the node's labels turn into "Check the … parameter". */
	field: string;
	/** Name in the UI, for the message. */
	label: string;
	/** What the value decides, ending the sentence "it decides …": `whose conversation is read or changed`. */
	decides: string;
	/** How to set it instead: a sentence. */
	instead: string;
}

/**
 * `$fromAI(…)` in any spelling n8n accepts. n8n builds the tool's input schema from every match of
 * `/\$fromAI\s*\(/i` in the node's parameters (`extractFromAICalls`), and its expressions know `$fromAI`,
 * `$fromai` and `$fromAi`; matching the name case-insensitively, with or without the call, covers all of
 * them (`$FROMAI (`, `$fromAi(`, a reference without call).
 */
const AGENT_CHOSEN = /\$fromai/i;

/**
 * Expression variables that, in a tool's run, read the tool call's input. n8n runs an agent's tool on the
 * agent's input item merged with the arguments its model sent (`{ ...agentItem, ...toolArguments }`), so the
 * model can override any field there, e.g. `sessionId`. `$parameter`/`$rawParameter` read the node's other
 * parameters (which may hold `$fromAI`), `$tool` the call's parameters, `$evaluateExpression` any of these.
 * `$('Node name')…` and `$items('Node name')` read another node's output and stay allowed.
 */
const TOOL_CALL_INPUT =
	/\$(?:json|data|input|item|thisItem|binary|parameter|rawParameter|tool|evaluateExpression)\b|\$items\s*\(\s*\)/;

/** JavaScript allows `\u0024fromAI` or `$from\u{41}I` for an identifier: read such escapes as the characters. */
function withoutUnicodeEscapes(text: string): string {
	return text.replace(/\\u\{([0-9a-f]{1,6})\}|\\u([0-9a-f]{4})/gi, (escape, braced?: string, plain?: string) => {
		const code = parseInt(braced ?? plain ?? '', 16);
		return code <= 0x10ffff ? String.fromCodePoint(code) : escape;
	});
}

/** Every string in a parameter value, also inside collections, fixed collections and resource locators. */
function stringsIn(value: NodeParameterValueType | undefined): string[] {
	if (typeof value === 'string') return [value];
	if (Array.isArray(value)) return value.flatMap((entry) => stringsIn(entry as NodeParameterValueType));
	if (value && typeof value === 'object') return Object.values(value).flatMap((entry) => stringsIn(entry as NodeParameterValueType));
	return [];
}

function valueAt(parameters: INode['parameters'], path: string): NodeParameterValueType | undefined {
	let value: unknown = parameters;
	for (const key of path.split('.')) {
		if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
		value = (value as Record<string, unknown>)[key];
	}
	return value as NodeParameterValueType;
}

/** Whether a raw parameter string lets the agent's model choose the value (`$fromAI` in any spelling). */
export function isAgentChosen(raw: string): boolean {
	return AGENT_CHOSEN.test(withoutUnicodeEscapes(raw));
}

/** Whether a raw parameter string is an expression that reads the current item, which a tool call can set. */
export function readsToolCallInput(raw: string): boolean {
	return raw.startsWith('=') && TOOL_CALL_INPUT.test(withoutUnicodeEscapes(raw));
}

/**
 * Throws an InputError naming the first owner parameter the agent's model could choose: one using `$fromAI`
 * (whether or not the node runs as a tool), or, when the node runs as an agent tool, one reading the tool
 * call's input (`$json.sessionId`…). Reads the raw parameters, before n8n resolves any expression.
 */
export function refuseAgentChosenParameters(
	node: Pick<INode, 'type' | 'parameters'>,
	ownerParameters: readonly OwnerParameter[],
): void {
	// n8n gives the AI Agent a `usableAsTool` node as a type of its own: `…memoryStore` → `…memoryStoreTool`.
	const asTool = isToolType(node.type);
	for (const parameter of ownerParameters) {
		for (const raw of stringsIn(valueAt(node.parameters, parameter.path))) {
			if (isAgentChosen(raw)) {
				throw new InputError(
					`The AI agent may not choose the ${parameter.label} ($fromAI): it decides ${parameter.decides}. ${parameter.instead}`,
					parameter.field,
				);
			}
			if (asTool && readsToolCallInput(raw)) {
				throw new InputError(
					`As an AI agent tool, the ${parameter.label} may not come from the tool call's input ($json, $input…): the agent's model can send any field there, and the ${parameter.label} decides ${parameter.decides}. ${parameter.instead}`,
					parameter.field,
				);
			}
		}
	}
}
