import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

import { InputError } from '../types';
import type { ReviewClaims } from './types';

/**
 * Review link tokens.
 *
 * Layout (then base64url): version(1) | iv(16, random) | expiresAt ms (6, big-endian) | ciphertext | mac(32).
 * The ciphertext is AES-256-CTR of `[reviewId, executionId, nodeId, reviewerId]` (JSON); the MAC is
 * HMAC-SHA256 over everything before it (encrypt-then-MAC). Keys are derived from the credential secret with HKDF,
 * one per purpose, so a form token can never pass as a link.
 *
 * Why opaque and stateless: the link must verify without a lookup (links keep working after an n8n restart with
 * the in-memory store, and on any queue-mode worker), yet it travels through mail scanners, proxies and browser
 * history — so it reveals neither the execution id nor the reviewer's address.
 */

const TOKEN_VERSION = 1;
const IV_BYTES = 16;
const EXPIRY_BYTES = 6;
const MAC_BYTES = 32;
const HEADER_BYTES = 1 + IV_BYTES + EXPIRY_BYTES;
export const MIN_SECRET_BYTES = 32;

type KeyPurpose = 'link-mac' | 'link-encryption' | 'form-mac' | 'forward-mac' | 'state-encryption';

export type TokenError = 'tampered' | 'expired' | 'malformed';

export type VerifyResult =
	| { ok: true; claims: ReviewClaims }
	/** `claims` accompany `expired` only: the signature was valid, so the caller may still show the decision. */
	| { ok: false; error: TokenError; claims?: ReviewClaims };

/** Throws a clear error unless the secret has at least 32 bytes (UTF-8). */
export function assertApprovalSecret(secret: string): void {
	const length = Buffer.byteLength(secret ?? '', 'utf8');
	if (length < MIN_SECRET_BYTES) {
		throw new InputError(
			`The approval link secret has ${length} bytes; it needs at least ${MIN_SECRET_BYTES}. ` +
				'Generate one with `openssl rand -base64 48` and put it in the Human Approval credential.',
			'secret',
		);
	}
}

function deriveKey(secret: string, purpose: KeyPurpose): Buffer {
	assertApprovalSecret(secret);
	return Buffer.from(hkdfSync('sha256', secret, 'n8n-nodes-symbiotic/approval', purpose, 32));
}

/** A fresh random id for one approval request; give the same one to every reviewer's link of that request. */
export function newReviewId(): string {
	return randomBytes(16).toString('base64url');
}

/** Reviewer ids compare case-insensitively and without surrounding spaces (emails). */
export function normalizeReviewerId(reviewer: string): string {
	return reviewer.trim().toLowerCase();
}

/** Strict base64url decode: rejects characters outside the alphabet and non-canonical trailing bits. */
function decodeBase64Url(token: string): Buffer | undefined {
	if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
	const bytes = Buffer.from(token, 'base64url');
	// Node ignores unused trailing bits, so two different strings can decode to the same bytes; only the canonical
	// spelling is accepted, otherwise a changed last character could still verify.
	return bytes.toString('base64url') === token ? bytes : undefined;
}

function sign(key: Buffer, ...parts: Buffer[]): Buffer {
	const hmac = createHmac('sha256', key);
	for (const part of parts) hmac.update(part);
	return hmac.digest();
}

function macMatches(expected: Buffer, actual: Buffer): boolean {
	return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export interface ReviewTokenInput {
	reviewId: string;
	executionId: string;
	nodeId: string;
	reviewerId: string;
	expiresAt: Date | number;
	secret: string;
}

export function createReviewToken(input: ReviewTokenInput): string {
	const expiresAt = typeof input.expiresAt === 'number' ? input.expiresAt : input.expiresAt.getTime();
	if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0 || expiresAt >= 2 ** 48) {
		throw new InputError(`The link expiry "${String(input.expiresAt)}" is not a valid date.`, 'expiresAt');
	}
	const iv = randomBytes(IV_BYTES);
	const header = Buffer.alloc(HEADER_BYTES);
	header.writeUInt8(TOKEN_VERSION, 0);
	iv.copy(header, 1);
	header.writeUIntBE(expiresAt, 1 + IV_BYTES, EXPIRY_BYTES);
	const plaintext = Buffer.from(
		JSON.stringify([input.reviewId, input.executionId, input.nodeId, normalizeReviewerId(input.reviewerId)]),
	);
	const cipher = createCipheriv('aes-256-ctr', deriveKey(input.secret, 'link-encryption'), iv);
	const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
	const mac = sign(deriveKey(input.secret, 'link-mac'), header, ciphertext);
	return Buffer.concat([header, ciphertext, mac]).toString('base64url');
}

export interface ReviewLinkInput extends ReviewTokenInput {
	/** The review endpoint, e.g. the node's resume webhook URL. Must be http(s). */
	baseUrl: string;
}

/** The query parameter that carries the token. */
export const TOKEN_PARAM = 'token';

/** A reviewer's personal link: `baseUrl?token=<opaque signed token>`. */
export function createReviewLink(input: ReviewLinkInput): string {
	let url: URL;
	try {
		url = new URL(input.baseUrl);
	} catch {
		throw new InputError(`The review base URL "${input.baseUrl}" is not an absolute URL.`, 'baseUrl');
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new InputError(`The review base URL must start with http:// or https://, got "${url.protocol}".`, 'baseUrl');
	}
	url.searchParams.set(TOKEN_PARAM, createReviewToken(input));
	return url.href;
}

