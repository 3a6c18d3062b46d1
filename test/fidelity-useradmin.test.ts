// Issue 18: where the user-admin page (seed 004) is silent, the user-admin surface answers as Unleash
// (Unleash/unleash: its user-admin routes, user service and UnleashError) does. Each test names the behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { assertError, ua, UUID_RE } from './useradmin-helpers.js';

for (const { engine, skip } of engines()) {
  describe(`user-admin surface follows Unleash [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it("Unleash: a wrong username or password is 401 PasswordMismatch with the user service's message", async () => {
      for (const username of [ADMIN_EMAIL, 'nobody-at-all']) {
        const r = await http(s.url, '/auth/simple/login', { body: { username, password: 'wrong-password-1' } });
        assertError(r, 401, 'PasswordMismatch');
        assert.equal(r.body.message, 'The combination of password and username you provided is invalid. If you have forgotten your password, visit /forgotten-password or get in touch with your instance administrator.');
      }
    });

    it('Unleash: every error carries details [{message, description}] (UnleashError serialises them always)', async () => {
      const notFound = await ua(s.url, '/api/admin/user-admin/999999');
      assertError(notFound, 404, 'NotFoundError');
      assert.deepEqual(notFound.body.details, [{ message: notFound.body.message, description: notFound.body.message }]);
      const noAuth = await http(s.url, '/api/admin/user-admin');
      assert.equal(noAuth.status, 401);
      assert.match(noAuth.body.id, UUID_RE);
      assert.ok(Array.isArray(noAuth.body.details) && noAuth.body.details.length > 0, noAuth.text);
      const login = await http(s.url, '/auth/simple/login', { body: { username: 'x', password: 'wrong-password-1' } });
      assert.deepEqual(login.body.details, [{ message: login.body.message, description: login.body.message }]);
      // Validation errors keep details of their own, one per problem.
      const bad = await ua(s.url, '/api/admin/user-admin', { body: { rootRole: 'Editor' } });
      assertError(bad, 400, 'ValidationError');
      assert.ok(bad.body.details.every((d: any) => typeof d.message === 'string'));
    });

    it('deliberate differences (docs/useradmin.md): taken email 409 NameExistsError on create and update; PUT always answers rootRole; name "" clears', async () => {
      const a = await ua(s.url, '/api/admin/user-admin', { body: { email: `ua.fid.a.${process.pid}@example.com`, name: 'A', rootRole: 'Editor' } });
      const b = await ua(s.url, '/api/admin/user-admin', { body: { email: `ua.fid.b.${process.pid}@example.com`, name: 'B', rootRole: 'Viewer' } });
      assert.equal(a.status, 201, a.text);
      assertError(await ua(s.url, '/api/admin/user-admin', { body: { email: a.body.email, rootRole: 'Editor' } }), 409, 'NameExistsError');
      assertError(await ua(s.url, `/api/admin/user-admin/${b.body.id}`, { method: 'PUT', body: { email: a.body.email } }), 409, 'NameExistsError');
      const renamed = await ua(s.url, `/api/admin/user-admin/${a.body.id}`, { method: 'PUT', body: { name: '' } });
      assert.equal(renamed.status, 200, renamed.text);
      assert.ok(renamed.body.name === null || renamed.body.name === '', renamed.text);
      assert.equal(typeof renamed.body.rootRole, 'number');
    });
  });
}
