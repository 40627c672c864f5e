// Browser tests drive Debian's Chromium (`apt-get install -y chromium`)
// through playwright-core, which cannot download browsers here. Without
// Chromium the tests are skipped with a message and recorded, so CI (which
// installs it) fails instead of silently skipping them.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { ARTIFACTS_DIR, recordSkip } from './services.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS_DIR = path.join(ARTIFACTS_DIR, 'screenshots');

/** Launches headless Chromium, or records the skip and returns null when it is not installed. */
export async function launchChromium(): Promise<Browser | null> {
  if (!existsSync(CHROMIUM_PATH)) {
    console.warn(`    (browser tests skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install -y chromium)`);
    recordSkip('browser tests', 'Chromium');
    return null;
  }
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Saves a screenshot of the page as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Everything a page logs to its console, and its uncaught errors (to check none is a CSP violation). */
export function watchConsole(page: Page): { messages: string[]; errors: string[] } {
  const log = { messages: [] as string[], errors: [] as string[] };
  page.on('console', (message: ConsoleMessage) => log.messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (err) => log.errors.push(err.message));
  return log;
}

export const isCspViolation = (line: string): boolean => /Content[- ]Security[- ]Policy/i.test(line);
