// Directory v1 under concurrent writes: role syncs, updates and creates racing on one user never 500,
// never deadlock, and leave a consistent state; every change writes its audit event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import { ALL_PERMISSIONS, addMember, createClient, createRole, createTenant, member, v1, type Member } from './helpers/directory.js';

for (const { engine, skip } of engines()) {
  describe(`directory concurrency and audit [${engine}]`, { skip }, () => {
    let s: TestServer;
    let tenant: { id: number };
    let roles: Array<{ id: number }>;
    let manager: Member;

    before(async () => {
      s = await startServer(engine);
      const client = await createClient(s.url);
      tenant = await createTenant(s.url);
      const admin = await createRole(s.url, tenant.id, 'Admin', ALL_PERMISSIONS);
      roles = [];
      for (let i = 0; i < 4; i++) roles.push(await createRole(s.url, tenant.id, `R${i}`, ['users.view']));
      manager = await member(s.url, client, tenant.id, [admin.id]);
    });
    after(async () => s?.close());

    it('concurrent role syncs and updates of one user all succeed and leave one of the requested role sets', async () => {
      const u = await createUser(s.url, { email: uniqueEmail('race') });
      await addMember(s.url, tenant.id, u.id);
      const sets = [[roles[0].id], [roles[1].id, roles[2].id], [], [roles[3].id, roles[0].id], [roles[2].id]];
      const requests = [
        ...sets.map((set) => v1(s.url, `/users/${u.id}/roles`, { method: 'PUT', token: manager.token, tenant: tenant.id, body: { role_ids: set } })),
        ...sets.map((set, i) => v1(s.url, `/users/${u.id}`, { method: 'PUT', token: manager.token, tenant: tenant.id, body: { title: `t${i}`, role_ids: set } })),
        ...sets.map(() => v1(s.url, `/users/${u.id}`, { method: 'PUT', token: ADMIN_TOKEN, tenant: tenant.id, body: { bio: 'b' } })),
      ];
      const results = await Promise.all(requests);
      for (const r of results) assert.equal(r.status, 200, r.text);
      const final = await v1(s.url, `/users/${u.id}`, { token: manager.token, tenant: tenant.id });
      const ids = final.body.data.roles.map((r: { id: number }) => r.id).sort();
      assert.ok(sets.some((set) => JSON.stringify([...set].sort()) === JSON.stringify(ids)), `roles ${ids} are one requested set`);
    });

    it('concurrent creates with one email: exactly one 201, the rest 422 on email', async () => {
      const email = uniqueEmail('dup');
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => v1(s.url, '/users', {
        method: 'POST', token: manager.token, tenant: tenant.id,
        body: { name: `Dup ${i}`, email, password: 'password-123', password_confirmation: 'password-123' },
      })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 422, 422, 422], results.map((r) => r.text).join('\n'));
      for (const r of results.filter((x) => x.status === 422)) assert.deepEqual(r.body.errors, { email: ['The email has already been taken.'] });
      const list = await v1(s.url, `/users?search=${encodeURIComponent(email)}`, { token: manager.token, tenant: tenant.id });
      assert.equal(list.body.meta.total, 1);
    });

    it('writes one audit event per change, attributed to the caller, with no secrets', async () => {
      const u = await createUser(s.url, { email: uniqueEmail('audit') });
      await addMember(s.url, tenant.id, u.id);
      const res = await v1(s.url, `/users/${u.id}`, {
        method: 'PUT', token: manager.token, tenant: tenant.id,
        body: { title: 'Audited', password: 'audit-password-1', password_confirmation: 'audit-password-1', role_ids: [roles[0].id] },
      });
      assert.equal(res.status, 200, res.text);
      const ev = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}&action=user.updated,tenant.member_roles_synced`, { token: ADMIN_TOKEN });
      assert.deepEqual(ev.body.items.map((e: { action: string }) => e.action).sort(), ['tenant.member_roles_synced', 'user.updated']);
      for (const e of ev.body.items) {
        assert.equal(e.actor.type, 'user');
        assert.equal(e.actor.id, String(manager.id));
        assert.equal(e.surface, 'directory');
      }
      const updated = ev.body.items.find((e: { action: string }) => e.action === 'user.updated');
      assert.equal(updated.before.title, null);
      assert.equal(updated.after.title, 'Audited');
      assert.ok(updated.after.changed.includes('password'));
      assert.ok(!ev.text.includes('audit-password-1'));
      assert.ok(!/argon2/.test(ev.text));
      // A request that changes nothing writes nothing.
      await v1(s.url, `/users/${u.id}`, { method: 'PUT', token: manager.token, tenant: tenant.id, body: { title: 'Audited', role_ids: [roles[0].id] } });
      const again = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}&action=user.updated,tenant.member_roles_synced`, { token: ADMIN_TOKEN });
      assert.equal(again.body.items.length, 2);
    });
  });
}
