// The outbox through crashes and concurrency: kill -9 of a server in the middle of sending (after a restart
// every message arrives, duplicates only under the same id), two nodes dispatching from one PostgreSQL (no
// message is being sent by both at once), and the backoff schedule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backoffMs } from '../src/core/outbox/index.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, freshDatabase, startServer, type Database, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { baseEnv, freePort, spawnGatehouse, waitForOk } from './helpers/process.js';
import { sleep, waitFor, WebhookReceiver } from './helpers/delivery.js';

const FAST = {
  GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true',
  GATEHOUSE_OUTBOX_POLL_MS: '50',
  GATEHOUSE_OUTBOX_BACKOFF_BASE_MS: '100',
  GATEHOUSE_OUTBOX_BACKOFF_MAX_MS: '400',
  GATEHOUSE_OUTBOX_LEASE_MS: '2500',
  GATEHOUSE_WEBHOOK_TIMEOUT_MS: '1200',
};

describe('backoff', () => {
  it('doubles from the base up to the cap, with jitter in [0.5, 1) of the step', () => {
    const cfg = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    assert.equal(backoffMs(cfg, 1, 0), 500);
    assert.equal(backoffMs(cfg, 1, 0.999999), 1000);
    assert.equal(backoffMs(cfg, 3, 0), 2000);
    assert.equal(backoffMs(cfg, 10, 0), 30_000);
    assert.equal(backoffMs(cfg, 500, 0.999999), 60_000);
    for (let a = 1; a < 40; a++) {
      const d = backoffMs(cfg, a);
      assert.ok(d >= Math.min(60_000, 1000 * 2 ** (a - 1)) / 2 && d <= 60_000, `attempt ${a}: ${d}`);
    }
  });
});

async function allDelivered(url: string, expected: number) {
  const r = await http(url, '/api/admin/outbox?kind=webhook&limit=500', { token: ADMIN_TOKEN });
  if (r.status !== 200) return false;
  const items = r.body.items as Array<{ id: string; status: string }>;
  return items.length === expected && items.every((m) => m.status === 'delivered') && items;
}

