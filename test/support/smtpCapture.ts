import type { AddressInfo } from 'node:net';

import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 that accepts any mail without auth or TLS and keeps every message parsed. */
export interface SmtpCapture {
	port: number;
	messages: ParsedMail[];
	/** Resolves with the `count`-th message (1-based) once it arrived; rejects after `timeoutMs`. */
	waitForMessage(count?: number, timeoutMs?: number): Promise<ParsedMail>;
	close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
	const messages: ParsedMail[] = [];
	const waiters: Array<() => void> = [];
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS', 'AUTH'],
		logger: false,
		onData(stream, _session, callback) {
			simpleParser(stream)
				.then((mail) => {
					messages.push(mail);
					waiters.splice(0).forEach((wake) => wake());
					callback();
				})
				.catch(callback);
		},
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const port = (server.server.address() as AddressInfo).port;

	async function waitForMessage(count = 1, timeoutMs = 5000): Promise<ParsedMail> {
		const deadline = Date.now() + timeoutMs;
		while (messages.length < count) {
			const remaining = deadline - Date.now();
			if (remaining <= 0) throw new Error(`SMTP capture: expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}.`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, remaining);
				waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
		return messages[count - 1];
	}

	return {
		port,
		messages,
		waitForMessage,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
