/**
 * A local stand-in for Qdrant (none can run here) that checks every request against Qdrant's own OpenAPI
 * document (test/fixtures/qdrant/openapi.json): the method and path must be an operation of the API, query
 * parameters must be declared ones, and the JSON body must validate against the operation's request
 * schema. Each violation is recorded; tests assert there are none. Its own answers are validated against
 * the operation's response schema too, so the emulation cannot drift into shapes Qdrant never sends.
 *
 * Behind the validation is an in-memory emulation of what the store backend uses: collections with a
 * named dense vector (Cosine) and sparse vectors (dot product, optional IDF modifier) and collection
 * metadata (merged on update), payload indexes, points upsert / vector update / delete / scroll / count, facets, and the Query API (nearest, order_by, prefetch + RRF),
 * with Qdrant's filter semantics (must / should / must_not, match value/any/except, range, is_empty).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const SPEC_PATH = path.join(__dirname, '..', 'fixtures', 'qdrant', 'openapi.json');
const SPEC_ID = 'qdrant-openapi.json';
/** Qdrant's default RRF constant (`k` when a `rrf` query does not set one). */
const QDRANT_RRF_K = 2;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Operation {
	method: string;
	template: string;
	pattern: RegExp;
	queryParameters: Map<string, JsonObject>;
	requestPointer?: string;
	responsePointer?: string;
}

