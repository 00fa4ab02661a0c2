/**
 * Rules both store backends share: namespace validation, the dimension check, and the translation of a
 * user's MetadataFilter into a typed, validated form each backend renders into its own query language.
 */
import {
	DimensionMismatchError,
	InputError,
	type FilterCondition,
	type MetadataFilter,
	type MetadataValue,
	type StoredChunk,
	type StoredVersion,
	type StoreSearchQuery,
} from '../types';

export const DEFAULT_COLLECTION = 'knowledge';

/** Candidates each ranked list contributes to a hybrid fusion: enough depth for RRF to reorder the top K. */
export function hybridCandidateCount(topK: number): number {
	return Math.min(Math.max(topK * 4, 40), 1000);
}

export function assertNamespace(namespace: string): void {
	if (typeof namespace !== 'string' || namespace.trim() === '') {
		throw new InputError('The namespace is empty. Set a namespace (for example your client\'s name) or keep the default.', 'namespace');
	}
}

/**
 * A DimensionMismatchError whose message also covers keyword-only collections (dimension 0), where the
 * generic wording ("dimension 0") would not tell the user what happened.
 */
export function dimensionMismatch(collection: string, expected: number, actual: number): DimensionMismatchError {
	const error = new DimensionMismatchError(collection, expected, actual);
	if (expected === 0) {
		error.message =
			`Collection "${collection}" was created for keyword search only (no embedding model), but vectors of dimension ${actual} were given. ` +
			'Remove the embedding model to keep using it, or ingest into a new collection to use semantic search.';
	} else if (actual === 0) {
		error.message =
			`Collection "${collection}" stores vectors of dimension ${expected}, but no embedding model is configured. ` +
			'Configure the embedding model the collection was created with, or ingest into a new collection for keyword-only search.';
	}
	return error;
}

/** The vector dimension of a batch (0 = keyword-only); mixed batches are refused. */
export function batchDimension(collection: string, chunks: StoredChunk[]): number {
	let dimension: number | undefined;
	for (const chunk of chunks) {
		assertNamespace(chunk.metadata.namespace);
		const length = chunk.vector?.length ?? 0;
		if (dimension === undefined) dimension = length;
		else if (length !== dimension) throw dimensionMismatch(collection, dimension, length);
	}
	return dimension ?? 0;
}

/** The three fields of a stored chunk that a version lookup reads. */
export interface VersionRow {
	sourceId: string;
	documentHash: string;
	chunkCount: number;
}

/** Counts one stored chunk into its source's versions (grouped by document hash). */
export function countIntoVersions(versions: Map<string, StoredVersion[]>, { sourceId, documentHash, chunkCount }: VersionRow): void {
	const known = versions.get(sourceId) ?? [];
	const version = known.find((candidate) => candidate.documentHash === documentHash);
	if (version) version.storedChunks += 1;
	else known.push({ documentHash, storedChunks: 1, expectedChunks: chunkCount });
	versions.set(sourceId, known);
}

/** Validates what a search mode needs before any backend work. */
export function assertSearchQuery(query: StoreSearchQuery): void {
	assertNamespace(query.namespace);
	if (!Number.isInteger(query.topK) || query.topK < 1) {
		throw new InputError(`topK must be a whole number of at least 1 (got ${String(query.topK)}).`, 'topK');
	}
	if (query.mode !== 'keyword' && !query.vector?.length) {
		throw new InputError(`${query.mode} search needs a query vector: configure an embedding model, or use keyword mode.`, 'mode');
	}
	if (query.mode !== 'semantic' && typeof query.text !== 'string') {
		throw new InputError(`${query.mode} search needs a query text.`, 'text');
	}
}

/** Chunk fields a filter may name directly; everything else is the user's metadata. */
const CORE_FIELDS = {
	sourceId: 'string',
	title: 'string',
	url: 'string',
	documentHash: 'string',
	contentHash: 'string',
	chunkIndex: 'number',
	chunkCount: 'number',
} as const;
export type CoreField = keyof typeof CORE_FIELDS;

export type FilterTarget = { kind: 'core'; field: CoreField; type: 'string' | 'number' } | { kind: 'extra'; key: string };
export type Scalar = string | number | boolean;

/**
 * A filter condition reduced to three shapes every backend can express:
 * - `match`: the field has one of `values` (for lists: any element does); `negate` = has none of them
 *   (a missing field has none);
 * - `range`: a number field (any element, for lists) lies beyond the bound;
 * - `exists`: the field is present and not empty; `negate` = missing, null or empty.
 */
