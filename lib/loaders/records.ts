/**
 * CSV and JSON records (CRM exports, product feeds): each row becomes `key: value` lines, which read well to
 * both an embedding model and a keyword index, and keeps the column names next to their values.
 */
import { parse as parseCsv } from 'csv-parse/sync';

import { InputError } from '../types';
import { MAX_NESTING_DEPTH, tooDeeplyNestedError } from './limits';

export type RecordRow = Record<string, unknown>;

function flatten(name: string, value: unknown, prefix: string, lines: string[], depth: number): void {
	if (value === null || value === undefined || value === '') return;
	// Refused before the recursion below runs out of call stack.
	if (depth > MAX_NESTING_DEPTH) throw tooDeeplyNestedError(name);
	if (Array.isArray(value)) {
		if (value.every((item) => item === null || typeof item !== 'object')) {
			const items = value.filter((item) => item !== null && item !== '').map(String);
			if (items.length > 0) lines.push(`${prefix}: ${items.join(', ')}`);
		} else {
			value.forEach((item, index) => flatten(name, item, `${prefix}.${index + 1}`, lines, depth + 1));
		}
	} else if (typeof value === 'object') {
		for (const [key, nested] of Object.entries(value as RecordRow)) {
			flatten(name, nested, prefix ? `${prefix}.${key}` : key, lines, depth + 1);
		}
	} else {
		lines.push(`${prefix}: ${String(value).replace(/\s+/g, ' ').trim()}`);
	}
}

/** `key: value` lines; nested objects use dotted keys, empty values are left out. `name` names the file in errors. */
export function recordToText(name: string, record: unknown): string {
	const lines: string[] = [];
	flatten(name, record, '', lines, 0);
	return lines.join('\n');
}

/** The delimiter that splits the header line most often: exports use `,`, `;` (Excel in many locales) or tabs. */
function guessDelimiter(text: string): string {
	const header = text.split(/\r?\n/, 1)[0];
	const candidates = [',', ';', '\t', '|'];
	return candidates.reduce((best, candidate) =>
		header.split(candidate).length > header.split(best).length ? candidate : best,
	);
}

/** CSV rows, and the rows that lost values to the header (reported, since the parser alone would drop them). */
export interface CsvRecords {
	rows: RecordRow[];
	/** Names in the header row: one per column. */
	columns: string[];
	/** 0-based indexes of rows with values beyond the header's columns, which have no name and are left out. */
	rowsWithExtraValues: number[];
	/** Header names used for more than one column: only the last such column's value is kept. */
	repeatedColumns: string[];
	/** 0-based indexes of rows where a repeated column name hid a different, non-empty value. */
	rowsWithHiddenValues: number[];
}

/**
 * Rows as `{ column: value }`, exactly as csv-parse's `columns: true` builds them (so stored documents keep
 * their fingerprints), but parsed as arrays so that the values such a mapping drops are known.
 */
export function parseCsvRecords(name: string, text: string): CsvRecords {
	let records: string[][];
	try {
		records = parseCsv(text, {
			bom: true,
			delimiter: guessDelimiter(text),
			skip_empty_lines: true,
			relax_column_count: true,
			relax_quotes: true,
			trim: true,
		}) as string[][];
	} catch (error) {
		throw new InputError(`${name} could not be read as CSV: ${(error as Error).message}.`);
	}
	const [columns = [], ...lines] = records;
	const result: CsvRecords = { rows: [], columns, rowsWithExtraValues: [], repeatedColumns: [], rowsWithHiddenValues: [] };
	result.repeatedColumns = [...new Set(columns.filter((column, index) => columns.indexOf(column) !== index))];
	lines.forEach((fields, rowIndex) => {
		const row: RecordRow = {};
		let hidden = false;
		fields.forEach((value, index) => {
			if (index >= columns.length) return;
			const column = columns[index];
			const earlier = Object.prototype.hasOwnProperty.call(row, column) ? row[column] : undefined;
			if (earlier !== undefined && earlier !== '' && earlier !== value) hidden = true;
			// An own property even for a column named `__proto__`, as csv-parse makes it.
			Object.defineProperty(row, column, { value, enumerable: true, writable: true, configurable: true });
		});
		if (fields.slice(columns.length).some((value) => value !== '')) result.rowsWithExtraValues.push(rowIndex);
		if (hidden) result.rowsWithHiddenValues.push(rowIndex);
		result.rows.push(row);
	});
	return result;
}

/** A JSON array gives its elements as rows; any other JSON value is one row. */
export function parseJsonRecords(name: string, text: string): unknown[] {
	let value: unknown;
	try {
		value = JSON.parse(text.replace(/^\uFEFF/, ''));
	} catch (error) {
		throw new InputError(`${name} is not valid JSON: ${(error as Error).message}.`);
	}
	return Array.isArray(value) ? value : [value];
}

/** Row identities for `<file>#<id>` sourceIds: the id column's value, else the 1-based row number. */
export function rowIds(name: string, rows: unknown[], idField: string | undefined): string[] {
	const ids = rows.map((row, index) => {
		if (!idField) return String(index + 1);
		const value = row !== null && typeof row === 'object' ? (row as RecordRow)[idField] : undefined;
		if (value === undefined || value === null || value === '') {
			throw new InputError(`${name}: row ${index + 1} has no value in the ID column "${idField}"; fill it or choose another column.`, 'idField');
		}
		return String(value);
	});
	const firstRowOf = new Map<string, number>();
	ids.forEach((id, index) => {
		const earlier = firstRowOf.get(id);
		if (earlier !== undefined) {
			throw new InputError(
				`${name}: the ID column "${idField}" has the value "${id}" in rows ${earlier + 1} and ${index + 1}; choose a column with unique values.`,
				'idField',
			);
		}
		firstRowOf.set(id, index);
	});
	return ids;
}
