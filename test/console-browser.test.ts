// The admin console in a real browser (Playwright driving Debian's Chromium; see helpers/browser.ts):
// each scenario signs in through the page, does the task, and checks the result through the API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { browserSkip, consoleOrigin, launchBrowser, openPage, signInThroughForm } from './helpers/browser.js';

const noBrowser = browserSkip();

for (const { engine, skip } of engines()) {
  describe(`admin console in Chromium [${engine}]`, { skip: noBrowser || skip }, () => {
    let s: TestServer;
    let browser: Browser;
    let origin: string;
    before(async () => {
      [s, browser] = await Promise.all([startServer(engine), launchBrowser()]);
      origin = consoleOrigin(s.url);
    });
    after(async () => {
      await browser?.close();
      await s?.close();
    });

    it('signs in with the Secure __Host- cookies over http://localhost and lists users', async () => {
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cookies = await context.cookies();
      assert.deepEqual(cookies.map((c) => c.name).sort(), ['__Host-access', '__Host-refresh']);
      await page.getByRole('cell', { name: ADMIN_EMAIL }).waitFor();
      const me = await http(s.url, '/api/admin/users?q=root', { token: ADMIN_TOKEN });
      assert.equal(me.body.items[0].email, ADMIN_EMAIL);
      assert.deepEqual(problems, []);
      await context.close();
    });
  });
}
