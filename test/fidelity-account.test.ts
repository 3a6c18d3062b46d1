// Issue 18: where the account page (seed 002) is silent, the account surface answers as the Nuxt product
// (neptun-software/neptun.web, its server/api routes) does. Each test names the product behaviour it follows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { uniqueEmail } from './helpers/admin.js';
import { assertH3, SESSION_COOKIE, signUp } from './account-helpers.js';

for (const { engine, skip } of engines()) {
  describe(`account surface follows the Nuxt product [${engine}]`, { skip }, () => {
    let s: TestServer;
    const check = (cookie: string) => http(s.url, '/api/auth/check', { method: 'HEAD', cookie });
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('product (login): a wrong email or password is 401 with message "Invalid email or password"', async () => {
      const email = uniqueEmail('acc');
      await signUp(s.url, email, 'password-right');
      await http(s.url, '/api/auth/logout', { method: 'POST' });
      const wrong = await http(s.url, '/api/auth/login', { body: { email, password: 'password-wrong' } });
      assertH3(wrong, 401, { statusMessage: 'Unauthorized', message: 'Invalid email or password' });
      // Other 401s stay nuxt-auth-utils' plain "Unauthorized".
      assertH3(await http(s.url, '/api/users/1'), 401, { statusMessage: 'Unauthorized', message: 'Unauthorized' });
    });

    it('product (login, sign-up): refused with 403 while a session is live, before the body is read', async () => {
      const me = await signUp(s.url, uniqueEmail('live'), 'password-live');
      const login = await http(s.url, '/api/auth/login', { cookie: me.cookie, body: { email: 'not-even-an-email' } });
      assertH3(login, 403, { statusMessage: 'Forbidden', message: 'Please log out before logging in as a different user' });
      const signup = await http(s.url, '/api/auth/sign-up', { cookie: me.cookie, body: { email: uniqueEmail('second'), password: 'password-2nd' } });
      assertH3(signup, 403, { statusMessage: 'Forbidden', message: 'Please log out before creating a new account' });
      assert.equal(signup.cookies[SESSION_COOKIE], undefined);
      assert.equal((await check(me.cookie)).status, 200, 'the live session is untouched');
      // A dead cookie is no session: login goes ahead.
      const again = await http(s.url, '/api/auth/login', { cookie: `${SESSION_COOKIE}=not-a-live-token`, body: { email: me.email, password: 'password-live' } });
      assert.equal(again.status, 200, again.text);
    });

    it('product (login, sign-up): a bad body is 400 with h3\'s own "Bad Request" and the Zod issues', async () => {
      const res = await http(s.url, '/api/auth/sign-up', { body: { email: 'nope', password: 'short' } });
      assertH3(res, 400, { statusMessage: 'Bad Request', message: 'Bad Request', data: true });
      assert.deepEqual(res.body.data.issues.map((i: any) => i.path[0]), ['email', 'password']);
    });

    it('product (sign-up): a taken email is 409 "A user with this email already exists"', async () => {
      const email = uniqueEmail('taken');
      const first = await signUp(s.url, email);
      await http(s.url, '/api/auth/logout', { method: 'POST', cookie: first.cookie });
      const dup = await http(s.url, '/api/auth/sign-up', { body: { email, password: 'password-123' } });
      assertH3(dup, 409, { statusMessage: 'Conflict', message: 'A user with this email already exists' });
    });

    it('product: DELETE /api/users/{user_id} deletes your own account, answers true and clears the cookie; another id is 404', async () => {
      const email = uniqueEmail('bye');
      const me = await signUp(s.url, email, 'password-bye');
      const other = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail('other'), password: 'password-123' } });
      const notMine = await http(s.url, `/api/users/${other.body.item.id}`, { method: 'DELETE', cookie: me.cookie });
      assertH3(notMine, 404);
      assert.equal((await http(s.url, `/api/admin/users/${other.body.item.id}`, { token: ADMIN_TOKEN })).status, 200, 'the other user is still there');
      const res = await http(s.url, `/api/users/${me.id}`, { method: 'DELETE', cookie: me.cookie });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body, true);
      assert.ok(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=;`)), 'the cookie is cleared');
      assert.equal((await check(me.cookie)).status, 401);
      assert.equal((await http(s.url, `/api/admin/users/${me.id}`, { token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, '/api/auth/login', { body: { email, password: 'password-bye' } })).status, 401);
      assertH3(await http(s.url, `/api/users/${me.id}`, { method: 'DELETE' }), 401);
    });

    it('product (sign-up): confirmPassword is taken, and a mismatch is 400 "Password must match" on password and confirmPassword', async () => {
      const email = uniqueEmail('confirm');
      const bad = await http(s.url, '/api/auth/sign-up', { body: { email, password: 'Password-123!', confirmPassword: 'Password-124!' } });
      assertH3(bad, 400, { statusMessage: 'Bad Request', data: true });
      assert.deepEqual(bad.body.data.issues.map((i: any) => [i.path[0], i.message]), [['password', 'Password must match'], ['confirmPassword', 'Password must match']]);
      assert.equal((await http(s.url, '/api/admin/users?q=' + encodeURIComponent(email), { token: ADMIN_TOKEN })).body.items.length, 0, 'nothing created');
      const ok = await http(s.url, '/api/auth/sign-up', { body: { email, password: 'Password-123!', confirmPassword: 'Password-123!' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.user.primary_email, email);
    });
  });
}
