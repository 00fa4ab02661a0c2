/**
 * Document → chunks. Sections follow Markdown headings (the heading path travels with every chunk), chunks are
 * packed from blocks, lines, sentences and words up to a token budget, and consecutive chunks of a section
 * overlap by whole sentences (or words) so that a fact straddling a cut is whole in at least one chunk.
 */
import { chunkId, sha256Hex } from '../hashing';
import { InputError, type Chunk, type LoadedDocument, type UserMetadata } from '../types';
import { countTokens } from '../tokens';
import { splitBlocks, splitSections, type Section } from './markdown';
import { packSection, unitsOf, type Unit } from './split';

export interface ChunkingOptions {
	/**
	 * Maximum tokens per chunk (cl100k_base). Default 400: about 300 English words, a few paragraphs — enough
	 * to hold a fact with its context, small enough that five hits fit a 2,000-token source budget in Generate,
	 * and about 20% under the 512-token input of BERT-family self-hosted embedders (bge, e5), whose WordPiece
	 * counts run 10–20% above cl100k_base on English.
	 */
	chunkSize?: number;
	/**
	 * Tokens repeated from the end of the previous chunk of the same section. Default 50 (one or two sentences,
	 * 12.5%): enough to keep a sentence that straddles a cut whole, at 12.5% extra embedding cost.
	 */
	chunkOverlap?: number;
}

export const DEFAULT_CHUNK_SIZE = 400;
export const DEFAULT_CHUNK_OVERLAP = 50;
export const MIN_CHUNK_SIZE = 16;
/** Just under the 8,191-token input limit of OpenAI's embedding models. */
export const MAX_CHUNK_SIZE = 8000;

export interface ChunkDocumentOptions extends ChunkingOptions {
	namespace: string;
	/** ISO-8601 time of this ingest. */
	ingestedAt: string;
	/** The user's metadata; wins over the loader's `doc.metadata` on equal keys. */
	extra: UserMetadata;
}

/** Checks chunking options and fills defaults; throws an InputError naming the option and the allowed range. */
export function resolveChunkingOptions(options: ChunkingOptions = {}): { chunkSize: number; chunkOverlap: number } {
	const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
	const chunkOverlap = options.chunkOverlap ?? DEFAULT_CHUNK_OVERLAP;
	if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
		throw new InputError(
			`Chunk Size must be a whole number of tokens from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}, got ${chunkSize}. ` +
				`${DEFAULT_CHUNK_SIZE} suits most documents.`,
			'chunkSize',
		);
	}
	if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap > chunkSize / 2) {
		throw new InputError(
			`Chunk Overlap must be a whole number of tokens from 0 to half the Chunk Size (${Math.floor(chunkSize / 2)}), got ${chunkOverlap}. ` +
				'A larger overlap would embed most text several times.',
			'chunkOverlap',
		);
	}
	return { chunkSize, chunkOverlap };
}

/** A heading with nothing under it joins the next section, so no chunk is a bare heading. */
function mergeHeadingOnlySections(sections: Section[]): Section[] {
	const merged: Section[] = [];
	let pendingStart: number | undefined;
	for (const [index, section] of sections.entries()) {
		if (section.headingOnly && index < sections.length - 1) {
			pendingStart ??= section.start;
			continue;
		}
		merged.push({ ...section, start: pendingStart ?? section.start });
		pendingStart = undefined;
	}
	return merged;
}

export function chunkDocument(doc: LoadedDocument, options: ChunkDocumentOptions): Chunk[] {
	const { chunkSize, chunkOverlap } = resolveChunkingOptions(options);
	// Offsets are computed on normalised line ends; the document hash stays that of the text as loaded.
	const text = doc.text.replace(/\r\n?/g, '\n');
	const documentHash = sha256Hex(doc.text);
	const minTailTokens = Math.max(8, Math.floor(chunkSize / 8));

	const pieces: Array<{ text: string; tokens: number; headingPath: string[] }> = [];
	for (const section of mergeHeadingOnlySections(splitSections(text))) {
		const units: Unit[] = splitBlocks(text, section).flatMap((block) => {
			const blockUnits = unitsOf(text, block, chunkSize);
			const whole = blockUnits.length === 1 && (block.kind === 'code' || block.kind === 'table');
			return whole ? [{ ...blockUnits[0], atomic: true }] : blockUnits;
		});
		if (units.length === 0) continue;
		for (const packed of packSection(text, units, chunkSize, chunkOverlap, minTailTokens)) {
			const packedText = text.slice(packed.start, packed.end);
			const pieceText = packedText.trim();
			// Counting is most of the chunker's time: reuse the packer's exact count unless trimming changed the text.
			const tokens = pieceText === packedText ? packed.tokens : countTokens(pieceText);
			pieces.push({ text: pieceText, tokens, headingPath: section.headingPath });
		}
	}

	const extra: UserMetadata = { ...doc.metadata, ...options.extra };
	return pieces.map((piece, chunkIndex) => ({
		id: chunkId(options.namespace, doc.sourceId, documentHash, chunkIndex),
		text: piece.text,
		tokens: piece.tokens,
		metadata: {
			sourceId: doc.sourceId,
			namespace: options.namespace,
			...(doc.title !== undefined ? { title: doc.title } : {}),
			...(doc.url !== undefined ? { url: doc.url } : {}),
			headingPath: piece.headingPath,
			chunkIndex,
			chunkCount: pieces.length,
			contentHash: sha256Hex(piece.text),
			documentHash,
			ingestedAt: options.ingestedAt,
			extra,
		},
	}));
}
