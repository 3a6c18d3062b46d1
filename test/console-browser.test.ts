// The admin console in a real browser (Playwright driving Debian's Chromium; see helpers/browser.ts):
// each scenario signs in through the page, does the task, and checks the result through the API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { waitFor, WebhookReceiver } from './helpers/delivery.js';
import { axeViolations, browserSkip, consoleOrigin, horizontalOverflow, launchBrowser, openPage, signInThroughForm } from './helpers/browser.js';

const noBrowser = browserSkip();
const api = (s: TestServer, path: string, body?: unknown, method?: string, headers?: Record<string, string>) =>
  http(s.url, path, { token: ADMIN_TOKEN, body, method, headers });

/** The user as the API has it now. */
async function userOf(s: TestServer, id: number) {
  const res = await api(s, `/api/admin/users/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body.item;
}

/** Sign out is on screen (not pushed off the right edge) and the page does not scroll sideways. */
async function assertFits(page: Page, width: number, where: string) {
  const { scrollWidth, innerWidth } = await horizontalOverflow(page);
  assert.ok(scrollWidth <= innerWidth, `${where}: page is ${scrollWidth}px wide at ${innerWidth}px`);
  const box = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${where}: Sign out off-screen (${JSON.stringify(box)})`);
}

/** Opens a user's page and waits until its profile form shows that user. */
async function openUser(page: Page, origin: string, id: number) {
  await page.goto(`${origin}/console#/users/${id}`);
  await page.getByRole('heading', { name: new RegExp(`^User #${id}:`) }).waitFor();
}

