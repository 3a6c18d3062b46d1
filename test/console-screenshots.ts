// Takes the screenshots of the console's main pages in docs/console/ (not a test: run it by hand after a
// change to the console's look): node --import tsx test/console-screenshots.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, startServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { consoleOrigin, launchBrowser, openPage, signInThroughForm } from './helpers/browser.js';

const out = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'docs', 'console');
fs.mkdirSync(out, { recursive: true });
// Webhooks to 127.0.0.1 are allowed for the webhook page (no dispatcher runs: nothing is sent).
const s = await startServer('sqlite', { env: { GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true' } });
const browser = await launchBrowser();
const api = (p: string, body?: unknown, method?: string) => http(s.url, p, { token: ADMIN_TOKEN, body, method });
try {
  const people = [['ada', 'Ada Lovelace', 'Admin'], ['grace', 'Grace Hopper', 'Editor'], ['alan', 'Alan Turing', 'Viewer'],
    ['edsger', 'Edsger Dijkstra', 'Member'], ['barbara', 'Barbara Liskov', 'Member'], ['ken', 'Ken Thompson', 'Member']];
  for (const [u, name, role] of people) {
    await api('/api/admin/users', { email: `${u}@example.com`, username: u, name, password: 'password-123', root_role: role });
  }
  await api('/api/admin/users/7', { is_active: false }, 'PATCH');
  await api('/api/admin/users/3', { name: 'Grace B. Hopper' }, 'PATCH');
  await api('/api/admin/bans', { ban_type: 'domain', ban_value: 'spam.example', reason: 'spam wave' });
  await api('/api/admin/bans', { ban_type: 'ip', ban_value: '203.0.113.0/24', reason: 'scanner' });
  await api('/api/admin/bans', { ban_type: 'email', ban_value: 'mallory@example.net', reason: 'abuse', expires_at: '2030-01-01T00:00:00Z' });
  const tenant = (await api('/api/admin/tenants', { name: 'Acme' })).body.item;
  const manager = (await api(`/api/admin/tenants/${tenant.id}/roles`, { name: 'Manager', permissions: ['users.view', 'users.create', 'users.update', 'roles.assign'] })).body.item;
  await api(`/api/admin/tenants/${tenant.id}/roles`, { name: 'Reader', permissions: ['users.view'] });
  await api(`/api/admin/tenants/${tenant.id}/members`, { user_id: 2, role_ids: [manager.id] });
  await api(`/api/admin/tenants/${tenant.id}/members`, { user_id: 1, role_ids: [manager.id] });
  await api('/api/admin/api-tokens', { name: 'deploy pipeline' });
  const hook = (await api('/api/admin/webhooks', { url: 'http://127.0.0.1:9/hooks/gatehouse', events: ['user.*', 'ban.created'], description: 'CRM sync' })).body.item;
  await api('/api/admin/users', { email: 'linus@example.com', username: 'linus', name: 'Linus Torvalds', password: 'password-123' });

  const origin = consoleOrigin(s.url);
  const { page } = await openPage(browser, { width: 1100, height: 640 });
  await page.goto(`${origin}/console`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.screenshot({ path: path.join(out, 'sign-in.png') });
  await signInThroughForm(page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
  await page.screenshot({ path: path.join(out, 'users.png') });
  await page.goto(`${origin}/console#/users/3`);
  await page.getByRole('region', { name: 'History of this user' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Grace Brewster Hopper');
  await api('/api/admin/users/3', { name: 'Rear Admiral Hopper' }, 'PATCH');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.conflict').waitFor();
  await page.setViewportSize({ width: 1100, height: 1000 });
  await page.screenshot({ path: path.join(out, 'user-conflict.png') });
  await page.setViewportSize({ width: 1100, height: 640 });
  await page.goto(`${origin}/console#/bans`);
  await page.getByRole('cell', { name: 'spam.example', exact: true }).waitFor();
  await page.screenshot({ path: path.join(out, 'bans.png') });
  await page.goto(`${origin}/console#/tenants/${tenant.id}`);
  await page.getByRole('region', { name: 'Permissions by role' }).waitFor();
  await page.getByText('Member since').waitFor();
  await page.setViewportSize({ width: 1100, height: 1000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, 'tenant.png') });
  await page.setViewportSize({ width: 1100, height: 1100 });
  await page.goto(`${origin}/console#/users/1`);
  await page.getByRole('region', { name: 'Sessions of this user' }).waitFor();
  await page.getByRole('region', { name: 'Tenant memberships of this user' }).waitFor();
  await page.getByText('Sessions', { exact: true }).scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.screenshot({ path: path.join(out, 'user-access.png') });
  await page.setViewportSize({ width: 1100, height: 760 });
  await page.goto(`${origin}/console#/webhooks/${hook.id}`);
  await page.getByRole('region', { name: 'Deliveries of this webhook' }).waitFor();
  await page.screenshot({ path: path.join(out, 'webhook.png') });
  const narrow = await openPage(browser, { width: 375, height: 700 });
  await signInThroughForm(narrow.page, origin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await narrow.page.getByRole('link', { name: ADMIN_EMAIL }).waitFor();
  await narrow.page.screenshot({ path: path.join(out, 'users-375px.png') });
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await s.close();
}
