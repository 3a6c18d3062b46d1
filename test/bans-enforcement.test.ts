// Bans enforced on every surface: ip bans on every request (IPv4, IPv6, mapped IPv4, CIDR), email/domain/name
// bans on sign-in, user creation, email and username changes; revoke_sessions; expiry and revocation at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { cookieHeader, http, type Res } from './helpers/http.js';
import { createUser } from './helpers/admin.js';

let seq = 0;
const uniq = (p: string) => `${p}${process.pid}x${Date.now().toString(36)}x${++seq}`.toLowerCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Paths of every surface (and an unknown one): an ip ban refuses them all, whatever they would answer.
const EVERY_SURFACE: Array<[string, string, unknown?]> = [
  ['GET', '/api/admin/users'],
  ['POST', '/api/auth/sign-in', { identifier: 'root@example.com', password: 'root-password-1' }],
  ['GET', '/api/auth/csrf'],
  ['POST', '/api/auth/login', { email: 'root@example.com', password: 'root-password-1' }],
  ['GET', '/api/users/1'],
  ['GET', '/api/v1/users'],
  ['POST', '/oauth/token', { grant_type: 'password' }],
  ['GET', '/.well-known/jwks.json'],
  ['GET', '/api/admin/user-admin'],
  ['POST', '/auth/simple/login', { username: 'root', password: 'root-password-1' }],
  ['GET', '/openapi.json'],
  ['GET', '/no/such/path'],
];

