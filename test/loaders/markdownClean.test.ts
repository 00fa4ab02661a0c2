import { loadBinary, loadText } from '../../lib/loaders';
import { cleanMarkdown } from '../../lib/loaders/markdownClean';

/** Cleans, then tidies blank lines the way loadText does, so expectations read as the embedded text. */
const clean = (markdown: string) =>
	cleanMarkdown(markdown)
		.replace(/[ \t]+$/gm, '')
		.replace(/\n{3,}/g, '\n\n')
		.trim();

describe('cleanMarkdown', () => {
	it('drops top-level MDX import and export statements, multi-line ones included', () => {
		const mdx = [
			"import { Callout, Tabs } from 'nextra/components'",
			"import Diagram from './diagram.svg'",
			'import {',
			'  Steps,',
			'  Step,',
			"} from '@/components/steps'",
			"import './styles.css';",
			'',
			"export const meta = { title: 'Setup', tags: ['a', 'b'] }",
			'',
			'export default function Layout({ children }) {',
			'  return <main>{children}</main>',
			'}',
			'',
			'# Setup',
			'',
			'Install the package.',
		].join('\n');
		expect(clean(mdx)).toBe('# Setup\n\nInstall the package.');
	});

	it('keeps sentences that only start like an import or export, and statements inside code fences', () => {
		const text = [
			'import data from a CSV file once a week.',
			'',
			'export default settings are fine for most teams.',
			'',
			'```js',
			"import x from 'y'",
			'export const a = 1',
			'```',
			'',
			'Some text',
			"import notTopLevel from 'here'",
		].join('\n');
		expect(clean(text)).toBe(text);
	});

	it('removes JSX and HTML tags but keeps their text', () => {
		const mdx = [
			'<Callout type="warning" emoji="⚠️">',
			'  Back up your **database** first.',
			'</Callout>',
			'',
			'Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to copy, or read <a href="/docs">the docs</a>.',
		].join('\n');
		expect(clean(mdx)).toBe('Back up your **database** first.\n\nPress Ctrl+C to copy, or read the docs.');
	});

	it('handles nested components and props spanning lines, with expressions, strings and ">" inside', () => {
		const mdx = [
			'<Tabs',
			"  items={['npm', 'pnpm > 8', \"yarn\"]}",
			'  defaultIndex={1}',
			'  onChange={(index) => index > 0 && console.log(`tab ${index}`)}',
			'  disabled',
			'>',
			'  <Tabs.Tab>',
			'    <Card title="Install {fast}" icon={<Icon name="zap" />}>',
			'      Run the installer.',
			'    </Card>',
			'  </Tabs.Tab>',
			'</Tabs>',
		].join('\n');
		expect(clean(mdx)).toBe('Run the installer.');
	});

	it('drops self-closing components and void elements; <br> becomes a line break', () => {
		expect(clean('Intro\n\n<Callout />\n\n<YouTube id="abc" start={10} />\n\nOutro')).toBe('Intro\n\nOutro');
		expect(clean('Line one<br>Line two<br/>Line three<br />end')).toBe('Line one\nLine two\nLine three\nend');
		expect(clean('A logo <img src="logo.png" alt="Logo"> here')).toBe('A logo  here');
	});

	it('keeps a Markdown table row on one line: <br> in a cell becomes a space', () => {
		const table = '| Class | Links |\n|---|---|\n| A11y 101 | [Slides](https://x.test/s)<br/><br/>[Channel](https://x.test/c) |\n| Bias | none |';
		expect(clean(table)).toBe('| Class | Links |\n|---|---|\n| A11y 101 | [Slides](https://x.test/s)  [Channel](https://x.test/c) |\n| Bias | none |');
	});

	it('keeps placeholders that look like tags but are none: <organization-name>, <your-token>', () => {
		const text = 'Open https://github.com/orgs/<organization-name>/invitation and paste <your-token>.';
		expect(clean(text)).toBe(text);
		expect(clean('<note>Kept text</note> and <custom-el>more</custom-el>')).toBe('Kept text and more');
	});

	it('turns <details><summary> into their readable text on separate lines', () => {
		const html = '<details><summary>How do refunds work?</summary>Refunds take <b>5 days</b>.</details>';
		expect(clean(html)).toBe('How do refunds work?\nRefunds take 5 days.');
		const table = '<table><tr><td>Plan</td><td>Price</td></tr></table>';
		expect(clean(table).split('\n').filter(Boolean)).toEqual(['Plan', 'Price']);
	});

	it('removes HTML and MDX comments, script and style blocks', () => {
		const text = 'Before <!-- a comment\nover two lines --> after.\n\n{/* an MDX comment */}\n\n<script>var x = "<b>not text</b>";</script><style>p > a { color: red }</style>Visible.';
		expect(clean(text)).toBe('Before  after.\n\nVisible.');
	});

	it('leaves code fences, indented fences in components and inline code untouched', () => {
		const text = [
			'Use `<Callout type="info">` or ``a `<b>` tag``.',
			'',
			'```html',
			'<div class="box"><!-- keep --></div>',
			'```',
			'',
			'<Steps>',
			'  ~~~tsx',
			'  <Button onClick={go} />',
			'  ~~~',
			'</Steps>',
		].join('\n');
		expect(clean(text)).toBe(
			[
				'Use `<Callout type="info">` or ``a `<b>` tag``.',
				'',
				'```html',
				'<div class="box"><!-- keep --></div>',
				'```',
				'',
				'  ~~~tsx',
				'  <Button onClick={go} />',
				'  ~~~',
			].join('\n'),
		);
	});

	it('keeps Markdown autolinks, escapes and a "<" that opens no tag', () => {
		const text = 'See <https://example.com/a?b=1&c=2>, write <team@example.com>, \\<Escaped> and if a < b or 3 <4 then.';
		expect(clean(text)).toBe(text);
		expect(clean('An unclosed <Callout title="x" and more\n\ntext')).toBe('An unclosed <Callout title="x" and more\n\ntext');
	});

	it('decodes entities outside code only', () => {
		expect(clean('Fish &amp; chips&nbsp;today &#8211; &lt;b&gt; `&amp;`')).toBe('Fish & chips today – <b> `&amp;`');
	});
});

describe('Markdown loading', () => {
	const mdx = [
		'---',
		'title: Getting started',
		'description: First steps',
		'---',
		"import { Callout } from 'nextra/components'",
		'',
		'# Getting started',
		'',
		'<Callout type="info">You need an account.</Callout>',
		'',
		'```mdx',
		'<Callout>kept in code</Callout>',
		'```',
	].join('\n');

	it('embeds only the readable text of an .mdx file, with the front matter as metadata', async () => {
		const [document] = await loadBinary({ data: Buffer.from(mdx), fileName: 'start.mdx', sourceId: 'start.mdx' });
		expect(document).toMatchObject({ title: 'Getting started', description: 'First steps', mimeType: 'text/markdown' });
		expect(document.text).toBe('# Getting started\n\nYou need an account.\n\n```mdx\n<Callout>kept in code</Callout>\n```');
	});

	it('cleans Markdown given as text, and leaves plain text alone', () => {
		expect(loadText('# Hi\n\n<div>Hello</div>', { sourceId: 'a', format: 'markdown' }).text).toBe('# Hi\n\nHello');
		expect(loadText('Compare List<String> and a <b> tag', { sourceId: 'b', format: 'text' }).text).toBe('Compare List<String> and a <b> tag');
	});
});
