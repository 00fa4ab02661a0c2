import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** Any OpenAI-compatible endpoint: OpenAI itself, Azure-style gateways, Ollama, vLLM, Mistral, LM Studio. */
export class SymbioticModelApi implements ICredentialType {
	name = 'symbioticModelApi';

	displayName = 'Symbiotic Model API';

	icon: Icon = { light: 'file:../icons/symbiotic.svg', dark: 'file:../icons/symbiotic.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-symbiotic#credentials';

	properties: INodeProperties[] = [
		{
			displayName:
				'Works with any OpenAI-compatible server: OpenAI, Mistral, vLLM, LM Studio or Ollama on your own machine',
			name: 'compatibilityNotice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.openai.com/v1',
			required: true,
			placeholder: 'http://localhost:11434/v1',
			description:
				'Address of the OpenAI-compatible API, ending in /v1. For a model you host yourself, e.g. Ollama: http://localhost:11434/v1.',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Leave empty for servers that need no key, such as a local Ollama',
		},
		{
			displayName: 'Chat Model',
			name: 'chatModel',
			type: 'string',
			default: 'gpt-4o-mini',
			description:
				'Model used to write text unless a node picks another, e.g. gpt-4o-mini or llama3.1',
		},
		{
			displayName: 'Embedding Model',
			name: 'embeddingModel',
			type: 'string',
			default: 'text-embedding-3-small',
			description:
				'Model that turns text into vectors for semantic search, e.g. text-embedding-3-small or nomic-embed-text. Keep it the same for everything stored in one knowledge base.',
		},
		{
			displayName: 'Embedding Dimensions',
			name: 'embeddingDimensions',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description:
				"Shorter vectors for models that support it (OpenAI text-embedding-3). 0 uses the model's own size.",
		},
		{
			displayName: 'Embedding Texts per Request',
			name: 'embeddingBatchSize',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 256,
			description:
				'Most texts sent in one embedding request. OpenAI accepts 2,048; a server that answers "too large" gets smaller requests automatically. 0 = 256.',
		},
		{
			displayName: 'Embedding Tokens per Request',
			name: 'embeddingBatchBudget',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 65536,
			description:
				'Most tokens in one embedding request (OpenAI allows 300,000). Lower it for a CPU-only server whose answers take longer than a minute. 0 = 65,536.',
		},
		{
			displayName: 'Embedding Requests in Flight',
			name: 'embeddingConcurrency',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 4,
			description:
				'Embedding requests sent at the same time by one node. More is faster on a server that can take them; 1 for a small self-hosted server. 0 = 4.',
		},
		{
			displayName: 'Embedding Timeout (Seconds)',
			name: 'embeddingTimeout',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 60,
			description:
				'How long one embedding request may take. A request that times out goes again once (a large one in halves first); a server that never answers fails the document after about twice this. 0 = 60.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	// Listing models proves the address answers and the key is accepted, without spending tokens.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/models',
			method: 'GET',
		},
	};
}
