// Issue 22: no single request takes the server down. Every list whose size grows with the data is either a
// page with a documented limit or streamed (docs/limits.md); the streamed ones must send the very bytes the
// buffered routes sent, stop reading when the client goes, and end visibly on a store error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { signIn } from './helpers/admin.js';
import { fixTokenTimes, seedListUsers, seedSweepData } from './helpers/bounded.js';
import { login } from './useradmin-helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Length and SHA-256 of each response over seedListUsers(1300) + seedSweepData(1100), as the buffered routes
// (every row read into memory, then serialized whole) answered them at caadfd2; the same on both engines
// except where PostgreSQL numbers the tenant roles differently.
const GOLDEN: Record<string, { sqlite: string; postgres: string }> = {
  '/api/admin/user-admin': same('400939 725894b619680a7d8410c156f2370121d2a02a6cea58427ae46a1c2ebaf47ace'),
  '/api/admin/tenants': same('411 ebed35740b6b6d3ae3de1a6de1bd2092e96747cd634ad1c7fff5c1848c77a0ca'),
  '/api/admin/tenants/1/roles': {
    sqlite: '543 06d4113434931c7dc18dc86255f3f29264c426655d4f97deeeccbe98fae5645b',
    postgres: '552 a8e4da54c80056dbdf08f6e0b44a6e125f120bbdcbe7430d392ebb3328134742',
  },
  '/api/admin/tenants/2/roles': {
    sqlite: '192 2ca78e0635bbd57e06bf4a30c43d2ade5b8da2c806363e07a2e9c60052412448',
    postgres: '195 dc52c33a0a2b5c1a22629eed985a9977df6964d472ae25d81c0408ada8791134',
  },
  '/api/admin/tenants/1/members': {
    sqlite: '228390 5bac0476f275846456fcd443eb21e48f7744a2c2fa9a413567fac58cdcc61c42',
    postgres: '234660 67925fe029c680554ae6b38142da314b653e9a4f5e17c58fdf6fecfba2b3fc29',
  },
  '/api/admin/tenants/2/members': {
    sqlite: '865 0c006f5b8adc294828e40234c07889369faf4e45a87e61cb0849b77cba1863f2',
    postgres: '889 55b99f6327dfdb8a2dff249c9f7a05b4fcbef242afb14b78f5942d978ea85f70',
  },
  '/api/admin/tenants/3/members': same('22 a0ba7994a6ba58bf56d6ac5a5ba5ca1ceeb7a30ac2493db8b6136d2d26a90a4e'),
  '/api/admin/oauth-clients': same('646 981c3dcb92053312763bbf59c59e13dfb928bb53016a5e31df054d912aeedf08'),
  '/api/admin/api-tokens': same('1335 33ef591ae3cac6d1c6cbc5a117911682d09b3e09249b04a21ec1442ff1c07c31'),
  '/api/admin/user/tokens': same('1039 cbaf5a304026882fcf5886b638856e8c67dc05c325ebefc4dc8d7942a4c81440'),
};

function same(v: string) {
  return { sqlite: v, postgres: v };
}

for (const { engine, skip } of engines()) {
  describe(`bounded responses: the same bytes as the buffered routes [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
      await seedListUsers(s.store, 1300);
      await seedSweepData(s.store, 1100);
    });
    after(async () => s?.close());

    it('GET /api/admin/user-admin and the admin lists answer byte for byte as before, with the same headers', async () => {
      // The user-admin list first: signing in below records user 1's last sign-in.
      const list = await fetch(`${s.url}/api/admin/user-admin`, { headers: { authorization: ADMIN_TOKEN } });
      const body = Buffer.from(await list.arrayBuffer());
      assert.equal(list.status, 200);
      assert.equal(list.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(list.headers.get('etag'), null, 'the list never had an ETag');
      assert.equal(`${body.length} ${sha256(body)}`, GOLDEN['/api/admin/user-admin'][engine]);
      const parsed = JSON.parse(body.toString('utf8'));
      assert.equal(parsed.users.length, 1 + 1300 + 7 - 1 - 100, 'live users only (the admin, 7 written by hand, 1300 generated; 101 deleted)');
      assert.deepEqual(parsed.rootRoles.map((r: any) => r.name), ['Admin', 'Editor', 'Viewer', 'Owner', 'Member']);

      const admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const cookie = await login(s.url, 'root', ADMIN_PASSWORD);
      for (const [path, golden] of Object.entries(GOLDEN)) {
        if (path === '/api/admin/user-admin') continue;
        await fixTokenTimes(s.store);
        const res = await fetch(s.url + path, { headers: { cookie: path.startsWith('/api/admin/user/') ? cookie : admin.cookie } });
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200, `${path}: ${bytes.toString().slice(0, 300)}`);
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', path);
        assert.equal(`${bytes.length} ${sha256(bytes)}`, golden[engine], `${path} changed: ${bytes.toString().slice(0, 300)}`);
      }
    });
  });
}
