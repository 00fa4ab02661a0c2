/**
 * Runs a workflow through n8n's real execution engine, in-process: `Workflow` from n8n-workflow and
 * `WorkflowExecute` from n8n-core — the same pair n8n's own node tests use. Only the pieces that in n8n
 * live in the server (credential storage, lifecycle hooks, sub-workflow calls) are supplied here, each
 * with the behaviour a node can observe: decrypted credentials by type, `continueOnFail`, expressions,
 * cancel signal, paired items.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import {
	createRunExecutionData,
	deepCopy,
	ICredentialsHelper,
	NodeConnectionTypes,
	UnexpectedError,
	Workflow,
} from 'n8n-workflow';
import type {
	ExecutionBaseError,
	ICredentialDataDecryptedObject,
	ICredentials,
	IConnections,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRun,
	IRunData,
	IVersionedNodeType,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
} from 'n8n-workflow';

// n8n reads these when the first execution builds its instance settings and logger, not at import time.
// The instance folder holds a settings file with an HMAC secret: keep test runs out of the real ~/.n8n.
process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'symbiotic-n8n-'));
// n8n's error reporter logs every node error; tests assert errors themselves. N8N_LOG_LEVEL=debug shows them.
process.env.N8N_LOG_LEVEL ??= 'silent';

const WORKFLOW_NAME = 'Harness workflow';

/** Type of the trigger node every harness workflow starts from; it emits `inputItems`. */
export const HARNESS_TRIGGER_TYPE = 'symbiotic-test.trigger';

/** Name of the trigger node `linearWorkflow` puts first. */
export const HARNESS_TRIGGER_NAME = 'Start';

class HarnessTrigger implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Test Trigger',
		name: 'trigger',
		group: ['trigger'],
		version: 1,
		description: 'Starts a test workflow with the items the test provides',
		defaults: { name: HARNESS_TRIGGER_NAME },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	// runWorkflow puts the test's items on the execution stack as this node's input; it passes them on.
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

class HarnessNodeTypes implements INodeTypes {
	constructor(private readonly types: Record<string, INodeType | IVersionedNodeType>) {}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (!type)
			throw new UnexpectedError(`Unknown node type "${nodeType}" (not passed to runWorkflow)`);
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		const type = this.getByName(nodeType);
		return 'nodeVersions' in type ? type.getNodeType(version) : type;
	}

	getKnownTypes() {
		return {};
	}
}

/** Hands nodes the decrypted data the test gave for each credential type, as n8n's store would. */
class HarnessCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly byType: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.byType[type];
		if (!data) {
			throw new UnexpectedError(
				`Credential "${nodeCredentials.name}" of type "${type}" was not given to runWorkflow`,
			);
		}
		return structuredClone(data);
	}

	getParentTypes(): string[] {
		return [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(): Promise<IHttpRequestOptions> {
		throw new UnexpectedError(
			'The test harness does not apply credential authentication to n8n HTTP helpers',
		);
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async runPreAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new UnexpectedError('The test harness only serves decrypted credentials');
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(): INodeProperties[] {
		return [];
	}
}

export interface HarnessWorkflow {
	nodes: INode[];
	connections: IConnections;
	settings?: IWorkflowSettings;
}

export interface RunWorkflowOptions {
	/** Node classes by type name, e.g. `{ 'n8n-nodes-symbiotic.ingestDocument': new IngestDocument() }`. */
	nodeTypes: Record<string, INodeType | IVersionedNodeType>;
	/**
	 * Decrypted credential data by credential type. A node whose description declares a given type and whose
	 * JSON does not name a credential of that type gets one assigned, as the editor does when exactly one
	 * credential of the type exists.
	 */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Items the trigger emits; one empty item by default (what a manual run gives). */
	inputItems?: INodeExecutionData[];
	/**
	 * Aborting it stops the execution the way n8n's "Stop" button does: the engine aborts the signal nodes get
	 * from `getExecutionCancelSignal()`. runWorkflow still resolves only once the running node has returned,
	 * so a node that ignores the signal shows up as a slow test.
	 */
	signal?: AbortSignal;
}

export interface WorkflowRunResult {
	/** Output of each executed node: one array per output, for its last run. */
	outputs: Record<string, INodeExecutionData[][]>;
	/** The error that stopped the execution, if any. */
	error?: ExecutionBaseError;
	runData: IRunData;
	run: IRun;
}

/** A node as a test writes it: only name, type and parameters matter; the rest gets editor defaults. */
export type TestNode = Pick<INode, 'name' | 'type'> & Partial<INode>;

/** Builds `trigger -> nodes[0] -> nodes[1] -> …`, each node's first output into the next node's input. */
export function linearWorkflow(...nodes: TestNode[]): HarnessWorkflow {
	const chain: INode[] = [{ name: HARNESS_TRIGGER_NAME, type: HARNESS_TRIGGER_TYPE }, ...nodes].map(
		(node, index) => ({
			id: `node-${index}`,
			typeVersion: 1,
			position: [index * 220, 0],
			parameters: {},
			...node,
		}),
	);
	const connections: IConnections = {};
	for (let index = 1; index < chain.length; index++) {
		connections[chain[index - 1].name] = {
			main: [[{ node: chain[index].name, type: NodeConnectionTypes.Main, index: 0 }]],
		};
	}
	return { nodes: chain, connections };
}

/** Runs a workflow (as exported from the editor) through n8n's engine and returns every node's output. */
export async function runWorkflow(
	workflow: HarnessWorkflow,
	options: RunWorkflowOptions,
): Promise<WorkflowRunResult> {
	const nodeTypes = new HarnessNodeTypes({
		[HARNESS_TRIGGER_TYPE]: new HarnessTrigger(),
		...options.nodeTypes,
	});
	const credentials = options.credentials ?? {};
	const nodes = workflow.nodes.map((node) => assignCredentials(node, nodeTypes, credentials));
	const instance = new Workflow({
		id: 'harness',
		name: WORKFLOW_NAME,
		nodes,
		connections: workflow.connections,
		settings: { executionOrder: 'v1', ...workflow.settings },
		active: false,
		nodeTypes,
	});
	const startNode = nodes.find((node) => node.type === HARNESS_TRIGGER_TYPE);
	if (!startNode) {
		throw new UnexpectedError(
			`The workflow needs a node of type "${HARNESS_TRIGGER_TYPE}" to start from`,
		);
	}

	const hooks = new ExecutionLifecycleHooks('manual', 'harness-execution', {
		id: instance.id,
		name: WORKFLOW_NAME,
		active: false,
		isArchived: false,
		activeVersionId: null,
		nodes,
		connections: workflow.connections,
		createdAt: new Date(),
		updatedAt: new Date(),
	});
	const additionalData = buildAdditionalData(hooks, new HarnessCredentialsHelper(credentials));
	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				{ node: startNode, data: { main: [options.inputItems ?? [{ json: {} }]] }, source: null },
			],
		},
	});
	const execution = new WorkflowExecute(
		additionalData,
		'manual',
		runExecutionData,
	).processRunExecutionData(instance);
	const cancel = () => execution.cancel();
	options.signal?.addEventListener('abort', cancel, { once: true });
	const run = await execution.finally(() => options.signal?.removeEventListener('abort', cancel));

	const runData = run.data.resultData.runData;
	const outputs: Record<string, INodeExecutionData[][]> = {};
	for (const [nodeName, tasks] of Object.entries(runData)) {
		const main = tasks.at(-1)?.data?.main;
		if (main) outputs[nodeName] = main.map((items) => items ?? []);
	}
	return { outputs, error: run.data.resultData.error, runData, run };
}

