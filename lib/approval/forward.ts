import type { ForwardedAnswer } from './frontDoor';
import { TOKEN_PARAM } from './token';

const FORWARD_TIMEOUT_MS = 30_000;

/** The reviewer's address as the front door saw it, trusted only with a valid forward proof. */
export const REVIEWER_IP_HEADER = 'x-symbiotic-reviewer-ip';
export const FORWARD_PROOF_HEADER = 'x-symbiotic-forward-proof';

/** n8n's query parameter holding an execution's resume token, which its resume URL requires. */
const N8N_RESUME_TOKEN_PARAM = 'signature';

const endpoints = (env: NodeJS.ProcessEnv) => ({
	webhook: env.N8N_ENDPOINT_WEBHOOK?.trim() || 'webhook',
	waiting: env.N8N_ENDPOINT_WEBHOOK_WAIT?.trim() || 'webhook-waiting',
});

/**
 * The review links' address: the node's production webhook, beside the execution's public resume URL (same host
 * and base path), keeping n8n's resume token so the front door can forward to the execution. Undefined when the
 * resume URL does not have n8n's usual shape.
 */
export function frontDoorBaseUrl(resumeUrl: string, webhookPath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
	const { webhook, waiting } = endpoints(env);
	const url = URL.canParse(resumeUrl) ? new URL(resumeUrl) : undefined;
	const at = url?.pathname.lastIndexOf(`/${waiting}/`) ?? -1;
	if (!url || at < 0) return undefined;
	url.pathname = `${url.pathname.slice(0, at)}/${webhook}/${webhookPath}`;
	return url.href;
}

export interface LocalResumeUrlInput {
	executionId: string;
	/** The front door request's query: n8n's resume token and our link token are passed on. */
	query: Record<string, unknown>;
	env?: NodeJS.ProcessEnv;
}

/**
 * The execution's resume URL on this n8n process, reached over loopback: a public URL may not be reachable from
 * inside the server (container NAT, an authenticating proxy). n8n's own settings give port, protocol and path;
 * SYMBIOTIC_APPROVAL_RESUME_BASE_URL (e.g. http://127.0.0.1:5678/webhook-waiting) overrides them.
 */
export function localResumeUrl({ executionId, query, env = process.env }: LocalResumeUrlInput): string {
	const listen = env.N8N_LISTEN_ADDRESS?.trim() ?? '';
	const host = !listen || listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
	const base =
		env.SYMBIOTIC_APPROVAL_RESUME_BASE_URL?.trim() ||
		`${env.N8N_PROTOCOL === 'https' ? 'https' : 'http'}://${host}:${env.N8N_PORT?.trim() || '5678'}/${endpoints(env).waiting}`;
	const url = new URL(`${base.replace(/\/+$/, '')}/${encodeURIComponent(executionId)}`);
	for (const name of [N8N_RESUME_TOKEN_PARAM, TOKEN_PARAM]) {
		const value = query[name];
		if (typeof value === 'string') url.searchParams.set(name, value);
	}
	return url.href;
}

export interface ForwardRequest {
	/** The waiting execution's resume URL on this n8n process, query (n8n's signature, our token) included. */
	url: string;
	method: 'GET' | 'POST';
	/** A POST's parsed form fields, sent on as `application/x-www-form-urlencoded`. */
	form?: Record<string, unknown>;
	headers?: Record<string, string>;
	timeoutMs?: number;
}

/** Sends one review request on to the resume URL and reads the whole answer; throws when nothing answers. */
export async function forwardToResumeUrl(request: ForwardRequest): Promise<ForwardedAnswer> {
	const headers: Record<string, string> = { ...request.headers };
	let body: string | undefined;
	if (request.method === 'POST') {
		const form = new URLSearchParams();
		for (const [name, value] of Object.entries(request.form ?? {})) if (typeof value === 'string') form.append(name, value);
		body = form.toString();
		headers['content-type'] = 'application/x-www-form-urlencoded';
	}
	const response = await fetch(request.url, {
		method: request.method,
		headers,
		body,
		redirect: 'manual',
		signal: AbortSignal.timeout(request.timeoutMs ?? FORWARD_TIMEOUT_MS),
	});
	const answerHeaders: Record<string, string> = {};
	response.headers.forEach((value, name) => {
		answerHeaders[name.toLowerCase()] = value;
	});
	return { status: response.status, headers: answerHeaders, body: await response.text() };
}
