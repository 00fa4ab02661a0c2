import { InputError } from '../types';

export const MEGABYTE = 1024 * 1024;
export const DEFAULT_MAX_BINARY_BYTES = 25 * MEGABYTE;
export const DEFAULT_PARSE_TIMEOUT_MS = 60_000;

/** "12 MB" / "0.5 MB": sizes as a marketer reads them. */
export function formatMegabytes(bytes: number): string {
	const megabytes = bytes / MEGABYTE;
	return `${Number.isInteger(megabytes) ? megabytes : megabytes.toFixed(1)} MB`;
}

/** Rejects empty and oversized input before any parser sees it, so a huge file fails fast instead of hanging. */
export function assertLoadableSize(name: string, size: number, maxBytes: number): void {
	if (size === 0) throw new InputError(`${name} is empty; provide a file or text with content.`);
	if (size > maxBytes) {
		throw new InputError(
			`${name} is ${formatMegabytes(size)}, larger than the ${formatMegabytes(maxBytes)} limit; ` +
				'split it into smaller files or texts (this limit has no option).',
		);
	}
}

/** Runs a parser with a deadline; `onTimeout` releases the parser's resources. */
export async function withParseTimeout<T>(
	name: string,
	timeoutMs: number,
	work: Promise<T>,
	onTimeout: () => void,
): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			onTimeout();
			reject(new InputError(`${name} took longer than ${timeoutMs / 1000} s to read; the file may be damaged or too complex.`));
		}, timeoutMs);
	});
	try {
		return await Promise.race([work, deadline]);
	} finally {
		clearTimeout(timer);
	}
}
