/**
 * Main-content extraction, after Mozilla Readability (the algorithm behind Firefox Reader View): strip
 * boilerplate by tag, role and class/id, score paragraph-like blocks into their ancestors, pick the best
 * container, add related siblings, then drop link-heavy or form-like leftovers inside it. When that leaves
 * too little text the pass is repeated with the heuristics relaxed, as Readability does.
 */
import type { CheerioAPI } from 'cheerio';
import type { AnyNode, Element, ParentNode } from 'domhandler';

import { inlineText, isDataTable, isElement } from './htmlMarkdown';

/** Below this many characters the extraction is considered to have missed the article. */
const MIN_ARTICLE_CHARS = 500;

const ALWAYS_REMOVED_TAGS = new Set([
	'script',
	'style',
	'noscript',
	'template',
	'link',
	'meta',
	'iframe',
	'object',
	'embed',
	'button',
	'input',
	'select',
	'textarea',
	'dialog',
]);
/** Page chrome by element type; only stripped on the strict pass, because some sites misuse them. */
const CHROME_TAGS = new Set(['nav', 'aside', 'footer']);
const CHROME_ROLES = new Set([
	'navigation',
	'banner',
	'contentinfo',
	'complementary',
	'menu',
	'menubar',
	'search',
	'alert',
	'alertdialog',
	'dialog',
]);
/** Cookie and consent banners are never content, whatever else their class names say. */
const CONSENT_BANNER = /cookie|consent|gdpr|onetrust|cmp-/i;
const UNLIKELY_CANDIDATE =
	/-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|share|sharing|newsletter|subscribe|promo|masthead/i;
const MAYBE_CANDIDATE = /and|article|body|column|content|main|mathjax|shadow/i;
const POSITIVE_CLASS = /article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story/i;
const NEGATIVE_CLASS =
	/-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget/i;
const SHARE_WIDGET = /(\b|_)(share|sharedaddy|social)(\b|_)/i;
const SCORED_TAGS = new Set(['section', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'td', 'pre']);
const BLOCK_CHILD_TAGS = new Set([
	'a',
	'blockquote',
	'dl',
	'div',
	'img',
	'ol',
	'p',
	'pre',
	'table',
	'ul',
	'section',
	'article',
	'figure',
	'h1',
	'h2',
	'h3',
	'h4',
	'h5',
	'h6',
]);
/** Commas in Latin, CJK and Arabic scripts: a comma-rich block reads like prose. */
const COMMAS = /[,،﹐︐︑⸁⸴⸲，、]/g;

interface Pass {
	stripUnlikely: boolean;
	weightClasses: boolean;
	cleanConditionally: boolean;
}

const PASSES: Pass[] = [
	{ stripUnlikely: true, weightClasses: true, cleanConditionally: true },
	{ stripUnlikely: false, weightClasses: true, cleanConditionally: true },
	{ stripUnlikely: false, weightClasses: false, cleanConditionally: true },
	{ stripUnlikely: false, weightClasses: false, cleanConditionally: false },
];

function matchString(element: Element): string {
	return `${element.attribs.class ?? ''} ${element.attribs.id ?? ''}`;
}

function isHidden(element: Element): boolean {
	const style = element.attribs.style ?? '';
	return (
		element.attribs.hidden !== undefined ||
		element.attribs['aria-hidden'] === 'true' ||
		/display\s*:\s*none|visibility\s*:\s*hidden/i.test(style)
	);
}

function elementChildren(node: ParentNode): Element[] {
	return node.children.filter(isElement);
}

function hasAncestor(element: Element, names: string[]): boolean {
	for (let parent = element.parent; parent && isElement(parent); parent = parent.parent) {
		if (names.includes(parent.name)) return true;
	}
	return false;
}

function detach(node: AnyNode): void {
	const parent = node.parent;
	if (!parent) return;
	parent.children.splice(parent.children.indexOf(node as never), 1);
	if (node.prev) node.prev.next = node.next;
	if (node.next) node.next.prev = node.prev;
	node.parent = node.prev = node.next = null;
}

