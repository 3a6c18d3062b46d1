// Requests refused before routing (bad percent-encoding, over-long parameters) answer in the error shape
// of the surface their path belongs to, never in another surface's shape and never with a 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';

const { engine } = engines()[0];
describe(`pre-routing errors per surface [${engine}]`, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(engine);
  });
  after(async () => s?.close());

  const long = '9'.repeat(600);
  for (const bad of ['%ZZ', long]) {
    const label = bad === long ? 'an over-long parameter' : 'bad percent-encoding';
    it(`renders ${label} in each surface's shape`, async () => {
      const admin = await http(s.url, `/api/admin/users/${bad}`);
      assert.equal(admin.status, 400);
      assert.equal(admin.body.error, 'invalid_params');
      const account = await http(s.url, `/api/users/${bad}`);
      assert.equal(account.status, 400);
      assert.equal(account.body.statusCode, 400);
      assert.equal(account.body.statusMessage, 'Bad Request.');
      assert.ok(Array.isArray(account.body.data.issues));
      const directory = await http(s.url, `/api/v1/users/${bad}`);
      assert.ok(directory.status >= 400 && directory.status < 500);
      assert.equal(typeof directory.body.message, 'string');
      assert.ok(!('statusCode' in directory.body) && !('field' in directory.body));
      const useradmin = await http(s.url, `/api/admin/user-admin/${bad}`);
      assert.equal(useradmin.status, 400);
      assert.equal(useradmin.body.name, 'ValidationError');
      assert.match(useradmin.body.id, /^[0-9a-f-]{36}$/);
    });
  }
});