/** The main flow, on every engine: sign in and edit a user, sending If-Match; a stale edit shows the conflict. */
function mainFlow(get: () => { s: TestServer; browser: Browser; origin: string }) {
  it('edits a user with If-Match: saves, then shows a conflict with both versions and saves on retry', async () => {
    const { s, browser, origin } = get();
    const u = await createUser(s.url, { name: 'Before Name' });
    const { context, page, problems } = await openPage(browser);
    await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
    await openUser(page, origin, u.id);
    // A plain edit: name and root role.
    await page.getByLabel('Name', { exact: true }).fill('First Edit');
    await page.getByLabel('Root role').selectOption('Editor');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    let now = await userOf(s, u.id);
    assert.equal(now.name, 'First Edit');
    assert.equal(now.root_role, 'Editor');

    // Someone else changes the user behind the page's back.
    const other = await api(s, `/api/admin/users/${u.id}`, { name: 'Their Edit' }, 'PATCH');
    assert.equal(other.status, 200, other.text);
    await page.getByLabel('Name', { exact: true }).fill('My Edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const conflict = page.locator('.conflict');
    await conflict.waitFor();
    assert.match(await conflict.innerText(), /Their Edit/);
    assert.match(await conflict.innerText(), /My Edit/);
    assert.equal((await userOf(s, u.id)).name, 'Their Edit', 'the stale edit was not written');
    await page.getByRole('button', { name: 'Save my edits anyway' }).click();
    await page.getByText('Saved your edits over the other change.').waitFor();
    now = await userOf(s, u.id);
    assert.equal(now.name, 'My Edit');
    assert.deepEqual(problems, []);
    await context.close();
  });
}

/** A user's page: tenant memberships with roles, API tokens (revoke), sessions (end one, end all), on every engine. */
function userAccessFlow(get: () => { s: TestServer; browser: Browser; origin: string }) {
  it("a user's page: tenant memberships and roles, revokes a personal token, ends one session and then all", async () => {
    const { s, browser, origin } = get();
    const email = uniqueEmail('access');
    const password = 'Access-pass-1!';
    const u = await createUser(s.url, { email, password, root_role: 'Admin' });
    const tenant = (await api(s, '/api/admin/tenants', { name: `Access ${Date.now().toString(36)}` })).body.item;
    const role = (await api(s, `/api/admin/tenants/${tenant.id}/roles`, { name: 'Auditor', permissions: ['users.view'] })).body.item;
    assert.equal((await api(s, `/api/admin/tenants/${tenant.id}/members`, { user_id: u.id, role_ids: [role.id] })).status, 201);
    // A personal token (made on the user-admin surface, which opens a session there too) and two admin sessions.
    const login = await http(s.url, '/auth/simple/login', { body: { username: email, password } });
    assert.equal(login.status, 200, login.text);
    const pat = await http(s.url, '/api/admin/user/tokens', { cookie: `unleash-session=${login.cookies['unleash-session']}`, body: { description: 'ci', expiresAt: new Date(Date.now() + 86400_000).toISOString() } });
    assert.equal(pat.status, 201, pat.text);
    const first = await signIn(s.url, email, password);
    const second = await signIn(s.url, email, password);
    const sessionsOf = async () => (await api(s, `/api/admin/users/${u.id}/sessions`)).body.items as any[];
    assert.equal((await sessionsOf()).length, 3);
    const alive = async (a: { cookie: string }) => (await http(s.url, '/api/auth/session', { cookie: a.cookie })).status;

    const { context, page, problems } = await openPage(browser);
    await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
    await openUser(page, origin, u.id);
    const tenants = page.getByRole('region', { name: 'Tenant memberships of this user' });
    await tenants.getByRole('link', { name: tenant.name }).waitFor();
    assert.match(await tenants.innerText(), /Auditor/);

    const tokens = page.getByRole('region', { name: 'API tokens of this user' });
    await tokens.getByText('ci', { exact: true }).waitFor();
    assert.equal((await http(s.url, '/api/admin/user', { token: pat.body.secret })).status, 200);
    await page.getByRole('button', { name: 'Revoke personal token ci' }).click();
    await page.getByText('Revoked ci.').waitFor();
    assert.equal((await http(s.url, '/api/admin/user', { token: pat.body.secret })).status, 401);
    assert.deepEqual((await api(s, `/api/admin/users/${u.id}/tokens`)).body.items, []);

    const sessions = page.getByRole('region', { name: 'Sessions of this user' });
    assert.equal(await sessions.locator('tbody tr').count(), 3);
    await page.getByRole('button', { name: `End admin session ${second.familyId}` }).click();
    await page.getByText(/^Ended the admin session opened /).waitFor();
    assert.equal(await alive(second), 401, 'the ended session is refused');
    assert.equal(await alive(first), 200, 'the other one goes on');
    assert.deepEqual((await sessionsOf()).map((x) => x.id).includes(second.familyId), false);
    await sessions.locator('tbody tr').nth(2).waitFor({ state: 'detached' }); // the table shows the two left
    await page.getByRole('button', { name: 'End all sessions…' }).click();
    await page.getByRole('button', { name: 'End all sessions', exact: true }).click();
    await page.getByText('Ended 2 sessions.').waitFor();
    assert.equal(await alive(first), 401);
    assert.deepEqual(await sessionsOf(), []);
    await page.getByText('No live sessions.').waitFor();
    // The history shows what was done to the user.
    await page.getByRole('region', { name: 'History of this user' }).getByText('user.sessions_revoked').waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });
}

for (const { engine, skip } of engines()) {
  describe(`admin console in Chromium [${engine}]`, { skip: noBrowser || skip }, () => {
    let s: TestServer;
    let browser: Browser;
    let origin: string;
    before(async () => {
      // Webhooks to 127.0.0.1 are allowed (the pages list them; no dispatcher runs, so nothing is sent).
      [s, browser] = await Promise.all([startServer(engine, { env: { GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true' } }), launchBrowser()]);
      origin = consoleOrigin(s.url);
    });
    after(async () => {
      await browser?.close();
      await s?.close();
    });

    mainFlow(() => ({ s, browser, origin }));
    userAccessFlow(() => ({ s, browser, origin }));
    if (engine === 'postgres') return; // the other pages run on SQLite

    it('signs in with the Secure __Host- cookies over http://localhost; the nav shows only while signed in', async () => {
      const { context, page, problems } = await openPage(browser);
      await page.goto(`${origin}/console`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.locator('#nav').isVisible(), false, 'nav hidden on the sign-in page');
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cookies = await context.cookies();
      assert.deepEqual(cookies.map((c) => c.name).sort(), ['__Host-access', '__Host-refresh']);
      await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
      assert.equal(await page.locator('#whoami').innerText(), ADMIN_EMAIL);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.locator('#nav').isVisible(), false, 'nav hidden after sign-out');
      assert.equal(await page.getByText(ADMIN_EMAIL).isVisible(), false, "the previous admin's email is gone");
      assert.deepEqual(await context.cookies(), []);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('paints the sign-in page within a second on localhost and is usable from the keyboard alone', async () => {
      const { context, page, problems } = await openPage(browser);
      // The better of two loads: the first may pay for a cold renderer process on a busy machine.
      const paints: number[] = [];
      for (let i = 0; i < 2; i++) {
        await page.goto(`${origin}/console`);
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1));
      }
      const fcp = Math.min(...paints.filter((p) => p > 0));
      assert.ok(fcp < 1000, `first contentful paint at ${paints.join(', ')} ms`);
      // Keyboard only: the skip link first, then the form's fields; Enter submits.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      await page.keyboard.press('Tab');
      await page.keyboard.type(ADMIN_EMAIL);
      await page.keyboard.press('Tab');
      await page.keyboard.type(ADMIN_PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
      // After sign-in the focus is on the content; the nav's links are just before it (Shift+Tab), Enter follows one.
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
      let reached = '';
      for (let i = 0; i < 10 && reached !== 'Bans'; i++) {
        await page.keyboard.press('Shift+Tab');
        reached = await page.evaluate(() => document.activeElement?.textContent ?? '');
      }
      assert.equal(reached, 'Bans');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'New ban' }).waitFor();
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('tells a signed-in non-administrator why the console is closed to them', async () => {
      const member = await createUser(s.url, { password: 'member-pass-1' });
      const { context, page } = await openPage(browser);
      await page.goto(`${origin}/console`);
      await page.getByLabel('Email or username').fill(member.email);
      await page.getByLabel('Password', { exact: true }).fill('member-pass-1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Not an administrator' }).waitFor();
      assert.match(await page.locator('#forbidden-text').innerText(), new RegExp(`signed in as ${member.email.replace(/\./g, '\\.')} \\(root role Member\\)`));
      assert.equal(await page.locator('#nav').isVisible(), false);
      assert.equal(await page.locator('table').count(), 0, 'no empty table');
      await context.close();
    });

    it('explains that cookie sign-in needs HTTPS when served over plain HTTP to another host', async () => {
      const { context, page } = await openPage(browser);
      const port = new URL(s.url).port;
      // console.test resolves to 127.0.0.1 (launchBrowser's --host-resolver-rules): plain HTTP, not localhost.
      await page.goto(`http://console.test:${port}/console`);
      await page.getByRole('heading', { name: 'Sign-in needs HTTPS here' }).waitFor();
      assert.match(await page.locator('#insecure-notice').innerText(), new RegExp(`console\\.test:${port}`));
      await page.getByLabel('Email or username').fill(ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText(/does not keep the Secure session cookies over plain HTTP/).waitFor();
      assert.equal(await page.locator('#nav').isVisible(), false);
      // On localhost the notice does not show.
      await page.goto(`${origin}/console`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.locator('#insecure-notice').isVisible(), false);
      await context.close();
    });

    for (const width of [375, 420]) {
      it(`fits a ${width} px wide screen: no sideways scroll, Sign out on screen`, async () => {
        // Rows wide enough that every page's table is wider than the screen.
        await createUser(s.url, { email: uniqueEmail('a-very-long-mailbox-name-that-would-overflow'), name: 'Someone With A Rather Long Name' });
        await api(s, '/api/admin/api-tokens', { name: `a rather long token name for the ${width} px screen` });
        await api(s, '/api/admin/bans', { ban_type: 'email', ban_value: uniqueEmail(`banned-at-${width}-px-with-a-long-address`), reason: 'a reason long enough to need room' });
        await api(s, '/api/admin/aliases', { address: uniqueEmail(`alias-at-${width}-px-with-a-long-address`), goto: uniqueEmail('a-long-destination-mailbox') });
        await api(s, '/api/admin/oauth-clients', { name: `a client with a long name at ${width} px` });
        const hook = await api(s, '/api/admin/webhooks', { url: `http://127.0.0.1:9/a-receiver-with-a-rather-long-path-at-${width}-px`, events: ['user.*', 'ban.*', 'tenant.*', 'oauth_client.*'] });
        assert.equal(hook.status, 201, hook.text);
        await createUser(s.url); // a pending delivery for the webhook's page
        const { context, page } = await openPage(browser, { width, height: 800 });
        await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
        await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
        await assertFits(page, width, 'users');
        await openUser(page, origin, 1);
        await assertFits(page, width, 'user page');
        for (const section of ['bans', 'aliases', 'audit', 'tenants', 'oauth', 'tokens', 'webhooks', 'outbox']) {
          await page.goto(`${origin}/console#/${section}`);
          await page.locator(`#nav a[aria-current=page][data-section=${section}]`).waitFor();
          await page.locator('#view h2').waitFor();
          await assertFits(page, width, section);
        }
        await page.goto(`${origin}/console#/webhooks/${hook.body.item.id}`);
        await page.getByRole('region', { name: 'Deliveries of this webhook' }).waitFor();
        await assertFits(page, width, 'webhook page');
        await context.close();
      });
    }

    it('lists users page by page (previous/next), searches and filters; name and root-role columns', async () => {
      const prefix = `pager${Date.now().toString(36)}`;
      for (let i = 0; i < 27; i++) await createUser(s.url, { email: `${prefix}.${String(i).padStart(2, '0')}@example.com`, name: `Pager ${i}` });
      const last = await createUser(s.url, { email: `${prefix}.zz@example.com`, name: 'Pager Deactivated', is_active: false });
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
      // The search runs once typing pauses: wait for its page.
      const searched = page.waitForResponse((r) => r.url().includes(`q=${prefix}`));
      await page.getByLabel('Search').fill(prefix);
      await searched;
      await page.getByText(/^Page 1 · users 1–25$/).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 25);
      assert.equal(await page.locator('#users-total').innerText(), '28 users match', 'the total of the search, on every page');
      assert.ok(await page.getByRole('columnheader', { name: 'Name', exact: true }).isVisible());
      assert.ok(await page.getByRole('columnheader', { name: 'Root role', exact: true }).isVisible());
      assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText(/^Page 2 · users 26–28$/).waitFor();
      assert.equal(await page.locator('#users-total').innerText(), '28 users match');
      assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.getByText(/^Page 1 · users 1–25$/).waitFor();
      await page.getByLabel('Status').selectOption('false');
      await page.getByText(/^Page 1 · users 1–1$/).waitFor();
      assert.equal(await page.locator('#users-total').innerText(), '1 user matches');
      assert.deepEqual(problems, []);
      await page.getByRole('link', { name: last.email }).click();
      await page.getByRole('heading', { name: `User #${last.id}: ${last.email}` }).waitFor();
      await context.close();
    });

    it("sets a password, deactivates and deletes a user from the user's page, and shows their history", async () => {
      const u = await createUser(s.url, { password: 'old-password-1' });
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await openUser(page, origin, u.id);
      await page.getByLabel('New password').fill('new-password-2');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Password set.').waitFor();
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: u.email, password: 'new-password-2' } })).status, 200);
      await page.getByRole('button', { name: 'Deactivate user' }).click();
      await page.getByText(/^Deactivated/).waitFor();
      assert.equal((await userOf(s, u.id)).is_active, 0);
      const history = page.getByRole('region', { name: 'History of this user' });
      await history.getByText('user.updated').first().waitFor();
      assert.match(await history.innerText(), /password/);
      assert.match(await history.innerText(), /is_active/);
      await page.getByRole('button', { name: 'Delete user…' }).click();
      await page.getByRole('button', { name: 'Delete permanently' }).click();
      await page.waitForURL(/#\/users$/);
      assert.equal((await api(s, `/api/admin/users/${u.id}`)).status, 404);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it("changes the signed-in admin's own password on their own page (with the current one)", async () => {
      const email = uniqueEmail('selfadmin');
      await createUser(s.url, { email, password: 'self-pass-1', root_role: 'Admin' });
      const other = await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'self-pass-1' } });
      assert.equal(other.status, 200);
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, email, 'self-pass-1');
      const me = (await api(s, `/api/admin/users?q=${encodeURIComponent(email)}`)).body.items[0];
      await openUser(page, origin, me.id);
      assert.equal(await page.getByRole('button', { name: 'Set password' }).count(), 0);
      await page.getByLabel('Current password').fill('wrong-pass-9');
      await page.getByLabel('New password').fill('self-pass-2');
      await page.getByRole('button', { name: 'Change my password' }).click();
      await page.locator('.message.error').filter({ hasText: /\S/ }).waitFor();
      await page.getByLabel('Current password').fill('self-pass-1');
      await page.getByLabel('New password').fill('self-pass-2');
      await page.getByRole('button', { name: 'Change my password' }).click();
      await page.getByText(/^Password changed; 1 other session ended\.$/).waitFor();
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'self-pass-2' } })).status, 200);
      // This session goes on; the other one was ended.
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('region', { name: 'Users' }).waitFor();
      assert.equal(await page.locator('#signin').isVisible(), false);
      const mine = (await context.cookies()).find((c) => c.name === '__Host-access')!;
      assert.equal((await http(s.url, '/api/auth/session', { cookie: `__Host-access=${mine.value}` })).status, 200);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: `__Host-access=${other.cookies['__Host-access']}` })).status, 401);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('keeps working after the access cookie expires (refreshes with the refresh cookie)', async () => {
      const short = await startServer('sqlite', { env: { GATEHOUSE_ACCESS_TTL: '1' } });
      try {
        const { context, page, problems } = await openPage(browser);
        const o = consoleOrigin(short.url);
        await signInThroughForm(page, o, ADMIN_EMAIL, ADMIN_PASSWORD);
        await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
        await page.waitForTimeout(2100);
        // A write after expiry: refreshed, then sent with the same session family's CSRF token.
        await page.getByRole('link', { name: 'Tenants' }).click();
        await page.getByLabel('New tenant name').fill('After Refresh');
        await page.getByRole('button', { name: 'Create tenant' }).click();
        await page.getByRole('heading', { name: 'Tenant: After Refresh' }).waitFor();
        assert.equal(await page.locator('#signin').isVisible(), false);
        const tenants = await http(short.url, '/api/admin/tenants', { token: ADMIN_TOKEN });
        assert.deepEqual(tenants.body.items.map((t: any) => t.name), ['After Refresh']);
        assert.deepEqual(problems, []);
        await context.close();
      } finally {
        await short.close();
      }
    });

    it('invites a user from the users page (the link is shown once), issues a new link from their page, and the invite is accepted', async () => {
      const email = uniqueEmail('console-invite');
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Invite user' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Invite a user' }) });
      await form.getByLabel('Email', { exact: true }).fill(email);
      await form.getByLabel('Root role').selectOption('Viewer');
      await form.getByRole('button', { name: 'Send invite' }).click();
      const first = await page.getByLabel(`Invite link for ${email}`, { exact: true }).inputValue();
      const link = new URL(first);
      assert.equal(link.pathname, '/new-user');
      const found = (await api(s, `/api/admin/users?q=${encodeURIComponent(email)}`)).body.items;
      assert.deepEqual(found.map((u: any) => [u.email, u.root_role]), [[email, 'Viewer']]);
      const validate = (url: URL) => http(s.url, `/auth/reset/validate?token=${encodeURIComponent(url.searchParams.get('token')!)}`);
      assert.equal((await validate(link)).status, 200);

      // A new link from the user's page ends the first one.
      await form.getByRole('link', { name: email }).click();
      await page.getByRole('heading', { name: `User #${found[0].id}: ${email}` }).waitFor();
      await page.getByRole('button', { name: 'New invite link' }).click();
      await page.getByText('New invite link; 1 earlier link ended.').waitFor();
      const second = new URL(await page.getByLabel(`Invite link for ${email}`, { exact: true }).inputValue());
      assert.notEqual(second.href, link.href);
      assert.equal((await validate(link)).status, 401, 'the first link ended');

      await page.goto(`${origin}${second.pathname}${second.search}`);
      await page.getByText(`Welcome, ${email}.`).waitFor();
      await page.getByLabel('New password').fill('Invited-Passw0rd!');
      await page.getByLabel('Repeat the password').fill('Invited-Passw0rd!');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Your password is set.').waitFor();
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'Invited-Passw0rd!' } })).status, 200);

      // With a password set, the page says an invite is not the way (the admin is still signed in).
      await openUser(page, origin, found[0].id);
      await page.getByRole('button', { name: 'New invite link' }).click();
      await page.getByText(/^This user has a password already/).waitFor();
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('creates a user with a root role from the list page', async () => {
      const email = uniqueEmail('created');
      const { context, page } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'New user' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'New user' }) });
      await form.getByLabel('Email', { exact: true }).fill(email);
      await form.getByLabel('Password').fill('created-pass-1');
      await form.getByLabel('Root role').selectOption('Viewer');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('heading', { name: new RegExp(`: ${email}$`) }).waitFor();
      const found = await api(s, `/api/admin/users?q=${encodeURIComponent(email)}`);
      assert.equal(found.body.items.length, 1);
      assert.equal(found.body.items[0].root_role, 'Viewer');
      await context.close();
    });

    it('accepts an invite at /new-user?token= and resets a password at /reset-password?token=', async () => {
      const email = uniqueEmail('invited');
      const created = await api(s, '/api/admin/user-admin', { email, rootRole: 'Viewer' });
      assert.equal(created.status, 201, created.text);
      const link = new URL(created.body.inviteLink);
      assert.equal(link.pathname, '/new-user');
      const { context, page, problems } = await openPage(browser);
      await page.goto(`${origin}${link.pathname}${link.search}`);
      await page.getByRole('heading', { name: 'Accept your invitation' }).waitFor();
      await page.getByText(`Welcome, ${email}.`).waitFor();
      await page.getByLabel('New password').fill('Invited-Passw0rd!');
      await page.getByLabel('Repeat the password').fill('Invited-Passw0rd!');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Your password is set.').waitFor();
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'Invited-Passw0rd!' } })).status, 200);
      // The link is spent.
      await page.goto(`${origin}${link.pathname}${link.search}`);
      await page.getByText(/This link is not valid/).waitFor();
      assert.equal(await page.locator('#password-form').isVisible(), false);

      // /reset-password with a token of the same kind; a weak password shows the server's reason.
      const other = await api(s, '/api/admin/user-admin', { email: uniqueEmail('reset'), rootRole: 'Viewer' });
      const token = new URL(other.body.inviteLink).searchParams.get('token')!;
      await page.goto(`${origin}/reset-password?token=${encodeURIComponent(token)}`);
      await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await page.getByLabel('New password').fill('weak');
      await page.getByLabel('Repeat the password').fill('weak');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.locator('#password-error').filter({ hasText: /\S/ }).waitFor();
      await page.getByLabel('New password').fill('Reset-Passw0rd!');
      await page.getByLabel('Repeat the password').fill('Reset-Passw0rd!');
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Your password is set.').waitFor();
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: other.body.email, password: 'Reset-Passw0rd!' } })).status, 200);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('bans: per-type hint, a refused value shows why, a domain ban deactivates matching aliases (count shown), revoke', async () => {
      const domain = `banned-${Date.now().toString(36)}.example`;
      // A ban on a domain matches the aliases that deliver into it.
      const alias = await api(s, '/api/admin/aliases', { address: `fwd-${Date.now().toString(36)}@aliases.example`, goto: `inbox@${domain}` });
      assert.equal(alias.status, 201, alias.text);
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Bans' }).click();
      await page.getByRole('heading', { name: 'New ban' }).waitFor();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'New ban' }) });
      await form.getByLabel('Type').selectOption('ip');
      assert.match(await page.locator('#ban-hint').innerText(), /CIDR/);
      await form.getByLabel('Value').fill('10.0.0.0/4');
      await form.getByRole('button', { name: 'Create ban' }).click();
      await form.getByRole('alert').filter({ hasText: /ban_value/ }).waitFor();
      await form.getByLabel('Type').selectOption('domain');
      await form.getByLabel('Value').fill(domain);
      await form.getByLabel('Deactivate the aliases this ban matches').check();
      await form.getByRole('button', { name: 'Create ban' }).click();
      await form.getByText(`Banned domain ${domain}: 1 matching alias deactivated.`).waitFor();
      assert.equal((await api(s, `/api/admin/aliases/${alias.body.item.id}`)).body.item.active, 0);
      const bans = await api(s, `/api/admin/bans?type=domain&q=${domain}`);
      assert.equal(bans.body.items.length, 1);
      assert.equal(bans.body.items[0].active, true);
      await page.getByRole('button', { name: `Revoke ban domain ${domain}` }).click();
      await page.getByText(`Revoked the domain ban on ${domain}.`).waitFor();
      const after = await api(s, `/api/admin/bans/${bans.body.items[0].id}`);
      assert.equal(after.body.item.active, false);
      assert.ok(after.body.item.revoked_at);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it("a ban's page: edits reason and expiry with If-Match (a stale edit is refused and the form reloads), revokes, shows history", async () => {
      const created = await api(s, '/api/admin/bans', { ban_type: 'name', ban_value: `troll${Date.now().toString(36)}`, reason: 'first reason' });
      assert.equal(created.status, 201, created.text);
      const id = created.body.item.id;
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Bans' }).click();
      await page.getByRole('link', { name: created.body.item.ban_value }).click();
      await page.getByRole('heading', { name: `Ban #${id}: name ${created.body.item.ban_value}` }).waitFor();
      await page.getByLabel('Reason').fill('second reason');
      await page.getByLabel('Expires').fill('2031-02-03T04:05');
      await page.getByRole('button', { name: 'Save ban' }).click();
      await page.getByText('Saved.').waitFor();
      let now = (await api(s, `/api/admin/bans/${id}`)).body.item;
      assert.equal(now.reason, 'second reason');
      assert.equal(new Date(now.expires_at).getTime(), new Date(2031, 1, 3, 4, 5).getTime(), 'the local time entered, as an instant');
      // A change behind the page's back: the page's next save is refused and shows the current version.
      await api(s, `/api/admin/bans/${id}`, { reason: 'their reason' }, 'PATCH');
      await page.getByLabel('Reason').fill('my reason');
      await page.getByRole('button', { name: 'Save ban' }).click();
      await page.getByText(/^Not saved: someone else changed this ban/).waitFor();
      assert.equal(await page.getByLabel('Reason').inputValue(), 'their reason');
      assert.equal((await api(s, `/api/admin/bans/${id}`)).body.item.reason, 'their reason');
      await page.getByRole('button', { name: 'Revoke ban' }).click();
      await page.getByText('Revoked.').waitFor();
      now = (await api(s, `/api/admin/bans/${id}`)).body.item;
      assert.equal(now.active, false);
      const history = page.getByRole('region', { name: 'History of this ban' });
      await history.getByText(/reason: "first reason" → "second reason"/).waitFor();
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('aliases: creates one, deactivates it and activates it again', async () => {
      const address = `${Date.now().toString(36)}@aliases.example`;
      const { context, page } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Aliases' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'New alias' }) });
      await form.getByLabel('Address').fill(address);
      await form.getByLabel('Delivers to').fill('team@example.com');
      await form.getByRole('button', { name: 'Create alias' }).click();
      await page.getByText(`Created ${address}.`).waitFor();
      const found = await api(s, `/api/admin/aliases?q=${encodeURIComponent(address)}`);
      assert.equal(found.body.items.length, 1);
      assert.equal(found.body.items[0].goto, 'team@example.com');
      await page.getByRole('button', { name: `Deactivate ${address}` }).click();
      await page.getByText(`Deactivated ${address}.`).waitFor();
      assert.equal((await api(s, `/api/admin/aliases/${found.body.items[0].id}`)).body.item.active, 0);
      await page.getByRole('button', { name: `Activate ${address}` }).click();
      await page.getByText(`Activated ${address}.`).waitFor();
      assert.equal((await api(s, `/api/admin/aliases/${found.body.items[0].id}`)).body.item.active, 1);
      await context.close();
    });

    it('audit log: filters by action and by actor, and shows what changed', async () => {
      const u = await createUser(s.url, { name: 'Audited Before' });
      await api(s, `/api/admin/users/${u.id}`, { name: 'Audited After' }, 'PATCH');
      const { context, page } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByLabel('Action').fill('user.updated');
      await page.getByLabel('Target id').fill(String(u.id));
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('name: "Audited Before" → "Audited After"').waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1);

      // By actor: a second edit by the admin user (cookie) beside the first by the admin API token.
      const admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const byUser = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', cookie: admin.cookie, headers: { 'x-csrf-token': admin.csrf }, body: { name: 'Audited Again' } });
      assert.equal(byUser.status, 200, byUser.text);
      const events = (await api(s, `/api/admin/audit-events?action=user.updated&target_type=user&target_id=${u.id}`)).body.items;
      const tokenActor = events.find((e: any) => e.actor.type === 'api_token').actor;
      assert.equal(events.find((e: any) => e.actor.type === 'user').actor.id, String(admin.userId));
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('name: "Audited After" → "Audited Again"').waitFor();
      assert.equal(await page.locator('tbody tr').count(), 2);
      // Keyboard only: choose the actor type, type the id, Enter submits.
      await page.getByLabel('Actor type').focus();
      await page.getByLabel('Actor type').selectOption('user');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement).name), 'actor_id');
      await page.keyboard.type(String(admin.userId));
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
      const row = page.locator('tbody tr');
      assert.match(await row.innerText(), /Audited After" → "Audited Again"/);
      assert.doesNotMatch(await row.innerText(), /Audited Before/);
      await page.getByLabel('Actor type').selectOption('api_token');
      await page.getByLabel('Actor id').fill(tokenActor.id);
      await page.getByLabel('Actor id').press('Enter');
      await page.getByText('name: "Audited Before" → "Audited After"').waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1);
      assert.doesNotMatch(await page.locator('tbody tr').innerText(), /Audited Again/);
      // An actor with no events: an empty table.
      await page.getByLabel('Actor id').fill('999999');
      const answered = page.waitForResponse((r) => new URL(r.url()).searchParams.get('actor_id') === '999999');
      await page.getByLabel('Actor id').press('Enter');
      assert.equal((await answered).status(), 200);
      await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 0);
      await context.close();
    });

    it('tenants: creates one, adds a role, grants permissions in the matrix, adds and removes a member', async () => {
      const member = await createUser(s.url);
      const name = `Tenant ${Date.now().toString(36)}`;
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Tenants' }).click();
      await page.getByLabel('New tenant name').fill(name);
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await page.getByRole('heading', { name: `Tenant: ${name}` }).waitFor();
      const tenantId = Number(/#\/tenants\/(\d+)/.exec(page.url())![1]);
      await page.getByLabel('New role name').fill('Manager');
      await page.getByRole('button', { name: 'Add role' }).click();
      await page.getByLabel('Manager: users.view').check();
      await page.getByText('Manager: granted users.view.').waitFor();
      await page.getByLabel('Manager: users.update').check();
      await page.getByText('Manager: granted users.update.').waitFor();
      const roles = await api(s, `/api/admin/tenants/${tenantId}/roles`);
      assert.deepEqual(roles.body.items.map((r: any) => [r.name, [...r.permissions].sort()]), [['Manager', ['users.update', 'users.view']]]);
      await page.getByLabel('Manager: users.update').uncheck();
      await page.getByText('Manager: withdrew users.update.').waitFor();
      assert.deepEqual((await api(s, `/api/admin/tenants/${tenantId}/roles`)).body.items[0].permissions, ['users.view']);

      await page.getByLabel('User (email or id)').fill(member.email);
      await page.getByRole('group', { name: 'Roles in this tenant' }).getByLabel('Manager').check();
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText(`Added ${member.email}.`).waitFor();
      let members = await api(s, `/api/admin/tenants/${tenantId}/members`);
      assert.deepEqual(members.body.items.map((m: any) => [m.user_id, m.roles.map((r: any) => r.name)]), [[member.id, ['Manager']]]);
      await page.getByRole('button', { name: `Remove ${member.email}` }).click();
      await page.getByText(`Removed ${member.email}.`).waitFor();
      members = await api(s, `/api/admin/tenants/${tenantId}/members`);
      assert.equal(members.body.items.filter((m: any) => !m.deleted_at).length, 0);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('admin API tokens: the secret is shown once and works; revoking it shuts it out', async () => {
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'API tokens' }).click();
      await page.getByLabel('Name', { exact: true }).fill('console automation');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = await page.getByLabel('Token console automation', { exact: true }).inputValue();
      assert.ok(secret.length > 20);
      assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: secret })).status, 200);
      await page.getByRole('button', { name: 'Revoke token console automation' }).click();
      await page.getByText('Revoked console automation.').waitFor();
      assert.equal((await http(s.url, '/api/admin/users?limit=1', { token: secret })).status, 401);
      // Shown once: a fresh visit does not show it.
      await page.reload();
      await page.getByRole('heading', { name: 'Admin API tokens' }).waitFor();
      assert.equal(await page.locator('input.secret').count(), 0);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('OAuth: creates a client (secret shown once, it works at /oauth/token), rotates its secret, deletes it; rotates the signing key', async () => {
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'OAuth' }).click();
      await page.getByLabel('Name', { exact: true }).fill('console app');
      await page.getByRole('button', { name: 'Create client' }).click();
      const secret = await page.getByLabel('Client secret of console app', { exact: true }).inputValue();
      const clientId = await page.locator('.secret-box').locator('xpath=preceding-sibling::p[1]').locator('code').innerText();
      const grant = await http(s.url, '/oauth/token', { body: { grant_type: 'password', client_id: clientId, client_secret: secret, username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      assert.equal(grant.status, 200, grant.text);
      const before = (await api(s, '/api/admin/oauth-keys')).body.items.find((k: any) => k.signing).kid;
      await page.getByRole('button', { name: 'Rotate signing key' }).click();
      await page.getByText(/^Now signing with key /).waitFor();
      const after = (await api(s, '/api/admin/oauth-keys')).body.items.find((k: any) => k.signing).kid;
      assert.notEqual(after, before);
      // Rotate the client's secret: the new one is shown once and works; the old one is refused at once.
      await page.getByRole('button', { name: 'Rotate secret of client console app' }).click();
      await page.getByText('New secret for console app: the old one no longer works.').waitFor();
      const rotated = await page.getByLabel('New client secret of console app', { exact: true }).inputValue();
      assert.notEqual(rotated, secret);
      const old = await http(s.url, '/oauth/token', { body: { grant_type: 'password', client_id: clientId, client_secret: secret, username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      assert.equal(old.status, 401, old.text);
      const fresh = await http(s.url, '/oauth/token', { body: { grant_type: 'password', client_id: clientId, client_secret: rotated, username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      assert.equal(fresh.status, 200, fresh.text);
      await page.getByRole('button', { name: 'Delete client console app' }).click();
      await page.getByText('Deleted console app: its sessions ended.').waitFor();
      assert.equal((await api(s, '/api/admin/oauth-clients')).body.items.filter((c: any) => c.client_id === clientId).length, 0);
      assert.deepEqual(problems, []);
      await context.close();
    });

    it('has no serious or critical axe-core violations on its pages', async () => {
      const u = await createUser(s.url);
      const { context, page } = await openPage(browser);
      await page.goto(`${origin}/console`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const found: string[] = [...(await axeViolations(page)).map((v) => `sign-in: ${v}`)];
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `users: ${v}`));
      await openUser(page, origin, u.id);
      await page.getByRole('region', { name: 'History of this user' }).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `user: ${v}`));
      // The signed-in admin's own page: their sessions and tokens in the tables.
      await openUser(page, origin, 1);
      await page.getByRole('region', { name: 'Sessions of this user' }).waitFor();
      await page.waitForLoadState('networkidle');
      found.push(...(await axeViolations(page)).map((v) => `own user page: ${v}`));
      for (const section of ['bans', 'aliases', 'audit', 'tenants', 'oauth', 'tokens', 'webhooks', 'outbox']) {
        await page.goto(`${origin}/console#/${section}`);
        await page.locator('#view h2').waitFor();
        await page.waitForLoadState('networkidle');
        found.push(...(await axeViolations(page)).map((v) => `${section}: ${v}`));
      }
      const ban = await api(s, '/api/admin/bans', { ban_type: 'email', ban_value: uniqueEmail('axe') });
      await page.goto(`${origin}/console#/bans/${ban.body.item.id}`);
      await page.getByRole('region', { name: 'History of this ban' }).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `ban: ${v}`));
      const tenant = await api(s, '/api/admin/tenants', { name: `axe ${Date.now()}` });
      await api(s, `/api/admin/tenants/${tenant.body.item.id}/roles`, { name: 'Reader', permissions: ['users.view'] });
      await page.goto(`${origin}/console#/tenants/${tenant.body.item.id}`);
      await page.getByRole('region', { name: 'Permissions by role' }).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `tenant: ${v}`));
      const hook = await api(s, '/api/admin/webhooks', { url: 'http://127.0.0.1:9/axe', events: ['*'] });
      await createUser(s.url); // a pending delivery
      await page.goto(`${origin}/console#/webhooks/${hook.body.item.id}`);
      await page.getByRole('region', { name: 'Deliveries of this webhook' }).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `webhook: ${v}`));
      await page.goto(`${origin}/new-user?token=x`);
      await page.getByText(/This link is not valid/).waitFor();
      found.push(...(await axeViolations(page)).map((v) => `invite: ${v}`));
      assert.deepEqual(found, []);
      await context.close();
    });
  });
}