function parseClaims(plaintext: Buffer, expiresAt: number): ReviewClaims | undefined {
	try {
		const fields: unknown = JSON.parse(plaintext.toString('utf8'));
		if (!Array.isArray(fields) || fields.length !== 4 || !fields.every((field) => typeof field === 'string')) {
			return undefined;
		}
		const [reviewId, executionId, nodeId, reviewerId] = fields as string[];
		return { reviewId, executionId, nodeId, reviewerId, expiresAt };
	} catch {
		return undefined;
	}
}

/**
 * Verifies a link token. The signature is checked before anything inside is trusted, so `expired` is only ever
 * reported for a genuine link; a link is expired from the instant `now >= expiresAt`.
 */
export function verifyReviewToken(token: unknown, secret: string, now: Date | number = Date.now()): VerifyResult {
	const macKey = deriveKey(secret, 'link-mac');
	const bytes = typeof token === 'string' ? decodeBase64Url(token) : undefined;
	if (!bytes || bytes.length < HEADER_BYTES + 1 + MAC_BYTES || bytes.readUInt8(0) !== TOKEN_VERSION) {
		return { ok: false, error: 'malformed' };
	}
	const header = bytes.subarray(0, HEADER_BYTES);
	const ciphertext = bytes.subarray(HEADER_BYTES, bytes.length - MAC_BYTES);
	const mac = bytes.subarray(bytes.length - MAC_BYTES);
	if (!macMatches(sign(macKey, header, ciphertext), mac)) return { ok: false, error: 'tampered' };

	const iv = header.subarray(1, 1 + IV_BYTES);
	const expiresAt = header.readUIntBE(1 + IV_BYTES, EXPIRY_BYTES);
	const decipher = createDecipheriv('aes-256-ctr', deriveKey(secret, 'link-encryption'), iv);
	const claims = parseClaims(Buffer.concat([decipher.update(ciphertext), decipher.final()]), expiresAt);
	if (!claims) return { ok: false, error: 'malformed' };
	const nowMs = typeof now === 'number' ? now : now.getTime();
	if (nowMs >= expiresAt) return { ok: false, error: 'expired', claims };
	return { ok: true, claims };
}

const FORM_NONCE_BYTES = 16;

/**
 * A token for the review form, bound to the link token it was rendered for: a random per-render nonce plus
 * HMAC(link token, nonce). It proves the POST comes from a page we rendered for this very link; one-time use is
 * enforced by the decision store (a reviewer's second POST finds the decision already taken).
 */
export function createFormToken(reviewToken: string, secret: string): string {
	const nonce = randomBytes(FORM_NONCE_BYTES);
	const mac = sign(deriveKey(secret, 'form-mac'), Buffer.from(reviewToken), nonce);
	return Buffer.concat([nonce, mac]).toString('base64url');
}

export function verifyFormToken(formToken: unknown, reviewToken: string, secret: string): boolean {
	const key = deriveKey(secret, 'form-mac');
	const bytes = typeof formToken === 'string' ? decodeBase64Url(formToken) : undefined;
	if (!bytes || bytes.length !== FORM_NONCE_BYTES + MAC_BYTES) return false;
	const nonce = bytes.subarray(0, FORM_NONCE_BYTES);
	return macMatches(sign(key, Buffer.from(reviewToken), nonce), bytes.subarray(FORM_NONCE_BYTES));
}

/**
 * Proof that a request on the resume webhook was forwarded by the node's own review front door, which saw the
 * reviewer's address: HMAC(link token, address). Lets the waiting handler record the reviewer's IP instead of the
 * loopback address the forwarded request comes from, without trusting a header anyone could send.
 */
export function createForwardProof(reviewToken: string, reviewerIp: string, secret: string): string {
	return sign(deriveKey(secret, 'forward-mac'), Buffer.from(reviewToken), Buffer.from('\n'), Buffer.from(reviewerIp)).toString('base64url');
}

export function verifyForwardProof(proof: unknown, reviewToken: string, reviewerIp: string, secret: string): boolean {
	const bytes = typeof proof === 'string' ? decodeBase64Url(proof) : undefined;
	return !!bytes && macMatches(Buffer.from(createForwardProof(reviewToken, reviewerIp, secret), 'base64url'), bytes);
}

const SEALED_PREFIX = 'sealed1.';
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

/**
 * JSON that must travel with a waiting execution but not be readable where it lands: Send Email After Review
 * keeps its review request (reviewers, context) in the item that n8n hands to the AI agent's model when the wait
 * times out. Encrypted and authenticated (AES-256-GCM) with a key derived from the approval secret.
 */
export function sealState(value: unknown, secret: string): string {
	const iv = randomBytes(GCM_IV_BYTES);
	const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, 'state-encryption'), iv);
	const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	return SEALED_PREFIX + Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

/** The value `sealState` sealed with the same secret; undefined when it is not one, was changed or the secret differs. */
export function openSealedState(sealed: unknown, secret: string): unknown {
	if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) return undefined;
	const bytes = decodeBase64Url(sealed.slice(SEALED_PREFIX.length));
	if (!bytes || bytes.length < GCM_IV_BYTES + GCM_TAG_BYTES) return undefined;
	try {
		const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, 'state-encryption'), bytes.subarray(0, GCM_IV_BYTES));
		decipher.setAuthTag(bytes.subarray(bytes.length - GCM_TAG_BYTES));
		const plaintext = Buffer.concat([decipher.update(bytes.subarray(GCM_IV_BYTES, bytes.length - GCM_TAG_BYTES)), decipher.final()]);
		return JSON.parse(plaintext.toString('utf8'));
	} catch {
		return undefined;
	}
}
