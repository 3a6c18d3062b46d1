// The typed TypeScript client (clients/typescript): it is generated from the document the server serves
// (the copy it was generated from must equal today's /openapi.json: run scripts/generate-client.sh after a
// route changes), and it works against a live server on every surface with that surface's credential.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gatehouseClient } from '../clients/typescript/src/index.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createClient, createRole, createTenant, passwordToken, ALL_PERMISSIONS } from './helpers/directory.js';
import { logIn } from './account-helpers.js';
import { ROOT } from './helpers/process.js';

const SNAPSHOT = path.join(ROOT, 'clients', 'typescript', 'openapi.json');

for (const { engine, skip } of engines()) {
  describe(`typed client [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('was generated from the document the server serves (else: scripts/generate-client.sh)', async () => {
      const live = await (await fetch(`${s.url}/openapi.json`)).json();
      const generatedFrom = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8'));
      assert.deepEqual(live, generatedFrom, 'clients/typescript/openapi.json differs from /openapi.json: run scripts/generate-client.sh');
      const types = fs.readFileSync(path.join(ROOT, 'clients', 'typescript', 'src', 'schema.d.ts'), 'utf8');
      for (const p of Object.keys(live.paths)) assert.ok(types.includes(`"${p}": {`), `schema.d.ts has ${p}`);
    });

    it('admin surface: bearer token; cookie session with its CSRF token', async () => {
      const gh = gatehouseClient(s.url, { bearer: ADMIN_TOKEN });
      const created = await gh.POST('/api/admin/users', { body: { email: uniqueEmail('client'), password: 'client-password-1', username: `client${Date.now().toString(36)}` } });
      assert.equal(created.response.status, 201, JSON.stringify(created.error));
      const id = created.data!.item.id;
      const patched = await gh.PATCH('/api/admin/users/{id}', { params: { path: { id } }, body: { name: 'Typed Client' } });
      assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
      assert.equal(patched.data!.item.name, 'Typed Client');
      const missing = await gh.GET('/api/admin/users/{id}', { params: { path: { id: 999_999 } } });
      assert.equal(missing.response.status, 404);
      assert.equal((missing.error as { error: string }).error, 'Not Found');

      const session = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cookieClient = gatehouseClient(s.url, { cookie: session.cookie, csrfToken: session.csrf });
      const viaCookie = await cookieClient.PATCH('/api/admin/users/{id}', { params: { path: { id } }, body: { name: 'By Cookie' } });
      assert.equal(viaCookie.response.status, 200, JSON.stringify(viaCookie.error));
    });

    it('account surface: the neptun-session cookie', async () => {
      const email = uniqueEmail('client-account');
      await createUser(s.url, { email, password: 'account-password-1' });
      const me = await logIn(s.url, email, 'account-password-1');
      const gh = gatehouseClient(s.url, { cookie: me.cookie });
      const got = await gh.GET('/api/users/{user_id}', { params: { path: { user_id: me.id } } });
      assert.equal(got.response.status, 200, JSON.stringify(got.error));
      const other = await gh.PATCH('/api/users/{user_id}', { params: { path: { user_id: me.id + 100_000 } }, body: { email: uniqueEmail('x') } });
      assert.equal(other.response.status, 404);
    });

    it('directory v1: an OAuth access token and X-Tenant', async () => {
      const tenant = await createTenant(s.url);
      const role = await createRole(s.url, tenant.id, 'Manager', ALL_PERMISSIONS);
      const client = await createClient(s.url);
      const manager = await createUser(s.url, { password: 'manager-password-1' });
      await addMember(s.url, tenant.id, manager.id, [role.id]);
      const token = await passwordToken(s.url, client, manager.email, 'manager-password-1');
      const gh = gatehouseClient(s.url, { bearer: token.access_token, tenant: tenant.id });
      const list = await gh.GET('/api/v1/users', { params: { query: { per_page: 10 } } });
      assert.equal(list.response.status, 200, JSON.stringify(list.error));
      const put = await gh.PUT('/api/v1/users/{id}', { params: { path: { id: manager.id } }, body: { title: 'Engineer' } });
      assert.equal(put.response.status, 200, JSON.stringify(put.error));
    });

    it('user-admin surface: the raw admin token, as Unleash clients send it', async () => {
      const gh = gatehouseClient(s.url, { apiKey: ADMIN_TOKEN });
      const u = await createUser(s.url);
      const put = await gh.PUT('/api/admin/user-admin/{id}', { params: { path: { id: u.id } }, body: { name: 'Unleashed' } });
      assert.equal(put.response.status, 200, JSON.stringify(put.error));
      assert.equal((put.data as { name: string }).name, 'Unleashed');
      const bad = await gh.PUT('/api/admin/user-admin/{id}', { params: { path: { id: u.id } }, body: { rootRole: 'Emperor' } as never });
      assert.equal(bad.response.status, 400);
      assert.equal((bad.error as { name: string }).name, 'ValidationError');
    });
  });
}
