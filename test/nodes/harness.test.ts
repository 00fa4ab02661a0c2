import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, INode, INodeExecutionData, INodeType } from 'n8n-workflow';

import { linearWorkflow, runWorkflow } from '../support/n8nHarness';

/** Divides each item's `value` by the `divisor` parameter; dividing by zero is an error on that item. */
class Divide implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Divide',
		name: 'divide',
		group: ['transform'],
		version: 1,
		description: 'Test node',
		defaults: { name: 'Divide' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'testApi', required: false }],
		properties: [
			{ displayName: 'Divisor', name: 'divisor', type: 'number', default: 1 },
			{ displayName: 'Label', name: 'label', type: 'string', default: '' },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		const hasCredential = Boolean(this.getNode().credentials?.testApi);
		const credential = hasCredential ? await this.getCredentials('testApi') : undefined;
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const divisor = this.getNodeParameter('divisor', itemIndex) as number;
				if (divisor === 0) {
					throw new NodeOperationError(this.getNode(), 'Cannot divide by zero', { itemIndex });
				}
				results.push({
					json: {
						quotient: (items[itemIndex].json.value as number) / divisor,
						label: this.getNodeParameter('label', itemIndex),
						token: credential?.token ?? null,
						cancelSignal: this.getExecutionCancelSignal() instanceof AbortSignal,
					},
					pairedItem: { item: itemIndex },
				});
			} catch (error) {
				if (!this.continueOnFail()) throw error;
				results.push({
					json: { error: (error as Error).message },
					pairedItem: { item: itemIndex },
				});
			}
		}
		return [results];
	}
}

function divideWorkflow(divideNode: Partial<INode>) {
	return linearWorkflow({ name: 'Divide', type: 'test.divide', ...divideNode });
}

const nodeTypes = { 'test.divide': new Divide() };
const inputItems = [
	{ json: { value: 10, divisor: 2 } },
	{ json: { value: 7, divisor: 0 } },
	{ json: { value: 9, divisor: 3 } },
];

describe('n8n engine harness', () => {
	it('resolves expressions per item against the incoming item', async () => {
		const result = await runWorkflow(
			divideWorkflow({
				parameters: {
					divisor: '={{ $json.value > 8 ? 2 : 1 }}',
					label: '=item {{ $itemIndex }} of {{ $json.value }}',
				},
			}),
			{ nodeTypes, inputItems: [{ json: { value: 10 } }, { json: { value: 7 } }] },
		);
		expect(result.error).toBeUndefined();
		expect(result.outputs.Divide[0].map((item) => item.json)).toEqual([
			{ quotient: 5, label: 'item 0 of 10', token: null, cancelSignal: true },
			{ quotient: 7, label: 'item 1 of 7', token: null, cancelSignal: true },
		]);
	});

	it('stops the execution on an item error when Continue On Fail is off', async () => {
		const result = await runWorkflow(
			divideWorkflow({ parameters: { divisor: '={{ $json.divisor }}' } }),
			{
				nodeTypes,
				inputItems,
			},
		);
		expect(result.error?.message).toBe('Cannot divide by zero');
		expect(result.run.status).toBe('error');
		expect(result.outputs.Divide).toBeUndefined();
	});

	it('keeps going with an error item when the node is set to continue on fail', async () => {
		const result = await runWorkflow(
			divideWorkflow({
				parameters: { divisor: '={{ $json.divisor }}' },
				onError: 'continueRegularOutput',
			}),
			{ nodeTypes, inputItems },
		);
		expect(result.error).toBeUndefined();
		expect(result.run.status).toBe('success');
		const out = result.outputs.Divide[0];
		expect(out.map((item) => item.json.quotient ?? item.json.error)).toEqual([
			5,
			'Cannot divide by zero',
			3,
		]);
		expect(out.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	it('serves the credential given for a type the node declares', async () => {
		const result = await runWorkflow(divideWorkflow({}), {
			nodeTypes,
			credentials: { testApi: { token: 'secret-token' } },
		});
		expect(result.outputs.Divide[0][0].json.token).toBe('secret-token');
	});
});
