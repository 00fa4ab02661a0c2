import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

import { handleReviewRequest, type ApprovalOutcomeItem, type ReviewEndpointOptions, type ReviewResponse } from '../../../lib/approval';

/**
 * A tiny HTTP server that maps requests onto handleReviewRequest the way the n8n node will map its webhook:
 * query and form body parsed (repeated keys become arrays), client address from the socket.
 */
export interface ReviewServer {
	/** `http://127.0.0.1:<port>/review` — the base URL for createReviewLink. */
	baseUrl: string;
	responses: ReviewResponse[];
	outcomes: ApprovalOutcomeItem[];
	close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function toRecord(params: URLSearchParams): Record<string, string | string[]> {
	const record: Record<string, string | string[]> = {};
	for (const key of new Set(params.keys())) {
		const values = params.getAll(key);
		record[key] = values.length === 1 ? values[0] : values;
	}
	return record;
}

async function readBody(request: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) throw new Error('Body too large');
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString('utf8');
}

export async function startReviewServer(options: ReviewEndpointOptions): Promise<ReviewServer> {
	const responses: ReviewResponse[] = [];
	const outcomes: ApprovalOutcomeItem[] = [];
	const server = createServer(async (request, response) => {
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		const body = request.method === 'POST' ? toRecord(new URLSearchParams(await readBody(request))) : undefined;
		const answer = await handleReviewRequest(
			{ method: request.method ?? 'GET', query: toRecord(url.searchParams), body, headers: request.headers, ip: request.socket.remoteAddress },
			options,
		);
		responses.push(answer);
		if (answer.outcome) outcomes.push(answer.outcome);
		response.writeHead(answer.status, answer.headers).end(answer.body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		baseUrl: `http://127.0.0.1:${port}/review`,
		responses,
		outcomes,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
