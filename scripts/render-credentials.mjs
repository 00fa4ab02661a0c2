#!/usr/bin/env node
// Prints a shipped credentials file ready for `n8n import:credentials`, with `${NAME}` and
// `${NAME:-fallback}` in its string values replaced from the environment. The shipped files hold
// no secrets: keys and local endpoints (mail catcher, model server) come from the environment.
import { readFileSync } from 'node:fs';

const placeholder = /\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g;

/** What to do about a variable without a fallback, beyond "set it". */
const hints = {
	SYMBIOTIC_WEBHOOK_TOKEN:
		' It is the token the example webhooks require (header "Authorization: Bearer <token>"): `npm run dev` makes one; elsewhere use a long random value, e.g. `openssl rand -hex 32`.',
};

/** Replaces placeholders in every string of a JSON value; an unset variable without fallback is an error. */
function render(value, file) {
	if (typeof value === 'string') {
		return value.replace(placeholder, (_, name, fallback) => {
			const fromEnv = process.env[name];
			if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
			if (fallback !== undefined) return fallback;
			throw new Error(
				`${file}: \${${name}} is not set. Set ${name} in the environment or give a fallback as \${${name}:-value}.${hints[name] ?? ''}`,
			);
		});
	}
	if (Array.isArray(value)) return value.map((entry) => render(entry, file));
	if (value && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, render(entry, file)]));
	}
	return value;
}

const file = process.argv[2];
if (!file) {
	console.error('usage: render-credentials.mjs <credentials.json>');
	process.exit(2);
}
try {
	process.stdout.write(JSON.stringify(render(JSON.parse(readFileSync(file, 'utf8')), file), null, '\t'));
} catch (error) {
	console.error(error instanceof Error ? error.message : String(error));
	process.exit(1);
}
