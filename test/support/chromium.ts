import { chromium, type Browser } from 'playwright-core';

/**
 * The machine's headless Chromium (Debian's package) as every page test drives it: no sandbox (tests run as
 * root in a container), no GPU, and no background requests to Google's services.
 */
export function launchChromium(): Promise<Browser> {
	return chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
		timeout: 30_000,
	});
}
