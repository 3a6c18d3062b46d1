// `gatehouse import` and webhooks: each imported user is a user.imported event (docs/delivery.md), written to
// the outbox in the import's transaction and delivered, signed, by the running server to a real receiver.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { sleep, waitFor, WebhookReceiver } from './helpers/delivery.js';
import { baseEnv, runGatehouse } from './helpers/process.js';

const FAST = { GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true', GATEHOUSE_OUTBOX_POLL_MS: '50' };

for (const { engine, skip } of engines()) {
  describe(`gatehouse import → user.imported webhooks [${engine}]`, { skip }, () => {
    let s: TestServer;
    const rx = new WebhookReceiver();
    before(async () => {
      await rx.start();
      s = await startServer(engine, { dispatch: true, env: FAST });
    });
    after(async () => {
      await s?.close();
      await rx.stop();
    });

    it('a subscription to user.imported gets one signed delivery per imported user, with no hash; user.created ones get none', async () => {
      const sub = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/imported`, events: ['user.imported'] } });
      assert.equal(sub.status, 201, sub.text);
      rx.secrets.push(sub.body.secret);
      const other = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/created`, events: ['user.created'] } });
      assert.equal(other.status, 201, other.text);
      rx.secrets.push(other.body.secret);

      const hash = bcrypt.hashSync('imported-pass-1', 4);
      const input = [
        { id: 'a1', email: `hooked-1-${engine}@import.example.com`, name: 'Hooked One', password_hash: hash },
        { id: 'a2', email: `hooked-2-${engine}@import.example.com`, username: `hooked2${engine}` },
        { id: 'a3', email: 'not an email' },
      ].map((r) => JSON.stringify(r)).join('\n') + '\n';
      const imp = await runGatehouse(['import'], { env: baseEnv({ ...s.db.env, LOG_LEVEL: 'silent' }), input, timeoutMs: 120_000 });
      assert.equal(imp.code, 1, 'one row in error: exit 1');
      assert.match(imp.stdout, /"created":2/);

      await waitFor('2 user.imported deliveries', () => rx.ids('/imported').length >= 2);
      await sleep(300);
      const got = rx.received.filter((d) => d.path === '/imported');
      assert.equal(got.length, 2, 'one per created user, none for the row in error');
      assert.deepEqual(got.map((d) => d.json.type), ['user.imported', 'user.imported']);
      assert.deepEqual(got.map((d) => d.json.data.after.email).sort(), [`hooked-1-${engine}@import.example.com`, `hooked-2-${engine}@import.example.com`]);
      assert.deepEqual(got.map((d) => d.json.data.after.source_id).sort(), ['a1', 'a2']);
      assert.deepEqual(got.map((d) => d.json.data.actor.type), ['system', 'system']);
      for (const d of got) assert.doesNotMatch(JSON.stringify(d.json), /\$2[aby]\$|password_hash/, 'no hash in a delivery');
      assert.deepEqual(rx.rejected, []);
      assert.equal(rx.ids('/created').length, 0, 'an import is not user.created');
    });
  });
}
