import { InputError } from '../types';

/**
 * A list given in a UI field (sources, history, examples): empty means none, a JSON text is parsed (a `json`
 * parameter without an expression arrives as text), and one object stands for a one-element list (e.g. a
 * single Vector Search hit item).
 */
export function parseListInput<T>(value: unknown, field: string, label: string): T[] {
	if (value === undefined || value === null || value === '') return [];
	let parsed = value;
	if (typeof value === 'string') {
		try {
			parsed = JSON.parse(value);
		} catch (error) {
			throw new InputError(`${label} is not valid JSON: ${(error as Error).message}. Give a list, or an expression such as {{ $json.${field} }}`, field);
		}
	}
	if (Array.isArray(parsed)) return parsed as T[];
	if (typeof parsed === 'object' && parsed !== null) return [parsed as T];
	throw new InputError(`${label} must be a list, got ${typeof parsed}`, field);
}
