// Contract coverage (docs/contracts.md "Shared core rules": "Bad input of any kind (malformed JSON, wrong types,
// oversized body, unknown id, `__proto__` keys, huge strings) gets a 4xx in the surface's error shape. Never
// a 500, never a stack trace"): one battery of bad bodies sent to every route of the four surfaces that
// takes a body, sign-in and token routes included, each answer checked against that surface's shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, type Res } from './helpers/http.js';
import { createUser, signIn, uniqueEmail } from './helpers/admin.js';
import { addMember, createRole, createTenant } from './helpers/directory.js';

type Shape = 'admin' | 'account' | 'directory' | 'useradmin' | 'oauth';

function assertShape(shape: Shape, res: Res, label: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.ok(!/at .+\.(ts|js):\d+|node_modules|\/src\//.test(res.text), `${label}: no stack trace or path`);
  const b = res.body;
  assert.ok(b && typeof b === 'object' && !Array.isArray(b), `${label}: a JSON object: ${res.text.slice(0, 100)}`);
  if (shape === 'admin') assert.equal(typeof b.error, 'string', `${label}: admin {error}`);
  if (shape === 'account') assert.equal(b.statusCode, res.status, `${label}: h3 {statusCode}`);
  if (shape === 'directory') assert.equal(typeof b.message, 'string', `${label}: directory {message}`);
  if (shape === 'useradmin') {
    assert.match(String(b.id), /^[0-9a-f-]{36}$/, `${label}: Unleash {id}`);
    assert.equal(typeof b.name, 'string', `${label}: Unleash {name}`);
  }
  if (shape === 'oauth') assert.equal(typeof b.error, 'string', `${label}: RFC 6749 {error}`);
}

const BAD_BODIES: Array<[string, string]> = [
  ['malformed JSON', '{"a": '],
  ['an array', '[1, 2]'],
  ['a string', '"text"'],
  ['null', 'null'],
  ['__proto__', '{"__proto__": {"is_admin": true, "rootRole": "Owner"}}'],
  ['constructor.prototype', '{"constructor": {"prototype": {"is_admin": true}}}'],
  ['wrong types everywhere', JSON.stringify({ email: 5, password: [1], name: {}, username: true, identifier: 7, rootRole: [], role_ids: 'x', is_active: 'yes', ban_type: 9, ban_value: null, permissions: 'ADMIN', user_id: 'me', grant_type: 5 })],
  ['huge strings', JSON.stringify({ email: `${'x'.repeat(100_000)}@example.com`, password: 'p'.repeat(100_000), name: 'n'.repeat(100_000), username: 'u'.repeat(100_000), identifier: 'i'.repeat(100_000) })],
  ['NUL characters', JSON.stringify({ email: 'a\u0000@example.com', password: 'pass\u0000word-1', name: 'n\u0000', username: 'u\u0000', identifier: 'i\u0000' })],
  ['a huge number', '{"user_id": 1e400, "role_ids": [1e400], "rootRole": 1e400, "is_active": 1e400, "expires_at": 1e400, "id": 99999999999999999999999}'],
];

for (const { engine, skip } of engines()) {
  describe(`contract: bad input on every body route of every surface [${engine}]`, { skip }, () => {
    let s: TestServer;
    let routes: Array<{ shape: Shape; method: string; path: string; headers: Record<string, string> }>;

    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '100000', GATEHOUSE_LOGIN_MAX_FAILURES: '100000' } });
      const tenant = await createTenant(s.url);
      const role = await createRole(s.url, tenant.id, 'Bad Input Role', ['users.view']);
      const u = await createUser(s.url, { email: uniqueEmail('bad'), password: 'bad-input-pass-1', is_admin: true });
      await addMember(s.url, tenant.id, u.id);
      const ban = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'email', ban_value: uniqueEmail('ban') } });
      const alias = await http(s.url, '/api/admin/aliases', { token: ADMIN_TOKEN, body: { address: `bad${Date.now()}@relay.example.com`, goto: 'dest@example.org' } });
      const acc = await http(s.url, '/api/auth/login', { body: { email: u.email, password: 'bad-input-pass-1' } });
      const ul = await http(s.url, '/auth/simple/login', { body: { username: u.email, password: 'bad-input-pass-1' } });
      const me = await signIn(s.url, u.email, 'bad-input-pass-1');
      const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const cookieAdmin = { cookie: me.cookie, 'x-csrf-token': me.csrf };
      const dir = { ...bearer, 'x-tenant': String(tenant.id) };
      routes = [
        { shape: 'admin', method: 'POST', path: '/api/auth/sign-in', headers: {} },
        { shape: 'admin', method: 'POST', path: '/api/admin/users', headers: bearer },
        { shape: 'admin', method: 'PATCH', path: `/api/admin/users/${u.id}`, headers: bearer },
        { shape: 'admin', method: 'PATCH', path: '/api/admin/users/me/password', headers: cookieAdmin },
        { shape: 'admin', method: 'POST', path: '/api/admin/bans', headers: bearer },
        { shape: 'admin', method: 'PATCH', path: `/api/admin/bans/${ban.body.item.id}`, headers: bearer },
        { shape: 'admin', method: 'POST', path: '/api/admin/aliases', headers: bearer },
        { shape: 'admin', method: 'PATCH', path: `/api/admin/aliases/${alias.body.item.id}`, headers: bearer },
        { shape: 'admin', method: 'POST', path: '/api/admin/tenants', headers: bearer },
        { shape: 'admin', method: 'PATCH', path: `/api/admin/tenants/${tenant.id}`, headers: bearer },
        { shape: 'admin', method: 'POST', path: `/api/admin/tenants/${tenant.id}/roles`, headers: bearer },
        { shape: 'admin', method: 'PATCH', path: `/api/admin/tenants/${tenant.id}/roles/${role.id}`, headers: bearer },
        { shape: 'admin', method: 'POST', path: `/api/admin/tenants/${tenant.id}/members`, headers: bearer },
        { shape: 'admin', method: 'POST', path: '/api/admin/oauth-clients', headers: bearer },
        { shape: 'admin', method: 'POST', path: '/api/admin/api-tokens', headers: bearer },
        { shape: 'account', method: 'POST', path: '/api/auth/login', headers: {} },
        { shape: 'account', method: 'POST', path: '/api/auth/sign-up', headers: {} },
        { shape: 'account', method: 'PATCH', path: `/api/users/${u.id}`, headers: { cookie: `neptun-session=${acc.cookies['neptun-session']}` } },
        { shape: 'oauth', method: 'POST', path: '/oauth/token', headers: {} },
        { shape: 'directory', method: 'POST', path: '/api/v1/users', headers: dir },
        { shape: 'directory', method: 'PUT', path: `/api/v1/users/${u.id}`, headers: dir },
        { shape: 'directory', method: 'PATCH', path: `/api/v1/users/${u.id}`, headers: dir },
        { shape: 'directory', method: 'PUT', path: `/api/v1/users/${u.id}/roles`, headers: dir },
        { shape: 'useradmin', method: 'POST', path: '/auth/simple/login', headers: {} },
        { shape: 'useradmin', method: 'POST', path: '/api/admin/user-admin', headers: { authorization: ADMIN_TOKEN } },
        { shape: 'useradmin', method: 'PUT', path: `/api/admin/user-admin/${u.id}`, headers: { authorization: ADMIN_TOKEN } },
        { shape: 'useradmin', method: 'POST', path: `/api/admin/user-admin/${u.id}/change-password`, headers: { authorization: ADMIN_TOKEN } },
        { shape: 'useradmin', method: 'POST', path: '/api/admin/user-admin/validate-password', headers: { authorization: ADMIN_TOKEN } },
        { shape: 'useradmin', method: 'POST', path: '/api/admin/user/tokens', headers: { cookie: `unleash-session=${ul.cookies['unleash-session']}` } },
        { shape: 'useradmin', method: 'POST', path: '/auth/reset/password', headers: {} },
        { shape: 'useradmin', method: 'POST', path: '/auth/reset/validate-password', headers: {} },
      ];
    });
    after(async () => s?.close());

    it('every body route answers every bad body with a 4xx in its surface\'s shape, and writes nothing', async () => {
      const snapshot = async () => JSON.stringify({
        users: await s.store.db.selectFrom('users').select(['id', 'version', 'password_hash', 'root_role_id', 'is_active']).orderBy('id').execute(),
        events: (await s.store.db.selectFrom('audit_events').select('id').execute()).length,
      });
      const before = await snapshot();
      const failures: string[] = [];
      for (const r of routes) {
        for (const [what, raw] of BAD_BODIES) {
          const res = await http(s.url, r.path, { method: r.method, raw, headers: { 'content-type': 'application/json', ...r.headers } });
          try {
            assertShape(r.shape, res, `${r.method} ${r.path} with ${what}`);
          } catch (err) {
            failures.push((err as Error).message.split('\n')[0]);
          }
        }
        // Invalid UTF-8 in a JSON body.
        const bytes = await http(s.url, r.path, { method: r.method, raw: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: { 'content-type': 'application/json', ...r.headers } });
        try {
          assertShape(r.shape, bytes, `${r.method} ${r.path} with invalid UTF-8`);
        } catch (err) {
          failures.push((err as Error).message.split('\n')[0]);
        }
      }
      assert.deepEqual(failures, []);
      assert.equal(await snapshot(), before, 'no bad request changed a user or wrote an event');
    });
  });
}
