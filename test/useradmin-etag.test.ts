// Optimistic concurrency on the user-admin surface: ETag out, If-Match in, stale → 412 in Unleash's shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { uniqueEmail } from './helpers/admin.js';

for (const { engine, skip } of engines()) {
  describe(`user-admin If-Match [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('answers 412 PreconditionFailedError for a stale ETag on PUT and DELETE, and changes nothing', async () => {
      const auth = { authorization: ADMIN_TOKEN };
      const created = await http(s.url, '/api/admin/user-admin', { headers: auth, body: { email: uniqueEmail('etag'), rootRole: 'Viewer' } });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id;
      const got = await http(s.url, `/api/admin/user-admin/${id}`, { headers: auth });
      const etag = got.headers.get('etag')!;
      assert.match(etag, /^"\d+\.\d+"$/);
      const first = await http(s.url, `/api/admin/user-admin/${id}`, { method: 'PUT', headers: { ...auth, 'if-match': etag }, body: { name: 'First' } });
      assert.equal(first.status, 200);
      assert.notEqual(first.headers.get('etag'), etag);
      const stale = await http(s.url, `/api/admin/user-admin/${id}`, { method: 'PUT', headers: { ...auth, 'if-match': etag }, body: { name: 'Second' } });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.name, 'PreconditionFailedError');
      assert.match(stale.body.id, /^[0-9a-f-]{36}$/);
      const del = await http(s.url, `/api/admin/user-admin/${id}`, { method: 'DELETE', headers: { ...auth, 'if-match': etag } });
      assert.equal(del.status, 412);
      const now = await http(s.url, `/api/admin/user-admin/${id}`, { headers: auth });
      assert.equal(now.body.name, 'First');
      const ok = await http(s.url, `/api/admin/user-admin/${id}`, { method: 'DELETE', headers: { ...auth, 'if-match': first.headers.get('etag')! } });
      assert.equal(ok.status, 200);
    });
  });
}
