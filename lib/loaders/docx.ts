/**
 * DOCX via mammoth → HTML → our HTML→Markdown renderer. Mammoth maps Word styles to semantic HTML (Heading 1
 * → <h1>, real tables, lists), which our renderer turns into `#` headings and `| a | b |` rows; mammoth's own
 * Markdown output is deprecated upstream and drops tables, so the HTML route keeps more structure.
 */
import mammoth from 'mammoth';

import { InputError } from '../types';
import { htmlFragmentToMarkdown } from './html';
import { withParseTimeout } from './limits';

/** Word's Title/Subtitle styles are plain paragraphs to mammoth; as headings they become the document title. */
const TITLE_STYLES = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

export async function readDocx(name: string, data: Buffer, timeoutMs: number): Promise<string> {
	let html: string;
	try {
		const result = await withParseTimeout(name, timeoutMs, mammoth.convertToHtml({ buffer: data }, { styleMap: TITLE_STYLES }), () => undefined);
		html = result.value;
	} catch (error) {
		if (error instanceof InputError) throw error;
		throw new InputError(
			`${name} could not be read as a Word document: it looks truncated or corrupt (${(error as Error).message}). ` +
				'Open and re-save it in Word, or export it as PDF.',
		);
	}
	const text = htmlFragmentToMarkdown(html);
	if (!/[\p{L}\p{N}]/u.test(text)) throw new InputError(`${name} contains no text.`);
	return text;
}
