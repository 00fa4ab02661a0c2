import type { INodeParameters } from 'n8n-workflow';

import {
	isAgentChosen,
	readsToolCallInput,
	refuseAgentChosenParameters,
	type OwnerParameter,
} from '../../nodes/shared/agentGuard';
import { InputError } from '../../lib/types';

const owner = (path: string, field: string, label: string): OwnerParameter => ({
	path,
	field,
	label,
	decides: 'whose data is used',
	instead: 'Set it from the workflow.',
});

const guarded = [
	owner('namespace', 'namespace', 'Namespace'),
	owner('storageOptions.keyPrefix', 'keyPrefix', 'Key Prefix'),
	owner('target', 'target', 'Target'),
];

const refusal = (type: string, parameters: INodeParameters) => {
	try {
		refuseAgentChosenParameters({ type, parameters }, guarded);
		return undefined;
	} catch (error) {
		expect(error).toBeInstanceOf(InputError);
		return { message: (error as InputError).message, field: (error as InputError).field };
	}
};

describe('agent guard', () => {
	it.each([
		"={{ $fromAI('ns') }}",
		"={{ $fromai('ns') }}",
		"={{ $fromAi('ns') }}",
		"={{ $FromAI ('ns') }}",
		"={{ $fromAI\n(\n'ns') }}",
		"={{ /*n8n-auto-generated-fromAI-override*/ $fromAI('Namespace', ``, 'string') }}",
		"={{ 'acme-' + $fromAI('ns') }}",
		"={{ \\u0024fromAI('ns') }}",
		"={{ $from\\u{41}I('ns') }}",
		"$fromAI('ns')",
	])('recognises %s as chosen by the agent', (raw) => {
		expect(isAgentChosen(raw)).toBe(true);
	});

	it.each(['acme', "={{ $json.namespace }}", "={{ $('When chat message received').item.json.sessionId }}", 'from AI'])(
		'does not take %s for $fromAI',
		(raw) => {
			expect(isAgentChosen(raw)).toBe(false);
		},
	);

	it.each([
		'={{ $json.sessionId }}',
		'={{ $json["sessionId"] }}',
		'={{ $input.item.json.sessionId }}',
		'={{ $input.first().json.sessionId }}',
		'={{ $data.sessionId }}',
		'={{ $thisItem.json.sessionId }}',
		'={{ $items()[0].json.sessionId }}',
		'={{ $parameter.content }}',
		'={{ $tool.parameters }}',
		'={{ \\u0024json.sessionId }}',
	])('recognises %s as reading the tool call input', (raw) => {
		expect(readsToolCallInput(raw)).toBe(true);
	});

	it.each([
		"={{ $('When chat message received').item.json.sessionId }}",
		"={{ $items('Start')[0].json.sessionId }}",
		'={{ $itemIndex }}',
		'={{ $execution.id }}',
		'$json.sessionId',
	])('lets %s through (another node, or no expression)', (raw) => {
		expect(readsToolCallInput(raw)).toBe(false);
	});

	it('refuses $fromAI inside collections, fixed collections and resource locators, naming the field', () => {
		expect(refusal('pack.memoryStore', { storageOptions: { keyPrefix: "={{ $fromAi('p') }}" } })).toEqual({
			field: 'keyPrefix',
			message: 'The AI agent may not choose the Key Prefix ($fromAI): it decides whose data is used. Set it from the workflow.',
		});
		expect(refusal('pack.memoryStore', { target: { values: [{ key: 'a', value: "={{ $fromAI('t') }}" }] } })?.field).toBe('target');
		expect(refusal('pack.memoryStore', { target: { __rl: true, mode: 'id', value: "={{ $fromAI('t') }}" } })?.field).toBe('target');
	});

	it('refuses $json only when the node runs as an agent tool', () => {
		const parameters = { namespace: '={{ $json.client }}', storageOptions: { keyPrefix: 'symbiotic' } };
		expect(refusal('pack.memoryStore', parameters)).toBeUndefined();
		expect(refusal('pack.memoryStoreTool', parameters)).toEqual({
			field: 'namespace',
			message: expect.stringMatching(/^As an AI agent tool, the Namespace may not come from the tool call's input/),
		});
	});

	it('accepts fixed values, other nodes\' output and absent parameters', () => {
		expect(
			refusal('pack.memoryStoreTool', {
				namespace: 'acme',
				storageOptions: {},
				target: "={{ $('When chat message received').item.json.sessionId }}",
				content: "={{ $fromAI('content') }}",
			}),
		).toBeUndefined();
	});
});
