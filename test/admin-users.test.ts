// Seed 000: PATCH /api/admin/users/{id} and its neighbours, over real HTTP, on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, uniqueEmail, type AdminSession } from './helpers/admin.js';

const ITEM_KEYS = ['id', 'username', 'email', 'email_verified_at', 'is_active', 'is_admin', 'created_at', 'updated_at', 'last_login_at'];

for (const { engine, skip } of engines()) {
  describe(`admin users API [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    it('runs the seed example as written (cookie + CSRF) and answers the documented envelope', async () => {
      const target = await createUser(s.url);
      const res = await http(s.url, `/api/admin/users/${target.id}`, {
        method: 'PATCH',
        ...asSession(admin),
        body: { username: 'John Doe', email: uniqueEmail('john'), password: 'example_string', is_active: true, is_admin: true },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.created, false);
      assert.equal(res.body.updated, true);
      assert.equal(res.body.deleted, false);
      assert.equal(typeof res.body.sessions_revoked, 'number');
      for (const k of ITEM_KEYS) assert.ok(k in res.body.item, `item.${k} missing`);
      assert.equal(res.body.item.username, 'John Doe');
      assert.equal(res.body.item.is_active, 1);
      assert.equal(res.body.item.is_admin, true);
      assert.ok(!('password' in res.body.item) && !('password_hash' in res.body.item));
      assert.match(res.headers.get('etag') ?? '', /^"\d+\.\d+"$/);
    });

    it('leaves absent fields untouched and ignores unknown fields', async () => {
      const target = await createUser(s.url, { username: 'keepme' });
      const res = await http(s.url, `/api/admin/users/${target.id}`, {
        method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: false, favourite_colour: 'green', id: 999, created_at: '1999-01-01T00:00:00Z' },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.item.username, 'keepme');
      assert.equal(res.body.item.email, target.email);
      assert.equal(res.body.item.is_active, 0);
      assert.equal(res.body.item.id, target.id);
      assert.equal(res.body.item.created_at, target.created_at);
      assert.ok(!('favourite_colour' in res.body.item));
    });

    it('answers 400 empty_patch when nothing is sent', async () => {
      const target = await createUser(s.url);
      for (const body of [{}, { unknown: 1 }]) {
        const res = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body });
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'invalid_params');
        assert.equal(res.body.reason, 'empty_patch');
        assert.deepEqual(Object.keys(res.body).sort(), ['constraints', 'error', 'field', 'hint', 'message', 'reason']);
      }
    });

    it('enforces the documented limits at and past each bound', async () => {
      const target = await createUser(s.url);
      const patch = (body: unknown) => http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body });
      assert.equal((await patch({ username: 'u'.repeat(64) })).status, 200);
      const long = await patch({ username: 'u'.repeat(65) });
      assert.equal(long.status, 400);
      assert.equal(long.body.field, 'username');
      assert.equal(long.body.reason, 'too_long');
      assert.equal(long.body.constraints.maxLength, 64);
      const empty = await patch({ username: '' });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.field, 'username');
      assert.equal((await patch({ username: '   ' })).status, 400);
      assert.equal((await patch({ password: 'x'.repeat(8) })).status, 200);
      assert.equal((await patch({ password: 'x'.repeat(128) })).status, 200);
      const short = await patch({ password: 'x'.repeat(7) });
      assert.equal(short.status, 400);
      assert.equal(short.body.field, 'password');
      const longPw = await patch({ password: 'x'.repeat(129) });
      assert.equal(longPw.status, 400);
      assert.equal(longPw.body.field, 'password');
      for (const bad of ['not-an-email', 'a@b', 'a@localhost', `${'l'.repeat(65)}@example.com`, `a@${'d'.repeat(250)}.com`, 'a b@example.com']) {
        const r = await patch({ email: bad });
        assert.equal(r.status, 400, `email ${bad}`);
        assert.equal(r.body.field, 'email');
      }
      assert.equal((await patch({ username: 'has@sign' })).status, 400);
      assert.equal((await patch({ username: 'tab\there' })).status, 400);
      // The product's DTOs take 1/0 and the words yes/no, on/off, true/false for its flags; other words are refused.
      assert.equal((await patch({ is_active: 'maybe' })).status, 400);
      assert.equal((await patch({ is_admin: 2 })).status, 400);
      assert.equal((await patch({ is_active: 'yes' })).status, 200);
    });

    it('trims and case-folds emails; conflicts are 409 naming the field', async () => {
      const a = await createUser(s.url);
      const b = await createUser(s.url, { username: 'Conflicting.Name' });
      const res = await http(s.url, `/api/admin/users/${b.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: `  ${a.email.toUpperCase()}  ` } });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error, 'Conflict');
      assert.equal(res.body.code, 409);
      assert.match(res.body.details, /email/);
      const u = await http(s.url, `/api/admin/users/${a.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: 'conflicting.NAME' } });
      assert.equal(u.status, 409);
      assert.match(u.body.details, /username/);
      const fresh = uniqueEmail('MiXeD');
      const ok = await http(s.url, `/api/admin/users/${a.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: `  ${fresh.toUpperCase()} ` } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.item.email, fresh.toLowerCase());
    });

    it('404 for an unknown id, 400 for a non-numeric or huge one', async () => {
      const nf = await http(s.url, '/api/admin/users/999999', { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: true } });
      assert.equal(nf.status, 404);
      assert.deepEqual(nf.body, { error: 'Not Found', message: 'The requested resource was not found', code: 404 });
      for (const id of ['abc', '99999999999999999999', '-1', '1.5']) {
        const r = await http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: true } });
        assert.equal(r.status, 400, `id ${id}`);
        assert.equal(r.body.field, 'id');
      }
    });

    it('401 without credentials, 403 for a non-admin, 403 on missing or wrong CSRF', async () => {
      const target = await createUser(s.url);
      const none = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', body: { is_active: true } });
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { error: 'Unauthorized', message: 'Authentication required. Please provide a valid API token', code: 401, reason: 'missing_or_invalid_credentials' });
      const bad = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: 'gha_not_a_real_token_at_all_000', body: { is_active: true } });
      assert.equal(bad.status, 401);
      const member = await createUser(s.url, { password: 'member-pass-1' });
      const ms = await signIn(s.url, member.email, 'member-pass-1');
      const forbidden = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', ...asSession(ms), body: { is_active: true } });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error, 'Forbidden');
      assert.equal(forbidden.body.code, 403);
      const noCsrf = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', cookie: admin.cookie, body: { is_active: true } });
      assert.equal(noCsrf.status, 403);
      assert.deepEqual(noCsrf.body, { error: 'csrf_required' }, 'the product answers {"error":"csrf_required"}');
      const wrong = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', cookie: admin.cookie, headers: { 'x-csrf-token': admin.csrf.slice(0, -2) + 'xx' }, body: { is_active: true } });
      assert.equal(wrong.status, 403);
      assert.deepEqual(wrong.body, { error: 'invalid_csrf_token' }, 'the product answers {"error":"invalid_csrf_token"}');
      // A GET needs no CSRF header.
      assert.equal((await http(s.url, `/api/admin/users/${target.id}`, { cookie: admin.cookie })).status, 200);
    });

    it('revokes the target sessions on password change, deactivation and admin change, and counts them', async () => {
      const u = await createUser(s.url, { password: 'victim-pass-1' });
      const s1 = await signIn(s.url, u.email, 'victim-pass-1');
      await signIn(s.url, u.email, 'victim-pass-1');
      const res = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'new-password-1' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.sessions_revoked, 2);
      // Revocation takes effect at once, although the access token has not expired.
      assert.equal((await http(s.url, '/api/auth/session', { cookie: s1.cookie })).status, 401);
      const s3 = await signIn(s.url, u.email, 'new-password-1');
      const promote = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: true } });
      assert.equal(promote.body.sessions_revoked, 1);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: s3.cookie })).status, 401);
      await signIn(s.url, u.email, 'new-password-1');
      const same = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: true, username: 'renamed-only' } });
      assert.equal(same.body.sessions_revoked, 0);
      const off = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: 0 } });
      assert.equal(off.body.sessions_revoked, 1);
      assert.equal(off.body.item.is_active, 0);
      const signin = await http(s.url, '/api/auth/sign-in', { body: { identifier: u.email, password: 'new-password-1' } });
      assert.equal(signin.status, 401);
    });

    it('refuses an admin changing their own password here (use_self_password_route); the self route works', async () => {
      const me = await createUser(s.url, { is_admin: true, password: 'admin-two-pass' });
      const ms = await signIn(s.url, me.email, 'admin-two-pass');
      const other = await signIn(s.url, me.email, 'admin-two-pass');
      const res = await http(s.url, `/api/admin/users/${me.id}`, { method: 'PATCH', ...asSession(ms), body: { password: 'another-pass-1' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.reason, 'use_self_password_route');
      const wrong = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(ms), body: { current_password: 'nope-nope', new_password: 'another-pass-1' } });
      assert.deepEqual([wrong.status, wrong.body], [401, { error: 'invalid_credentials', field: 'current_password' }], 'as the product answers a wrong current password');
      const ok = await http(s.url, '/api/admin/users/me/password', { method: 'PATCH', ...asSession(ms), body: { current_password: 'admin-two-pass', new_password: 'another-pass-1' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.sessions_revoked, 1);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: ms.cookie })).status, 200, 'this session survives');
      assert.equal((await http(s.url, '/api/auth/session', { cookie: other.cookie })).status, 401, 'the other one is revoked');
    });

    it('guards the last active admin (409) against deactivation, demotion and deletion', async () => {
      const fresh = await startServer(engine);
      try {
        const root = await signIn(fresh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
        for (const body of [{ is_active: false }, { is_admin: false }]) {
          const r = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'PATCH', ...asSession(root), body });
          assert.equal(r.status, 409, JSON.stringify(body));
          assert.equal(r.body.error, 'Conflict');
        }
        const del = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'DELETE', ...asSession(root) });
        assert.equal(del.status, 409);
        const second = await createUser(fresh.url, { is_admin: true });
        const demote = await http(fresh.url, `/api/admin/users/${root.userId}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_admin: false } });
        assert.equal(demote.status, 200);
        const last = await http(fresh.url, `/api/admin/users/${second.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { is_active: false } });
        assert.equal(last.status, 409);
      } finally {
        await fresh.close();
      }
    });

    it('honours If-Match: a stale ETag answers 412 and changes nothing', async () => {
      const u = await createUser(s.url);
      const got = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      const etag = got.headers.get('etag')!;
      const first = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, headers: { 'if-match': etag }, body: { username: 'first-writer' } });
      assert.equal(first.status, 200);
      const stale = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, headers: { 'if-match': etag }, body: { username: 'second-writer' } });
      assert.equal(stale.status, 412);
      const now = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      assert.equal(now.body.item.username, 'first-writer');
    });

    it('writes one audit event per change, with before/after and no secrets', async () => {
      const u = await createUser(s.url);
      await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: 'audited', password: 'audit-pass-1' } });
      const ev = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}&action=user.updated`, { token: ADMIN_TOKEN });
      assert.equal(ev.status, 200);
      assert.equal(ev.body.items.length, 1);
      const e = ev.body.items[0];
      assert.equal(e.before.username, null);
      assert.equal(e.after.username, 'audited');
      assert.ok(e.after.changed.includes('password'));
      assert.equal(e.actor.type, 'api_token');
      assert.ok(!/argon2|audit-pass-1/.test(JSON.stringify(ev.body)), 'no hash or password in the audit log');
    });

    it('lists with cursor pagination, prefix search and filters', async () => {
      const tag = `lst${Date.now().toString(36)}`;
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await createUser(s.url, { email: `${tag}.${i}@example.com`, is_active: i % 2 === 0 }));
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const r: any = await http(s.url, `/api/admin/users?limit=2&q=${tag}${cursor ? `&cursor=${cursor}` : ''}`, { token: ADMIN_TOKEN });
        assert.equal(r.status, 200);
        seen.push(...r.body.items.map((i: any) => i.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, made.map((m) => m.id));
      const upper = await http(s.url, `/api/admin/users?q=${tag.toUpperCase()}&is_active=false`, { token: ADMIN_TOKEN });
      assert.deepEqual(upper.body.items.map((i: any) => i.id), [made[1].id, made[3].id]);
      assert.equal((await http(s.url, '/api/admin/users?cursor=garbage', { token: ADMIN_TOKEN })).status, 400);
      assert.equal((await http(s.url, '/api/admin/users?limit=0', { token: ADMIN_TOKEN })).status, 400);
    });

    it('a search is in search order (the matching key, then id; each user once) and its cursor continues only a search', async () => {
      const tag = `srt${Date.now().toString(36)}`;
      // Found by name ("<tag> zed"), by username ("<tag>.b…") and by email; the last matches twice and is listed once.
      const byName = await createUser(s.url, { email: `other.${tag}@example.com`, name: `${tag} Zed` });
      const byUsername = await createUser(s.url, { email: `x.${tag}@example.com`, username: `${tag}.b` });
      const byEmailA = await createUser(s.url, { email: `${tag}.a@example.com` });
      const twice = await createUser(s.url, { email: `${tag}.c@example.com`, username: `${tag}.c` });
      const pages: number[][] = [];
      let cursor: string | null = null;
      do {
        const r: any = await http(s.url, `/api/admin/users?limit=1&q=${tag.toUpperCase()}${cursor ? `&cursor=${cursor}` : ''}`, { token: ADMIN_TOKEN });
        assert.equal(r.status, 200, r.text);
        pages.push(r.body.items.map((i: any) => i.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      // "<tag> zed" < "<tag>.a@…" < "<tag>.b" < "<tag>.c" (username before its own longer email).
      assert.deepEqual(pages.flat(), [byName.id, byEmailA.id, byUsername.id, twice.id]);
      assert.ok(pages.every((p) => p.length === 1));
      // A search cursor does not continue a plain list, nor a list cursor a search.
      const first: any = await http(s.url, `/api/admin/users?limit=1&q=${tag}`, { token: ADMIN_TOKEN });
      const plain = await http(s.url, `/api/admin/users?limit=1&cursor=${first.body.next_cursor}`, { token: ADMIN_TOKEN });
      assert.equal(plain.status, 400);
      assert.match(plain.text, /invalid_cursor/);
      const listCursor: any = (await http(s.url, '/api/admin/users?limit=1', { token: ADMIN_TOKEN })).body.next_cursor;
      const mixed = await http(s.url, `/api/admin/users?limit=1&q=${tag}&cursor=${listCursor}`, { token: ADMIN_TOKEN });
      assert.equal(mixed.status, 400);
      assert.match(mixed.text, /invalid_cursor/);
      const forged = Buffer.from('s:99999999999:x').toString('base64url');
      assert.equal((await http(s.url, `/api/admin/users?q=${tag}&cursor=${forged}`, { token: ADMIN_TOKEN })).status, 400);
    });

    it('creates (201, verified) and deletes users', async () => {
      const email = uniqueEmail('created');
      const c = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, password: 'password-123', username: 'made-here' } });
      assert.equal(c.status, 201);
      assert.equal(c.body.created, true);
      assert.ok(c.body.item.email_verified_at);
      const missing = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail() } });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.field, 'password');
      const d = await http(s.url, `/api/admin/users/${c.body.item.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(d.status, 200);
      assert.equal(d.body.deleted, true);
      assert.equal((await http(s.url, `/api/admin/users/${c.body.item.id}`, { token: ADMIN_TOKEN })).status, 404);
    });
  });
}