/** OpenAPI 3.0 `nullable` -> JSON Schema `null` type, recursively. */
function toJsonSchema(node: Json): Json {
	if (Array.isArray(node)) return node.map(toJsonSchema);
	if (node === null || typeof node !== 'object') return node;
	const out: JsonObject = {};
	for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = toJsonSchema(value);
	if (node.nullable !== true) return out;
	if (typeof out.type === 'string') {
		out.type = [out.type, 'null'];
		if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
		return out;
	}
	const rest = Object.keys(out).filter((key) => key !== 'description' && key !== 'default' && key !== 'example');
	return rest.length ? { anyOf: [out, { type: 'null' }] } : { type: 'null' };
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function loadOperations(ajv: Ajv): Operation[] {
	const spec = JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8')) as JsonObject;
	const converted = toJsonSchema(spec) as JsonObject;
	ajv.addSchema({ $id: SPEC_ID, components: converted.components, paths: converted.paths } as object);
	const operations: Operation[] = [];
	for (const [template, item] of Object.entries(converted.paths as Record<string, JsonObject>)) {
		for (const [method, raw] of Object.entries(item)) {
			const operation = raw as JsonObject;
			const base = `${SPEC_ID}#/paths/${escapePointer(template)}/${method}`;
			const parameters = ((operation.parameters ?? []) as JsonObject[]).filter((parameter) => parameter.in === 'query');
			const body = (operation.requestBody as JsonObject | undefined)?.content as JsonObject | undefined;
			const ok = ((operation.responses as JsonObject | undefined)?.['200'] as JsonObject | undefined)?.content as JsonObject | undefined;
			operations.push({
				method: method.toUpperCase(),
				template,
				pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`),
				queryParameters: new Map(parameters.map((parameter) => [parameter.name as string, parameter.schema as JsonObject])),
				requestPointer: body?.['application/json'] ? `${base}/requestBody/content/application~1json/schema` : undefined,
				responsePointer: ok?.['application/json'] ? `${base}/responses/200/content/application~1json/schema` : undefined,
			});
		}
	}
	// Literal paths first: `/points/query` must not be taken for `/points/{id}`.
	const parameterCount = (operation: Operation) => (operation.template.match(/\{/g) ?? []).length;
	return operations.sort((a, b) => parameterCount(a) - parameterCount(b));
}

// ---------------------------------------------------------------------------------------------------------
// Emulation

type PointId = string | number;
type SparseVector = { indices: number[]; values: number[] };
interface Point {
	id: PointId;
	vector: Record<string, number[] | SparseVector>;
	payload: JsonObject;
}
interface Collection {
	dense: Map<string, { size: number; distance: string }>;
	sparse: Map<string, { modifier?: string }>;
	payloadSchema: Record<string, Json>;
	points: Map<string, Point>;
	metadata: JsonObject | null;
}

class QdrantRequestError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

/** Qdrant JSON path: `a.b`, `a."key with.dots"`, `a[]`. */
function parsePath(key: string): string[] {
	const segments: string[] = [];
	const pattern = /(?:^|\.)(?:"([^"]*)"|([^."[\]]+))(\[\])?/gy;
	let match: RegExpExecArray | null;
	while ((match = pattern.exec(key)) !== null) {
		segments.push(match[1] ?? match[2]);
		if (pattern.lastIndex === key.length) return segments;
	}
	throw new QdrantRequestError(400, `Bad request: invalid payload key ${key}`);
}

/** Values at a path, arrays flattened (Qdrant matches any element of an array). */
function valuesAt(payload: JsonObject, key: string): Json[] {
	let current: Json[] = [payload];
	for (const segment of parsePath(key)) {
		current = current
			.flatMap((value) => (Array.isArray(value) ? value : [value]))
			.filter((value): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value))
			.filter((value) => segment in value)
			.map((value) => value[segment]);
	}
	return current.flatMap((value) => (Array.isArray(value) ? value : [value])).filter((value) => value !== null);
}

function matchesCondition(point: Point, condition: JsonObject): boolean {
	if ('must' in condition || 'should' in condition || 'must_not' in condition) return matchesFilter(point, condition);
	if ('is_empty' in condition) return valuesAt(point.payload, (condition.is_empty as JsonObject).key as string).length === 0;
	if ('has_id' in condition) return (condition.has_id as PointId[]).some((id) => String(id) === String(point.id));
	if (typeof condition.key !== 'string') throw new QdrantRequestError(400, 'Emulator: unsupported condition ' + JSON.stringify(condition));
	const values = valuesAt(point.payload, condition.key);
	if (condition.match) {
		const match = condition.match as JsonObject;
		if ('value' in match) return values.some((value) => value === match.value);
		if ('any' in match) return values.some((value) => (match.any as Json[]).includes(value));
		if ('except' in match) return values.length === 0 || values.some((value) => !(match.except as Json[]).includes(value));
		throw new QdrantRequestError(400, 'Emulator: unsupported match ' + JSON.stringify(match));
	}
	if (condition.range) {
		const range = condition.range as Record<string, number | undefined>;
		return values.some(
			(value) =>
				typeof value === 'number' &&
				(range.gt == null || value > range.gt) &&
				(range.gte == null || value >= range.gte) &&
				(range.lt == null || value < range.lt) &&
				(range.lte == null || value <= range.lte),
		);
	}
	if (condition.is_empty === true) return values.length === 0;
	throw new QdrantRequestError(400, 'Emulator: unsupported field condition ' + JSON.stringify(condition));
}

function asList(value: Json | undefined): JsonObject[] {
	if (value == null) return [];
	return (Array.isArray(value) ? value : [value]) as JsonObject[];
}

function matchesFilter(point: Point, filter: Json | undefined): boolean {
	if (!filter) return true;
	const { must, should, must_not: mustNot } = filter as JsonObject;
	const shouldList = asList(should);
	return (
		asList(must).every((condition) => matchesCondition(point, condition)) &&
		(shouldList.length === 0 || shouldList.some((condition) => matchesCondition(point, condition))) &&
		!asList(mustNot).some((condition) => matchesCondition(point, condition))
	);
}

function cosine(a: number[], b: number[]): number {
	let dot = 0;
	let normA = 0;
	let normB = 0;
	for (let index = 0; index < a.length; index++) {
		dot += a[index] * b[index];
		normA += a[index] * a[index];
		normB += b[index] * b[index];
	}
	return normA && normB ? dot / Math.sqrt(normA * normB) : 0;
}

function selectPayload(payload: JsonObject, selector: Json | undefined): JsonObject | null {
	if (selector === undefined || selector === false || selector === null) return null;
	if (selector === true) return payload;
	const include = Array.isArray(selector) ? selector : ((selector as JsonObject).include as string[] | undefined);
	const exclude = Array.isArray(selector) ? undefined : ((selector as JsonObject).exclude as string[] | undefined);
	const entries = Object.entries(payload).filter(
		([key]) => (!include || (include as string[]).includes(key)) && !(exclude ?? []).includes(key),
	);
	return Object.fromEntries(entries);
}

function selectVector(point: Point, selector: Json | undefined): Json | undefined {
	if (!selector) return undefined;
	const names = selector === true ? Object.keys(point.vector) : (selector as string[]);
	return Object.fromEntries(names.filter((name) => name in point.vector).map((name) => [name, point.vector[name] as unknown as Json]));
}

export interface QdrantValidatingServer {
	url: string;
	/** Every way a request (or, a bug of ours, a response) broke Qdrant's schema. */
	violations: string[];
	/** Requests seen, as "METHOD /path". */
	requests: string[];
	/** Headers of the last request (to check where the API key travels). */
	lastHeaders?: http.IncomingHttpHeaders;
	close(): Promise<void>;
}

export async function startQdrantValidatingServer(options: { apiKey?: string } = {}): Promise<QdrantValidatingServer> {
	const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
	addFormats(ajv);
	for (const format of ['uint', 'uint64', 'uint32', 'uint16', 'uint8']) {
		ajv.addFormat(format, { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= 0 });
	}
	for (const format of ['int64', 'int32']) ajv.addFormat(format, { type: 'number', validate: Number.isInteger });
	for (const format of ['float', 'double']) ajv.addFormat(format, { type: 'number', validate: () => true });
	const operations = loadOperations(ajv);
	const validators = new Map<string, ValidateFunction>();
	const validator = (pointer: string) => {
		let validate = validators.get(pointer);
		if (!validate) {
			validate = ajv.getSchema(pointer);
			if (!validate) throw new Error(`No schema at ${pointer}`);
			validators.set(pointer, validate);
		}
		return validate;
	};

	const collections = new Map<string, Collection>();
	const state: QdrantValidatingServer = {
		url: '',
		violations: [],
		requests: [],
		close: async () => undefined,
	};

	const collectionOf = (name: string): Collection => {
		const collection = collections.get(name);
		if (!collection) throw new QdrantRequestError(404, `Not found: Collection \`${name}\` doesn't exist!`);
		return collection;
	};

	const candidatesFor = (collection: Collection, filter: Json | undefined) =>
		[...collection.points.values()].filter((point) => matchesFilter(point, filter));

	function idf(collection: Collection, vectorName: string, index: number): number {
		const withVector = [...collection.points.values()].filter((point) => point.vector[vectorName]);
		const containing = withVector.filter((point) => (point.vector[vectorName] as SparseVector).indices.includes(index)).length;
		return Math.log(1 + (withVector.length - containing + 0.5) / (containing + 0.5));
	}

	/** Ranked (point, score) pairs of one query stage. */
	function runQuery(collection: Collection, request: JsonObject): Array<{ point: Point; score: number }> {
		const limit = (request.limit as number | undefined) ?? 10;
		const filter = request.filter;
		let query = request.query as JsonObject | number[] | undefined;
		if (query && !Array.isArray(query) && 'nearest' in query) query = query.nearest as JsonObject | number[];
		if (request.prefetch) {
			const stages = asList(request.prefetch).map((prefetch) => runQuery(collection, prefetch));
			const fusion = query && !Array.isArray(query) ? (query.fusion ?? (query.rrf ? 'rrf' : undefined)) : undefined;
			if (fusion !== 'rrf') throw new QdrantRequestError(400, 'Emulator: only rrf fusion over prefetches is emulated');
			const k = ((query as JsonObject).rrf as JsonObject | undefined)?.k ?? QDRANT_RRF_K;
			const fused = new Map<string, { point: Point; score: number }>();
			for (const stage of stages) {
				stage.forEach(({ point }, rank) => {
					const entry = fused.get(String(point.id)) ?? { point, score: 0 };
					// Qdrant's formula counts ranks from 0: the top hit of one list scores 1 / k.
					entry.score += 1 / ((k as number) + rank);
					fused.set(String(point.id), entry);
				});
			}
			return [...fused.values()]
				.filter(({ point }) => matchesFilter(point, filter))
				.sort((a, b) => b.score - a.score)
				.slice(0, limit);
		}
		const candidates = candidatesFor(collection, filter);
		if (query && !Array.isArray(query) && 'order_by' in query) {
			const orderBy = (typeof query.order_by === 'string' ? { key: query.order_by } : query.order_by) as JsonObject;
			const sign = orderBy.direction === 'desc' ? -1 : 1;
			const keyOf = (point: Point) => String(valuesAt(point.payload, orderBy.key as string)[0] ?? '');
			return candidates
				.filter((point) => valuesAt(point.payload, orderBy.key as string).length > 0)
				.sort((a, b) => sign * keyOf(a).localeCompare(keyOf(b)))
				.slice(0, limit)
				.map((point) => ({ point, score: 0 }));
		}
		if (!query) throw new QdrantRequestError(400, 'Emulator: a query without `query` is not emulated');
		const using = (request.using as string | undefined) ?? '';
		let scored: Array<{ point: Point; score: number }>;
		if (Array.isArray(query)) {
			const config = collection.dense.get(using);
			if (!config) throw new QdrantRequestError(400, `Wrong input: Not existing vector name error: ${using}`);
			if (query.length !== config.size) {
				throw new QdrantRequestError(400, `Wrong input: Vector dimension error: expected dim: ${config.size}, got ${query.length}`);
			}
			scored = candidates
				.filter((point) => point.vector[using])
				.map((point) => ({ point, score: cosine(query as number[], point.vector[using] as number[]) }));
		} else if ('indices' in query) {
			const config = collection.sparse.get(using);
			if (!config) throw new QdrantRequestError(400, `Wrong input: Not existing vector name error: ${using}`);
			const sparseQuery = query as unknown as SparseVector;
			scored = candidates
				.filter((point) => point.vector[using])
				.map((point) => {
					const stored = point.vector[using] as SparseVector;
					let score = 0;
					let overlap = false;
					sparseQuery.indices.forEach((index, position) => {
						const at = stored.indices.indexOf(index);
						if (at < 0) return;
						overlap = true;
						const weight = config.modifier === 'idf' ? idf(collection, using, index) : 1;
						score += sparseQuery.values[position] * stored.values[at] * weight;
					});
					return { point, score, overlap };
				})
				.filter((entry) => entry.overlap)
				.map(({ point, score }) => ({ point, score }));
		} else {
			throw new QdrantRequestError(400, 'Emulator: unsupported query ' + JSON.stringify(query));
		}
		return scored.sort((a, b) => b.score - a.score).slice(0, limit);
	}

	const scoredPoints = (ranked: Array<{ point: Point; score: number }>, request: JsonObject) =>
		ranked.map(({ point, score }) => ({
			id: point.id,
			version: 1,
			score,
			payload: selectPayload(point.payload, request.with_payload),
			...(request.with_vector ? { vector: selectVector(point, request.with_vector) } : {}),
		}));

	function validatePoint(collection: Collection, point: JsonObject): Point {
		const vector = (point.vector ?? {}) as Record<string, number[] | SparseVector>;
		if (Array.isArray(vector)) throw new QdrantRequestError(400, 'Wrong input: Not existing vector name error: (unnamed)');
		for (const [name, value] of Object.entries(vector)) {
			if (Array.isArray(value)) {
				const config = collection.dense.get(name);
				if (!config) throw new QdrantRequestError(400, `Wrong input: Not existing vector name error: ${name}`);
				if (value.length !== config.size) {
					throw new QdrantRequestError(400, `Wrong input: Vector dimension error: expected dim: ${config.size}, got ${value.length}`);
				}
			} else {
				if (!collection.sparse.has(name)) throw new QdrantRequestError(400, `Wrong input: Not existing vector name error: ${name}`);
				if (value.indices.length !== value.values.length || new Set(value.indices).size !== value.indices.length) {
					throw new QdrantRequestError(400, 'Validation error in JSON body: sparse indices must be unique and match values');
				}
			}
		}
		return { id: point.id as PointId, vector, payload: (point.payload ?? {}) as JsonObject };
	}

	const updated = () => ({ operation_id: 1, status: 'completed' });

	/** The emulated operation; returns the `result` of Qdrant's envelope. */
	function handle(template: string, method: string, params: string[], body: JsonObject): Json {
		const key = `${method} ${template}`;
		const name = decodeURIComponent(params[0] ?? '');
		switch (key) {
			case 'GET /collections/{collection_name}': {
				const collection = collectionOf(name);
				const vectors = Object.fromEntries([...collection.dense].map(([vector, config]) => [vector, config]));
				const sparse = Object.fromEntries([...collection.sparse].map(([vector, config]) => [vector, config]));
				return {
					status: 'green',
					optimizer_status: 'ok',
					segments_count: 1,
					points_count: collection.points.size,
					indexed_vectors_count: 0,
					config: {
						params: { vectors, sparse_vectors: sparse, shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true },
						hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
						optimizer_config: { default_segment_number: 0, flush_interval_sec: 5 },
						...(collection.metadata ? { metadata: collection.metadata } : {}),
					},
					payload_schema: collection.payloadSchema,
				} as JsonObject;
			}
			case 'GET /collections/{collection_name}/exists':
				return { exists: collections.has(name) };
			case 'PUT /collections/{collection_name}': {
				if (collections.has(name)) throw new QdrantRequestError(409, `Wrong input: Collection \`${name}\` already exists!`);
				const vectors = (body.vectors ?? {}) as JsonObject;
				const dense = new Map<string, { size: number; distance: string }>();
				if ('size' in vectors) dense.set('', vectors as unknown as { size: number; distance: string });
				else for (const [vector, config] of Object.entries(vectors)) dense.set(vector, config as unknown as { size: number; distance: string });
				for (const config of dense.values()) {
					if (config.distance !== 'Cosine') throw new QdrantRequestError(400, 'Emulator: only Cosine distance is emulated');
				}
				const sparse = new Map(Object.entries((body.sparse_vectors ?? {}) as Record<string, { modifier?: string }>));
				const metadata = (body.metadata ?? null) as JsonObject | null;
				collections.set(name, { dense, sparse, payloadSchema: {}, points: new Map(), metadata });
				return true;
			}
			case 'PATCH /collections/{collection_name}': {
				const collection = collectionOf(name);
				if (body.metadata) {
					// Qdrant merges metadata; a key set to null is removed.
					const merged: JsonObject = { ...(collection.metadata ?? {}), ...(body.metadata as JsonObject) };
					for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
					collection.metadata = merged;
				}
				return true;
			}
			case 'PUT /collections/{collection_name}/points/vectors': {
				const collection = collectionOf(name);
				for (const update of body.points as JsonObject[]) {
					const point = collection.points.get(String(update.id));
					if (!point) throw new QdrantRequestError(404, `Not found: No point with id ${String(update.id)} found`);
					const checked = validatePoint(collection, { id: update.id, vector: update.vector, payload: point.payload });
					point.vector = { ...point.vector, ...checked.vector };
				}
				return updated();
			}
			case 'DELETE /collections/{collection_name}':
				return collections.delete(name);
			case 'PUT /collections/{collection_name}/index': {
				const collection = collectionOf(name);
				const schema = body.field_schema as Json;
				const dataType = typeof schema === 'string' ? schema : ((schema as JsonObject).type as string);
				collection.payloadSchema[body.field_name as string] = { data_type: dataType, points: 0 };
				return updated();
			}
			case 'PUT /collections/{collection_name}/points': {
				const collection = collectionOf(name);
				if (!Array.isArray(body.points)) throw new QdrantRequestError(400, 'Emulator: only the points list form is emulated');
				const points = (body.points as JsonObject[]).map((point) => validatePoint(collection, point));
				for (const point of points) collection.points.set(String(point.id), point);
				return updated();
			}
			case 'POST /collections/{collection_name}/points/delete': {
				const collection = collectionOf(name);
				if (Array.isArray(body.points)) for (const id of body.points) collection.points.delete(String(id));
				else for (const point of candidatesFor(collection, body.filter)) collection.points.delete(String(point.id));
				return updated();
			}
			case 'POST /collections/{collection_name}/points/count':
				return { count: candidatesFor(collectionOf(name), body.filter).length };
			case 'POST /collections/{collection_name}/points/scroll': {
				const limit = (body.limit as number | undefined) ?? 10;
				const ordered = candidatesFor(collectionOf(name), body.filter).sort((a, b) => String(a.id).localeCompare(String(b.id)));
				const start = body.offset == null ? 0 : ordered.findIndex((point) => String(point.id) >= String(body.offset));
				const page = start < 0 ? [] : ordered.slice(start, start + limit);
				const next = start < 0 ? undefined : ordered[start + limit];
				return {
					points: page.map((point) => ({
						id: point.id,
						payload: selectPayload(point.payload, body.with_payload ?? true),
						...(body.with_vector ? { vector: selectVector(point, body.with_vector) } : {}),
					})),
					next_page_offset: next ? next.id : null,
				} as JsonObject;
			}
			case 'POST /collections/{collection_name}/facet': {
				const collection = collectionOf(name);
				const field = body.key as string;
				if (!(field in collection.payloadSchema)) {
					throw new QdrantRequestError(400, `Bad request: Index required but not found for "${field}" of one of the following types: [keyword, integer, uuid]`);
				}
				const counts = new Map<Json, number>();
				for (const point of candidatesFor(collection, body.filter)) {
					for (const value of new Set(valuesAt(point.payload, field))) counts.set(value, (counts.get(value) ?? 0) + 1);
				}
				const hits = [...counts]
					.map(([value, count]) => ({ value, count }))
					.sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)))
					.slice(0, (body.limit as number | undefined) ?? 10);
				return { hits } as JsonObject;
			}
			case 'POST /collections/{collection_name}/points/query': {
				const collection = collectionOf(name);
				return { points: scoredPoints(runQuery(collection, body), body) } as JsonObject;
			}
			case 'POST /collections/{collection_name}/points/query/batch': {
				const collection = collectionOf(name);
				return (body.searches as JsonObject[]).map((search) => ({ points: scoredPoints(runQuery(collection, search), search) })) as Json;
			}
			default:
				throw new QdrantRequestError(501, `Emulator: ${key} is valid Qdrant API but not emulated`);
		}
	}

	function checkQuery(operation: Operation, search: URLSearchParams, where: string): void {
		for (const [name, value] of search) {
			const schema = operation.queryParameters.get(name);
			if (!schema) {
				state.violations.push(`${where}: query parameter "${name}" is not declared for this operation`);
				continue;
			}
			const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
			const valid =
				type === 'boolean' ? value === 'true' || value === 'false' : type === 'integer' ? /^\d+$/.test(value) : true;
			if (!valid) state.violations.push(`${where}: query parameter "${name}=${value}" is not a ${String(type)}`);
		}
	}

	const server = http.createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const started = process.hrtime.bigint();
			const url = new URL(request.url ?? '/', 'http://localhost');
			const method = request.method ?? 'GET';
			const where = `${method} ${url.pathname}`;
			state.requests.push(where);
			state.lastHeaders = request.headers;
			const reply = (status: number, payload: JsonObject) => {
				const time = Number(process.hrtime.bigint() - started) / 1e9;
				response.writeHead(status, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ ...payload, time }));
			};
			const fail = (status: number, message: string) => reply(status, { status: { error: message } });

			if (options.apiKey !== undefined && request.headers['api-key'] !== options.apiKey) {
				fail(401, 'Must provide an API key or an Authorization bearer token');
				return;
			}
			if ([...url.searchParams.keys()].some((name) => /api.?key/i.test(name))) {
				state.violations.push(`${where}: an API key travelled in the query string`);
			}
			let operation: Operation | undefined;
			let params: string[] = [];
			for (const candidate of operations) {
				const match = candidate.method === method ? candidate.pattern.exec(url.pathname) : null;
				if (match) {
					operation = candidate;
					params = match.slice(1);
					break;
				}
			}
			if (!operation) {
				state.violations.push(`${where}: no such operation in Qdrant's OpenAPI document`);
				fail(404, `Not found: ${where}`);
				return;
			}
			checkQuery(operation, url.searchParams, where);
			let body: JsonObject = {};
			const text = Buffer.concat(chunks).toString('utf8');
			if (operation.requestPointer) {
				try {
					body = text ? (JSON.parse(text) as JsonObject) : {};
				} catch {
					state.violations.push(`${where}: body is not JSON`);
					fail(400, 'Format error in JSON body');
					return;
				}
				const validate = validator(operation.requestPointer);
				if (!validate(body)) {
					const detail = ajv.errorsText(validate.errors, { dataVar: 'body' });
					state.violations.push(`${where}: request body violates ${operation.template}: ${detail.slice(0, 2000)}`);
					fail(400, `Validation error in JSON body: ${detail.slice(0, 500)}`);
					return;
				}
			} else if (text) {
				state.violations.push(`${where}: sends a body the operation does not take`);
			}
			try {
				const result = handle(operation.template, method, params, body);
				const envelope = { result, status: 'ok', time: 0 } as JsonObject;
				if (operation.responsePointer) {
					const validate = validator(operation.responsePointer);
					if (!validate(envelope)) {
						state.violations.push(`${where}: EMULATOR response violates the schema: ${ajv.errorsText(validate.errors).slice(0, 1000)}`);
					}
				}
				reply(200, { result, status: 'ok' });
			} catch (error) {
				if (error instanceof QdrantRequestError) {
					if (error.status >= 500 || error.message.startsWith('Emulator:')) state.violations.push(`${where}: ${error.message}`);
					fail(error.status, error.message);
				} else {
					state.violations.push(`${where}: emulator crashed: ${(error as Error).stack}`);
					fail(500, 'Service internal error');
				}
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	state.close = () =>
		new Promise<void>((resolve, reject) => {
			server.closeAllConnections();
			server.close((error) => (error ? reject(error) : resolve()));
		});
	return state;
}
