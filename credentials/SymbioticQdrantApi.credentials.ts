import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Qdrant server (self-hosted or Qdrant Cloud) used as the knowledge base instead of the embedded store. */
export class SymbioticQdrantApi implements ICredentialType {
	name = 'symbioticQdrantApi';

	displayName = 'Symbiotic Qdrant API';

	icon: Icon = { light: 'file:../icons/qdrant.svg', dark: 'file:../icons/qdrant.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-symbiotic#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'URL',
			name: 'url',
			type: 'string',
			default: 'http://localhost:6333',
			required: true,
			description:
				'Address of the Qdrant REST API, e.g. http://qdrant:6333 or your Qdrant Cloud cluster URL',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Leave empty when the server has no API key configured',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'api-key': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.url}}',
			url: '/collections',
			method: 'GET',
		},
	};
}
