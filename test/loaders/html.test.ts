import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { htmlFragmentToMarkdown, htmlToDocument, loadText } from '../../lib/loaders';
import { InputError } from '../../lib/types';

const messyPage = readFileSync(join(__dirname, '../fixtures/loaders/messy-page.html'));

describe('htmlToDocument on a messy real-world-style page', () => {
	const page = htmlToDocument(messyPage, 'https://acme.example/blog/cold-brew-guide?utm_source=newsletter');

	it('reads title, canonical URL, language and description', () => {
		expect(page.title).toBe('Cold Brew at Home: A Complete Guide');
		expect(page.url).toBe('https://acme.example/blog/cold-brew-guide');
		expect(page.language).toBe('en-GB');
		expect(page.description).toBe('How to make smooth cold brew coffee at home, with ratios and timings.');
	});

	it('keeps the article with headings, lists and the table as Markdown', () => {
		expect(page.text).toContain('# Cold Brew at Home: A Complete Guide');
		expect(page.text).toContain('## What you need\n\n- Coarsely ground coffee, about 100 grams\n- One litre of cold, filtered water');
		expect(page.text).toContain('1. Grind the beans coarsely, like sea salt.\n2. Stir the coffee');
		expect(page.text).toContain(
			'| Style | Coffee to water | Steep time |\n| --- | --- | --- |\n| Concentrate | 1:4 | 18 hours |',
		);
		expect(page.text).toMatch(/far less bitter than iced coffee, which makes it perfect for long summer afternoons\.\n\n## What you need/);
		expect(page.text.endsWith('add water or milk to taste.')).toBe(true);
	});

	it.each([
		['cookie banner', 'cookies'],
		['navigation', 'Subscriptions'],
		['search form', 'Search the shop'],
		['breadcrumbs', '›'],
		['share widget', 'Share on Twitter'],
		['comments', 'mother-in-law'],
		['sidebar', 'Popular posts'],
		['newsletter form', 'Join our newsletter'],
		['footer', 'All rights reserved'],
		['scripts', 'dataLayer'],
		['JSON-LD', 'TRACKING-JSON-LD'],
		['styles', 'font-family'],
		['noscript pixel', 'TRACKING-PIXEL'],
	])('drops the %s', (_, marker) => {
		expect(page.text).not.toContain(marker);
	});
});

describe('HTML → Markdown rendering', () => {
	it('renders nested lists, code, quotes and line breaks', () => {
		const markdown = htmlFragmentToMarkdown(`
			<ul><li>Beans<ul><li>Arabica</li><li>Robusta</li></ul></li><li>Water</li></ul>
			<pre>const ratio = 1 / 8;
console.log(ratio);</pre>
			<blockquote><p>Best cold brew <em>ever</em>.</p></blockquote>
			<p>Line one<br>Line two</p>`);
		expect(markdown).toBe(
			'- Beans\n  - Arabica\n  - Robusta\n- Water\n\n```\nconst ratio = 1 / 8;\nconsole.log(ratio);\n```\n\n> Best cold brew ever.\n\nLine one\nLine two',
		);
	});

	it('reads layout tables cell by cell and escapes pipes in data tables', () => {
		const layout = htmlFragmentToMarkdown('<table role="presentation"><tr><td><p>Left column</p></td><td><p>Right column</p></td></tr></table>');
		expect(layout).toBe('Left column\n\nRight column');
		const data = htmlFragmentToMarkdown('<table><tr><td>a|b</td><td>c</td></tr><tr><td>d</td></tr></table>');
		expect(data).toBe('| a\\|b | c |\n| d |  |');
	});

	it('decodes legacy charsets from bytes and prefers valid UTF-8 over a stale meta charset', () => {
		const latin1 = Buffer.from('<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><p>Cr\xe8me br\xfbl\xe9e is our best seller, a classic dessert from France.</p></body></html>', 'latin1');
		expect(htmlToDocument(latin1).title).toBe('Café');
		const staleMeta = Buffer.from('<html><head><meta charset="gb2312"></head><body><p>中文内容，测试。</p></body></html>', 'utf8');
		expect(htmlToDocument(staleMeta).text).toBe('中文内容，测试。');
	});
});

describe('loadText', () => {
	it('detects HTML in auto mode and keeps the given sourceId and title', () => {
		const document = loadText(messyPage.toString('utf8'), { sourceId: 'crm-note-1', title: 'My title' });
		expect(document).toMatchObject({ sourceId: 'crm-note-1', title: 'My title', mimeType: 'text/html', language: 'en-GB' });
		expect(document.text).toContain('## Ratios and timings');
	});

	it('keeps Markdown as is (normalising line endings) and takes the first heading as title', () => {
		const document = loadText('# Pricing\r\n\r\n- Small: 3 EUR\r\n- Large: 4 EUR  \r\n', { sourceId: 'pricing' });
		expect(document).toMatchObject({ text: '# Pricing\n\n- Small: 3 EUR\n- Large: 4 EUR', title: 'Pricing', mimeType: 'text/markdown' });
	});

	it('treats text as plain when asked, even if it looks like HTML', () => {
		const document = loadText('<p>not parsed</p>', { sourceId: 'raw', format: 'text' });
		expect(document).toMatchObject({ text: '<p>not parsed</p>', mimeType: 'text/plain' });
	});

	it('refuses empty or whitespace-only text, naming the source', () => {
		expect(() => loadText('  \n\t ', { sourceId: 'note-7' })).toThrow(new InputError('"note-7" is empty; provide a file or text with content.'));
	});

	it('refuses text over the size limit', () => {
		expect(() => loadText('x'.repeat(3 * 1024 * 1024), { sourceId: 'dump', maxBytes: 2 * 1024 * 1024 })).toThrow(
			'"dump" is 3 MB, larger than the 2 MB limit; split it into smaller files or texts (this limit has no option).',
		);
	});
});
