// Seed 002's session routes: POST /api/auth/sign-up, /api/auth/login, /api/auth/logout, HEAD /api/auth/check,
// with the neptun-session cookie, over real HTTP, on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { uniqueEmail } from './helpers/admin.js';
import { assertH3, logIn, SESSION_COOKIE, sessionOf, signUp } from './account-helpers.js';

// The product's login and sign-up 400: h3's own "Bad Request" (no message of its own), issue 18.
const CREDENTIALS_MESSAGE = 'Bad Request';

for (const { engine, skip } of engines()) {
  describe(`account auth [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    const check = (cookie?: string) => http(s.url, '/api/auth/check', { method: 'HEAD', cookie });

    it('sign-up creates the user, answers it and sets an HttpOnly, SameSite=Lax, Path=/ session cookie', async () => {
      const email = uniqueEmail('signup');
      const res = await http(s.url, '/api/auth/sign-up', { body: { email: `  ${email.toUpperCase()} `, password: 'password-123' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body.user).sort(), ['id', 'primary_email']);
      assert.equal(res.body.user.primary_email, email, 'trimmed and lower-cased');
      assert.ok(Number.isInteger(res.body.user.id));
      assert.ok(!Number.isNaN(Date.parse(res.body.loggedInAt)));
      assert.ok(!res.text.includes('password'), 'no password or hash in the answer');
      const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
      assert.ok(line, 'neptun-session cookie set');
      assert.match(line!, /; HttpOnly/i);
      assert.match(line!, /; SameSite=Lax/i);
      assert.match(line!, /; Path=\//);
      assert.match(line!, /; Max-Age=\d+/);
      assert.doesNotMatch(line!, /Domain=/i);
      const token = res.cookies[SESSION_COOKIE];
      assert.match(token, /^[A-Za-z0-9_-]{40,}$/, 'an opaque random token, not a readable session');
      assert.equal((await check(`${SESSION_COOKIE}=${token}`)).status, 200);
      // The session lives server-side in the one session store, only as a hash of the token.
      const rows = await s.store.db.selectFrom('sessions').selectAll().where('user_id', '=', res.body.user.id).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0].kind, 'account');
      assert.ok(rows[0].token_hash && rows[0].token_hash !== token);
      // The user is visible through the admin surface too (one user table).
      const admin = await http(s.url, '/api/admin/users/' + res.body.user.id, { token: 'gha_test_admin_token_0123456789abcdef' });
      assert.equal(admin.status, 200, admin.text);
      assert.equal(admin.body.item.email, email);
      assert.equal(admin.body.item.is_admin, false);
    });

    it('sign-up answers 409 in h3 shape for an existing email, whatever its case', async () => {
      const email = uniqueEmail('dup');
      await signUp(s.url, email);
      const res = await http(s.url, '/api/auth/sign-up', { body: { email: email.toUpperCase(), password: 'password-456' } });
      assertH3(res, 409, { statusMessage: 'Conflict' });
      assert.equal(res.cookies[SESSION_COOKIE], undefined);
      const admin = await http(s.url, '/api/auth/sign-up', { body: { email: ADMIN_EMAIL, password: 'password-456' } });
      assertH3(admin, 409);
      // The admin's password was not touched: they still sign in.
      assert.equal((await http(s.url, '/api/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).status, 200);
    });

    it('sign-up validates in h3 shape with Zod issues (bad email, short password, wrong types, missing fields)', async () => {
      const bad = await http(s.url, '/api/auth/sign-up', { body: { email: 'not-an-email', password: 'short' } });
      assertH3(bad, 400, { statusMessage: 'Bad Request', message: CREDENTIALS_MESSAGE, data: true });
      assert.deepEqual(bad.body.data.issues, [
        { code: 'invalid_string', validation: 'email', message: 'Invalid email', path: ['email'] },
        { code: 'too_small', validation: 'min', minimum: 8, type: 'string', inclusive: true, exact: false, message: 'String must contain at least 8 character(s)', path: ['password'] },
      ]);
      const missing = await http(s.url, '/api/auth/sign-up', { body: {} });
      assertH3(missing, 400, { message: CREDENTIALS_MESSAGE, data: true });
      assert.deepEqual(missing.body.data.issues, [
        { code: 'invalid_type', validation: 'type', expected: 'string', received: 'undefined', path: ['email'], message: 'Required' },
        { code: 'invalid_type', validation: 'type', expected: 'string', received: 'undefined', path: ['password'], message: 'Required' },
      ]);
      const types = await http(s.url, '/api/auth/sign-up', { body: { email: ['a@b.co'], password: 12345678 } });
      assertH3(types, 400, { data: true });
      assert.deepEqual(types.body.data.issues, [
        { code: 'invalid_type', validation: 'type', expected: 'string', received: 'array', path: ['email'], message: 'Expected string, received array' },
        { code: 'invalid_type', validation: 'type', expected: 'string', received: 'number', path: ['password'], message: 'Expected string, received number' },
      ]);
      assert.equal(await s.store.db.selectFrom('users').select('id').where('email', '=', 'not-an-email').executeTakeFirst(), undefined);
    });

    it('login sets a new session cookie and answers the user; with a live session it is refused (403), as the product does', async () => {
      const email = uniqueEmail('login');
      const first = await signUp(s.url, email, 'password-login');
      const refused = await http(s.url, '/api/auth/login', { body: { email: email.toUpperCase(), password: 'password-login' }, cookie: first.cookie });
      assertH3(refused, 403, { statusMessage: 'Forbidden', message: 'Please log out before logging in as a different user' });
      assert.equal((await check(first.cookie)).status, 200, 'the live session is untouched');
      await http(s.url, '/api/auth/logout', { method: 'POST', cookie: first.cookie });
      const res = await http(s.url, '/api/auth/login', { body: { email: email.toUpperCase(), password: 'password-login' }, cookie: first.cookie });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.user, { id: first.id, primary_email: email });
      assert.ok(!Number.isNaN(Date.parse(res.body.loggedInAt)));
      const second = sessionOf(res);
      assert.notEqual(second.token, first.token);
      assert.equal((await check(second.cookie)).status, 200);
      assert.equal((await check(first.cookie)).status, 401, 'the ended session stays ended');
    });

    it('login refuses wrong credentials with 401 in h3 shape and the same answer for unknown emails', async () => {
      const email = uniqueEmail('wrong');
      await signUp(s.url, email, 'password-right');
      const wrong = await http(s.url, '/api/auth/login', { body: { email, password: 'password-wrong' } });
      assertH3(wrong, 401, { statusMessage: 'Unauthorized', message: 'Invalid email or password' });
      assert.equal(wrong.cookies[SESSION_COOKIE], undefined);
      const unknown = await http(s.url, '/api/auth/login', { body: { email: uniqueEmail('nobody'), password: 'password-wrong' } });
      assertH3(unknown, 401);
      assert.deepEqual(unknown.body, wrong.body);
    });

    it('login validates its body in h3 shape', async () => {
      const res = await http(s.url, '/api/auth/login', { body: { email: 'nope', password: '' } });
      assertH3(res, 400, { statusMessage: 'Bad Request', message: CREDENTIALS_MESSAGE, data: true });
      assert.deepEqual(res.body.data.issues.map((i: any) => [i.code, i.path[0]]), [['invalid_string', 'email'], ['too_small', 'password']]);
      const malformed = await http(s.url, '/api/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } });
      assertH3(malformed, 400, { message: CREDENTIALS_MESSAGE, data: true });
    });

    it('HEAD /api/auth/check: 200 with a live session, 401 without, with garbage or with another surface’s cookie', async () => {
      const me = await signUp(s.url, uniqueEmail('check'));
      const ok = await check(me.cookie);
      assert.equal(ok.status, 200);
      assert.equal(ok.text, '');
      assert.equal((await check()).status, 401);
      assert.equal((await check(`${SESSION_COOKIE}=garbage`)).status, 401);
      assert.equal((await check(`${SESSION_COOKIE}=${'x'.repeat(4000)}`)).status, 401);
      assert.equal((await check(`other=${me.token}`)).status, 401);
      // An admin-surface sign-in of the same user is not an account session.
      const admin = await http(s.url, '/api/auth/sign-in', { body: { identifier: me.email, password: 'password-123' } });
      assert.equal(admin.status, 200, admin.text);
      const cookie = `__Host-access=${admin.cookies['__Host-access']}; __Host-refresh=${admin.cookies['__Host-refresh']}`;
      assert.equal((await check(cookie)).status, 401);
      // A GET to the check path is not a route of this contract: 404 in h3 shape.
      assertH3(await http(s.url, '/api/auth/check', { cookie: me.cookie }), 404);
    });

    it('logout ends the session (true), clears the cookie, and answers false without one', async () => {
      const me = await signUp(s.url, uniqueEmail('logout'));
      const res = await http(s.url, '/api/auth/logout', { method: 'POST', cookie: me.cookie });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body, true);
      const cleared = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
      assert.ok(cleared && /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(cleared), cleared);
      assert.equal((await check(me.cookie)).status, 401);
      assertH3(await http(s.url, `/api/users/${me.id}`, { cookie: me.cookie }), 401);
      const again = await http(s.url, '/api/auth/logout', { method: 'POST', cookie: me.cookie });
      assert.equal(again.status, 200);
      assert.equal(again.body, false);
      const revoked = await s.store.db.selectFrom('sessions').select(['revoked_at', 'revoke_reason']).where('user_id', '=', me.id).execute();
      assert.ok(revoked.every((r) => r.revoked_at !== null));
    });

    it('a deactivated user’s session stops working at once', async () => {
      const me = await signUp(s.url, uniqueEmail('deact'));
      const res = await http(s.url, `/api/admin/users/${me.id}`, { method: 'PATCH', token: 'gha_test_admin_token_0123456789abcdef', body: { is_active: false } });
      assert.equal(res.status, 200, res.text);
      assert.equal((await check(me.cookie)).status, 401);
      assertH3(await http(s.url, '/api/auth/login', { body: { email: me.email, password: 'password-123' } }), 401);
    });

    it('writes audit events for sign-up and sessions, without secrets', async () => {
      const email = uniqueEmail('audit');
      const me = await signUp(s.url, email, 'password-audited');
      await logIn(s.url, email, 'password-audited');
      const events = await s.store.db.selectFrom('audit_events').selectAll().where('target_id', '=', String(me.id)).execute();
      const actions = events.map((e) => e.action);
      assert.ok(actions.includes('user.created'), actions.join());
      assert.ok(actions.filter((a) => a === 'session.created').length >= 2, actions.join());
      assert.ok(events.every((e) => e.surface === 'account'));
      assert.ok(!JSON.stringify(events).includes('password-audited'));
    });

    it('throttles repeated failed logins with 429 in h3 shape and a Retry-After header', async () => {
      const email = uniqueEmail('throttle');
      await signUp(s.url, email, 'password-throttle');
      let res = await http(s.url, '/api/auth/login', { body: { email, password: 'wrong-password' } });
      for (let i = 0; i < 12 && res.status === 401; i++) {
        res = await http(s.url, '/api/auth/login', { body: { email, password: 'wrong-password' } });
      }
      assertH3(res, 429, { statusMessage: 'Too Many Requests' });
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      // Even the right password waits for the window to end.
      assertH3(await http(s.url, '/api/auth/login', { body: { email, password: 'password-throttle' } }), 429);
    });

    it('applies email and domain bans to sign-up, login and email changes (403 in h3 shape)', async () => {
      const token = 'gha_test_admin_token_0123456789abcdef';
      const me = await signUp(s.url, uniqueEmail('before-ban'));
      const banned = `someone.${Date.now()}@banned-domain.example`;
      const ban = await http(s.url, '/api/admin/bans', { token, body: { ban_type: 'domain', ban_value: 'banned-domain.example', reason: 'spam' } });
      assert.equal(ban.status, 201, ban.text);
      const signup = await http(s.url, '/api/auth/sign-up', { body: { email: banned, password: 'password-123' } });
      assertH3(signup, 403, { statusMessage: 'Forbidden' });
      assert.equal(signup.cookies[SESSION_COOKIE], undefined);
      const change = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, body: { email: banned } });
      assertH3(change, 403);
      assert.equal((await s.core.users.getUser(me.id)).email, me.email);
      const mine = await http(s.url, '/api/admin/bans', { token, body: { ban_type: 'email', ban_value: me.email } });
      assert.equal(mine.status, 201, mine.text);
      assertH3(await http(s.url, '/api/auth/login', { body: { email: me.email, password: 'password-123' } }), 403);
    });

    it('documents every account route in the OpenAPI document', async () => {
      const res = await http(s.url, '/openapi.json');
      assert.equal(res.status, 200);
      const paths = res.body.paths;
      assert.ok(paths['/api/auth/login']?.post && paths['/api/auth/logout']?.post && paths['/api/auth/sign-up']?.post);
      assert.ok(paths['/api/auth/check']?.head);
      assert.ok(paths['/api/users/{user_id}']?.get && paths['/api/users/{user_id}']?.patch);
    });

    it('unicode and oversized input never answers 500', async () => {
      const cases: Array<[unknown, number]> = [
        [{ email: 'jöhn@exämple.com', password: 'password-123' }, 400],
        [{ email: '用户@例子.广告', password: 'password-123' }, 400],
        [{ email: uniqueEmail('uni'), password: 'пароль-密码-🔐' }, 200],
        [{ email: uniqueEmail('emoji'), password: '🔐🔐🔐🔐' }, 400],
        [{ email: `${'a'.repeat(65)}@example.com`, password: 'password-123' }, 400],
        [{ email: `${'a'.repeat(5000)}@example.com`, password: 'password-123' }, 400],
        [{ email: uniqueEmail('long'), password: 'p'.repeat(5000) }, 400],
        [{ email: 'nul\u0000@example.com', password: 'password-123' }, 400],
      ];
      for (const [body, status] of cases) {
        const res = await http(s.url, '/api/auth/sign-up', { body });
        assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)} → ${res.text.slice(0, 300)}`);
        if (status !== 200) assertH3(res, status, { data: true });
      }
      const huge = await http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail('huge'), password: 'p'.repeat(200_000) } });
      assertH3(huge, 413);
      // The unicode password works for login, counted in characters.
      const email = uniqueEmail('unilogin');
      await signUp(s.url, email, 'ключ🔑ключ');
      await logIn(s.url, email, 'ключ🔑ключ');
    });
  });
}