function descendants(root: ParentNode, names?: Set<string>): Element[] {
	const found: Element[] = [];
	const visit = (node: AnyNode): void => {
		if (!isElement(node)) return;
		if (!names || names.has(node.name)) found.push(node);
		node.children.forEach(visit);
	};
	root.children.forEach(visit);
	return found;
}

class Extraction {
	private readonly scores = new Map<Element, number>();
	private readonly textCache = new Map<Element, string>();

	constructor(
		private readonly body: Element,
		private readonly pass: Pass,
	) {}

	run(): Element[] {
		const toScore = this.stripAndCollect(this.body);
		const top = this.chooseTopCandidate(toScore);
		const content = top === this.body ? elementChildren(this.body) : this.withRelatedSiblings(top);
		this.textCache.clear();
		this.cleanInside(content);
		return content;
	}

	private text(element: Element): string {
		let text = this.textCache.get(element);
		if (text === undefined) {
			text = inlineText(element);
			this.textCache.set(element, text);
		}
		return text;
	}

	private classWeight(element: Element): number {
		if (!this.pass.weightClasses) return 0;
		let weight = 0;
		for (const value of [element.attribs.class, element.attribs.id]) {
			if (!value) continue;
			if (NEGATIVE_CLASS.test(value)) weight -= 25;
			if (POSITIVE_CLASS.test(value)) weight += 25;
		}
		return weight;
	}

	private linkDensity(element: Element): number {
		const length = this.text(element).length;
		if (length === 0) return 0;
		let linkLength = 0;
		for (const link of descendants(element, new Set(['a']))) {
			// In-page anchors (footnotes, tables of contents) are part of the article, so they weigh less.
			const weight = (link.attribs.href ?? '').startsWith('#') ? 0.3 : 1;
			linkLength += inlineText(link).length * weight;
		}
		return linkLength / length;
	}

	/** Removes hidden and boilerplate elements; returns the paragraph-like elements to score, in document order. */
	private stripAndCollect(root: Element): Element[] {
		const toScore: Element[] = [];
		const visit = (element: Element): void => {
			for (const child of [...element.children]) {
				if (child.type === 'comment') detach(child);
				if (!isElement(child)) continue;
				if (this.isBoilerplate(child)) {
					detach(child);
					continue;
				}
				visit(child);
				if (isEmptyContainer(child)) {
					detach(child);
					continue;
				}
				if (SCORED_TAGS.has(child.name)) toScore.push(child);
				else if (child.name === 'div' && !elementChildren(child).some((el) => BLOCK_CHILD_TAGS.has(el.name))) {
					toScore.push(child);
				}
			}
		};
		visit(root);
		return toScore;
	}

	private isBoilerplate(element: Element): boolean {
		if (ALWAYS_REMOVED_TAGS.has(element.name) || isHidden(element)) return true;
		const match = matchString(element);
		if (CONSENT_BANNER.test(match) && this.text(element).length < 2000) return true;
		if (!this.pass.stripUnlikely) return false;
		if (CHROME_TAGS.has(element.name) || CHROME_ROLES.has(element.attribs.role ?? '')) return true;
		return (
			UNLIKELY_CANDIDATE.test(match) &&
			!MAYBE_CANDIDATE.test(match) &&
			element.name !== 'a' &&
			element.name !== 'body' &&
			!hasAncestor(element, ['table', 'code'])
		);
	}

	private initialScore(element: Element): number {
		let score = this.classWeight(element);
		if (element.name === 'div') score += 5;
		else if (['pre', 'td', 'blockquote'].includes(element.name)) score += 3;
		else if (['address', 'ol', 'ul', 'dl', 'dd', 'dt', 'li', 'form'].includes(element.name)) score -= 3;
		else if (/^(h[1-6]|th)$/.test(element.name)) score -= 5;
		if (['article', 'main'].includes(element.name) || element.attribs.role === 'main') score += 10;
		return score;
	}