for (const { engine, skip } of engines()) {
  describe(`outbox through kill -9 [${engine}]`, { skip }, () => {
    let db: Database;
    const rx = new WebhookReceiver();
    before(async () => {
      db = await freshDatabase(engine);
      await rx.start();
    });
    after(async () => {
      await rx.stop();
      await db?.drop();
    });

    it('a server killed while sending: after a restart every message arrives, duplicates only under the same id', async () => {
      const port = await freePort();
      const env = baseEnv({
        ...db.env, ...FAST, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
        GATEHOUSE_ADMIN_EMAIL: ADMIN_EMAIL, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, GATEHOUSE_INIT_API_TOKEN: ADMIN_TOKEN,
        GATEHOUSE_SQLITE_SYNCHRONOUS: 'NORMAL',
      });
      const url = `http://127.0.0.1:${port}`;
      const first = spawnGatehouse(['serve'], env);
      try {
        await waitForOk(`${url}/readyz`, 30_000);
        const hook = await http(url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/crash`, events: ['user.updated'] } });
        assert.equal(hook.status, 201, hook.text);
        rx.secrets.push(hook.body.secret);
        // Each delivery is held 800 ms by the receiver: the server is killed with several of them in flight.
        rx.delayMs = 800;
        for (let i = 0; i < 12; i++) {
          const r = await http(url, '/api/admin/users/1', { method: 'PATCH', token: ADMIN_TOKEN, body: { name: `crash ${i}` } });
          assert.equal(r.status, 200, r.text);
        }
        await waitFor('deliveries in flight', () => rx.received.length >= 3, 15_000, 10);
      } finally {
        first.child.kill('SIGKILL');
      }
      const answeredBeforeCrash = rx.answered;
      assert.equal((await first.exited).signal, 'SIGKILL');
      assert.ok(answeredBeforeCrash < 12, `the crash came before the last delivery was answered (${answeredBeforeCrash} answered)`);
      assert.ok(rx.received.length > answeredBeforeCrash, 'deliveries were in flight at the crash');
      rx.delayMs = 0;

      const second = spawnGatehouse(['serve'], env);
      try {
        await waitForOk(`${url}/readyz`, 30_000);
        const items = await waitFor('every message delivered after the restart', () => allDelivered(url, 12), 30_000, 100);
        const ids = new Set(items.map((m) => m.id));
        assert.deepEqual(new Set(rx.ids('/crash')), ids, 'every message arrived, and nothing else');
        assert.ok(rx.received.length > ids.size, 'the deliveries in flight at the crash were sent again');
        // Duplicates (a delivery in flight at the crash is sent again) carry the same id and body.
        const byId = new Map<string, string>();
        for (const d of rx.received) {
          const seen = byId.get(d.id);
          if (seen !== undefined) assert.equal(d.body, seen);
          byId.set(d.id, d.body);
        }
        const names = rx.received.map((d) => d.json.data.after.name);
        for (let i = 0; i < 12; i++) assert.ok(names.includes(`crash ${i}`), `crash ${i}`);
        assert.deepEqual(rx.rejected, []);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    });
  });
}

for (const { engine, skip } of engines()) {
  describe(`outbox under a stream of changes [${engine}]`, { skip }, () => {
    it('deliveries go out while changes keep coming (a stream of enqueues does not keep postponing the dispatcher)', async () => {
      const rx = new WebhookReceiver();
      await rx.start();
      // The default poll interval: the dispatcher is woken by the enqueues themselves.
      const s = await startServer(engine, { dispatch: true, env: { GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true' } });
      try {
        const hook = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/stream`, events: ['user.updated'] } });
        rx.secrets.push(hook.body.secret);
        const until = Date.now() + 2500;
        let sent = 0;
        let seenDuringStream = 0;
        while (Date.now() < until) {
          const r = await http(s.url, '/api/admin/users/1', { method: 'PATCH', token: ADMIN_TOKEN, body: { name: `stream ${sent++}` } });
          assert.equal(r.status, 200);
          seenDuringStream = rx.received.length;
          await sleep(20);
        }
        assert.ok(seenDuringStream > 0, `no delivery while ${sent} changes streamed in`);
        await waitFor('every delivery', () => rx.received.length >= sent);
        assert.deepEqual(rx.rejected, []);
      } finally {
        await s.close();
        await rx.stop();
      }
    });
  });
}

describe('two nodes on one PostgreSQL', { skip: engines()[1].skip }, () => {
  let a: TestServer;
  let b: TestServer;
  const rx = new WebhookReceiver();
  before(async () => {
    await rx.start();
    a = await startServer('postgres', { dispatch: true, env: FAST });
    b = await startServer('postgres', { dispatch: true, env: FAST, db: a.db });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await rx.stop();
  });

  it('both dispatch; no message is sent by both at once, and each arrives once', async () => {
    const hook = await http(a.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/nodes`, events: ['user.updated'] } });
    assert.equal(hook.status, 201, hook.text);
    rx.secrets.push(hook.body.secret);
    rx.delayMs = 60;
    // Node b reads subscriptions from its cache: give it the TTL to see the new one.
    await sleep(2100);
    const n = 60;
    await Promise.all(Array.from({ length: n }, (_, i) =>
      http(i % 2 ? a.url : b.url, '/api/admin/users/1', { method: 'PATCH', token: ADMIN_TOKEN, body: { name: `node ${i}` } }).then((r) => assert.equal(r.status, 200, r.text))));
    const items = await waitFor('every message delivered', () => allDelivered(a.url, n), 30_000, 100);
    assert.equal(rx.maxConcurrentPerId, 1, 'a message was being sent by two nodes at once');
    assert.equal(rx.received.length, n, 'each message arrived once');
    assert.deepEqual(new Set(rx.ids('/nodes')), new Set(items.map((m) => m.id)));
    assert.deepEqual(rx.rejected, []);
  });
});