export type NormalizedCondition =
	| { target: FilterTarget; kind: 'match'; values: Scalar[]; negate: boolean }
	| { target: FilterTarget; kind: 'range'; bound: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
	| { target: FilterTarget; kind: 'exists'; negate: boolean };

function resolveTarget(key: string): FilterTarget {
	if (typeof key !== 'string' || key === '' || key === 'extra.') {
		throw new InputError('A filter condition has an empty key. Name a metadata field, e.g. "sourceId" or "extra.campaign".', 'filter');
	}
	if (key.startsWith('extra.')) return { kind: 'extra', key: key.slice('extra.'.length) };
	if (key === 'namespace') {
		throw new InputError('Filter on "namespace" is not allowed: choose the namespace with the Namespace option.', 'filter');
	}
	if (Object.prototype.hasOwnProperty.call(CORE_FIELDS, key)) {
		const field = key as CoreField;
		return { kind: 'core', field, type: CORE_FIELDS[field] };
	}
	return { kind: 'extra', key };
}

function describe(condition: FilterCondition): string {
	return `filter "${condition.key} ${condition.op}"`;
}

function isScalar(value: unknown): value is Scalar {
	return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** Core fields have one type; a value of another type is converted so "chunkIndex eq '2'" still works. */
function coerceForTarget(target: FilterTarget, value: Scalar, condition: FilterCondition): Scalar {
	if (target.kind !== 'core') return value;
	if (target.type === 'string') return String(value);
	const number = typeof value === 'number' ? value : Number(value);
	if (typeof value === 'boolean' || !Number.isFinite(number)) {
		throw new InputError(`The ${describe(condition)} needs a number, got ${JSON.stringify(value)}.`, 'filter');
	}
	return number;
}

function matchValues(condition: FilterCondition, target: FilterTarget, raw: MetadataValue | MetadataValue[] | undefined): Scalar[] {
	const list = Array.isArray(raw) ? raw : [raw];
	return list.map((value) => {
		if (!isScalar(value)) {
			throw new InputError(
				`The ${describe(condition)} has an unusable value ${JSON.stringify(value) ?? 'undefined'}: use a text, number or true/false (use "exists" to test for missing values).`,
				'filter',
			);
		}
		return coerceForTarget(target, value, condition);
	});
}

export function normalizeFilter(filter: MetadataFilter | undefined): NormalizedCondition[] {
	if (filter === undefined) return [];
	if (!Array.isArray(filter)) throw new InputError('The metadata filter must be a list of conditions.', 'filter');
	return filter.map((condition) => {
		const target = resolveTarget(condition?.key);
		const { op, value } = condition;
		switch (op) {
			case 'eq':
			case 'ne':
				if (value === null) return { target, kind: 'exists', negate: op === 'eq' };
				if (Array.isArray(value)) {
					throw new InputError(`The ${describe(condition)} has a list value: use "in" / "nin" for lists.`, 'filter');
				}
				return { target, kind: 'match', values: matchValues(condition, target, value), negate: op === 'ne' };
			case 'in':
			case 'nin':
				return { target, kind: 'match', values: matchValues(condition, target, value), negate: op === 'nin' };
			case 'gt':
			case 'gte':
			case 'lt':
			case 'lte': {
				const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
				if (typeof number !== 'number' || !Number.isFinite(number)) {
					throw new InputError(`The ${describe(condition)} compares numbers: give a number, got ${JSON.stringify(value)}.`, 'filter');
				}
				if (target.kind === 'core' && target.type !== 'number') {
					throw new InputError(`The ${describe(condition)} compares numbers, but "${condition.key}" is text: use eq, ne, in or nin.`, 'filter');
				}
				return { target, kind: 'range', bound: op, value: number };
			}
			case 'exists':
				if (value !== undefined && value !== null && typeof value !== 'boolean') {
					throw new InputError(`The ${describe(condition)} takes true, false or no value.`, 'filter');
				}
				return { target, kind: 'exists', negate: value === false };
			default:
				throw new InputError(
					`Unknown filter operator "${String(op)}" for key "${condition.key}". Use one of eq, ne, gt, gte, lt, lte, in, nin, exists.`,
					'filter',
				);
		}
	});
}

/** Scalars of a user metadata value, grouped the way both backends store them. */
export function scalarsOf(value: MetadataValue | MetadataValue[]): Scalar[] {
	return (Array.isArray(value) ? value : [value]).filter(isScalar);
}
