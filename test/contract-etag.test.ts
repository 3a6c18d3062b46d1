// Contract coverage (DESIGN.md "Decisions": "a request with If-Match that is stale gets 412 on every
// surface"): the directory surface's other user writes (soft delete, restore, role sync) honour If-Match as
// PUT does; a stale one answers 412 {message} and changes nothing, a current one (or none) goes through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { createUser } from './helpers/admin.js';
import { addMember, createRole, createTenant, v1 } from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`contract: If-Match on every directory user write [${engine}]`, { skip }, () => {
    let s: TestServer;
    let tenant: { id: number };
    let role: { id: number };
    before(async () => {
      s = await startServer(engine);
      tenant = await createTenant(s.url);
      role = await createRole(s.url, tenant.id, 'Etag Role', ['users.view']);
    });
    after(async () => s?.close());

    const dir = (path: string, r: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      v1(s.url, path, { token: ADMIN_TOKEN, tenant: tenant.id, ...r });
    const membership = (id: number) =>
      s.store.db.selectFrom('tenant_members').selectAll().where('user_id', '=', id).where('tenant_id', '=', tenant.id).executeTakeFirst();

    it('DELETE, restore and PUT /roles answer 412 to a stale If-Match and change nothing', async () => {
      const u = await createUser(s.url, { password: 'etag-dir-pass-1' });
      await addMember(s.url, tenant.id, u.id);
      const stale = (await dir(`/users/${u.id}`)).headers.get('etag')!;
      assert.ok(stale);
      const bumped = await dir(`/users/${u.id}`, { method: 'PUT', body: { title: 'bumped' } });
      assert.equal(bumped.status, 200, bumped.text);
      const fresh = bumped.headers.get('etag')!;
      assert.notEqual(fresh, stale);
      const before = await membership(u.id);

      const roles = await dir(`/users/${u.id}/roles`, { method: 'PUT', headers: { 'if-match': stale }, body: { role_ids: [role.id] } });
      assert.equal(roles.status, 412, roles.text);
      assert.equal(typeof roles.body.message, 'string');
      const del = await dir(`/users/${u.id}`, { method: 'DELETE', headers: { 'if-match': stale } });
      assert.equal(del.status, 412, del.text);
      assert.deepEqual(await membership(u.id), before, 'nothing changed');
      assert.deepEqual((await dir(`/users/${u.id}`)).body.data.roles, []);

      assert.equal((await dir(`/users/${u.id}/roles`, { method: 'PUT', headers: { 'if-match': fresh }, body: { role_ids: [role.id] } })).status, 200);
      assert.equal((await dir(`/users/${u.id}`, { method: 'DELETE', headers: { 'if-match': fresh } })).status, 200);
      const restoreStale = await dir(`/users/${u.id}/restore`, { method: 'POST', headers: { 'if-match': stale } });
      assert.equal(restoreStale.status, 412, restoreStale.text);
      const restored = await dir(`/users/${u.id}/restore`, { method: 'POST', headers: { 'if-match': fresh } });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.body.data.deleted_at, null);
      // Without If-Match the writes go through as before.
      assert.equal((await dir(`/users/${u.id}/roles`, { method: 'PUT', body: { role_ids: [] } })).status, 200);
    });
  });
}
