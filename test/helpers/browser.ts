// Browser tests: Playwright (playwright-core) driving Debian's Chromium at /usr/bin/chromium. Browsers
// cannot be downloaded on these machines, so no Playwright-managed build is used; .ci/run installs the
// `chromium` package. Without it the browser tests skip, saying why; GATEHOUSE_TEST_REQUIRE_BROWSER=1
// (set by .ci/run) turns that skip into a failure.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const requireBrowser = /^(1|true)$/i.test(process.env.GATEHOUSE_TEST_REQUIRE_BROWSER ?? '');

/** false when Chromium is there; otherwise the reason the browser tests skip (or fail, under CI). */
export function browserSkip(): string | false {
  if (fs.existsSync(CHROMIUM_PATH)) return false;
  const reason = `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install -y chromium) to run the console's browser tests`;
  if (requireBrowser) throw new Error(`GATEHOUSE_TEST_REQUIRE_BROWSER is set: ${reason}`);
  return reason;
}

/**
 * A headless Chromium. Playwright's launch() gives every browser a fresh temporary profile
 * (--user-data-dir under the system temp directory, removed on close), so no state leaks between runs.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // A host name that is not localhost, for the plain-HTTP sign-in notice (resolves to the test server).
      '--host-resolver-rules=MAP console.test 127.0.0.1',
    ],
  });
}

/**
 * The console's origin for a test server. The admin cookies are `__Host-` prefixed and Secure: Chromium keeps
 * Secure cookies over plain HTTP only on a potentially trustworthy origin (localhost, 127.0.0.1).
 */
export function consoleOrigin(serverUrl: string): string {
  return serverUrl.replace('127.0.0.1', 'localhost');
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Script errors and CSP violations the page reported. */
  problems: string[];
}

/** A fresh context (no cookies) at the given viewport, recording console errors and page errors. */
export async function openPage(browser: Browser, opts: { width?: number; height?: number } = {}): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1200, height: opts.height ?? 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A failed request (a 401/403/412 the page handles) is logged by Chromium as an error: not a problem.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  return { context, page, problems };
}

/** Signs in through the console's form and waits for the signed-in view. */
export async function signInThroughForm(page: Page, origin: string, identifier: string, password: string): Promise<void> {
  await page.goto(`${origin}/console`);
  await page.getByLabel('Email or username').fill(identifier);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#signin').waitFor({ state: 'hidden' });
}

/** The page overflows horizontally when its content is wider than the viewport. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now ("rule: target …"). The script is
 * added as a page script through the DevTools protocol (Playwright's addScriptTag would need the CSP to
 * allow an inline script; evaluate runs outside the page's CSP).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}
