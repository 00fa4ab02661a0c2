/**
 * Screenshots of workflow canvases as a logged-in owner sees them in the n8n editor, for the README.
 * The browser gets the owner's `n8n-auth` session cookie, exactly as after logging in.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import type { Browser } from 'playwright-core';

import { OWNER, type N8nInstance } from './n8nInstance';

const AUTH_COOKIE = 'n8n-auth';

/**
 * n8n opens a "Production Checklist" popover over the canvas of a published workflow; it is hidden (not
 * dismissed, which n8n would remember for the owner) so it does not cover the nodes. A string because it runs in
 * the page and the test build has no DOM types.
 */
const HIDE_PRODUCTION_CHECKLIST = `(() => {
	const title = [...document.querySelectorAll('body *')].find((element) => element.children.length === 0 && element.textContent.trim() === 'Production Checklist');
	for (let element = title; element && element !== document.body; element = element.parentElement) {
		if (['absolute', 'fixed'].includes(getComputedStyle(element).position)) {
			element.style.visibility = 'hidden';
			return;
		}
	}
})()`;

/** Logs in through n8n's REST API and returns the session cookie's value. */
export async function ownerSessionCookie(n8n: N8nInstance): Promise<string> {
	const response = await fetch(`${n8n.baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
		signal: AbortSignal.timeout(30_000),
	});
	const cookie = response.headers
		.getSetCookie()
		.map((header) => header.split(';')[0])
		.find((pair) => pair.startsWith(`${AUTH_COOKIE}=`));
	if (!response.ok || !cookie) throw new Error(`Login as ${OWNER.email} failed: HTTP ${response.status}`);
	return cookie.slice(AUTH_COOKIE.length + 1);
}

/**
 * Opens each workflow in the editor, waits until every node of it is drawn, and saves the canvas as
 * `<folder>/<name>.png`. Returns the written files.
 */
export async function screenshotCanvases(
	n8n: N8nInstance,
	browser: Browser,
	workflows: Array<{ name: string; id: string; nodeCount: number }>,
	folder: string,
): Promise<string[]> {
	mkdirSync(folder, { recursive: true });
	const context = await browser.newContext({ viewport: { width: 1920, height: 1000 }, deviceScaleFactor: 1.5 });
	try {
		await context.addCookies([{ name: AUTH_COOKIE, value: await ownerSessionCookie(n8n), url: n8n.baseUrl }]);
		const files: string[] = [];
		for (const workflow of workflows) {
			const page = await context.newPage();
			try {
				await page.goto(`${n8n.baseUrl}/workflow/${workflow.id}`, { waitUntil: 'load', timeout: 60_000 });
				// A string: the test build has no DOM types, and this runs in the page.
				await page.waitForFunction(`document.querySelectorAll('.vue-flow__node').length >= ${workflow.nodeCount}`, undefined, {
					timeout: 60_000,
				});
				// The editor fits the view once the nodes are measured; then give fonts and icons a moment.
				await page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => undefined);
				await page.evaluate(HIDE_PRODUCTION_CHECKLIST);
				await page.keyboard.press('1'); // n8n's "zoom to fit"
				await page.waitForTimeout(1_000);
				// The checklist can open after the first look (e.g. once a Chat Trigger's panel has loaded): hide it again.
				await page.evaluate(HIDE_PRODUCTION_CHECKLIST);
				const file = path.join(folder, `${workflow.name}.png`);
				await page.screenshot({ path: file });
				files.push(file);
			} finally {
				await page.close();
			}
		}
		return files;
	} finally {
		await context.close();
	}
}
