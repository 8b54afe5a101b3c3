import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's chromium (apt package `chromium`; .ci/run installs it) driven by puppeteer-core. Missing
 * chromium is a failure with the install line, never a skip.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
}

/** Opens a local file and returns the page plus every request other than the page itself (should be none). */
export async function openFile(browser: Browser, path: string): Promise<{ page: Page; foreign: string[] }> {
  const page = await browser.newPage();
  const url = pathToFileURL(path).href;
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (r.url() !== url) foreign.push(r.url());
  });
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return { page, foreign };
}
