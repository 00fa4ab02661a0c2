/** Content hashes and deterministic ids: the basis of idempotent, incremental ingest. */
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
	return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Deterministic chunk id: a UUID (version nibble 5, RFC 4122 variant) built from sha256 of the parts, so that
 * re-ingesting the same document version overwrites its points instead of duplicating them. Qdrant requires
 * point ids to be UUIDs or integers, hence the UUID shape. The parts are joined with a NUL byte so that
 * ('a', 'bc') and ('ab', 'c') never collide.
 */
export function chunkId(namespace: string, sourceId: string, documentHash: string, chunkIndex: number): string {
	const hex = sha256Hex([namespace, sourceId, documentHash, String(chunkIndex)].join('\u0000'));
	const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
	return [
		hex.slice(0, 8),
		hex.slice(8, 12),
		'5' + hex.slice(13, 16),
		variant + hex.slice(17, 20),
		hex.slice(20, 32),
	].join('-');
}
