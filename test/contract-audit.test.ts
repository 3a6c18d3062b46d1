// Contract coverage (docs/contracts.md "Every change made through any surface writes one audit event (actor,
// action, target, before/after with secrets removed, ip, user agent, time)"; docs/architecture.md "Every mutating core
// call takes the acting Principal and request context"): every mutating route of the four surfaces, run
// once, adds exactly one audit event naming the caller, the target, the address and the user agent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, type Req, type Res } from './helpers/http.js';
import { signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createRole, createTenant } from './helpers/directory.js';

const UA = 'contract-audit/1.0 (+https://example.com)';

for (const { engine, skip } of engines()) {
  describe(`contract: one audit event per change on every surface [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    const withUa = (r: Req): Req => ({ ...r, headers: { 'user-agent': UA, ...(r.headers ?? {}) } });
    const admin = (path: string, r: Req = {}) => http(s.url, path, withUa({ token: ADMIN_TOKEN, ...r }));
    const ua = (path: string, r: Req = {}) => http(s.url, path, withUa({ ...r, headers: { authorization: ADMIN_TOKEN, ...(r.headers ?? {}) } }));
    const events = () => s.store.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').execute();

    it('every mutating route writes one event per change (exactly one for a single change) with actor, action, target, ip, user agent and time', async () => {
      const tenant = await createTenant(s.url);
      const ids: Record<string, number | string> = {};
      const self = { email: uniqueEmail('audit-self'), password: 'Audit-self-pass-1' };
      const steps: Array<[string, () => Promise<Res>, (r: Res) => void]> = [
        ['admin POST /api/admin/users', () => admin('/api/admin/users', { body: { email: uniqueEmail('a1'), password: 'audit-pass-1' } }), (r) => { ids.u1 = r.body.item.id; }],
        ['admin PATCH /api/admin/users/{id}', () => admin(`/api/admin/users/${ids.u1}`, { method: 'PATCH', body: { name: 'Audit One' } }), () => {}],
        ['admin POST /api/admin/users (self)', () => admin('/api/admin/users', { body: { ...self, is_admin: true } }), (r) => { ids.self = r.body.item.id; }],
        ['admin PATCH /api/admin/users/me/password', async () => {
          const me = await signIn(s.url, self.email, self.password);
          const before = (await events()).length;
          const r = await http(s.url, '/api/admin/users/me/password', withUa({ method: 'PATCH', cookie: me.cookie, headers: { 'x-csrf-token': me.csrf, 'user-agent': UA }, body: { current_password: self.password, new_password: 'Audit-self-pass-2' } }));
          // signIn wrote its own session event; count only from here.
          (r as any).__before = before;
          return r;
        }, () => {}],
        ['admin POST /api/admin/bans', () => admin('/api/admin/bans', { body: { ban_type: 'email', ban_value: uniqueEmail('banned') } }), (r) => { ids.ban = r.body.item.id; }],
        ['admin PATCH /api/admin/bans/{id}', () => admin(`/api/admin/bans/${ids.ban}`, { method: 'PATCH', body: { reason: 'audit' } }), () => {}],
        ['admin DELETE /api/admin/bans/{id}', () => admin(`/api/admin/bans/${ids.ban}`, { method: 'DELETE' }), () => {}],
        ['admin POST /api/admin/aliases', () => admin('/api/admin/aliases', { body: { address: `audit${Date.now()}@relay.example.com`, goto: 'dest@example.org' } }), (r) => { ids.alias = r.body.item.id; }],
        ['admin PATCH /api/admin/aliases/{id}', () => admin(`/api/admin/aliases/${ids.alias}`, { method: 'PATCH', body: { goto: 'dest2@example.org' } }), () => {}],
        // (Kept active: deleting an alias deactivates it, as the product does, and an inactive one has nothing to change.)
        ['admin DELETE /api/admin/aliases/{id}', () => admin(`/api/admin/aliases/${ids.alias}`, { method: 'DELETE' }), () => {}],
        ['admin POST /api/admin/tenants', () => admin('/api/admin/tenants', { body: { name: `Audit Tenant ${Date.now()}` } }), (r) => { ids.tenant = r.body.item.id; }],
        ['admin PATCH /api/admin/tenants/{id}', () => admin(`/api/admin/tenants/${ids.tenant}`, { method: 'PATCH', body: { name: `Audit Tenant Renamed ${Date.now()}` } }), () => {}],
        ['admin POST /api/admin/tenants/{id}/roles', () => admin(`/api/admin/tenants/${ids.tenant}/roles`, { body: { name: 'Audit Role', permissions: ['users.view'] } }), (r) => { ids.role = r.body.item.id; }],
        ['admin PATCH /api/admin/tenants/{id}/roles/{role_id}', () => admin(`/api/admin/tenants/${ids.tenant}/roles/${ids.role}`, { method: 'PATCH', body: { permissions: ['users.view', 'users.update'] } }), () => {}],
        ['admin POST /api/admin/tenants/{id}/members', () => admin(`/api/admin/tenants/${ids.tenant}/members`, { body: { user_id: ids.u1, role_ids: [ids.role] } }), () => {}],
        ['admin DELETE /api/admin/tenants/{id}/members/{user_id}', () => admin(`/api/admin/tenants/${ids.tenant}/members/${ids.u1}`, { method: 'DELETE' }), () => {}],
        ['admin DELETE /api/admin/tenants/{id}/roles/{role_id}', () => admin(`/api/admin/tenants/${ids.tenant}/roles/${ids.role}`, { method: 'DELETE' }), () => {}],
        ['admin DELETE /api/admin/tenants/{id}', () => admin(`/api/admin/tenants/${ids.tenant}`, { method: 'DELETE' }), () => {}],
        ['admin POST /api/admin/oauth-clients', () => admin('/api/admin/oauth-clients', { body: { name: 'audit client', grant_types: ['password'] } }), (r) => { ids.client = r.body.item.id; }],
        ['admin POST /api/admin/oauth-clients/{id}/rotate-secret', () => admin(`/api/admin/oauth-clients/${ids.client}/rotate-secret`, { method: 'POST', body: {} }), () => {}],
        ['admin POST /api/admin/invites', () => admin('/api/admin/invites', { body: { email: uniqueEmail('invited'), send_email: false } }), () => {}],
        ['admin DELETE /api/admin/oauth-clients/{id}', () => admin(`/api/admin/oauth-clients/${ids.client}`, { method: 'DELETE' }), () => {}],
        ['admin POST /api/admin/api-tokens', () => admin('/api/admin/api-tokens', { body: { name: 'audit token' } }), (r) => { ids.token = r.body.item.id; }],
        ['admin DELETE /api/admin/api-tokens/{id}', () => admin(`/api/admin/api-tokens/${ids.token}`, { method: 'DELETE' }), () => {}],
        ['account POST /api/auth/sign-up', () => http(s.url, '/api/auth/sign-up', withUa({ body: { email: uniqueEmail('a-signup'), password: 'audit-pass-2' } })), (r) => {
          ids.acct = r.body.user.id;
          ids.acctCookie = `neptun-session=${r.cookies['neptun-session']}`;
        }],
        ['account PATCH /api/users/{id}', () => http(s.url, `/api/users/${ids.acct}`, withUa({ method: 'PATCH', cookie: String(ids.acctCookie), body: { email: uniqueEmail('a-new') } })), () => {}],
        ['directory POST /api/v1/users', () => http(s.url, '/api/v1/users', withUa({ token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.id), 'user-agent': UA }, body: { name: 'Dir Audit', email: uniqueEmail('d1'), password: 'audit-pass-3', password_confirmation: 'audit-pass-3' } })), (r) => { ids.d1 = r.body.data.id; }],
        ['directory PUT /api/v1/users/{id}', () => http(s.url, `/api/v1/users/${ids.d1}`, withUa({ method: 'PUT', token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.id), 'user-agent': UA }, body: { title: 'Auditor' } })), () => {}],
        ['directory PUT /api/v1/users/{id}/roles', () => http(s.url, `/api/v1/users/${ids.d1}/roles`, withUa({ method: 'PUT', token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.id), 'user-agent': UA }, body: { role_ids: [ids.dirRole] } })), () => {}],
        ['directory DELETE /api/v1/users/{id}', () => http(s.url, `/api/v1/users/${ids.d1}`, withUa({ method: 'DELETE', token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.id), 'user-agent': UA } })), () => {}],
        ['directory POST /api/v1/users/{id}/restore', () => http(s.url, `/api/v1/users/${ids.d1}/restore`, withUa({ method: 'POST', token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.id), 'user-agent': UA } })), () => {}],
        ['user-admin POST /api/admin/user-admin', () => ua('/api/admin/user-admin', { body: { email: uniqueEmail('ua1'), rootRole: 'Editor' } }), (r) => { ids.ua1 = r.body.id; }],
        ['user-admin PUT /api/admin/user-admin/{id}', () => ua(`/api/admin/user-admin/${ids.ua1}`, { method: 'PUT', body: { name: 'UA Audit' } }), () => {}],
        ['user-admin POST /api/admin/user-admin/{id}/change-password', () => ua(`/api/admin/user-admin/${ids.ua1}/change-password`, { body: { password: 'Audit-ua-pass-42!' } }), () => {}],
        ['user-admin DELETE /api/admin/user-admin/{id}', () => ua(`/api/admin/user-admin/${ids.ua1}`, { method: 'DELETE' }), () => {}],
        ['admin DELETE /api/admin/users/{id}', () => admin(`/api/admin/users/${ids.u1}`, { method: 'DELETE' }), () => {}],
      ];
      // The tenant of the directory steps needs the caller's tenant to exist; the admin token acts in any.
      await addMember(s.url, tenant.id, (await admin('/api/admin/users', { body: { email: uniqueEmail('seed'), password: 'seed-pass-1' } })).body.item.id);

      ids.dirRole = (await createRole(s.url, tenant.id, 'Audit Viewer', ['users.view'])).id;
      // Routes that make two changes write one event for each (and no more).
      const compound: Record<string, string[]> = {
        'account POST /api/auth/sign-up': ['session.created', 'user.created'],
        'directory POST /api/v1/users': ['tenant.member_added', 'user.created'],
        'user-admin POST /api/admin/user-admin': ['user.created', 'user.invite_created'],
        'admin POST /api/admin/invites': ['user.created', 'user.invite_created'],
      };
      const problems: string[] = [];
      for (const [label, run, keep] of steps) {
        const before = (await events()).length;
        const res = await run();
        assert.ok(res.status >= 200 && res.status < 300, `${label}: ${res.status} ${res.text.slice(0, 300)}`);
        keep(res);
        const all = await events();
        const from = (res as any).__before ?? before;
        const added = all.slice(0, all.length - from);
        const expected = compound[label];
        if (expected ? JSON.stringify(added.map((e) => e.action).sort()) !== JSON.stringify(expected) : added.length !== 1) {
          problems.push(`${label}: ${added.length} events (${added.map((e) => e.action).join(', ')})`);
          continue;
        }
        for (const e of added) {
        for (const k of ['actor_type', 'action', 'target_type', 'ip', 'user_agent', 'occurred_at'] as const) {
          if (e[k] === null || e[k] === undefined || e[k] === '') problems.push(`${label}: ${k} missing`);
        }
        if (e.user_agent !== UA) problems.push(`${label}: user_agent ${e.user_agent}`);
        if (e.ip !== '127.0.0.1' && e.ip !== '::1' && e.ip !== '::ffff:127.0.0.1') problems.push(`${label}: ip ${e.ip}`);
        if (e.target_id === null) problems.push(`${label}: no target id`);
        if (!e.before_data && !e.after_data) problems.push(`${label}: neither before nor after`);
        if (Number.isNaN(Date.parse(String(e.occurred_at instanceof Date ? e.occurred_at.toISOString() : e.occurred_at)))) problems.push(`${label}: occurred_at`);
        }
      }
      assert.deepEqual(problems, []);
    });
  });
}
