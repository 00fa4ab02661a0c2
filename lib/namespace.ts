import { InputError } from './types';

const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Namespaces keep one agency client's knowledge away from another's, so an empty or odd one is refused
 * rather than silently mapped onto a shared default.
 */
export function checkNamespace(namespace: string | undefined, field = 'namespace'): string {
	const value = (namespace ?? '').trim();
	if (!NAMESPACE_PATTERN.test(value)) {
		throw new InputError(
			`Namespace "${value}" is not valid: use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit (for example "acme-corp")`,
			field,
		);
	}
	return value;
}
