// Issue 18: where the admin pages are silent, the admin surface answers as the email-forwarding product
// (haltman-io/mail-forwarding-api) does. Each test names the product behaviour it follows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { cookieHeader, http } from './helpers/http.js';
import { asSession, createUser, signIn, type AdminSession } from './helpers/admin.js';

let seq = 0;
const uniq = (p: string) => `${p}${process.pid}x${Date.now().toString(36)}x${++seq}`;

for (const { engine, skip } of engines()) {
  describe(`admin surface follows the email-forwarding product [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    const api = (path: string, req: Parameters<typeof http>[2] = {}) => http(s.url, path, { token: ADMIN_TOKEN, ...req });
    const alias = async (address: string, goto: string) => {
      const r = await api('/api/admin/aliases', { body: { address, goto } });
      assert.equal(r.status, 201, r.text);
      return r.body.item;
    };

    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    it('product: ban_type is trimmed and lower-cased before it is checked (create, update, list filter)', async () => {
      const mailbox = `${uniq('Spam')}@Example.com`;
      const res = await api('/api/admin/bans', { body: { ban_type: ' EMAIL ', ban_value: mailbox } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.item.ban_type, 'email');
      assert.equal(res.body.item.ban_value, mailbox.toLowerCase());
      const patched = await api(`/api/admin/bans/${res.body.item.id}`, { method: 'PATCH', body: { ban_type: 'Domain', ban_value: `${uniq('d')}.example` } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.item.ban_type, 'domain');
      const listed = await api('/api/admin/bans?ban_type=DOMAIN&limit=200');
      assert.equal(listed.status, 200, listed.text);
      assert.ok(listed.body.items.length >= 1 && listed.body.items.every((b: any) => b.ban_type === 'domain'));
      // Still one of the four types.
      const bad = await api('/api/admin/bans', { body: { ban_type: 'EMAILS', ban_value: mailbox } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid_params');
      assert.equal(bad.body.field, 'ban_type');
    });

    it('product: a create always carries disabled_aliases (0) and message "Ban created."', async () => {
      const res = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('quiet') } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.disabled_aliases, 0);
      assert.equal(res.body.message, 'Ban created.');
      const ip = await api('/api/admin/bans', { body: { ban_type: 'ip', ban_value: '203.0.113.10' } });
      assert.equal(ip.status, 201, ip.text);
      assert.equal(ip.body.disabled_aliases, 0);
      assert.equal(ip.body.message, 'Ban created.');
    });

    it('product: disable_matching_aliases answers "Ban created. Also, N matching aliases were disabled." (alias was, for one)', async () => {
      const mailbox = `${uniq('m')}@example.net`;
      await alias(`${uniq('e')}@relay.example.com`, mailbox);
      await alias(`${uniq('e')}@relay.example.com`, mailbox);
      const two = await api('/api/admin/bans', { body: { ban_type: 'email', ban_value: mailbox, disable_matching_aliases: true } });
      assert.equal(two.status, 201, two.text);
      assert.equal(two.body.disabled_aliases, 2);
      assert.equal(two.body.message, 'Ban created. Also, 2 matching aliases were disabled.');
      const one = `${uniq('o')}@example.net`;
      await alias(`${uniq('e')}@relay.example.com`, one);
      const single = await api('/api/admin/bans', { body: { ban_type: 'email', ban_value: one, disable_matching_aliases: true } });
      assert.equal(single.body.message, 'Ban created. Also, 1 matching alias was disabled.');
      const none = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('nobody'), disable_matching_aliases: true } });
      assert.equal(none.body.disabled_aliases, 0);
      assert.equal(none.body.message, 'Ban created. Also, 0 matching aliases were disabled.');
    });

    it('product: disable_matching_aliases on an ip ban is 400 reason not_supported_for_ip_bans, nothing written', async () => {
      const value = '198.51.100.77';
      const res = await api('/api/admin/bans', { body: { ban_type: 'ip', ban_value: value, disable_matching_aliases: true } });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_params');
      assert.equal(res.body.field, 'disable_matching_aliases');
      assert.equal(res.body.reason, 'not_supported_for_ip_bans');
      const listed = await api('/api/admin/bans?type=ip&limit=200');
      assert.ok(!listed.body.items.some((b: any) => b.ban_value === value), 'no ban was created');
    });

    it('product: DELETE /api/admin/users/{id} answers {ok, deleted:true, sessions_revoked:N, item}', async () => {
      const u = await createUser(s.url, { password: 'delete-me-1', is_admin: true });
      await signIn(s.url, u.email, 'delete-me-1');
      await signIn(s.url, u.email, 'delete-me-1');
      const res = await http(s.url, `/api/admin/users/${u.id}`, { method: 'DELETE', ...asSession(admin) });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.deleted, true);
      assert.equal(res.body.sessions_revoked, 2);
      assert.equal(res.body.item.id, u.id);
      const quiet = await createUser(s.url);
      const res0 = await api(`/api/admin/users/${quiet.id}`, { method: 'DELETE' });
      assert.equal(res0.body.sessions_revoked, 0);
    });

    it('product: a cookie write without X-CSRF-Token is 403 {"error":"csrf_required"}; a wrong one 403 {"error":"invalid_csrf_token"}', async () => {
      const u = await createUser(s.url);
      const body = { name: 'csrf check' };
      const none = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', cookie: admin.cookie, body });
      assert.equal(none.status, 403, none.text);
      assert.deepEqual(none.body, { error: 'csrf_required' });
      const blank = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', cookie: admin.cookie, body, headers: { 'x-csrf-token': '   ' } });
      assert.deepEqual(blank.body, { error: 'csrf_required' }, 'the header is trimmed first');
      const wrong = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', cookie: admin.cookie, body, headers: { 'x-csrf-token': 'bad-token' } });
      assert.equal(wrong.status, 403);
      assert.deepEqual(wrong.body, { error: 'invalid_csrf_token' });
      const padded = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', cookie: admin.cookie, body, headers: { 'x-csrf-token': ` ${admin.csrf} ` } });
      assert.equal(padded.status, 200, padded.text);
      const del = await http(s.url, '/api/admin/bans/1', { method: 'DELETE', cookie: admin.cookie });
      assert.deepEqual([del.status, del.body], [403, { error: 'csrf_required' }]);
    });

    it('product (issue 16): POST /api/auth/sign-out-all needs the CSRF token from a cookie caller; nothing is revoked without it', async () => {
      const u = await createUser(s.url, { password: 'everywhere-2', is_admin: true });
      const a = await signIn(s.url, u.email, 'everywhere-2');
      const b = await signIn(s.url, u.email, 'everywhere-2');
      const session = (x: AdminSession) => http(s.url, '/api/auth/session', { cookie: x.cookie });
      const none = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: a.cookie });
      assert.deepEqual([none.status, none.body], [403, { error: 'csrf_required' }]);
      const wrong = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: a.cookie, headers: { 'x-csrf-token': b.csrf } });
      assert.deepEqual([wrong.status, wrong.body], [403, { error: 'invalid_csrf_token' }], "another family's token does not do");
      // The refresh cookie alone is a session too, and needs the token as well.
      const byRefresh = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': a.refresh }) });
      assert.deepEqual([byRefresh.status, byRefresh.body], [403, { error: 'csrf_required' }]);
      assert.equal((await session(a)).status, 200, 'nothing was revoked');
      assert.equal((await session(b)).status, 200);
      const ok = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', ...asSession(a) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.action, 'sign_out_all');
      assert.equal(ok.body.signed_out_all, true);
      assert.equal(ok.body.sessions_revoked, 2);
      assert.equal((await session(b)).status, 401);
      // No live session: nothing to end (200, 0), as the product answers.
      const again = await http(s.url, '/api/auth/sign-out-all', { method: 'POST', cookie: a.cookie });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.sessions_revoked, 0);
    });

    it('product: sign-in with a wrong password is 401 {"error":"auth_failed"}; /api/auth/* without a live session is 401 {"error":"invalid_or_expired_session"}', async () => {
      const bad = await http(s.url, '/api/auth/sign-in', { body: { identifier: ADMIN_EMAIL, password: 'not-the-password' } });
      assert.deepEqual([bad.status, bad.body], [401, { error: 'auth_failed' }]);
      const unknown = await http(s.url, '/api/auth/sign-in', { body: { identifier: `${uniq('nobody')}@example.com`, password: 'whatever-123' } });
      assert.deepEqual([unknown.status, unknown.body], [401, { error: 'auth_failed' }]);
      for (const [method, path] of [['GET', '/api/auth/session'], ['GET', '/api/auth/csrf'], ['POST', '/api/auth/refresh']] as const) {
        const r = await http(s.url, path, { method, cookie: cookieHeader({ '__Host-access': 'x.y.z', '__Host-refresh': 'garbage' }) });
        assert.deepEqual([r.status, r.body], [401, { error: 'invalid_or_expired_session' }], `${method} ${path}`);
      }
      // The admin routes keep the pages' 401 shape.
      const adminRoute = await http(s.url, '/api/admin/users');
      assert.equal(adminRoute.body.error, 'Unauthorized');
    });

    it('product: refresh needs the family\'s X-CSRF-Token (the token is not spent without it) and answers refreshed:true', async () => {
      const a = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const other = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const none = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: a.cookie });
      assert.deepEqual([none.status, none.body], [403, { error: 'csrf_required' }]);
      const wrong = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: a.cookie, headers: { 'x-csrf-token': other.csrf } });
      assert.deepEqual([wrong.status, wrong.body], [403, { error: 'invalid_csrf_token' }]);
      assert.equal(none.headers.getSetCookie().length + wrong.headers.getSetCookie().length, 0, 'no cookie set or cleared');
      const r = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: a.cookie, headers: { 'x-csrf-token': a.csrf } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.action, 'refresh');
      assert.equal(r.body.refreshed, true);
      assert.equal(r.body.session.session_family_id, a.familyId);
      // A spent token is refused whatever the header (and its reuse still revokes the family).
      const reuse = await http(s.url, '/api/auth/refresh', { method: 'POST', cookie: a.cookie });
      assert.deepEqual([reuse.status, reuse.body], [401, { error: 'invalid_or_expired_session' }]);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: cookieHeader({ '__Host-access': r.cookies['__Host-access'] }) })).status, 401);
    });

    it('product: sign-out of a live session needs its X-CSRF-Token and answers signed_out:true; with no live session it is 200', async () => {
      const a = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const none = await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: a.cookie });
      assert.deepEqual([none.status, none.body], [403, { error: 'csrf_required' }]);
      const byRefresh = await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: cookieHeader({ '__Host-refresh': a.refresh }), headers: { 'x-csrf-token': 'nope' } });
      assert.deepEqual([byRefresh.status, byRefresh.body], [403, { error: 'invalid_csrf_token' }]);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: a.cookie })).status, 200, 'still signed in');
      const out = await http(s.url, '/api/auth/sign-out', { method: 'POST', ...asSession(a) });
      assert.equal(out.status, 200, out.text);
      assert.equal(out.body.action, 'sign_out');
      assert.equal(out.body.signed_out, true);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: a.cookie })).status, 401);
      const again = await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: a.cookie });
      assert.equal(again.status, 200, 'nothing left to end');
    });

    it('product: revoked and is_admin take 1/0 as well as true/false; list filters take 1/0, yes/no, on/off', async () => {
      const ban = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('flag') } });
      const revoked = await api(`/api/admin/bans/${ban.body.item.id}`, { method: 'PATCH', body: { revoked: 1, revoked_reason: 'done' } });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.item.active, false);
      const back = await api(`/api/admin/bans/${ban.body.item.id}`, { method: 'PATCH', body: { revoked: 0 } });
      assert.equal(back.body.item.active, true);
      assert.equal(back.body.item.revoked_reason, null);
      const u = await createUser(s.url);
      const promoted = await api(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_admin: 1 } });
      assert.equal(promoted.status, 200, promoted.text);
      assert.equal(promoted.body.item.is_admin, true);
      const made = await api('/api/admin/users', { body: { email: `${uniq('flag')}@example.com`, password: 'password-123', is_admin: 0, is_active: 'Yes' } });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.item.is_admin, false);
      assert.equal(made.body.item.is_active, 1);
      const worded = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('w'), disable_matching_aliases: 'true' } });
      assert.equal(worded.status, 201, worded.text);
      assert.equal(worded.body.message, 'Ban created. Also, 0 matching aliases were disabled.');
      assert.equal((await api(`/api/admin/users/${u.id}`, { method: 'PATCH', body: { is_active: 'perhaps' } })).status, 400);
      for (const q of ['active=1', 'active=YES', 'is_active=on', 'is_admin=1']) {
        const r = await api(`/api/admin/users?${q}&limit=200`);
        assert.equal(r.status, 200, `${q}: ${r.text}`);
        assert.ok(r.body.items.length > 0 && r.body.items.every((x: any) => (q.startsWith('is_admin') ? x.is_admin : x.is_active === 1)), q);
      }
      const off = await api('/api/admin/users', { body: { email: `${uniq('off')}@example.com`, password: 'password-123', is_active: false } });
      const inactive = await api('/api/admin/users?active=0&limit=200');
      assert.ok(inactive.body.items.some((x: any) => x.id === off.body.item.id) && inactive.body.items.every((x: any) => x.is_active === 0));
      assert.equal((await api('/api/admin/bans?active=no')).status, 200);
      assert.equal((await api('/api/admin/bans?active=maybe')).status, 400);
    });

    it('product: GET /api/admin/bans?ban_value= finds bans whose value contains the text, in any case', async () => {
      const stem = uniq('needle');
      const hit = await api('/api/admin/bans', { body: { ban_type: 'email', ban_value: `x.${stem}.y@example.org` } });
      const miss = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('hay') } });
      const r = await api(`/api/admin/bans?ban_value=${encodeURIComponent(stem.toUpperCase())}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.items.map((b: any) => b.id), [hit.body.item.id]);
      assert.ok(!r.body.items.some((b: any) => b.id === miss.body.item.id));
      const wild = await api('/api/admin/bans?ban_value=%25');
      assert.equal(wild.body.items.length, 0, '% is a character, not a wildcard');
    });

    it("product: the last admin's guard names cannot_disable_last_admin / cannot_demote_last_admin (in the pages' 409 shape)", async () => {
      const fresh = await startServer(engine);
      try {
        const root = await signIn(fresh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
        const off = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'PATCH', ...asSession(root), body: { is_active: false } });
        assert.deepEqual([off.status, off.body.error, off.body.reason], [409, 'Conflict', 'cannot_disable_last_admin']);
        const demote = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'PATCH', ...asSession(root), body: { is_admin: false } });
        assert.deepEqual([demote.status, demote.body.reason], [409, 'cannot_demote_last_admin']);
        const del = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'DELETE', ...asSession(root) });
        assert.deepEqual([del.status, del.body.reason], [409, 'cannot_disable_last_admin']);
      } finally {
        await fresh.close();
      }
    });

    it('product: a wrong current password is 401 {"error":"invalid_credentials","field":"current_password"}; success carries reauth_required', async () => {
      const me = await createUser(s.url, { is_admin: true, password: 'self-pass-01' });
      const ms = await signIn(s.url, me.email, 'self-pass-01');
      const wrong = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(ms), body: { current_password: 'nope-nope-1', new_password: 'self-pass-02' } });
      assert.deepEqual([wrong.status, wrong.body], [401, { error: 'invalid_credentials', field: 'current_password' }]);
      const ok = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(ms), body: { current_password: 'self-pass-01', new_password: 'self-pass-02' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.updated, true);
      assert.equal(ok.body.reauth_required, false, 'this session is kept, so no new sign-in is needed');
      assert.equal(typeof ok.body.sessions_revoked, 'number');
    });

    it('product: DELETE /api/admin/aliases/{id} deactivates the alias and keeps its address taken', async () => {
      const address = `${uniq('keep')}@relay.example.com`;
      const a = await alias(address, `${uniq('dest')}@example.org`);
      const del = await api(`/api/admin/aliases/${a.id}`, { method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      assert.deepEqual([del.body.ok, del.body.deleted, del.body.item.id, del.body.item.active], [true, true, a.id, 0]);
      const got = await api(`/api/admin/aliases/${a.id}`);
      assert.deepEqual([got.status, got.body.item.active, got.body.item.address], [200, 0, address]);
      const again = await api('/api/admin/aliases', { body: { address, goto: `${uniq('thief')}@example.org` } });
      assert.equal(again.status, 409, 'the address stays taken');
      const twice = await api(`/api/admin/aliases/${a.id}`, { method: 'DELETE' });
      assert.deepEqual([twice.status, twice.body.deleted], [200, false]);
    });

    it('product: GET /api/auth/session carries session.access_expires_at beside refresh_expires_at', async () => {
      const a = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const r = await http(s.url, '/api/auth/session', { cookie: a.cookie });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.session.session_family_id, a.familyId);
      const access = Date.parse(r.body.session.access_expires_at);
      assert.ok(access > Date.now() && access <= Date.now() + 700_000, r.text);
      assert.ok(Date.parse(r.body.session.refresh_expires_at) > access);
    });

    it('product: a throttled sign-in is 429 {"error":"rate_limited","where":"auth_login","reason":…} with Retry-After', async () => {
      const t = await startServer(engine, { env: { GATEHOUSE_LOGIN_MAX_FAILURES: '2', GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' } });
      try {
        const attempt = () => http(t.url, '/api/auth/sign-in', { body: { identifier: ADMIN_EMAIL, password: 'wrong-password-9' } });
        for (let i = 0; i < 2; i++) assert.equal((await attempt()).status, 401);
        const limited = await attempt();
        assert.equal(limited.status, 429, limited.text);
        assert.deepEqual(limited.body, { error: 'rate_limited', where: 'auth_login', reason: 'too_many_failed_attempts_identifier' });
        assert.ok(Number(limited.headers.get('retry-after')) > 0);
      } finally {
        await t.close();
      }
    });

    it('product: deactivating, demoting or deleting yourself with the cookie session clears your cookies', async () => {
      const cleared = (r: Awaited<ReturnType<typeof http>>) =>
        ['__Host-access', '__Host-refresh'].every((n) => r.headers.getSetCookie().some((c) => c.startsWith(`${n}=;`)));
      for (const body of [{ is_active: false }, { is_admin: false }]) {
        const u = await createUser(s.url, { password: 'self-off-1', is_admin: true });
        const me = await signIn(s.url, u.email, 'self-off-1');
        const r = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', ...asSession(me), body });
        assert.equal(r.status, 200, r.text);
        assert.ok(cleared(r), `${JSON.stringify(body)}: cookies cleared`);
      }
      const u = await createUser(s.url, { password: 'self-del-1', is_admin: true });
      const me = await signIn(s.url, u.email, 'self-del-1');
      const del = await http(s.url, `/api/admin/users/${u.id}`, { method: 'DELETE', ...asSession(me) });
      assert.equal(del.status, 200, del.text);
      assert.ok(cleared(del));
      // Changing someone else leaves the caller's cookies alone.
      const other = await createUser(s.url);
      const r = await http(s.url, `/api/admin/users/${other.id}`, { method: 'PATCH', ...asSession(admin), body: { is_active: false } });
      assert.equal(r.headers.getSetCookie().length, 0);
    });

    it('product: list filters by contained text: users ?email=, aliases ?address= ?domain= ?handle= ?goto=', async () => {
      const stem = uniq('mid');
      const u1 = await createUser(s.url, { email: `a.${stem}.z@example.com` });
      const u2 = await createUser(s.url, { email: `b@${stem}.example.com` });
      await createUser(s.url);
      const users = await api(`/api/admin/users?email=${stem.toUpperCase()}`);
      assert.equal(users.status, 200, users.text);
      assert.deepEqual(users.body.items.map((u: any) => u.id), [u1.id, u2.id]);
      let page = await api(`/api/admin/users?email=${stem}&limit=1`);
      assert.deepEqual(page.body.items.map((u: any) => u.id), [u1.id]);
      page = await api(`/api/admin/users?email=${stem}&limit=1&cursor=${page.body.next_cursor}`);
      assert.deepEqual(page.body.items.map((u: any) => u.id), [u2.id], 'pages follow the filter');
      assert.equal((await api(`/api/admin/users?email=%25`)).body.items.length, 0, '% is a character');
      assert.equal((await api(`/api/admin/users?email=${stem}&q=a`)).status, 400);

      const h = uniq('hdl');
      const byHandle = await alias(`x${h}y@relay.example.com`, `one@${h}-dest.example.org`);
      const byDomain = await alias(`plain${h}@mail.${h}.example.net`, 'two@example.org');
      await alias(`${uniq('other')}@relay.example.com`, 'three@example.org');
      const ids = async (qs: string) => (await api(`/api/admin/aliases?${qs}`)).body.items.map((a: any) => a.id);
      assert.deepEqual(await ids(`handle=${h.toUpperCase()}`), [byHandle.id, byDomain.id]);
      assert.deepEqual(await ids(`domain=${h}`), [byDomain.id], 'the domain part only');
      assert.deepEqual(await ids(`address=x${h}`), [byHandle.id]);
      assert.deepEqual(await ids(`goto=${h}-dest`), [byHandle.id]);
    });
  });
}
