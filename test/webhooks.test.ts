// Webhooks: subscriptions on the admin surface, deliveries written with the audit event of the change and
// sent signed (Standard Webhooks) to a real HTTP receiver that verifies every signature; failures retried
// with backoff, dead-lettered after the attempt limit, replayable; a webhook failing too long is disabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser } from './helpers/admin.js';
import { sleep, waitFor, WebhookReceiver } from './helpers/delivery.js';

const FAST = {
  GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true',
  GATEHOUSE_OUTBOX_POLL_MS: '50',
  GATEHOUSE_OUTBOX_BACKOFF_BASE_MS: '100',
  GATEHOUSE_OUTBOX_BACKOFF_MAX_MS: '400',
  GATEHOUSE_OUTBOX_LEASE_MS: '4000',
  GATEHOUSE_WEBHOOK_TIMEOUT_MS: '700',
  GATEHOUSE_OUTBOX_MAX_ATTEMPTS: '8',
};

async function subscribe(s: TestServer, rx: WebhookReceiver, path: string, events: string[], extra: Record<string, unknown> = {}) {
  const r = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: rx.url + path, events, ...extra } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  rx.secrets.push(r.body.secret);
  return r.body.item as { id: number };
}

async function deliveries(s: TestServer, id: number, query = '') {
  const r = await http(s.url, `/api/admin/webhooks/${id}/deliveries${query}`, { token: ADMIN_TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.body.items as Array<{ id: string; status: string; attempts: number; last_error: string | null; last_status: number | null; event_type: string }>;
}

/** No key anywhere in a value looks like a secret. */
function assertNoSecrets(value: unknown, where: string) {
  const text = JSON.stringify(value);
  assert.doesNotMatch(text, /"[^"]*(password|secret|token|hash)[^"]*":/i, `${where} carries a secret-looking key: ${text}`);
  assert.doesNotMatch(text, /\$argon2/, where);
}

for (const { engine, skip } of engines()) {
  describe(`webhooks [${engine}]`, { skip }, () => {
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

    it('CRUD: secret shown once, rotatable; bad input is a 400 in the admin shape; unknown ids 404', async () => {
      const created = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url: `${rx.url}/crud`, events: ['user.created', 'ban.*'], description: 'crm sync' } });
      assert.equal(created.status, 201, created.text);
      rx.secrets.push(created.body.secret);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const item = created.body.item;
      assert.deepEqual([item.url, item.events, item.active, item.description, item.disabled_reason], [`${rx.url}/crud`, ['user.created', 'ban.*'], true, 'crm sync', null]);
      const got = await http(s.url, `/api/admin/webhooks/${item.id}`, { token: ADMIN_TOKEN });
      assert.equal(got.status, 200);
      assert.equal(got.text.includes('whsec_'), false, 'the secret is shown once only');
      const list = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN });
      assert.ok(list.body.items.some((w: { id: number }) => w.id === item.id));
      assert.equal(list.text.includes('whsec_'), false);
      const rotated = await http(s.url, `/api/admin/webhooks/${item.id}/rotate-secret`, { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(rotated.status, 200, rotated.text);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.notEqual(rotated.body.secret, created.body.secret);
      rx.secrets.push(rotated.body.secret);
      const patched = await http(s.url, `/api/admin/webhooks/${item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { active: false, events: ['*'] } });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual([patched.body.item.active, patched.body.item.events, patched.body.item.disabled_reason], [false, ['*'], 'disabled by an administrator']);
      const again = await http(s.url, `/api/admin/webhooks/${item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { active: true } });
      assert.deepEqual([again.body.item.active, again.body.item.disabled_reason], [true, null]);

      for (const [body, reason] of [
        [{ url: 'file:///etc/passwd', events: ['*'] }, 'unsupported_scheme'],
        [{ url: 'javascript:alert(1)', events: ['*'] }, 'unsupported_scheme'],
        [{ url: 'not a url', events: ['*'] }, 'invalid_format'],
        [{ url: 'http://user:pw@127.0.0.1/', events: ['*'] }, 'credentials_in_url'],
        [{ url: `${rx.url}/x`, events: [] }, 'too_few'],
        [{ url: `${rx.url}/x`, events: ['User Created'] }, 'invalid_value'],
        [{ events: ['*'] }, 'required'],
      ] as const) {
        const r = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body });
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.error, 'invalid_params');
        assert.equal(r.body.reason, reason, JSON.stringify(body));
      }
      assert.equal((await http(s.url, `/api/admin/webhooks/${item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: {} })).status, 400);
      assert.equal((await http(s.url, '/api/admin/webhooks/999999', { token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, '/api/admin/webhooks/999999', { method: 'DELETE', token: ADMIN_TOKEN })).body.error, 'Not Found');
      assert.equal((await http(s.url, '/api/admin/webhooks/999999/rotate-secret', { method: 'POST', token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, '/api/admin/webhooks/0', { token: ADMIN_TOKEN })).status, 400);
      assert.equal((await http(s.url, '/api/admin/webhooks')).status, 401);
      const deleted = await http(s.url, `/api/admin/webhooks/${item.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      assert.equal(deleted.status, 200);
      assert.equal(deleted.body.deleted, true);
      assert.equal((await http(s.url, `/api/admin/webhooks/${item.id}`, { token: ADMIN_TOKEN })).status, 404);
      const audit = await http(s.url, '/api/admin/audit-events?action=webhook.created,webhook.updated,webhook.secret_rotated,webhook.deleted', { token: ADMIN_TOKEN });
      assert.ok(audit.body.items.length >= 5, audit.text);
      assertNoSecrets(audit.body.items, 'webhook audit events');
    });

    it('every audited change enqueues a signed delivery per matching subscription, with the audit event\'s before/after and no secrets', async () => {
      const users = await subscribe(s, rx, '/users', ['user.*']);
      const bans = await subscribe(s, rx, '/bans', ['ban.created']);
      const u = await createUser(s.url, { username: 'hooked' });
      const patched = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'Hooked Person' } });
      assert.equal(patched.status, 200, patched.text);
      const pw = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { password: 'another-password-1' } });
      assert.equal(pw.status, 200, pw.text);
      const ban = await http(s.url, '/api/admin/bans', { token: ADMIN_TOKEN, body: { ban_type: 'domain', ban_value: 'spam.example', reason: 'spam' } });
      assert.equal(ban.status, 201, ban.text);
      // A refused change (conflict) is rolled back with its audit event: no delivery for it.
      const dup = await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: 'root@example.com' } });
      assert.equal(dup.status, 409);

      await waitFor('3 user deliveries', () => rx.ids('/users').length >= 3);
      await waitFor('1 ban delivery', () => rx.ids('/bans').length >= 1);
      await sleep(300);
      const userEvents = rx.received.filter((d) => d.path === '/users');
      assert.deepEqual(userEvents.map((d) => d.json.type), ['user.created', 'user.updated', 'user.updated']);
      assert.equal(rx.ids('/bans').length, 1);
      assert.equal(rx.received.find((d) => d.path === '/bans')!.json.type, 'ban.created');
      assert.deepEqual(rx.rejected, []);
      for (const d of userEvents) assertNoSecrets(d.json, `delivery ${d.json.type}`);

      const audit = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${u.id}`, { token: ADMIN_TOKEN });
      const events = [...audit.body.items].reverse();
      assert.equal(events.length, 3, audit.text);
      for (const [i, ev] of events.entries()) {
        const d = userEvents[i];
        assert.equal(d.json.type, ev.action);
        assert.equal(d.json.timestamp, ev.occurred_at);
        assert.deepEqual(d.json.data.before, ev.before);
        assert.deepEqual(d.json.data.after, ev.after);
        assert.deepEqual(d.json.data.target, ev.target);
        assert.deepEqual(d.json.data.actor, ev.actor);
      }
      assert.deepEqual(userEvents[2].json.data.after.changed, ['password']);

      // The delivery log shows each delivery with its id; replay sends the same id again.
      const log = await deliveries(s, users.id);
      assert.equal(log.length, 3);
      assert.ok(log.every((m) => m.status === 'delivered' && m.attempts === 1 && m.last_status === 200));
      assert.deepEqual(new Set(log.map((m) => m.id)), new Set(rx.ids('/users')));
      const replay = await http(s.url, `/api/admin/webhooks/${users.id}/deliveries/${log[0].id}/replay`, { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(replay.status, 200, replay.text);
      await waitFor('the replayed delivery', () => rx.ids('/users').filter((id) => id === log[0].id).length === 2);
      assert.equal((await http(s.url, `/api/admin/webhooks/${bans.id}/deliveries/${log[0].id}/replay`, { method: 'POST', token: ADMIN_TOKEN })).status, 404, 'another webhook\'s delivery');
      assert.equal((await http(s.url, `/api/admin/webhooks/${users.id}/deliveries/msg_nope/replay`, { method: 'POST', token: ADMIN_TOKEN })).status, 404);
      // Delivered messages are purged after the retention period (dead ones are kept).
      assert.equal(await s.core.outbox.purgeDelivered(new Date(Date.now() - 60_000)), 0);
      assert.ok((await s.core.outbox.purgeDelivered(new Date(Date.now() + 60_000))) >= 4);
      assert.deepEqual(await deliveries(s, users.id, '?status=delivered'), []);
      await http(s.url, `/api/admin/webhooks/${users.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      await http(s.url, `/api/admin/webhooks/${bans.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
    });

    it('a receiver answering 500, timing out, or down: retried with backoff until it answers 2xx', async () => {
      const hook = await subscribe(s, rx, '/flaky', ['user.updated']);
      const u = await createUser(s.url);
      const patch = (name: string) => http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name } });

      rx.answers.set('/flaky', 500);
      assert.equal((await patch('five hundred')).status, 200);
      const failed = await waitFor('two failed attempts', async () => (await deliveries(s, hook.id)).find((m) => m.attempts >= 2));
      assert.equal(failed.status, 'pending');
      assert.equal(failed.last_status, 500);
      assert.match(failed.last_error!, /HTTP 500/);
      rx.answers.delete('/flaky');
      await waitFor('delivered after the 500s', async () => (await deliveries(s, hook.id)).find((m) => m.id === failed.id && m.status === 'delivered'));

      rx.answers.set('/flaky', 'hang');
      assert.equal((await patch('no answer')).status, 200);
      const timedOut = await waitFor('a timed-out attempt', async () => (await deliveries(s, hook.id)).find((m) => m.id !== failed.id && m.last_error?.includes('no answer within')));
      rx.answers.delete('/flaky');
      await waitFor('delivered after the timeout', async () => (await deliveries(s, hook.id)).find((m) => m.id === timedOut.id && m.status === 'delivered'));

      await rx.stop();
      assert.equal((await patch('receiver down')).status, 200);
      const refused = await waitFor('attempts while the receiver is down', async () =>
        (await deliveries(s, hook.id)).find((m) => m.id !== failed.id && m.id !== timedOut.id && m.attempts >= 2));
      assert.equal(refused.status, 'pending');
      assert.match(refused.last_error!, /ECONNREFUSED|connect/i);
      await rx.start();
      await waitFor('delivered once the receiver is back', async () => (await deliveries(s, hook.id)).find((m) => m.id === refused.id && m.status === 'delivered'));
      for (const id of [failed.id, timedOut.id, refused.id]) assert.ok(rx.ids('/flaky').includes(id));
      assert.deepEqual(rx.rejected, []);
      await http(s.url, `/api/admin/webhooks/${hook.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
    });

    it('a poisoned message is dead-lettered after the attempt limit; the others are delivered; an admin lists and replays it', async () => {
      const good = await subscribe(s, rx, '/good', ['user.updated']);
      const bad = await subscribe(s, rx, '/poison', ['user.updated']);
      rx.answers.set('/poison', 500);
      const u = await createUser(s.url);
      for (let i = 0; i < 5; i++) assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: `n${i}` } })).status, 200);
      await waitFor('5 good deliveries', () => rx.ids('/good').length >= 5);
      // GATEHOUSE_OUTBOX_MAX_ATTEMPTS=8 here (backoff at most 400 ms).
      const dead = await waitFor('the poisoned deliveries to die', async () => {
        const r = await http(s.url, `/api/admin/outbox?status=dead&kind=webhook`, { token: ADMIN_TOKEN });
        const mine = r.body.items.filter((m: { webhook_id: number }) => m.webhook_id === bad.id);
        return mine.length === 5 && mine;
      }, 60_000, 200);
      assert.ok(dead.every((m: { attempts: number; last_status: number }) => m.attempts === 8 && m.last_status === 500));
      assert.equal((await deliveries(s, good.id)).filter((m) => m.status === 'delivered').length, 5);
      rx.answers.delete('/poison');
      const replay = await http(s.url, `/api/admin/outbox/${dead[0].id}/replay`, { method: 'POST', token: ADMIN_TOKEN });
      assert.equal(replay.status, 200, replay.text);
      assert.equal(replay.body.item.status, 'pending');
      await waitFor('the replayed dead letter', () => rx.ids('/poison').includes(dead[0].id) && rx.received.some((d) => d.id === dead[0].id && d.path === '/poison'));
      await waitFor('marked delivered', async () => (await deliveries(s, bad.id, '?status=delivered')).some((m) => m.id === dead[0].id));
      assert.equal((await http(s.url, '/api/admin/outbox/msg_unknown/replay', { method: 'POST', token: ADMIN_TOKEN })).status, 404);
      assert.equal((await http(s.url, '/api/admin/outbox?status=nope', { token: ADMIN_TOKEN })).status, 400);
      await http(s.url, `/api/admin/webhooks/${good.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
      await http(s.url, `/api/admin/webhooks/${bad.id}`, { method: 'DELETE', token: ADMIN_TOKEN });
    });
  });

  describe(`webhook targets and disabling [${engine}]`, { skip }, () => {
    it('private, loopback, link-local and metadata targets are refused unless allowed', async () => {
      const s = await startServer(engine);
      try {
        for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/', 'http://[::1]/', 'http://[fd00:ec2::254]/', 'http://[::ffff:127.0.0.1]/', 'http://192.168.1.1/']) {
          const r = await http(s.url, '/api/admin/webhooks', { token: ADMIN_TOKEN, body: { url, events: ['*'] } });
          assert.equal(r.status, 400, `${url}: ${r.text}`);
          assert.equal(r.body.reason, 'private_target', url);
        }
      } finally {
        await s.close();
      }
    });

    it('a webhook failing for longer than the limit is disabled, with the reason shown', async () => {
      const rx = new WebhookReceiver();
      await rx.start();
      const s = await startServer(engine, { dispatch: true, env: { ...FAST, GATEHOUSE_WEBHOOK_DISABLE_AFTER: '1' } });
      try {
        const hook = await subscribe(s, rx, '/down', ['user.updated']);
        rx.answers.set('/down', 503);
        const u = await createUser(s.url);
        assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'x' } })).status, 200);
        const w = await waitFor('the webhook to be disabled', async () => {
          const r = await http(s.url, `/api/admin/webhooks/${hook.id}`, { token: ADMIN_TOKEN });
          return r.body.item.active === false && r.body.item;
        });
        assert.match(w.disabled_reason, /failed for more than 1 s .*HTTP 503/);
        const log = await deliveries(s, hook.id);
        assert.equal(log[0].status, 'dead');
        const audit = await http(s.url, '/api/admin/audit-events?action=webhook.disabled', { token: ADMIN_TOKEN });
        assert.equal(audit.body.items.length, 1);
        // Disabled: later events are not queued for it.
        await http(s.url, `/api/admin/users/${u.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'y' } });
        assert.equal((await deliveries(s, hook.id)).length, 1);
      } finally {
        await s.close();
        await rx.stop();
      }
    });
  });
}
