import { z } from 'zod';
import { InputError, type FilterCondition, type FilterOperator, type MetadataFilter, type MetadataValue } from './types';

const OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists'];

/** `$gte`-style names in raw JSON, so people who know MongoDB or Qdrant filters feel at home. */
const DOLLAR_OPERATORS: Record<string, FilterOperator> = Object.fromEntries(OPERATORS.map((op) => [`$${op}`, op]));

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const conditionSchema = z.object({
	key: z.string().trim().min(1, 'a filter needs a metadata key'),
	op: z.enum(OPERATORS as [FilterOperator, ...FilterOperator[]]),
	value: z.union([scalar, z.array(scalar)]).optional(),
});

/** A condition as the UI's key / operator / value list gives it: values arrive as text. */
export interface SimpleCondition {
	key: string;
	op: string;
	value?: string | number | boolean | null;
}

/**
 * Joins the UI's simple conditions and its raw JSON into one filter (all conditions must hold).
 *
 * Raw JSON takes either a list of `{ "key", "op", "value" }` or an object shorthand:
 * `{ "lang": "en", "price": { "$lte": 20 }, "tags": { "$in": ["a", "b"] } }`.
 */
export function parseFilter(conditions: SimpleCondition[] = [], rawJson?: string): MetadataFilter {
	const filter: MetadataFilter = conditions
		.filter((condition) => condition.key?.trim())
		.map((condition, index) => checkCondition(fromSimple(condition), `Filters › condition ${index + 1}`));
	if (rawJson?.trim()) filter.push(...parseRawFilter(rawJson));
	return filter;
}

function fromSimple(condition: SimpleCondition): FilterCondition {
	const op = condition.op as FilterOperator;
	if (op === 'exists') return { key: condition.key, op };
	if (op === 'in' || op === 'nin') {
		const list = Array.isArray(condition.value) ? condition.value : String(condition.value ?? '').split(',');
		return { key: condition.key, op, value: list.map((item) => coerce(item)).filter((item) => item !== '') };
	}
	return { key: condition.key, op, value: coerce(condition.value ?? null) };
}

/**
 * Text from a form field becomes a number or boolean when it plainly is one, so `price gt 10` compares numbers.
 * Only when the number writes back as the same text: a zip code "02134", a 20-digit CRM id or "1.50" stay text,
 * since turning them into numbers would change what is stored and shown. The same rule types metadata at
 * ingest and values in filters, so the two always agree.
 */
function coerce(value: MetadataValue): MetadataValue {
	if (typeof value !== 'string') return value;
	const text = value.trim();
	if (text === 'true' || text === 'false') return text === 'true';
	if (/^-?\d+(\.\d+)?$/.test(text)) {
		const number = Number(text);
		if (String(number) === text && (!Number.isInteger(number) || Number.isSafeInteger(number))) return number;
	}
	return text;
}

function parseRawFilter(rawJson: string): FilterCondition[] {
	let parsed: unknown;
	try {
		parsed = JSON.parse(rawJson);
	} catch (error) {
		throw new InputError(`Filter (JSON) is not valid JSON: ${(error as Error).message}. Example: {"lang": "en"}`, 'filterJson');
	}
	if (Array.isArray(parsed)) {
		return parsed.map((condition, index) => checkCondition(condition, `Filter (JSON) › item ${index + 1}`));
	}
	if (parsed === null || typeof parsed !== 'object') {
		throw new InputError('Filter (JSON) must be an object like {"lang": "en"} or a list of {"key", "op", "value"}', 'filterJson');
	}
	return Object.entries(parsed as Record<string, unknown>).flatMap(([key, spec]) => {
		if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
			return Object.entries(spec as Record<string, unknown>).map(([name, value]) => {
				const op = DOLLAR_OPERATORS[name];
				if (!op) {
					throw new InputError(
						`Filter (JSON) › "${key}": unknown operator "${name}". Use one of ${Object.keys(DOLLAR_OPERATORS).join(', ')}`,
						'filterJson',
					);
				}
				return checkCondition({ key, op, value: op === 'exists' ? undefined : value }, `Filter (JSON) › "${key}"`);
			});
		}
		return [checkCondition({ key, op: Array.isArray(spec) ? 'in' : 'eq', value: spec }, `Filter (JSON) › "${key}"`)];
	});
}

function checkCondition(candidate: unknown, where: string): FilterCondition {
	const result = conditionSchema.safeParse(candidate);
	if (!result.success) {
		const problem = result.error.issues.map((issue) => `${issue.path.join('.') || 'condition'}: ${issue.message}`).join('; ');
		throw new InputError(`${where} is not a valid filter (${problem}). Operators: ${OPERATORS.join(', ')}`, 'filters');
	}
	const condition = result.data as FilterCondition;
	const isList = Array.isArray(condition.value);
	if ((condition.op === 'in' || condition.op === 'nin') && !isList) {
		throw new InputError(`${where}: "${condition.op}" needs a list of values`, 'filters');
	}
	if (condition.op !== 'in' && condition.op !== 'nin' && isList) {
		throw new InputError(`${where}: "${condition.op}" compares one value; use "in" for a list`, 'filters');
	}
	if (['gt', 'gte', 'lt', 'lte'].includes(condition.op) && typeof condition.value !== 'number' && typeof condition.value !== 'string') {
		throw new InputError(`${where}: "${condition.op}" needs a number or a date text`, 'filters');
	}
	return condition;
}
