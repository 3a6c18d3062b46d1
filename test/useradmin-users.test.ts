// Seed 004: PUT /api/admin/user-admin/{id} and its neighbours, auth, and errors, over real HTTP, on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { signIn, uniqueEmail } from './helpers/admin.js';
import { assertError, createUa, login, STRONG, ua, USER_KEYS, UUID_RE } from './useradmin-helpers.js';

const ROLES = { Admin: 1, Editor: 2, Viewer: 3, Owner: 4, Member: 5 } as const;

for (const { engine, skip } of engines()) {
  describe(`user-admin users API [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('refuses to delete or demote the last admin (409, never a 500)', async () => {
      const root = (await ua(s.url, '/api/admin/user-admin/search?q=root')).body.find((u: any) => u.email === ADMIN_EMAIL);
      assert.ok(root);
      assertError(await ua(s.url, `/api/admin/user-admin/${root.id}`, { method: 'DELETE' }), 409, 'ConflictError');
      assertError(await ua(s.url, `/api/admin/user-admin/${root.id}`, { method: 'PUT', body: { rootRole: 'Viewer' } }), 409, 'ConflictError');
    });

    it('authenticates with the admin API token raw and as Bearer; 401 AuthenticationRequired otherwise', async () => {
      assert.equal((await ua(s.url, '/api/admin/user-admin')).status, 200);
      assert.equal((await http(s.url, '/api/admin/user-admin', { token: ADMIN_TOKEN })).status, 200);
      const none = await http(s.url, '/api/admin/user-admin');
      assertError(none, 401, 'AuthenticationRequired');
      assert.match(none.body.message, /no authorization header/);
      assert.match(none.body.message, /\/auth\/simple\/login/);
      for (const header of ['not-a-token-at-all-xxxxxxxxxx', `Bearer ${ADMIN_TOKEN}x`, 'Bearer', `Basic ${ADMIN_TOKEN}`, `${ADMIN_TOKEN} extra`]) {
        assertError(await http(s.url, '/api/admin/user-admin', { headers: { authorization: header } }), 401, 'AuthenticationRequired');
      }
      // A bad token is not rescued by a good cookie: the header decides.
      const cookie = await login(s.url, 'root', ADMIN_PASSWORD);
      assertError(await http(s.url, '/api/admin/user-admin', { cookie, headers: { authorization: 'nope-nope-nope-nope-nope' } }), 401, 'AuthenticationRequired');
      const again = await http(s.url, '/api/admin/user-admin');
      assert.notEqual(again.body.id, none.body.id, 'every error gets a fresh id');
    });

    it('POST /auth/simple/login sets the unleash-session cookie (username or email); /logout ends it', async () => {
      const res = await http(s.url, '/auth/simple/login', { body: { username: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.email, ADMIN_EMAIL);
      for (const k of USER_KEYS) assert.ok(k in res.body, `login user.${k}`);
      const line = res.headers.getSetCookie().find((l) => l.startsWith('unleash-session='))!;
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      assert.match(line, /Path=\//);
      const cookie = `unleash-session=${res.cookies['unleash-session']}`;
      const list = await http(s.url, '/api/admin/user-admin', { cookie });
      assert.equal(list.status, 200);
      const cookie2 = await login(s.url, 'root', ADMIN_PASSWORD);
      const out = await fetch(`${s.url}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
      assert.equal(out.status, 302);
      assert.equal(out.headers.get('location'), '/');
      assert.match(out.headers.getSetCookie().join(';'), /unleash-session=;/);
      assertError(await http(s.url, '/api/admin/user-admin', { cookie }), 401, 'AuthenticationRequired');
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: cookie2 })).status, 200, 'the other session lives on');
      assertError(await http(s.url, '/api/admin/user-admin', { cookie: 'unleash-session=forged' }), 401, 'AuthenticationRequired');
    });

    it('login failures: 401 PasswordMismatch (Unleash\'s error name), 400 ValidationError for a bad body', async () => {
      assertError(await http(s.url, '/auth/simple/login', { body: { username: 'root', password: 'wrong-password' } }), 401, 'PasswordMismatch');
      assertError(await http(s.url, '/auth/simple/login', { body: { username: 'nobody-here', password: 'wrong-password' } }), 401, 'PasswordMismatch');
      assertError(await http(s.url, '/auth/simple/login', { body: { name: 'john' } }), 400, 'ValidationError');
      assertError(await http(s.url, '/auth/simple/login', { body: { username: 'root', password: 5 } }), 400, 'ValidationError');
      assertError(await http(s.url, '/auth/simple/login', { raw: '{"username":', headers: { 'content-type': 'application/json' } }), 400, 'ValidationError');
    });

    it('repeated login failures on one account answer 429 RateLimitError with Retry-After', async () => {
      const email = uniqueEmail('throttle');
      await createUa(s.url, { email, password: STRONG });
      let last;
      for (let i = 0; i < 11; i++) last = await http(s.url, '/auth/simple/login', { body: { username: email, password: `wrong-${i}` } });
      assertError(last!, 429, 'RateLimitError');
      assert.match(last!.headers.get('retry-after') ?? '', /^\d+$/);
      assertError(await http(s.url, '/auth/simple/login', { body: { username: email, password: STRONG } }), 429, 'RateLimitError');
    });

    it('a non-admin gets 403 NoAccessError naming the permission (session cookie and personal token)', async () => {
      const email = uniqueEmail('editor');
      await createUa(s.url, { email, password: STRONG, rootRole: 'Editor' });
      const cookie = await login(s.url, email, STRONG);
      const denied = await http(s.url, '/api/admin/user-admin', { cookie });
      assertError(denied, 403, 'NoAccessError');
      assert.equal(denied.body.message, 'You need the "ADMIN" permission to perform this action.');
      for (const [method, path, body] of [
        ['GET', '/api/admin/user-admin/1', undefined],
        ['PUT', '/api/admin/user-admin/1', { name: 'x' }],
        ['DELETE', '/api/admin/user-admin/1', undefined],
        ['POST', '/api/admin/user-admin', { email: uniqueEmail(), rootRole: 1 }],
        ['POST', '/api/admin/user-admin/1/change-password', { password: STRONG }],
        ['GET', '/api/admin/events', undefined],
        ['GET', '/api/admin/user-admin/search?q=ro', undefined],
      ] as const) {
        const r = await http(s.url, path, { method, body, cookie });
        assertError(r, 403, 'NoAccessError');
        assert.match(r.body.message, /"ADMIN" permission/);
      }
      // Authenticated-only routes stay open to them.
      assert.equal((await http(s.url, '/api/admin/user-admin/validate-password', { cookie, body: { password: STRONG } })).status, 200);
      const pat = await http(s.url, '/api/admin/user/tokens', { cookie, body: { description: 'editor pat', expiresAt: new Date(Date.now() + 86400e3).toISOString() } });
      assert.equal(pat.status, 201, pat.text);
      const viaPat = await http(s.url, '/api/admin/user-admin', { headers: { authorization: pat.body.secret } });
      assertError(viaPat, 403, 'NoAccessError');
    });

    it('GET /api/admin/user-admin lists {users, rootRoles} with every documented field', async () => {
      const created = await Promise.all([...Array(10).keys()].map((i) => createUa(s.url, { name: `Some Name ${i}`, rootRole: ROLES.Editor })));
      const res = await ua(s.url, '/api/admin/user-admin');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.rootRoles.map((r: any) => [r.id, r.name]).sort(), [[1, 'Admin'], [2, 'Editor'], [3, 'Viewer'], [4, 'Owner'], [5, 'Member']]);
      for (const c of created) {
        const u = res.body.users.find((x: any) => x.id === c.id);
        assert.ok(u, `user ${c.id} listed`);
        assert.equal(u.rootRole, ROLES.Editor);
        for (const k of USER_KEYS) assert.ok(k in u, `users[].${k}`);
        assert.equal(u.accountType, 'User');
        assert.deepEqual(u.permissions, []);
        assert.equal(typeof u.imageUrl, 'string');
        assert.ok(!('password' in u) && !('passwordHash' in u) && !('password_hash' in u));
      }
    });

    it('creates users with rootRole by id and by name for each of the five roles', async () => {
      for (const [name, id] of Object.entries(ROLES)) {
        const byId = await createUa(s.url, { rootRole: id });
        assert.equal(byId.rootRole, id);
        const byName = await createUa(s.url, { rootRole: name });
        assert.equal(byName.rootRole, name, 'a role sent by name is echoed by name (as the page says)');
        for (const u of [byId, byName]) {
          const got = await ua(s.url, `/api/admin/user-admin/${u.id}`);
          assert.equal(got.status, 200);
          assert.equal(got.body.rootRole, id);
        }
      }
      const lower = await createUa(s.url, { rootRole: 'viewer' });
      assert.equal((await ua(s.url, `/api/admin/user-admin/${lower.id}`)).body.rootRole, ROLES.Viewer);
    });

    it('create: documented body and response; username or email required; known root role required', async () => {
      const email = uniqueEmail('create');
      const res = await ua(s.url, '/api/admin/user-admin', { body: { email, name: 'Some Name', rootRole: ROLES.Editor, sendEmail: true } });
      assert.equal(res.status, 201, res.text);
      for (const k of USER_KEYS) assert.ok(k in res.body, `created.${k}`);
      assert.equal(res.body.email, email);
      assert.equal(res.body.name, 'Some Name');
      assert.equal(res.body.emailSent, false, 'no mail is sent');
      assert.equal(res.body.loginAttempts, 0);
      assert.equal(res.body.seenAt, null);
      assert.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
      const onlyUsername = await ua(s.url, '/api/admin/user-admin', { body: { username: `name-only-${Date.now()}`, rootRole: 'Member' } });
      assert.equal(onlyUsername.status, 201, onlyUsername.text);
      assert.equal(onlyUsername.body.email, undefined);

      const neither = await ua(s.url, '/api/admin/user-admin', { body: { rootRole: ROLES.Admin } });
      assertError(neither, 400, 'ValidationError');
      assert.equal(neither.body.details[0].message, 'You must specify username or email');
      for (const rootRole of ['Unknown', 0, 6, -1, '', 'Admin ', 1.5, true, null, [], {}]) {
        const r = await ua(s.url, '/api/admin/user-admin', { body: { email: uniqueEmail(), rootRole } });
        if (rootRole === 'Admin ') {
          assert.equal(r.status, 201, 'names are trimmed');
          continue;
        }
        assertError(r, 400, 'ValidationError');
      }
      assertError(await ua(s.url, '/api/admin/user-admin', { body: { email: uniqueEmail() } }), 400, 'ValidationError');
      assertError(await ua(s.url, '/api/admin/user-admin', { body: { email: 'not-an-email', rootRole: 2 } }), 400, 'ValidationError');
      assertError(await ua(s.url, '/api/admin/user-admin', { body: { username: 'has@sign', rootRole: 2 } }), 400, 'ValidationError');
      assertError(await ua(s.url, '/api/admin/user-admin', { body: { email: uniqueEmail(), rootRole: 2, password: 'simple' } }), 400, 'ValidationError');
    });

    it('create with a password: the user can log in with it; the password never comes back', async () => {
      const email = uniqueEmail('pw');
      const res = await ua(s.url, '/api/admin/user-admin', { body: { email, name: 'Some Name', password: 'some-strange-pass-123-GH', rootRole: ROLES.Admin } });
      assert.equal(res.status, 201);
      assert.equal(res.body.rootRole, ROLES.Admin);
      assert.ok(!res.text.includes('some-strange-pass'));
      const cookie = await login(s.url, email, 'some-strange-pass-123-GH');
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie })).status, 200, 'an Admin has ADMIN');
    });

    it('duplicate email (any case) → 409 NameExistsError on create and on update', async () => {
      const a = await createUa(s.url);
      const dup = await ua(s.url, '/api/admin/user-admin', { body: { email: `  ${a.email.toUpperCase()} `, rootRole: 2 } });
      assertError(dup, 409, 'NameExistsError');
      assert.match(dup.body.message, /email/);
      const b = await createUa(s.url);
      const clash = await ua(s.url, `/api/admin/user-admin/${b.id}`, { method: 'PUT', body: { email: a.email.toUpperCase() } });
      assertError(clash, 409, 'NameExistsError');
      assert.equal((await ua(s.url, `/api/admin/user-admin/${b.id}`)).body.email, b.email, 'nothing written');
    });

    it('PUT changes only the fields sent; {} returns the user unchanged', async () => {
      const created = await createUa(s.url, { name: 'Some Name', rootRole: ROLES.Editor });
      const renamed = await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: { name: 'New name' } });
      assert.equal(renamed.status, 200, renamed.text);
      for (const k of USER_KEYS) assert.ok(k in renamed.body, `updated.${k}`);
      assert.equal(renamed.body.id, created.id);
      assert.equal(renamed.body.name, 'New name');
      assert.equal(renamed.body.email, created.email);
      assert.equal(renamed.body.rootRole, ROLES.Editor);
      assert.equal(renamed.body.createdAt, created.createdAt);

      const before = (await ua(s.url, `/api/admin/user-admin/${created.id}`)).body;
      const noop = await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: {} });
      assert.equal(noop.status, 200);
      assert.deepEqual(noop.body, before);
      const ignored = await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: { id: 999, createdAt: '1999-01-01T00:00:00Z', password: 'Hunter2-hunter2', username: 'sneaky' } });
      assert.equal(ignored.status, 200);
      assert.deepEqual(ignored.body, before, 'unknown fields are ignored');

      const email = uniqueEmail('NewMail');
      const moved = await ua(s.url, `/api/admin/user-admin/${created.id}`, { method: 'PUT', body: { email: ` ${email.toUpperCase()} ` } });
      assert.equal(moved.status, 200);
      assert.equal(moved.body.email, email.toLowerCase());
      assert.equal(moved.body.name, 'New name');
    });

    it('PUT rootRole by id and by name for each of the five; unknown or 0 → 400', async () => {
      const u = await createUa(s.url, { rootRole: ROLES.Member });
      for (const [name, id] of Object.entries(ROLES)) {
        const byName = await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: name } });
        assert.equal(byName.status, 200, byName.text);
        assert.equal(byName.body.rootRole, id);
        await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: ROLES.Member } });
        const byId = await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole: id } });
        assert.equal(byId.status, 200);
        assert.equal(byId.body.rootRole, id);
        assert.equal((await ua(s.url, `/api/admin/user-admin/${u.id}`)).body.rootRole, id);
      }
      for (const rootRole of [0, 'Unknown', 99, '', 'Root', -4, 2.5, false, null, { id: 1 }]) {
        const r = await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', body: { rootRole } });
        assertError(r, 400, 'ValidationError');
      }
      assert.equal((await ua(s.url, `/api/admin/user-admin/${u.id}`)).body.rootRole, ROLES.Member);
    });

    it('404 NotFoundError for unknown ids; 400 for ids that are not ids', async () => {
      for (const [method, body] of [['GET', undefined], ['PUT', { name: 'x' }], ['DELETE', undefined]] as const) {
        const r = await ua(s.url, '/api/admin/user-admin/999999', { method, body });
        assertError(r, 404, 'NotFoundError');
        assert.match(r.body.message, /999999/);
      }
      assertError(await ua(s.url, '/api/admin/user-admin/999999/change-password', { body: { password: STRONG } }), 404, 'NotFoundError');
      for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
        assertError(await ua(s.url, `/api/admin/user-admin/${id}`), 400, 'ValidationError');
      }
      const unknownPath = await ua(s.url, '/api/admin/user-admin/1/whatever');
      assertError(unknownPath, 404, 'NotFoundError');
      assertError(await http(s.url, '/auth/simple/nothing'), 404, 'NotFoundError');
      // The admin surface keeps its own routes and shape next door.
      const adminShape = await http(s.url, '/api/admin/users/999999', { token: ADMIN_TOKEN });
      assert.equal(adminShape.status, 404);
      assert.equal(adminShape.body.error, 'Not Found');
    });

    it('bad input of every kind answers 4xx in the error shape, never 500, never a partial write', async () => {
      const u = await createUa(s.url, { name: 'Stable' });
      const put = (init: Record<string, unknown>) => ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', ...init });
      const cases: Array<Record<string, unknown>> = [
        { raw: '{"name":', headers: { 'content-type': 'application/json' } },
        { raw: '[]', headers: { 'content-type': 'application/json' } },
        { raw: '"name"', headers: { 'content-type': 'application/json' } },
        { raw: '{"__proto__":{"name":"x"}}', headers: { 'content-type': 'application/json' } },
        { raw: '{"constructor":{"prototype":{"name":"x"}}}', headers: { 'content-type': 'application/json' } },
        { body: { name: 'a\u0000b' } },
        { body: { name: 'x'.repeat(256) } },
        { body: { name: ['x'] } },
        { body: { name: 5 } },
        { body: { email: 5 } },
        { body: { email: 'x'.repeat(400) + '@example.com' } },
        { body: { email: 'two@@example.com' } },
        { body: { rootRole: 'x'.repeat(10000) } },
        { body: { name: 'tab\there' } },
        { body: { name: 'x', email: 'bad' } },
        { raw: 'name=x', headers: { 'content-type': 'text/plain' } },
        { raw: 'x'.repeat(2_000_000), headers: { 'content-type': 'application/json' } },
      ];
      for (const c of cases) {
        const r = await put(c);
        assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(c).slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
        assert.match(r.body.id, UUID_RE);
        assert.equal(typeof r.body.name, 'string');
      }
      const after = (await ua(s.url, `/api/admin/user-admin/${u.id}`)).body;
      assert.equal(after.name, 'Stable');
      assert.equal(after.email, u.email);
      for (const body of [{ password: 5 }, {}, { password: 'a\u0000bcdefghijK1!' }]) {
        const r = await ua(s.url, `/api/admin/user-admin/${u.id}/change-password`, { body });
        assertError(r, 400, 'ValidationError');
      }
      for (const q of ['x'.repeat(300), '%00%00']) {
        const r = await ua(s.url, `/api/admin/user-admin/search?q=${q}`);
        assert.ok(r.status === 200 || r.status === 400, `search ${q.slice(0, 10)} → ${r.status}`);
      }
    });

    it('DELETE removes the user and their sessions; 200 with an empty body', async () => {
      const email = uniqueEmail('del');
      const u = await createUa(s.url, { email, password: STRONG, rootRole: 'Viewer' });
      const cookie = await login(s.url, email, STRONG);
      assert.equal((await http(s.url, '/api/admin/user', { cookie })).status, 200);
      const del = await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(del.text, '');
      assertError(await ua(s.url, `/api/admin/user-admin/${u.id}`), 404, 'NotFoundError');
      assertError(await http(s.url, '/api/admin/user', { cookie }), 401, 'AuthenticationRequired');
      assertError(await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'DELETE' }), 404, 'NotFoundError');
    });

    it('validate-password: Unleash rules (400 naming the rule, 200 when strong); needs a caller', async () => {
      const weak = await ua(s.url, '/api/admin/user-admin/validate-password', { body: { password: 'simple' } });
      assertError(weak, 400, 'ValidationError');
      assert.match(weak.body.message, /at least 10 characters/);
      const cases: Array<[string, RegExp | null]> = [
        ['simple123-_ASsad', null],
        ['lowercase1only!', /uppercase/],
        ['ALLUPPERCASE1!', /lowercase/],
        ['NoDigitsHere!!', /number/],
        ['NoSpecial123abc', /special/],
        ['Paaassword1!', /repeated/],
        ['correct horse battery staple', null],
        ['x'.repeat(129), /fewer than 128/],
      ];
      for (const [password, expected] of cases) {
        const r = await ua(s.url, '/api/admin/user-admin/validate-password', { body: { password } });
        if (expected === null) {
          assert.equal(r.status, 200, `${password}: ${r.text}`);
          assert.equal(r.text, '');
        } else {
          assertError(r, 400, 'ValidationError');
          assert.ok(r.body.details.some((d: any) => expected.test(d.message)), `${password}: ${r.text}`);
        }
      }
      assertError(await http(s.url, '/api/admin/user-admin/validate-password', { body: { password: STRONG } }), 401, 'AuthenticationRequired');
      assertError(await ua(s.url, '/api/admin/user-admin/validate-password', { body: {} }), 400, 'ValidationError');
    });

    it('change-password checks the rules and revokes the user\'s sessions on every surface', async () => {
      const email = uniqueEmail('chpw');
      const u = await createUa(s.url, { email, password: STRONG, rootRole: 'Admin' });
      const uaCookie = await login(s.url, email, STRONG);
      const adminSession = await signIn(s.url, email, STRONG);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: adminSession.cookie })).status, 200);
      assertError(await ua(s.url, `/api/admin/user-admin/${u.id}/change-password`, { body: { password: 'simple' } }), 400, 'ValidationError');
      assert.equal((await http(s.url, '/api/admin/user-admin', { cookie: uaCookie })).status, 200, 'a refused change revokes nothing');

      const ok = await ua(s.url, `/api/admin/user-admin/${u.id}/change-password`, { body: { password: 'simple123-_ASsad' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.text, '');
      assertError(await http(s.url, '/api/admin/user-admin', { cookie: uaCookie }), 401, 'AuthenticationRequired');
      assert.equal((await http(s.url, '/api/auth/session', { cookie: adminSession.cookie })).status, 401, 'admin-surface session revoked');
      assertError(await http(s.url, '/auth/simple/login', { body: { username: email, password: STRONG } }), 401, 'PasswordMismatch');
      await login(s.url, email, 'simple123-_ASsad');

      // An admin changing their own password here loses their own sessions too (Unleash deletes them all).
      const self = await login(s.url, email, 'simple123-_ASsad');
      const own = await http(s.url, `/api/admin/user-admin/${u.id}/change-password`, { cookie: self, body: { password: 'Another-pass-42' } });
      assert.equal(own.status, 200, own.text);
      assertError(await http(s.url, '/api/admin/user-admin', { cookie: self }), 401, 'AuthenticationRequired');
    });

    it('a user created without a password gets a one-time invite link to set it', async () => {
      const email = uniqueEmail('invite');
      const created = await ua(s.url, '/api/admin/user-admin', { body: { email, name: 'Invited', rootRole: 'Editor' } });
      assert.equal(created.status, 201);
      assert.match(created.body.inviteLink, /^http:\/\/127\.0\.0\.1:\d+\/new-user\?token=ghi_[A-Za-z0-9_-]+$/);
      const token = new URL(created.body.inviteLink).searchParams.get('token')!;
      const withPw = await createUa(s.url, { password: STRONG });
      assert.equal(withPw.inviteLink, undefined, 'a user with a password needs no invite');

      const check = await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`);
      assert.equal(check.status, 200, check.text);
      assert.equal(check.body.id, created.body.id);
      assert.equal(check.body.email, email);
      assert.equal(check.body.role.name, 'Editor');
      assertError(await http(s.url, '/auth/reset/validate?token=ghi_forged-token-value-xxxxxxxx'), 401, 'InvalidTokenError');
      assertError(await http(s.url, '/auth/reset/validate'), 400, 'ValidationError');
      assertError(await http(s.url, '/auth/reset/password', { body: { token, password: 'simple' } }), 400, 'ValidationError');
      assertError(await http(s.url, '/auth/reset/password', { body: { token: 'ghi_forged-token-value-xxxxxxxx', password: STRONG } }), 401, 'InvalidTokenError');
      assert.equal((await http(s.url, '/auth/reset/validate-password', { body: { password: STRONG } })).status, 200);
      assertError(await http(s.url, '/auth/reset/validate-password', { body: { password: 'short' } }), 400, 'ValidationError');

      const set = await http(s.url, '/auth/reset/password', { body: { token, password: STRONG } });
      assert.equal(set.status, 200, set.text);
      await login(s.url, email, STRONG);
      assertError(await http(s.url, '/auth/reset/password', { body: { token, password: 'Another-pass-42' } }), 401, 'InvalidTokenError');
      assertError(await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`), 401, 'InvalidTokenError');
      const events = await ua(s.url, `/api/admin/events?targetUser=${created.body.id}`);
      assert.deepEqual(events.body.events.map((e: any) => e.type), ['session-created', 'user-password-changed', 'user-invite-created', 'user-created']);
      assert.ok(!events.text.includes(token), 'the token never reaches the log');
    });

    it('a cookie session refuses unsafe requests from another origin', async () => {
      const cookie = await login(s.url, 'root', ADMIN_PASSWORD);
      const u = await createUa(s.url);
      const host = new URL(s.url).host;
      const evil = await http(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', cookie, headers: { origin: 'https://evil.example' }, body: { name: 'pwned' } });
      assertError(evil, 403, 'NoAccessError');
      const same = await http(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', cookie, headers: { origin: `http://${host}` }, body: { name: 'fine' } });
      assert.equal(same.status, 200);
      assert.equal(same.body.name, 'fine');
      const token = await ua(s.url, `/api/admin/user-admin/${u.id}`, { method: 'PUT', headers: { origin: 'https://evil.example' }, body: { name: 'token ok' } });
      assert.equal(token.status, 200, 'API tokens are not ambient credentials');
    });

    it('search: prefix of email, username or name, case-insensitive, at least 2 characters', async () => {
      const tag = `srch${Date.now().toString(36)}`;
      await createUa(s.url, { email: `${tag}some@mail.com` });
      await createUa(s.url, { email: `another${tag}@mail.com` });
      await createUa(s.url, { email: `another2${tag}@mail.com`, name: 'Zed Person' });
      const r = await ua(s.url, `/api/admin/user-admin/search?q=another`);
      assert.equal(r.status, 200);
      assert.ok(Array.isArray(r.body));
      assert.ok(r.body.some((u: any) => u.email === `another${tag}@mail.com`));
      assert.equal(r.body.filter((u: any) => u.email.includes(tag)).length, 2);
      assert.equal((await ua(s.url, `/api/admin/user-admin/search?q=${tag.toUpperCase()}`)).body.length, 1);
      assert.equal((await ua(s.url, `/api/admin/user-admin/search?q=zed%20pers`)).body.length, 1);
      assert.equal((await ua(s.url, `/api/admin/user-admin/search?q=nother${tag}`)).body.length, 0, 'prefix, not substring');
      assert.deepEqual((await ua(s.url, '/api/admin/user-admin/search?q=a')).body, []);
      assert.deepEqual((await ua(s.url, '/api/admin/user-admin/search')).body, []);
      for (const u of (await ua(s.url, '/api/admin/user-admin/search?q=an')).body) for (const k of USER_KEYS) assert.ok(k in u);
    });
  });
}