for (const { engine, skip } of engines()) {
  describe(`bans enforcement [${engine}]`, { skip }, () => {
    let s: TestServer;
    const api = (path: string, req: Parameters<typeof http>[2] = {}) => http(s.url, path, { token: ADMIN_TOKEN, ...req });
    const ban = async (body: Record<string, unknown>) => {
      const res = await api('/api/admin/bans', { body });
      assert.equal(res.status, 201, res.text);
      return res.body;
    };
    const from = (ip: string, path = '/api/admin/users', extra: Parameters<typeof http>[2] = {}) =>
      http(s.url, path, { token: ADMIN_TOKEN, ...extra, headers: { 'x-forwarded-for': ip, ...(extra.headers ?? {}) } });
    const assertBanned = (res: Res, value: string, what = '') => {
      assert.equal(res.status, 403, `${what}: ${res.status} ${res.text}`);
      assert.equal(res.body.error, 'banned', what);
      assert.equal(res.body.ban.ban_type, 'ip');
      assert.equal(res.body.ban.ban_value, value);
      assert.ok('reason' in res.body.ban);
      assert.ok(!Number.isNaN(Date.parse(res.body.ban.banned_at)));
    };
    const signInStatus = async (identifier: string, password = 'password-123') =>
      (await http(s.url, '/api/auth/sign-in', { body: { identifier, password } }));

    before(async () => {
      // The client address comes from X-Forwarded-For, so one test client can be many addresses.
      s = await startServer(engine, { env: { GATEHOUSE_TRUST_PROXY: '1' } });
    });
    after(async () => s?.close());

    it('an active ip ban refuses every request from that address on every surface; health stays reachable', async () => {
      const b = await ban({ ban_type: 'ip', ban_value: '198.51.100.20', reason: 'abuse' });
      for (const [method, path, body] of EVERY_SURFACE) {
        const res = await from('198.51.100.20', path, { method, body });
        assertBanned(res, '198.51.100.20', `${method} ${path}`);
        assert.equal(res.body.ban.reason, 'abuse');
        assert.equal(res.body.ban.banned_at, b.item.created_at);
      }
      for (const path of ['/healthz', '/readyz']) assert.equal((await from('198.51.100.20', path)).status, 200, path);
      // Another address is served.
      assert.equal((await from('198.51.100.21')).status, 200);
      // The refusal costs the caller nothing else: no session, no audit event, no body parsing.
      const bad = await from('198.51.100.20', '/api/admin/bans', { raw: '{', headers: { 'content-type': 'application/json' } });
      assertBanned(bad, '198.51.100.20', 'malformed body');
    });

    it('matches IPv4-mapped IPv6 both ways', async () => {
      await ban({ ban_type: 'ip', ban_value: '198.51.100.30' });
      assertBanned(await from('::ffff:198.51.100.30'), '198.51.100.30', 'mapped client, plain ban');
      assertBanned(await from('::FFFF:C633:641E'), '198.51.100.30', 'hex mapped client');
      await ban({ ban_type: 'ip', ban_value: '::ffff:198.51.100.31' });
      assertBanned(await from('198.51.100.31'), '198.51.100.31', 'plain client, mapped ban');
      assert.equal((await from('::ffff:198.51.100.32')).status, 200);
    });

    it('matches IPv6 addresses in any spelling', async () => {
      await ban({ ban_type: 'ip', ban_value: '2001:db8::7' });
      assertBanned(await from('2001:DB8:0:0:0:0:0:7'), '2001:db8::7', 'long form');
      assertBanned(await from('2001:db8::7'), '2001:db8::7', 'short form');
      assert.equal((await from('2001:db8::8')).status, 200);
    });

    it('matches CIDR ranges (IPv4 and IPv6), most specific first', async () => {
      await ban({ ban_type: 'ip', ban_value: '203.0.113.0/24', reason: 'range' });
      assertBanned(await from('203.0.113.200'), '203.0.113.0/24', 'inside /24');
      assertBanned(await from('203.0.113.0'), '203.0.113.0/24', 'network address');
      assertBanned(await from('::ffff:203.0.113.9'), '203.0.113.0/24', 'mapped inside /24');
      assert.equal((await from('203.0.114.1')).status, 200);
      assert.equal((await from('203.0.112.255')).status, 200);
      await ban({ ban_type: 'ip', ban_value: '203.0.113.5', reason: 'single' });
      const single = await from('203.0.113.5');
      assert.equal(single.body.ban.ban_value, '203.0.113.5');
      await ban({ ban_type: 'ip', ban_value: '2001:db8:beef::/48' });
      assertBanned(await from('2001:db8:beef:1::1'), '2001:db8:beef::/48', 'inside /48');
      assertBanned(await from('2001:db8:beef:ffff:ffff:ffff:ffff:ffff'), '2001:db8:beef::/48', 'top of /48');
      assert.equal((await from('2001:db8:bef0::1')).status, 200);
      assert.equal((await from('2001:db8:bee::1')).status, 200);
    });

    it('revoked and deleted ip bans stop applying at once; un-revoking applies again at once', async () => {
      const b = await ban({ ban_type: 'ip', ban_value: '198.51.100.40' });
      assertBanned(await from('198.51.100.40'), '198.51.100.40');
      const rev = await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { revoked: true } });
      assert.equal(rev.status, 200);
      assert.equal((await from('198.51.100.40')).status, 200);
      await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { revoked: false } });
      assertBanned(await from('198.51.100.40'), '198.51.100.40');
      // Changing the value moves the ban.
      await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { ban_value: '198.51.100.41' } });
      assert.equal((await from('198.51.100.40')).status, 200);
      assertBanned(await from('198.51.100.41'), '198.51.100.41');
      await api(`/api/admin/bans/${b.item.id}`, { method: 'DELETE' });
      assert.equal((await from('198.51.100.41')).status, 200);
    });

    it('an ip ban stops applying the moment it expires (judged in memory against the clock)', async () => {
      const b = await ban({ ban_type: 'ip', ban_value: '198.51.100.50', expires_at: new Date(Date.now() + 1500).toISOString() });
      assertBanned(await from('198.51.100.50'), '198.51.100.50');
      await sleep(1600);
      assert.equal((await from('198.51.100.50')).status, 200);
      // Moving the expiry into the future applies it again; into the past lifts it.
      await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { expires_at: new Date(Date.now() + 3_600_000).toISOString() } });
      assertBanned(await from('198.51.100.50'), '198.51.100.50');
      await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { expires_at: new Date(Date.now() - 1000).toISOString() } });
      assert.equal((await from('198.51.100.50')).status, 200);
      // A ban created already expired never applies.
      await ban({ ban_type: 'ip', ban_value: '198.51.100.51', expires_at: '2020-01-01T00:00:00Z' });
      assert.equal((await from('198.51.100.51')).status, 200);
    });

    it('email bans refuse sign-in, user creation and email changes on the admin surface', async () => {
      const user = await createUser(s.url);
      const other = await createUser(s.url);
      assert.equal((await signInStatus(user.email)).status, 200);
      const b = await ban({ ban_type: 'email', ban_value: user.email.toUpperCase(), reason: 'fraud' });
      const res = await signInStatus(user.email);
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error, 'banned');
      assert.deepEqual(
        { ban_type: res.body.ban.ban_type, ban_value: res.body.ban.ban_value, reason: res.body.ban.reason, banned_at: res.body.ban.banned_at },
        { ban_type: 'email', ban_value: user.email, reason: 'fraud', banned_at: b.item.created_at },
      );
      // Username sign-in of the same account is refused too (the account's email is banned).
      await api(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { username: uniq('u') } });
      // A wrong password still answers 401: the ban is not revealed to someone without the password.
      assert.equal((await signInStatus(user.email, 'wrong-password')).status, 401);
      // Creating a user with the banned email, any case.
      const created = await api('/api/admin/users', { body: { email: ` ${user.email.toUpperCase()} `, password: 'password-123' } });
      assert.equal(created.status, 403, created.text);
      assert.equal(created.body.error, 'banned');
      // Changing another user's email to it.
      const change = await api(`/api/admin/users/${other.id}`, { method: 'PATCH', body: { email: user.email } });
      assert.equal(change.status, 403, change.text);
      assert.equal(change.body.error, 'banned');
      assert.equal((await api(`/api/admin/users/${other.id}`)).body.item.email, other.email);
      // Revoked: it stops applying at once.
      await api(`/api/admin/bans/${b.item.id}`, { method: 'PATCH', body: { revoked: true } });
      assert.equal((await signInStatus(user.email)).status, 200);
    });

    it('domain bans cover the domain and every subdomain, not look-alikes', async () => {
      const dom = `${uniq('evil')}.example`;
      const sub = await createUser(s.url, { email: `a@mail.${dom}` });
      const exact = await createUser(s.url, { email: `b@${dom}` });
      const lookalike = await createUser(s.url, { email: `c@not${dom}` });
      await ban({ ban_type: 'domain', ban_value: dom.toUpperCase() });
      assert.equal((await signInStatus(sub.email)).status, 403);
      assert.equal((await signInStatus(exact.email)).status, 403);
      assert.equal((await signInStatus(lookalike.email)).status, 200);
      for (const email of [`new@${dom}`, `new@deep.sub.${dom}`, `NEW@Sub.${dom.toUpperCase()}`]) {
        const res = await api('/api/admin/users', { body: { email, password: 'password-123' } });
        assert.equal(res.status, 403, `${email}: ${res.text}`);
        assert.equal(res.body.ban.ban_type, 'domain');
        assert.equal(res.body.ban.ban_value, dom);
      }
      assert.equal((await api('/api/admin/users', { body: { email: `new@x${dom}`, password: 'password-123' } })).status, 201);
      const change = await api(`/api/admin/users/${lookalike.id}`, { method: 'PATCH', body: { email: `c@www.${dom}` } });
      assert.equal(change.status, 403);
    });

    it('an email ban on a mailbox refuses that mailbox only; its domain\'s bans also apply to it', async () => {
      const dom = `${uniq('mb')}.example`;
      await ban({ ban_type: 'email', ban_value: `one@${dom}` });
      assert.equal((await api('/api/admin/users', { body: { email: `one@${dom}`, password: 'password-123' } })).status, 403);
      assert.equal((await api('/api/admin/users', { body: { email: `two@${dom}`, password: 'password-123' } })).status, 201);
      const d = await ban({ ban_type: 'domain', ban_value: dom });
      assert.equal((await api('/api/admin/users', { body: { email: `three@${dom}`, password: 'password-123' } })).status, 403);
      await api(`/api/admin/bans/${d.item.id}`, { method: 'PATCH', body: { expires_at: '2020-01-01T00:00:00Z' } });
      assert.equal((await api('/api/admin/users', { body: { email: `three@${dom}`, password: 'password-123' } })).status, 201);
    });

    it('name bans refuse matching usernames (any case) on creation, change and sign-in', async () => {
      const name = uniq('Troll');
      const holder = await createUser(s.url, { username: name });
      const other = await createUser(s.url);
      await ban({ ban_type: 'name', ban_value: name.toUpperCase() });
      const login = await signInStatus(name);
      assert.equal(login.status, 403, login.text);
      assert.equal(login.body.ban.ban_type, 'name');
      assert.equal((await signInStatus(holder.email)).status, 403, 'the account behind the name is refused by email too');
      const created = await api('/api/admin/users', { body: { email: `${uniq('n')}@example.com`, username: ` ${name.toUpperCase()} `, password: 'password-123' } });
      assert.equal(created.status, 403, created.text);
      const change = await api(`/api/admin/users/${other.id}`, { method: 'PATCH', body: { username: name } });
      assert.equal(change.status, 403);
      assert.equal((await api(`/api/admin/users/${other.id}`, { method: 'PATCH', body: { username: `${name}-ok` } })).status, 200);
    });

    it('bans apply on the other surfaces too: account sign-up and login, user-admin login and create, directory create, OAuth password grant', async () => {
      const dom = `${uniq('surf')}.example`;
      const user = await createUser(s.url, { email: `x@${dom}`, username: uniq('surf') });
      await ban({ ban_type: 'domain', ban_value: dom });
      const login = await http(s.url, '/api/auth/login', { body: { email: user.email, password: 'password-123' } });
      assert.equal(login.status, 403, `account login: ${login.text}`);
      const signUp = await http(s.url, '/api/auth/sign-up', { body: { email: `y@${dom}`, password: 'password-123' } });
      assert.equal(signUp.status, 403, `account sign-up: ${signUp.text}`);
      const ua = await http(s.url, '/auth/simple/login', { body: { username: user.username, password: 'password-123' } });
      assert.equal(ua.status, 403, `user-admin login: ${ua.text}`);
      const uaCreate = await http(s.url, '/api/admin/user-admin', { token: ADMIN_TOKEN, body: { email: `z@${dom}`, name: 'Z', rootRole: 'Viewer' } });
      assert.equal(uaCreate.status, 403, `user-admin create: ${uaCreate.text}`);
      // Directory v1: user creation in a tenant, and the OAuth password grant.
      const tenant = await http(s.url, '/api/admin/tenants', { token: ADMIN_TOKEN, body: { name: uniq('Acme') } });
      assert.equal(tenant.status, 201, tenant.text);
      const dirCreate = await http(s.url, '/api/v1/users', {
        token: ADMIN_TOKEN, headers: { 'x-tenant': String(tenant.body.item.id) },
        body: { name: 'W', email: `w@sub.${dom}`, password: 'password-123', password_confirmation: 'password-123' },
      });
      assert.equal(dirCreate.status, 403, `directory create: ${dirCreate.text}`);
      const client = await http(s.url, '/api/admin/oauth-clients', { token: ADMIN_TOKEN, body: { name: uniq('client') } });
      assert.equal(client.status, 201, client.text);
      const grant = await http(s.url, '/oauth/token', {
        body: { grant_type: 'password', client_id: client.body.item.client_id, client_secret: client.body.client_secret, username: user.email, password: 'password-123' },
      });
      assert.equal(grant.status, 400, `password grant: ${grant.text}`);
      assert.equal(grant.body.error, 'invalid_grant');
    });

    it('revoke_sessions ends the matching users\' sessions when asked, and only then', async () => {
      const a = await createUser(s.url);
      const sign = async (email: string, ip = '192.0.2.200') => {
        const res = await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'password-123' }, headers: { 'x-forwarded-for': ip } });
        assert.equal(res.status, 200, res.text);
        return cookieHeader({ '__Host-access': res.cookies['__Host-access'] });
      };
      const alive = async (cookie: string) => (await http(s.url, '/api/auth/session', { cookie })).status === 200;
      const c1 = await sign(a.email);
      const c2 = await sign(a.email);
      // Without revoke_sessions the sessions are refused while the ban is active (docs/credentials.md) and
      // work again once it is lifted: nothing was revoked.
      const quiet = await ban({ ban_type: 'email', ban_value: a.email });
      assert.ok(!('sessions_revoked' in quiet));
      assert.equal(await alive(c1), false);
      await api(`/api/admin/bans/${quiet.item.id}`, { method: 'DELETE' });
      assert.ok(await alive(c1));
      const loud = await ban({ ban_type: 'email', ban_value: a.email, revoke_sessions: true });
      assert.equal(loud.sessions_revoked, 2);
      assert.equal(await alive(c1), false);
      assert.equal(await alive(c2), false);

      // Domain and name bans match users the same way; PATCH can ask too.
      const dom = `${uniq('rs')}.example`;
      const b = await createUser(s.url, { email: `b@sub.${dom}`, username: uniq('rsname') });
      const cb = await sign(b.email);
      const nb = await ban({ ban_type: 'name', ban_value: uniq('zz') });
      const res = await api(`/api/admin/bans/${nb.item.id}`, { method: 'PATCH', body: { ban_value: b.username, revoke_sessions: true } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.sessions_revoked, 1);
      assert.equal(await alive(cb), false);

      // ip bans end the sessions opened from a covered address.
      const c = await createUser(s.url);
      const cc = await sign(c.email, '192.0.2.77');
      const cOther = await sign(c.email, '192.0.2.177');
      const ipBan = await ban({ ban_type: 'ip', ban_value: '192.0.2.64/27', revoke_sessions: true });
      assert.equal(ipBan.sessions_revoked, 1);
      assert.equal(await alive(cc), false);
      assert.equal(await alive(cOther), true);
      // An inactive ban revokes nothing.
      const d = await createUser(s.url);
      const cd = await sign(d.email);
      const expired = await ban({ ban_type: 'email', ban_value: d.email, expires_at: '2020-01-01T00:00:00Z', revoke_sessions: true });
      assert.equal(expired.sessions_revoked, 0);
      assert.ok(await alive(cd));
    });
  });
}
