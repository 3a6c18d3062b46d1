// Housekeeping removes dead sessions, refresh tokens and throttle counters, never live ones.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { purgeExpired } from '../src/core/maintenance/index.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { signIn } from './helpers/admin.js';

for (const { engine, skip } of engines()) {
  describe(`maintenance [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('purges expired and long-revoked sessions with their refresh tokens, and ended throttle windows', async () => {
      const live = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const revoked = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal((await http(s.url, '/api/auth/sign-out', { method: 'POST', cookie: revoked.cookie, headers: { 'x-csrf-token': revoked.csrf } })).status, 200);
      await http(s.url, '/api/auth/sign-in', { body: { identifier: 'nobody@example.com', password: 'wrong-password' } });
      const db = s.store.db;
      const countSessions = async () => (await db.selectFrom('sessions').select('id').execute()).length;
      const before = await countSessions();
      assert.ok(before >= 2);
      // Nothing is old enough yet: nothing goes.
      const none = await purgeExpired(s.store, { throttleWindowSeconds: 900 });
      assert.deepEqual(none, { sessions: 0, refreshTokens: 0, throttleCounters: 0 });
      // Two days later (grace one day): the revoked session, its tokens and the counters go; the live
      // session (30-day family) stays and still works.
      const later = new Date(Date.now() + 2 * 86400 * 1000);
      const r = await purgeExpired(s.store, { throttleWindowSeconds: 900, now: later });
      assert.equal(r.sessions, 1);
      assert.ok(r.throttleCounters >= 1);
      assert.equal(await countSessions(), before - 1);
      assert.ok(await db.selectFrom('sessions').select('id').where('id', '=', live.familyId).executeTakeFirst());
      assert.equal((await http(s.url, '/api/auth/session', { cookie: live.cookie })).status, 200);
      // Far past every expiry: everything goes.
      const far = new Date(Date.now() + 400 * 86400 * 1000);
      await purgeExpired(s.store, { throttleWindowSeconds: 900, now: far });
      assert.equal(await countSessions(), 0);
      assert.equal((await db.selectFrom('refresh_tokens').select('token_hash').execute()).length, 0);
    });
  });
}
