import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/**
 * A reranking model behind a `/rerank` endpoint: Cohere, Jina, Voyage, vLLM, Infinity, or Hugging Face Text
 * Embeddings Inference. Vector Search sends it the best candidates to reorder.
 */
export class SymbioticRerankApi implements ICredentialType {
	name = 'symbioticRerankApi';

	displayName = 'Symbiotic Rerank API';

	icon: Icon = { light: 'file:../icons/symbiotic.svg', dark: 'file:../icons/symbiotic.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-symbiotic#vector-search';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://api.cohere.com/v2',
			description:
				'Address of the reranking API, without /rerank: https://api.cohere.com/v2, https://api.jina.ai/v1, https://api.voyageai.com/v1, http://vllm:8000/v1, http://infinity:7997 or a Text Embeddings Inference server such as http://tei:8080',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Leave empty for servers that need no key, such as your own TEI, vLLM or Infinity',
		},
		{
			displayName: 'Model',
			name: 'model',
			type: 'string',
			default: '',
			placeholder: 'e.g. rerank-v3.5',
			description:
				'Reranking model, e.g. rerank-v3.5 (Cohere), jina-reranker-v2-base-multilingual (Jina), BAAI/bge-reranker-v2-m3 (vLLM, Infinity). Text Embeddings Inference serves one model: leave empty.',
		},
		{
			displayName: 'API Format',
			name: 'apiFormat',
			type: 'options',
			options: [
				{
					name: 'Cohere / Jina / Voyage / vLLM / Infinity',
					value: 'documents',
					description: 'Sends {model, query, documents, top_n}',
				},
				{
					name: 'Hugging Face Text Embeddings Inference',
					value: 'texts',
					description: 'Sends {query, texts}',
				},
			],
			default: 'documents',
			description: 'Request shape the server expects; every common answer shape is understood either way',
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

	// Reranking one short document proves the address, key and model in one cheap request.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "").replace(/\\/rerank$/, "")}}',
			url: '/rerank',
			method: 'POST',
			body: '={{ $credentials.apiFormat === "texts" ? { query: "test", texts: ["test"] } : { model: $credentials.model, query: "test", documents: ["test"], top_n: 1 } }}',
		},
	};
}
