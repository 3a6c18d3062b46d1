// Seed 001: the admin bans API (PATCH /api/admin/bans/{id} and its neighbours), on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, signIn, type AdminSession } from './helpers/admin.js';

const ITEM_KEYS = ['id', 'ban_type', 'ban_value', 'reason', 'created_at', 'expires_at', 'revoked_at', 'revoked_reason', 'active'];
const SEED_BODY = {
  ban_type: 'email',
  ban_value: 'example_string',
  reason: 'example_string',
  expires_at: '2024-12-25T10:00:00Z',
  revoked: true,
  revoked_reason: 'example_string',
};

let seq = 0;
const uniq = (p: string) => `${p}${process.pid}x${Date.now().toString(36)}x${++seq}`;

for (const { engine, skip } of engines()) {
  describe(`admin bans API [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    const api = (path: string, req: Parameters<typeof http>[2] = {}) => http(s.url, path, { token: ADMIN_TOKEN, ...req });
    const create = async (body: Record<string, unknown>) => {
      const res = await api('/api/admin/bans', { body });
      assert.equal(res.status, 201, res.text);
      return res.body.item;
    };
    const patch = (id: number, body: unknown, headers: Record<string, string> = {}) => api(`/api/admin/bans/${id}`, { method: 'PATCH', body, headers });

    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    it("runs the page's example as written: example_string is not a mailbox (400 naming ban_value); a real mailbox succeeds", async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('seed') });
      const bad = await http(s.url, `/api/admin/bans/${ban.id}`, { method: 'PATCH', ...asSession(admin), body: SEED_BODY });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.error, 'invalid_params');
      assert.equal(bad.body.field, 'ban_value');
      assert.equal(typeof bad.body.reason, 'string');
      assert.equal(typeof bad.body.hint, 'string');
      assert.equal(typeof bad.body.constraints, 'object');
      // Nothing was written.
      const still = await api(`/api/admin/bans/${ban.id}`);
      assert.equal(still.body.item.ban_type, 'name');
      assert.equal(still.body.item.revoked_at, null);

      const mailbox = `${uniq('spam')}@example.com`;
      const ok = await http(s.url, `/api/admin/bans/${ban.id}`, { method: 'PATCH', ...asSession(admin), body: { ...SEED_BODY, ban_value: mailbox } });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual([ok.body.ok, ok.body.created, ok.body.updated, ok.body.deleted], [true, false, true, false]);
      for (const k of ITEM_KEYS) assert.ok(k in ok.body.item, `item.${k} missing`);
      const item = ok.body.item;
      assert.equal(item.id, ban.id);
      assert.equal(item.ban_type, 'email');
      assert.equal(item.ban_value, mailbox);
      assert.equal(item.reason, 'example_string');
      assert.equal(item.expires_at, '2024-12-25T10:00:00.000Z');
      assert.ok(item.revoked_at && Math.abs(Date.parse(item.revoked_at) - Date.now()) < 60_000);
      assert.equal(item.revoked_reason, 'example_string');
      assert.equal(item.active, false);
      assert.ok(!('disabled_aliases' in ok.body), 'disabled_aliases only when aliases were asked to be disabled');
      assert.match(ok.headers.get('etag') ?? '', /^"\d+\.\d+"$/);
    });

    it('the example needs the CSRF header with cookie auth, and authentication at all', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('csrf') });
      const noCsrf = await http(s.url, `/api/admin/bans/${ban.id}`, { method: 'PATCH', cookie: admin.cookie, body: { reason: 'x' } });
      assert.equal(noCsrf.status, 403);
      assert.deepEqual(noCsrf.body, { error: 'csrf_required' }, 'the product answers {"error":"csrf_required"} (the pages\' generic {error} shape)');
      const anon = await http(s.url, `/api/admin/bans/${ban.id}`, { method: 'PATCH', body: { reason: 'x' } });
      assert.equal(anon.status, 401);
      assert.equal(anon.body.error, 'Unauthorized');
      for (const path of ['/api/admin/bans', `/api/admin/bans/${ban.id}`, `/api/admin/bans/${ban.id}/history`]) {
        assert.equal((await http(s.url, path)).status, 401, path);
      }
    });

    it('validates and normalises email bans', async () => {
      const local = uniq('Mixed');
      const item = await create({ ban_type: 'email', ban_value: `  ${local}@Example.COM ` });
      assert.equal(item.ban_value, `${local.toLowerCase()}@example.com`);
      for (const v of ['example_string', 'no-at-sign', 'a@b', '@example.com', 'a@@example.com', `${'x'.repeat(65)}@example.com`, 'a b@example.com']) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'email', ban_value: v } });
        assert.equal(res.status, 400, `${v}: ${res.text}`);
        assert.equal(res.body.field, 'ban_value', v);
      }
    });

    it('validates and normalises domain bans (IDN to punycode, @ and *. prefixes, trailing dot)', async () => {
      const base = uniq('dom');
      assert.equal((await create({ ban_type: 'domain', ban_value: ` ${base.toUpperCase()}.Example.ORG. ` })).ban_value, `${base}.example.org`);
      assert.equal((await create({ ban_type: 'domain', ban_value: `@${base}.example.net` })).ban_value, `${base}.example.net`);
      assert.equal((await create({ ban_type: 'domain', ban_value: `*.${base}.example.com` })).ban_value, `${base}.example.com`);
      assert.equal((await create({ ban_type: 'domain', ban_value: 'BÜCHER.de' })).ban_value, 'xn--bcher-kva.de');
      for (const v of ['example_string', 'localhost', 'a@example.com', 'exa mple.com', '-bad.com', 'bad-.com', '.com', 'x..com', `${'a'.repeat(64)}.com`, 'http://x.com', '1.2.3.4']) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'domain', ban_value: v } });
        assert.equal(res.status, 400, `${v}: ${res.text}`);
        assert.equal(res.body.field, 'ban_value', v);
      }
    });

    it('validates and normalises ip bans: IPv4, IPv6, mapped IPv4, CIDR', async () => {
      const cases: Array<[string, string]> = [
        ['198.51.100.7', '198.51.100.7'],
        [' 198.51.100.8 ', '198.51.100.8'],
        ['::ffff:198.51.100.9', '198.51.100.9'],
        ['::FFFF:C633:640A', '198.51.100.10'],
        ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
        ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
        ['203.0.113.77/24', '203.0.113.0/24'],
        ['10.20.0.0/16', '10.20.0.0/16'],
        ['198.51.100.11/32', '198.51.100.11'],
        ['2001:db8:abcd::5/48', '2001:db8:abcd::/48'],
        ['::ffff:192.0.2.0/120', '192.0.2.0/24'],
      ];
      for (const [input, expected] of cases) {
        assert.equal((await create({ ban_type: 'ip', ban_value: input })).ban_value, expected, input);
      }
      for (const v of ['example_string', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/x', '2001:db8::/129', 'fe80::1%eth0', '[2001:db8::1]', '2001:db8:::1', 'example.com']) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'ip', ban_value: v } });
        assert.equal(res.status, 400, `${v}: ${res.text}`);
        assert.equal(res.body.field, 'ban_value', v);
      }
      for (const v of ['0.0.0.0/0', '10.0.0.0/7', '::/0', '2001::/15']) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'ip', ban_value: v } });
        assert.equal(res.status, 400, v);
        assert.equal(res.body.reason, 'range_too_broad', v);
      }
    });

    it('refuses an ip ban that covers the caller (it would lock the admin out)', async () => {
      for (const v of ['127.0.0.1', '127.0.0.0/8', '::ffff:127.0.0.1']) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'ip', ban_value: v } });
        assert.equal(res.status, 400, v);
        assert.equal(res.body.reason, 'would_ban_yourself');
      }
      // Revoked or already expired, it locks nobody out.
      const revoked = await create({ ban_type: 'ip', ban_value: '127.0.0.1', revoked: true });
      assert.equal(revoked.active, false);
      const res = await patch(revoked.id, { revoked: false });
      assert.equal(res.status, 400);
      assert.equal(res.body.reason, 'would_ban_yourself');
    });

    it('validates and normalises name bans', async () => {
      const name = uniq('John Doe ');
      assert.equal((await create({ ban_type: 'name', ban_value: `  ${name.toUpperCase()}  ` })).ban_value, name.toLowerCase());
      for (const v of ['a@b', '   ', 'tab\there', 'x'.repeat(256)]) {
        const res = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: v } });
        assert.equal(res.status, 400, `${JSON.stringify(v)}: ${res.text}`);
        assert.equal(res.body.field, 'ban_value');
      }
      assert.equal((await create({ ban_type: 'name', ban_value: uniq('y').padEnd(255, 'y') })).ban_value.length, 255);
    });

    it('re-validates the pair when only the type or only the value changes', async () => {
      const email = `${uniq('pair')}@example.com`;
      const ban = await create({ ban_type: 'email', ban_value: email });
      // The current value is not a domain.
      let res = await patch(ban.id, { ban_type: 'domain' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'ban_value');
      // ... nor an ip, nor a name (it has an @).
      assert.equal((await patch(ban.id, { ban_type: 'ip' })).status, 400);
      assert.equal((await patch(ban.id, { ban_type: 'name' })).status, 400);
      // A new value alone is checked against the current type.
      res = await patch(ban.id, { ban_value: 'example.com' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'ban_value');
      // Both together: checked as a pair, and normalised for the new type.
      const dom = `${uniq('pair')}.Example.com`;
      res = await patch(ban.id, { ban_type: 'domain', ban_value: dom });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.item.ban_value, dom.toLowerCase());
      // A name ban's value becomes a valid ip value only if it is an address.
      const nb = await create({ ban_type: 'name', ban_value: '192.0.2.55' });
      res = await patch(nb.id, { ban_type: 'ip' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.item.ban_type, 'ip');
      assert.equal(res.body.item.ban_value, '192.0.2.55');
      // Unknown types are refused by the schema.
      res = await patch(ban.id, { ban_type: 'phone' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'ban_type');
    });

    it('applies the clearing rules: reason and revoked_reason (<=255, null or "" clears), expires_at (null or "" clears)', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('clear'), reason: '  spam  ', expires_at: '2099-01-01T00:00:00Z' });
      assert.equal(ban.reason, 'spam');
      assert.equal(ban.expires_at, '2099-01-01T00:00:00.000Z');
      let res = await patch(ban.id, { reason: '' });
      assert.equal(res.body.item.reason, null);
      res = await patch(ban.id, { reason: 'r'.repeat(255) });
      assert.equal(res.status, 200);
      assert.equal(res.body.item.reason.length, 255);
      res = await patch(ban.id, { reason: 'r'.repeat(256) });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'reason');
      assert.equal(res.body.constraints.maxLength, 255);
      res = await patch(ban.id, { reason: null });
      assert.equal(res.body.item.reason, null);
      res = await patch(ban.id, { expires_at: '' });
      assert.equal(res.status, 200);
      assert.equal(res.body.item.expires_at, null);
      await patch(ban.id, { expires_at: '2099-01-01T00:00:00+02:00' });
      res = await api(`/api/admin/bans/${ban.id}`);
      assert.equal(res.body.item.expires_at, '2098-12-31T22:00:00.000Z');
      res = await patch(ban.id, { expires_at: null });
      assert.equal(res.body.item.expires_at, null);
      for (const v of ['tomorrow', '2024-13-01T00:00:00Z', '2024-12-25', 12345, true]) {
        res = await patch(ban.id, { expires_at: v });
        assert.equal(res.status, 400, `${v}: ${res.text}`);
        assert.equal(res.body.field, 'expires_at');
      }
      res = await patch(ban.id, { revoked: true, revoked_reason: 'q'.repeat(256) });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'revoked_reason');
      res = await patch(ban.id, { revoked: true, revoked_reason: 'done' });
      assert.equal(res.body.item.revoked_reason, 'done');
      res = await patch(ban.id, { revoked_reason: '' });
      assert.equal(res.body.item.revoked_reason, null);
      assert.notEqual(res.body.item.revoked_at, null);
      res = await patch(ban.id, { revoked_reason: null });
      assert.equal(res.status, 200);
    });

    it('revoked:true sets revoked_at now; revoked:false clears revoked_at and revoked_reason', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('rev') });
      assert.equal(ban.active, true);
      const t0 = Date.now();
      let res = await patch(ban.id, { revoked: true, revoked_reason: 'appeal granted' });
      assert.equal(res.status, 200);
      const revokedAt = Date.parse(res.body.item.revoked_at);
      assert.ok(revokedAt >= t0 - 1000 && revokedAt <= Date.now() + 1000);
      assert.equal(res.body.item.active, false);
      // Revoking again keeps the time it was first revoked.
      res = await patch(ban.id, { revoked: true });
      assert.equal(Date.parse(res.body.item.revoked_at), revokedAt);
      res = await patch(ban.id, { revoked: false });
      assert.equal(res.body.item.revoked_at, null);
      assert.equal(res.body.item.revoked_reason, null);
      assert.equal(res.body.item.active, true);
      // A revoked_reason without a revocation is refused.
      res = await patch(ban.id, { revoked_reason: 'why' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'revoked_reason');
      res = await patch(ban.id, { revoked: false, revoked_reason: 'why' });
      assert.equal(res.status, 400);
      const created = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('rr'), revoked_reason: 'x' } });
      assert.equal(created.status, 400);
    });

    it('expiry in the past and in the future; active flips with time', async () => {
      const past = await create({ ban_type: 'name', ban_value: uniq('past'), expires_at: new Date(Date.now() - 60_000).toISOString() });
      assert.equal(past.active, false);
      const future = await create({ ban_type: 'name', ban_value: uniq('future'), expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal(future.active, true);
      const soon = await create({ ban_type: 'name', ban_value: uniq('soon'), expires_at: new Date(Date.now() + 1200).toISOString() });
      assert.equal(soon.active, true);
      await new Promise((r) => setTimeout(r, 1400));
      const later = await api(`/api/admin/bans/${soon.id}`);
      assert.equal(later.body.item.active, false);
      // Moving the expiry into the future makes it active again, and clearing it too.
      let res = await patch(past.id, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal(res.body.item.active, true);
      res = await patch(soon.id, { expires_at: null });
      assert.equal(res.body.item.active, true);
    });

    it('refuses a second unrevoked ban of the same type and value (409), and allows it once the first is revoked', async () => {
      const value = `${uniq('dup')}@example.com`;
      const first = await create({ ban_type: 'email', ban_value: value });
      const dup = await api('/api/admin/bans', { body: { ban_type: 'email', ban_value: value.toUpperCase() } });
      assert.equal(dup.status, 409, dup.text);
      assert.equal(dup.body.error, 'Conflict');
      assert.equal(dup.body.field, 'ban_value');
      await patch(first.id, { revoked: true });
      const second = await create({ ban_type: 'email', ban_value: value });
      // Un-revoking the first would make two: refused.
      const clash = await patch(first.id, { revoked: false });
      assert.equal(clash.status, 409);
      assert.ok(second.id > first.id);
    });

    it('GET one, DELETE, 404 for unknown ids, 400 for bad ids', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('del') });
      const got = await api(`/api/admin/bans/${ban.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.item, ban);
      assert.match(got.headers.get('etag') ?? '', /^"\d+\.\d+"$/);
      const del = await api(`/api/admin/bans/${ban.id}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.deepEqual([del.body.ok, del.body.created, del.body.updated, del.body.deleted], [true, false, false, true]);
      assert.equal(del.body.item.id, ban.id);
      for (const [method, body] of [['GET', undefined], ['PATCH', { reason: 'x' }], ['DELETE', undefined]] as const) {
        const res = await api(`/api/admin/bans/${ban.id}`, { method, body });
        assert.equal(res.status, 404, `${method}: ${res.text}`);
        assert.deepEqual(res.body, { error: 'Not Found', message: 'The requested resource was not found', code: 404 });
      }
      for (const id of ['abc', '0', '-1', '99999999999', '1.5']) {
        const res = await api(`/api/admin/bans/${id}`);
        assert.equal(res.status, 400, id);
        assert.equal(res.body.error, 'invalid_params');
      }
    });

    it('versions bans: ETag on reads and writes, If-Match stale answers 412 and changes nothing', async () => {
      const res0 = await api('/api/admin/bans', { body: { ban_type: 'name', ban_value: uniq('etag') } });
      const etag = res0.headers.get('etag')!;
      const id = res0.body.item.id;
      const ok = await patch(id, { reason: 'one' }, { 'if-match': etag });
      assert.equal(ok.status, 200);
      const etag2 = ok.headers.get('etag')!;
      assert.notEqual(etag2, etag);
      const stale = await patch(id, { reason: 'two' }, { 'if-match': etag });
      assert.equal(stale.status, 412);
      assert.equal((await api(`/api/admin/bans/${id}`)).body.item.reason, 'one');
      assert.equal((await patch(id, { reason: 'three' }, { 'if-match': '*' })).status, 200);
      assert.equal((await api(`/api/admin/bans/${id}`, { method: 'DELETE', headers: { 'if-match': etag2 } })).status, 412);
      const current = (await api(`/api/admin/bans/${id}`)).headers.get('etag')!;
      assert.equal((await api(`/api/admin/bans/${id}`, { method: 'DELETE', headers: { 'if-match': current } })).status, 200);
    });

    it('answers 400 empty_patch when nothing is sent; unknown fields are ignored, never stored', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('empty') });
      for (const body of [{}, { favourite: 1 }]) {
        const res = await patch(ban.id, body);
        assert.equal(res.status, 400);
        assert.equal(res.body.reason, 'empty_patch');
      }
      const res = await patch(ban.id, { reason: 'x', id: 999, created_at: '1999-01-01T00:00:00Z', active: false });
      assert.equal(res.status, 200);
      assert.equal(res.body.item.id, ban.id);
      assert.equal(res.body.item.created_at, ban.created_at);
      assert.equal(res.body.item.active, true);
      // A patch that changes nothing is a success without a new version.
      const same = await patch(ban.id, { reason: 'x' });
      assert.equal(same.status, 200);
      assert.equal(same.body.item.version, res.body.item.version);
    });

    it('lists with filters (type, active, value prefix) and cursor pagination, newest first', async () => {
      const tag = uniq('list').toLowerCase();
      const made: number[] = [];
      for (let i = 0; i < 5; i++) made.push((await create({ ban_type: 'name', ban_value: `${tag}-${i}`, revoked: i === 4 })).id);
      made.push((await create({ ban_type: 'domain', ban_value: `${tag}.example.com` })).id);
      let res = await api(`/api/admin/bans?q=${tag}&type=name`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.items.map((b: { id: number }) => b.id), made.slice(0, 5).reverse());
      res = await api(`/api/admin/bans?q=${tag.toUpperCase()}`);
      assert.equal(res.body.items.length, 6);
      res = await api(`/api/admin/bans?q=${tag}&active=false`);
      assert.deepEqual(res.body.items.map((b: { id: number }) => b.id), [made[4]]);
      res = await api(`/api/admin/bans?q=${tag}&active=true&type=name`);
      assert.equal(res.body.items.length, 4);
      // Pages of two, following next_cursor, see each ban once.
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        res = await api(`/api/admin/bans?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200);
        assert.ok(res.body.items.length <= 2);
        seen.push(...res.body.items.map((b: { id: number }) => b.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, [...made].reverse());
      for (const q of ['type=phone', 'active=maybe', 'limit=0', 'limit=201', 'cursor=bogus', 'cursor=' + 'x'.repeat(100)]) {
        res = await api(`/api/admin/bans?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.error, 'invalid_params');
      }
    });

    it('keeps each ban\'s history in the audit log: who created, changed, revoked, unrevoked and deleted it', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('hist'), reason: 'first' });
      await http(s.url, `/api/admin/bans/${ban.id}`, { method: 'PATCH', ...asSession(admin), body: { reason: 'second' } });
      await patch(ban.id, { revoked: true, revoked_reason: 'appeal' });
      await patch(ban.id, { revoked: false });
      await api(`/api/admin/bans/${ban.id}`, { method: 'DELETE' });
      const res = await api(`/api/admin/bans/${ban.id}/history`);
      assert.equal(res.status, 200, res.text);
      const actions = res.body.items.map((e: { action: string }) => e.action);
      assert.deepEqual(actions, ['ban.deleted', 'ban.unrevoked', 'ban.revoked', 'ban.updated', 'ban.created']);
      const byAction = Object.fromEntries(res.body.items.map((e: { action: string }) => [e.action, e]));
      assert.equal(byAction['ban.updated'].actor.type, 'user');
      assert.equal(byAction['ban.updated'].actor.id, String(admin.userId));
      assert.equal(byAction['ban.updated'].before.reason, 'first');
      assert.equal(byAction['ban.updated'].after.reason, 'second');
      assert.equal(byAction['ban.created'].actor.type, 'api_token');
      assert.equal(byAction['ban.revoked'].after.revoked_reason, 'appeal');
      assert.equal(byAction['ban.deleted'].before.id, ban.id);
      const page = await api(`/api/admin/bans/${ban.id}/history?limit=2`);
      assert.equal(page.body.items.length, 2);
      const next = await api(`/api/admin/bans/${ban.id}/history?limit=2&cursor=${page.body.next_cursor}`);
      assert.deepEqual(next.body.items.map((e: { action: string }) => e.action), ['ban.revoked', 'ban.updated']);
      assert.equal((await api('/api/admin/bans/987654/history')).status, 404);
    });

    it('never answers 500 to bad input, and writes nothing on a refusal', async () => {
      const ban = await create({ ban_type: 'name', ban_value: uniq('bad') });
      const bodies: unknown[] = [
        { ban_type: 'email' },
        { ban_value: 'x' },
        { ban_type: 'email', ban_value: 7 },
        { ban_type: 'email', ban_value: '' },
        { ban_type: 'email', ban_value: ['a@b.com'] },
        { ban_type: 'email', ban_value: { $gt: '' } },
        { ban_type: 'ip', ban_value: '1.2.3.4', revoked: 'maybe' },
        { ban_type: 'ip', ban_value: '192.0.2.1', disable_matching_aliases: true },
        { ban_type: 'name', ban_value: 'a\u0000b' },
        { ban_type: 'name', ban_value: 'x', reason: 'bad\u0007bell' },
        { ban_type: 'name', ban_value: 'x'.repeat(100_000) },
        { ban_type: 'name', ban_value: 'x', expires_at: '9999999-01-01T00:00:00Z' },
        { ban_type: 'name', ban_value: 'x', expires_at: '+275760-09-13T00:00:00.000Z' },
        null,
        [],
        'string',
      ];
      for (const body of bodies) {
        const res = await api('/api/admin/bans', { body });
        assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)?.slice(0, 80)} -> ${res.status} ${res.text}`);
        assert.ok(res.body && typeof res.body.error === 'string');
      }
      const raws = ['{', '{"ban_type":"email","ban_value":"a@b.com","__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'];
      for (const raw of raws) {
        const res = await api('/api/admin/bans', { raw, headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 400, `${raw}: ${res.text}`);
      }
      for (const body of [{ ban_type: 'email' }, { expires_at: 'soon' }, { revoked: 2 }, { revoked: 'maybe' }, { reason: 5 }, { ban_value: null }, { ban_type: null }]) {
        const res = await patch(ban.id, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.text}`);
      }
      const after = await api(`/api/admin/bans/${ban.id}`);
      assert.deepEqual(after.body.item, ban);
      const big = await api('/api/admin/bans', { raw: JSON.stringify({ ban_type: 'name', ban_value: 'y'.repeat(200_000) }), headers: { 'content-type': 'application/json' } });
      assert.ok(big.status === 413 || big.status === 400, big.text);
    });
  });
}
