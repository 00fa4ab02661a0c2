/**
 * JSON output: the schema from the UI is checked once (it must itself be a valid JSON Schema), and each reply
 * is parsed and validated against it, with problems listed as `path: message` so they can be shown to a
 * person and sent back to the model for one repair.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { InputError } from '../types';

export interface JsonSchemaValidator {
	schema: Record<string, unknown>;
	/** Name for `response_format.json_schema.name` (^[a-zA-Z0-9_-]{1,64}$, from the schema title). */
	name: string;
	validate(value: unknown): JsonProblem[];
}

export interface JsonProblem {
	/** JSON Pointer of the offending value, `/` for the root. */
	path: string;
	message: string;
}

function ajvFor(schema: Record<string, unknown>): Ajv {
	const dialect = String(schema.$schema ?? '');
	// Unknown keywords (`example`, UI hints) are common in hand-written schemas; they should not be fatal.
	const options = { allErrors: true, strict: false };
	const ajv = dialect.includes('2020-12') ? new Ajv2020(options) : dialect.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
	addFormats(ajv);
	return ajv;
}

function problemsOf(errors: ErrorObject[] | null | undefined): JsonProblem[] {
	return (errors ?? []).map((error) => {
		const extra = error.keyword === 'additionalProperties' ? ` ("${(error.params as { additionalProperty: string }).additionalProperty}")` : '';
		return { path: error.instancePath || '/', message: `${error.message ?? error.keyword}${extra}` };
	});
}

/** Parses (when a string) and checks a JSON Schema given in the UI; every problem is an InputError on `field`. */
export function compileJsonSchema(input: string | object, field = 'jsonSchema'): JsonSchemaValidator {
	let schema: unknown = input;
	if (typeof input === 'string') {
		try {
			schema = JSON.parse(input);
		} catch (error) {
			throw new InputError(`JSON Schema is not valid JSON: ${(error as Error).message}. Example: {"type": "object", "properties": {"subject": {"type": "string"}}}`, field);
		}
	}
	if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
		throw new InputError('JSON Schema must be an object, e.g. {"type": "object", "properties": {"subject": {"type": "string"}}}', field);
	}
	const record = schema as Record<string, unknown>;
	const ajv = ajvFor(record);
	if (!ajv.validateSchema(record)) {
		const problems = problemsOf(ajv.errors).map((p) => `${p.path === '/' ? 'root' : p.path}: ${p.message}`);
		throw new InputError(`JSON Schema is not a valid schema: ${problems.join('; ')}`, field);
	}
	let compiled: ValidateFunction;
	try {
		compiled = ajv.compile(record);
	} catch (error) {
		throw new InputError(`JSON Schema cannot be used: ${(error as Error).message}`, field);
	}
	const name = String(record.title ?? 'response').replace(/[^a-zA-Z0-9_-]+/g, '_').slice(0, 64) || 'response';
	return {
		schema: record,
		name,
		validate: (value) => (compiled(value) ? [] : problemsOf(compiled.errors)),
	};
}

export type ParsedJsonReply = { ok: true; value: unknown } | { ok: false; problems: JsonProblem[] };

/** Parses a model reply as JSON (tolerating a Markdown code fence around it) and validates it. */
export function parseJsonReply(reply: string, validator: JsonSchemaValidator): ParsedJsonReply {
	const unfenced = reply.trim().replace(/^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/, '$1').trim();
	let value: unknown;
	try {
		value = JSON.parse(unfenced);
	} catch (error) {
		return { ok: false, problems: [{ path: '/', message: `the reply is not valid JSON (${(error as Error).message})` }] };
	}
	const problems = validator.validate(value);
	return problems.length ? { ok: false, problems } : { ok: true, value };
}

export function formatProblems(problems: JsonProblem[]): string {
	return problems.map((problem) => `- ${problem.path}: ${problem.message}`).join('\n');
}