	private chooseTopCandidate(toScore: Element[]): Element {
		for (const element of toScore) {
			const text = this.text(element);
			if (text.length < 25) continue;
			const score = 1 + (text.match(COMMAS)?.length ?? 0) + Math.min(Math.floor(text.length / 100), 3);
			let level = 0;
			for (let ancestor = element.parent; ancestor && isElement(ancestor) && level < 5; ancestor = ancestor.parent) {
				if (!this.scores.has(ancestor)) this.scores.set(ancestor, this.initialScore(ancestor));
				const divider = level === 0 ? 1 : level === 1 ? 2 : level * 3;
				this.scores.set(ancestor, (this.scores.get(ancestor) ?? 0) + score / divider);
				level++;
			}
		}
		const ranked: Element[] = [];
		for (const [candidate, score] of this.scores) {
			this.scores.set(candidate, score * (1 - this.linkDensity(candidate)));
		}
		for (const candidate of this.scores.keys()) ranked.push(candidate);
		ranked.sort((a, b) => this.score(b) - this.score(a));
		let top = ranked[0];
		if (!top || top === this.body || top.name === 'html') return this.body;

		top = this.commonAncestorOfRunnersUp(top, ranked.slice(1, 5));
		top = this.climbWhileParentScoresBetter(top);
		while (top.parent && top.parent !== this.body && isElement(top.parent) && elementChildren(top.parent).length === 1) {
			top = top.parent;
		}
		return top;
	}

	private score(element: Element): number {
		return this.scores.get(element) ?? 0;
	}

	/** Several near-equal candidates inside one container mean the article is split into blocks: take the container. */
	private commonAncestorOfRunnersUp(top: Element, runnersUp: Element[]): Element {
		const ancestorLists = runnersUp
			.filter((candidate) => this.score(candidate) / this.score(top) >= 0.75)
			.map((candidate) => ancestorsOf(candidate));
		if (ancestorLists.length < 3) return top;
		for (let parent = top.parent; parent && parent !== this.body && isElement(parent); parent = parent.parent) {
			const containing = ancestorLists.filter((ancestors) => ancestors.includes(parent as Element)).length;
			if (containing >= 3) return parent;
		}
		return top;
	}

	private climbWhileParentScoresBetter(top: Element): Element {
		let lastScore = this.score(top);
		const threshold = lastScore / 3;
		for (let parent = top.parent; parent && parent !== this.body && isElement(parent); parent = parent.parent) {
			if (!this.scores.has(parent)) continue;
			const parentScore = this.score(parent);
			if (parentScore < threshold) break;
			if (parentScore > lastScore) return parent;
			lastScore = parentScore;
		}
		return top;
	}

	private withRelatedSiblings(top: Element): Element[] {
		const parent = top.parent;
		if (!parent || !isElement(parent)) return [top];
		const topScore = this.score(top);
		const threshold = Math.max(10, topScore * 0.2);
		return elementChildren(parent).filter((sibling) => {
			if (sibling === top) return true;
			const bonus = sibling.attribs.class && sibling.attribs.class === top.attribs.class ? topScore * 0.2 : 0;
			if (this.scores.has(sibling) && this.score(sibling) + bonus >= threshold) return true;
			if (sibling.name !== 'p') return false;
			const text = this.text(sibling);
			const density = this.linkDensity(sibling);
			return (text.length > 80 && density < 0.25) || (text.length > 0 && density === 0 && /\.( |$)/.test(text));
		});
	}

	/** Drops link lists, form-like blocks and share widgets left inside the chosen content. */
	private cleanInside(content: Element[]): void {
		for (const root of content) {
			for (const element of descendants(root).reverse()) {
				if (!isAttachedTo(element, root)) continue;
				if (SHARE_WIDGET.test(matchString(element)) && this.text(element).length < 500) detach(element);
				else if (['h1', 'h2'].includes(element.name) && this.classWeight(element) < 0) detach(element);
				else if (this.shouldCleanConditionally(element)) detach(element);
			}
		}
	}