// Webhooks and the outbox: a server with the dispatcher on, delivering to a real receiver that verifies
// every signature (test/helpers/delivery.ts); the main webhook flow on every engine.
const DELIVERY = {
  GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true',
  GATEHOUSE_OUTBOX_POLL_MS: '50',
  GATEHOUSE_OUTBOX_BACKOFF_BASE_MS: '50',
  GATEHOUSE_OUTBOX_BACKOFF_MAX_MS: '100',
  GATEHOUSE_WEBHOOK_TIMEOUT_MS: '700',
  GATEHOUSE_OUTBOX_MAX_ATTEMPTS: '2',
};

for (const { engine, skip } of engines()) {
  describe(`admin console in Chromium: webhooks and outbox [${engine}]`, { skip: noBrowser || skip }, () => {
    let s: TestServer;
    let browser: Browser;
    let origin: string;
    const rx = new WebhookReceiver();
    before(async () => {
      await rx.start();
      [s, browser] = await Promise.all([startServer(engine, { dispatch: true, env: DELIVERY }), launchBrowser()]);
      origin = consoleOrigin(s.url);
    });
    after(async () => {
      await browser?.close();
      await s?.close();
      await rx.stop();
    });
    const deliveriesOf = async (id: number, query = '') => (await api(s, `/api/admin/webhooks/${id}/deliveries${query}`)).body.items as any[];
    /** A delivery of a user.created event the receiver verified with this secret. */
    const signedWith = (secret: string, email: string) => waitFor(`a delivery for ${email} signed with the secret shown`,
      () => rx.received.find((d) => d.secret === secret && d.body.includes(email)));

    it('webhooks: creates one (the secret shown once signs its deliveries), disables and enables it, rotates the secret, replays a dead delivery, deletes it', async () => {
      const path = `/hook-${engine}`;
      const url = `${rx.url}${path}`;
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'New webhook' }) });
      await form.getByLabel('URL').fill(url);
      await form.getByRole('group', { name: 'Events' }).getByLabel('user.*').check();
      await form.getByLabel('More events (optional)').fill('ban.created');
      await form.getByRole('button', { name: 'Create webhook' }).click();
      const secret = await page.getByLabel(`Signing secret for ${url}`, { exact: true }).inputValue();
      assert.match(secret, /^whsec_/);
      rx.secrets.push(secret);
      const listed = (await api(s, '/api/admin/webhooks')).body.items.find((w: any) => w.url === url);
      assert.deepEqual([listed.events, listed.active], [['user.*', 'ban.created'], true]);
      const id = listed.id;
      // The secret on the page is the one deliveries are signed with.
      const first = await createUser(s.url);
      await signedWith(secret, first.email);
      // Shown once: the list, opened again, does not show it.
      await page.reload();
      await page.getByRole('region', { name: 'Webhooks' }).waitFor();
      assert.equal(await page.locator('input.secret').count(), 0);

      await page.getByRole('link', { name: url }).click();
      await page.getByRole('heading', { name: `Webhook #${id}: ${url}` }).waitFor();
      await page.getByRole('button', { name: 'Disable webhook' }).click();
      await page.getByText(/^Disabled: no deliveries/).waitFor();
      let now = (await api(s, `/api/admin/webhooks/${id}`)).body.item;
      assert.deepEqual([now.active, now.disabled_reason], [false, 'disabled by an administrator']);
      await page.getByRole('button', { name: 'Enable webhook' }).click();
      await page.getByText(/^Enabled: new events/).waitFor();
      now = (await api(s, `/api/admin/webhooks/${id}`)).body.item;
      assert.deepEqual([now.active, now.disabled_reason], [true, null]);

      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const rotated = await page.getByLabel('New signing secret', { exact: true }).inputValue();
      assert.match(rotated, /^whsec_/);
      assert.notEqual(rotated, secret);
      rx.secrets.push(rotated);
      await signedWith(rotated, (await createUser(s.url)).email);

      // The receiver fails: the next delivery is dead after its two attempts; replayed from the page once it is back.
      rx.answers.set(path, 500);
      const failed = await createUser(s.url);
      const dead = await waitFor('a dead delivery', async () => (await deliveriesOf(id, '?status=dead'))[0]);
      rx.answers.set(path, 200);
      await page.getByLabel('Status').selectOption('dead');
      await page.getByRole('button', { name: `Replay ${dead.id}` }).click();
      await page.getByText(`Delivery ${dead.id} queued again.`).waitFor();
      await waitFor('the replayed delivery delivered', async () => (await deliveriesOf(id)).find((d) => d.id === dead.id && d.status === 'delivered'));
      await signedWith(rotated, failed.email);

      await page.getByRole('button', { name: 'Delete webhook…' }).click();
      await page.getByRole('button', { name: 'Delete permanently' }).click();
      await page.waitForURL(/#\/webhooks$/);
      assert.equal((await api(s, `/api/admin/webhooks/${id}`)).status, 404);
      assert.deepEqual(problems, []);
      await context.close();
    });

    if (engine === 'postgres') return; // the outbox page runs on SQLite

    it('outbox: lists the dead letters (by kind too) and replays one', async () => {
      const path = '/outbox-dead';
      const made = await api(s, '/api/admin/webhooks', { url: `${rx.url}${path}`, events: ['tenant.created'] });
      assert.equal(made.status, 201, made.text);
      rx.secrets.push(made.body.secret);
      rx.answers.set(path, 503);
      const tenant = await api(s, '/api/admin/tenants', { name: `outbox ${Date.now()}` });
      assert.equal(tenant.status, 201, tenant.text);
      const dead = await waitFor('a dead tenant.created delivery', async () =>
        (await api(s, '/api/admin/outbox?status=dead&kind=webhook')).body.items.find((m: any) => m.webhook_id === made.body.item.id));
      rx.answers.set(path, 200);
      const { context, page, problems } = await openPage(browser);
      await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Outbox' }).click();
      await page.getByLabel('Kind').selectOption('webhook');
      const row = page.getByRole('row').filter({ hasText: dead.id });
      await row.waitFor();
      assert.match(await row.innerText(), /tenant\.created/);
      assert.match(await row.innerText(), /503/);
      await page.getByRole('button', { name: `Replay ${dead.id}` }).click();
      await page.getByText(`Message ${dead.id} queued again.`).waitFor();
      await waitFor('the replayed message delivered', async () =>
        (await api(s, '/api/admin/outbox?kind=webhook')).body.items.find((m: any) => m.id === dead.id && m.status === 'delivered'));
      assert.ok(rx.received.some((d) => d.id === dead.id && d.path === path && d.body.includes(tenant.body.item.name)));
      assert.deepEqual(problems, []);
      await context.close();
    });
  });
}