// Added with the issue-2 test sweep: limits at their exact bounds and identity folding edge cases.
for (const { engine, skip } of engines()) {
  describe(`admin users API: bounds and folding [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());
    const patch = (id: number, body: unknown) => http(s.url, `/api/admin/users/${id}`, { method: 'PATCH', token: ADMIN_TOKEN, body });

    it('email: local part 64 and 254 in all are accepted, 65 and 255 are not', async () => {
      const u = await createUser(s.url);
      const tag = Date.now().toString(36).slice(-6);
      const local64 = `${tag}${'l'.repeat(64 - tag.length)}`;
      assert.equal((await patch(u.id, { email: `${local64}@example.com` })).status, 200);
      // 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254
      const at254 = `${local64}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
      assert.equal(at254.length, 254);
      const ok = await patch(u.id, { email: at254 });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.item.email, at254);
      const at255 = `${local64}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;
      const tooLong = await patch(u.id, { email: at255 });
      assert.equal(tooLong.status, 400);
      assert.equal(tooLong.body.field, 'email');
      assert.equal(tooLong.body.error, 'invalid_params');
    });

    it('username: 64 characters counted as characters (not UTF-16 units); 65 is too long', async () => {
      const u = await createUser(s.url);
      const emoji = '🎉'.repeat(64);
      const ok = await patch(u.id, { username: emoji });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.item.username, emoji);
      const long = await patch(u.id, { username: '🎉'.repeat(65) });
      assert.equal(long.status, 400);
      assert.equal(long.body.field, 'username');
      // Surrounding spaces are trimmed; an inner one is fine ("John Doe" is the page's own example).
      assert.equal((await patch(u.id, { username: '  Spaced Name  ' })).body.item.username, 'Spaced Name');
    });

    it('username: no "@" even in a compatibility form (fullwidth ＠ folds to @)', async () => {
      const u = await createUser(s.url);
      for (const bad of ['a@b', 'a\uFF20example.com', 'a\uFE6Bb']) {
        const r = await patch(u.id, { username: bad });
        assert.equal(r.status, 400, `${bad}: ${r.text}`);
        assert.equal(r.body.field, 'username');
      }
    });

    it('username uniqueness folds case and compatibility forms (409)', async () => {
      await createUser(s.url, { username: 'Ärger' });
      const b = await createUser(s.url);
      for (const clash of ['ärger', 'ÄRGER', 'a\u0308rger' /* decomposed */]) {
        const r = await patch(b.id, { username: clash });
        assert.equal(r.status, 409, `${clash}: ${r.text}`);
        assert.equal(r.body.error, 'Conflict');
      }
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: 'ÄRGER', password: 'nope-nope-nope' } })).status, 401);
    });

    it('name: 255 characters accepted, 256 refused, null clears', async () => {
      const u = await createUser(s.url);
      assert.equal((await patch(u.id, { name: 'n'.repeat(255) })).status, 200);
      const r = await patch(u.id, { name: 'n'.repeat(256) });
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'name');
      const cleared = await patch(u.id, { name: null });
      assert.equal(cleared.status, 200);
      assert.equal(cleared.body.item.name, null);
    });
  });
}