function assignCredentials(
	node: INode,
	nodeTypes: HarnessNodeTypes,
	credentials: Record<string, ICredentialDataDecryptedObject>,
): INode {
	const declared =
		nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description.credentials ?? [];
	const assigned = { ...node.credentials };
	for (const { name } of declared) {
		if (credentials[name] && !assigned[name]) assigned[name] = { id: name, name: `Test ${name}` };
	}
	return Object.keys(assigned).length > 0 ? { ...node, credentials: assigned } : node;
}

function unsupported(what: string) {
	return () => {
		throw new UnexpectedError(`${what} is not available in the test harness`);
	};
}

function buildAdditionalData(
	hooks: ExecutionLifecycleHooks,
	credentialsHelper: ICredentialsHelper,
): IWorkflowExecuteAdditionalData {
	const baseUrl = 'http://127.0.0.1:5678';
	return {
		hooks,
		credentialsHelper,
		executionId: 'harness-execution',
		currentNodeExecutionIndex: 0,
		variables: {},
		restApiUrl: `${baseUrl}/rest`,
		instanceBaseUrl: `${baseUrl}/`,
		formBaseUrl: `${baseUrl}/form`,
		formWaitingBaseUrl: `${baseUrl}/form-waiting`,
		formTestBaseUrl: `${baseUrl}/form-test`,
		webhookBaseUrl: `${baseUrl}/webhook`,
		webhookWaitingBaseUrl: `${baseUrl}/webhook-waiting`,
		webhookTestBaseUrl: `${baseUrl}/webhook-test`,
		mcpBaseUrl: `${baseUrl}/mcp`,
		mcpTestBaseUrl: `${baseUrl}/mcp-test`,
		logAiEvent: () => {},
		executeWorkflow: unsupported('Executing a sub-workflow'),
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		startRunnerTask: unsupported('The Code node task runner'),
		externalSecretsProxy: new ExternalSecretsProxy(),
	};
}

/**
 * The variant n8n 2.x derives from every `usableAsTool` node for the AI Agent's Tools connection (n8n's
 * `convertNodeToAiTool`): type and name with a `Tool` suffix, the `usableAsTool.replacements` applied, no main
 * input, one `ai_tool` output, and the node's own `execute`.
 */
export function asAgentTool(nodeType: INodeType): INodeType {
	const { usableAsTool, ...base } = deepCopy(nodeType.description);
	return {
		description: {
			...base,
			...(typeof usableAsTool === 'object' ? usableAsTool.replacements : {}),
			name: `${base.name}Tool`,
			displayName: `${base.displayName} Tool`,
			inputs: [],
			outputs: [NodeConnectionTypes.AiTool],
		},
		execute: nodeType.execute,
	};
}