	private shouldCleanConditionally(element: Element): boolean {
		if (!this.pass.cleanConditionally) return false;
		if (!['form', 'fieldset', 'table', 'ul', 'ol', 'div', 'section'].includes(element.name)) return false;
		if (hasAncestor(element, ['code', 'pre'])) return false;
		if (element.name === 'table' && isDataTable(element)) return false;
		if (hasAncestor(element, ['table']) && descendants(element, new Set(['table'])).length === 0) {
			const table = closest(element, 'table');
			if (table && isDataTable(table)) return false;
		}
		// Only the class weight counts here, not the content score: lists and wrappers of a few scored
		// paragraphs start negative (ul/li -3) and would otherwise be dropped whole.
		const weight = this.classWeight(element);
		if (weight < 0) return true;
		const text = this.text(element);
		if ((text.match(COMMAS)?.length ?? 0) >= 10) return false;

		const isList = element.name === 'ul' || element.name === 'ol';
		const count = (names: string[]): number => descendants(element, new Set(names)).length;
		const paragraphs = count(['p']);
		const images = count(['img']);
		const listItems = count(['li']) - 100;
		const inputs = count(['input']);
		const embeds = count(['object', 'embed', 'iframe']);
		const headingLength = descendants(element, new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'])).reduce(
			(sum, heading) => sum + inlineText(heading).length,
			0,
		);
		const headingDensity = text.length > 0 ? headingLength / text.length : 0;
		const linkDensity = this.linkDensity(element);
		return (
			(images > 1 && paragraphs / images < 0.5 && !hasAncestor(element, ['figure'])) ||
			(!isList && listItems > paragraphs) ||
			inputs > Math.floor(paragraphs / 3) ||
			(!isList && headingDensity < 0.9 && text.length < 25 && (images === 0 || images > 2) && linkDensity > 0) ||
			(!isList && weight < 25 && linkDensity > 0.2) ||
			(weight >= 25 && linkDensity > 0.5) ||
			(embeds === 1 && text.length < 75) ||
			embeds > 1
		);
	}
}

function isEmptyContainer(element: Element): boolean {
	if (!['div', 'section', 'header', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'span'].includes(element.name)) {
		return false;
	}
	return (
		inlineText(element).length === 0 &&
		descendants(element, new Set(['img', 'picture', 'video', 'table', 'hr'])).length === 0
	);
}

function ancestorsOf(element: Element): Element[] {
	const ancestors: Element[] = [];
	for (let parent = element.parent; parent && isElement(parent); parent = parent.parent) ancestors.push(parent);
	return ancestors;
}

function closest(element: Element, name: string): Element | undefined {
	return ancestorsOf(element).find((ancestor) => ancestor.name === name);
}

function isAttachedTo(element: Element, root: Element): boolean {
	for (let node: ParentNode | null = element.parent; node; node = node.parent) {
		if (node === root) return true;
	}
	return false;
}

/**
 * Finds the main content of a page. `parse` must return a fresh DOM on every call: each pass mutates it.
 * Returns the content nodes, ready for Markdown rendering.
 */
export function extractMainContent(parse: () => CheerioAPI): AnyNode[] {
	let best: { nodes: AnyNode[]; length: number } | undefined;
	for (const pass of PASSES) {
		const $ = parse();
		const body = $('body').get(0) ?? $.root().children().get(0);
		if (!body || !isElement(body)) return [];
		const nodes = new Extraction(body, pass).run();
		const length = nodes.reduce((sum, node) => sum + inlineText(node).length, 0);
		if (length >= MIN_ARTICLE_CHARS) return nodes;
		if (!best || length > best.length) best = { nodes, length };
	}
	return best?.nodes ?? [];
}
