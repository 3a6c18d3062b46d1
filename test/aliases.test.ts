// Aliases (the resource bans act on): CRUD at /api/admin/aliases, refusal by matching bans, and the
// disable_matching_aliases cascade of ban create/update, on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser } from './helpers/admin.js';

const ITEM_KEYS = ['id', 'address', 'goto', 'active', 'created', 'modified'];
let seq = 0;
const uniq = (p: string) => `${p}${process.pid}x${Date.now().toString(36)}x${++seq}`.toLowerCase();

for (const { engine, skip } of engines()) {
  describe(`admin aliases and ban cascades [${engine}]`, { skip }, () => {
    let s: TestServer;
    const api = (path: string, req: Parameters<typeof http>[2] = {}) => http(s.url, path, { token: ADMIN_TOKEN, ...req });
    const alias = async (address: string, goto: string, extra: Record<string, unknown> = {}) => {
      const res = await api('/api/admin/aliases', { body: { address, goto, ...extra } });
      assert.equal(res.status, 201, res.text);
      return res.body.item;
    };
    const ban = (body: Record<string, unknown>) => api('/api/admin/bans', { body });
    const isActive = async (id: number) => (await api(`/api/admin/aliases/${id}`)).body.item.active === 1;

    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    it('ETag / If-Match: every write moves the tag on, a stale If-Match is 412 and changes nothing', async () => {
      const dest = `${uniq('etagdest')}@example.org`;
      const moved = `${uniq('etagmoved')}@example.org`;
      const a = await api('/api/admin/aliases', { body: { address: `${uniq('etag')}@relay.example.com`, goto: dest } });
      assert.equal(a.status, 201, a.text);
      const created = a.headers.get('etag');
      assert.match(created ?? '', /^"\d+\.1"$/);
      const id = a.body.item.id;
      const read = await api(`/api/admin/aliases/${id}`);
      assert.equal(read.headers.get('etag'), created);
      const stale = await api(`/api/admin/aliases/${id}`, { method: 'PATCH', body: { goto: moved }, headers: { 'if-match': `"${id}.7"` } });
      assert.equal(stale.status, 412, stale.text);
      assert.equal((await api(`/api/admin/aliases/${id}`)).body.item.goto, dest);
      const ok = await api(`/api/admin/aliases/${id}`, { method: 'PATCH', body: { goto: moved }, headers: { 'if-match': created! } });
      assert.equal(ok.status, 200, ok.text);
      const second = ok.headers.get('etag');
      assert.equal(second, `"${id}.2"`);
      // A ban's cascade is a write too: the tag moves on and the old one is stale.
      const cascade = await ban({ ban_type: 'email', ban_value: moved, disable_matching_aliases: true });
      assert.equal(cascade.status, 201, cascade.text);
      const afterBan = await api(`/api/admin/aliases/${id}`);
      assert.equal(afterBan.body.item.active, 0);
      assert.equal(afterBan.headers.get('etag'), `"${id}.3"`);
      const staleDelete = await api(`/api/admin/aliases/${id}`, { method: 'DELETE', headers: { 'if-match': second! } });
      assert.equal(staleDelete.status, 412, staleDelete.text);
      assert.equal((await api(`/api/admin/aliases/${id}`)).status, 200);
      const del = await api(`/api/admin/aliases/${id}`, { method: 'DELETE', headers: { 'if-match': afterBan.headers.get('etag')! } });
      assert.equal(del.status, 200, del.text);
      // Already inactive (the ban disabled it): the product's delete changes nothing and answers deleted:false.
      assert.equal(del.body.deleted, false);
      assert.equal((await api(`/api/admin/aliases/${id}`)).body.item.active, 0);
    });

    it('creates, reads, lists, updates and deletes aliases', async () => {
      const user = await createUser(s.url);
      const local = uniq('Hello');
      const res = await api('/api/admin/aliases', { body: { address: ` ${local}@Relay.Example.com `, goto: 'Dest@Example.org', user_id: user.id } });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual([res.body.ok, res.body.created, res.body.updated, res.body.deleted], [true, true, false, false]);
      const item = res.body.item;
      for (const k of ITEM_KEYS) assert.ok(k in item, `item.${k} missing`);
      assert.equal(item.address, `${local}@relay.example.com`);
      assert.equal(item.goto, 'dest@example.org');
      assert.equal(item.active, 1);
      assert.equal(item.user_id, user.id);
      assert.ok(!Number.isNaN(Date.parse(item.created)));
      assert.equal((await api(`/api/admin/aliases/${item.id}`)).body.item.address, item.address);

      const upd = await api(`/api/admin/aliases/${item.id}`, { method: 'PATCH', body: { goto: 'other@example.org', active: false } });
      assert.equal(upd.status, 200, upd.text);
      assert.deepEqual([upd.body.ok, upd.body.created, upd.body.updated, upd.body.deleted], [true, false, true, false]);
      assert.equal(upd.body.item.goto, 'other@example.org');
      assert.equal(upd.body.item.active, 0);
      assert.equal(upd.body.item.address, item.address);
      assert.ok(upd.body.item.modified >= item.modified);
      assert.equal((await api(`/api/admin/aliases/${item.id}`, { method: 'PATCH', body: { active: 1 } })).body.item.active, 1);
      assert.equal((await api(`/api/admin/aliases/${item.id}`, { method: 'PATCH', body: { user_id: null } })).body.item.user_id, null);

      const list = await api(`/api/admin/aliases?q=${local}`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.items.map((a: { id: number }) => a.id), [item.id]);

      const del = await api(`/api/admin/aliases/${item.id}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      // As the product deletes an alias: deactivated, kept, its address still taken (issue 18).
      assert.equal(del.body.item.active, 0);
      const gone = await api(`/api/admin/aliases/${item.id}`);
      assert.deepEqual([gone.status, gone.body.item.active], [200, 0]);
      const twice = await api(`/api/admin/aliases/${item.id}`, { method: 'DELETE' });
      assert.deepEqual([twice.status, twice.body.deleted], [200, false]);
      assert.equal((await api(`/api/admin/aliases/${9_000_000}`, { method: 'DELETE' })).status, 404);
    });

    it('validates aliases: mailboxes, uniqueness, owner, empty patch, bad input never 500', async () => {
      const a = await alias(`${uniq('v')}@relay.example.com`, 'x@example.org');
      const dup = await api('/api/admin/aliases', { body: { address: a.address.toUpperCase(), goto: 'y@example.org' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.field, 'address');
      const cases: Array<[unknown, string]> = [
        [{ address: 'not-an-email', goto: 'x@example.org' }, 'address'],
        [{ address: `${uniq('v')}@relay.example.com`, goto: 'example_string' }, 'goto'],
        [{ address: 'self@example.com', goto: 'SELF@example.com' }, 'goto'],
        [{ address: `${uniq('v')}@relay.example.com`, goto: 'x@example.org', user_id: 999999 }, 'user_id'],
        [{ goto: 'x@example.org' }, 'address'],
        [{ address: `${uniq('v')}@relay.example.com`, goto: 'x@example.org', active: 'maybe' }, 'active'],
      ];
      for (const [body, field] of cases) {
        const res = await api('/api/admin/aliases', { body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.field, field, JSON.stringify(body));
      }
      for (const body of [{}, { unknown: 1 }]) {
        const res = await api(`/api/admin/aliases/${a.id}`, { method: 'PATCH', body });
        assert.equal(res.status, 400);
        assert.equal(res.body.reason, 'empty_patch');
      }
      for (const body of [{ goto: 5 }, { address: null }, { address: 'a\u0000b@example.com' }, { goto: 'z'.repeat(10_000) }]) {
        const res = await api(`/api/admin/aliases/${a.id}`, { method: 'PATCH', body });
        assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body).slice(0, 60)}: ${res.text}`);
      }
      for (const path of ['/api/admin/aliases/abc', '/api/admin/aliases/0', '/api/admin/aliases?limit=0', '/api/admin/aliases?cursor=zz', '/api/admin/aliases?active=perhaps']) {
        assert.equal((await api(path)).status, 400, path);
      }
      assert.equal((await http(s.url, '/api/admin/aliases')).status, 401);
      assert.deepEqual((await api(`/api/admin/aliases/${a.id}`)).body.item, a);
    });

    it('pages aliases with a cursor and filters by goto, active and owner', async () => {
      const tag = uniq('page');
      const owner = await createUser(s.url);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await alias(`${tag}-${i}@relay.example.com`, `${tag}@example.org`, { active: i !== 2, user_id: i < 2 ? owner.id : null })).id);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await api(`/api/admin/aliases?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...res.body.items.map((a: { id: number }) => a.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, ids);
      assert.equal((await api(`/api/admin/aliases?goto=${tag.toUpperCase()}@example.org`)).body.items.length, 5);
      assert.deepEqual((await api(`/api/admin/aliases?q=${tag}&active=false`)).body.items.map((a: { id: number }) => a.id), [ids[2]]);
      assert.deepEqual((await api(`/api/admin/aliases?user_id=${owner.id}`)).body.items.map((a: { id: number }) => a.id), ids.slice(0, 2));
    });

    it('matching bans refuse alias creation: email ban on goto, domain ban on goto\'s domain or parent, name ban on the local part', async () => {
      const dom = `${uniq('bad')}.example`;
      const mailbox = `${uniq('mb')}@example.net`;
      const name = uniq('spammy');
      assert.equal((await ban({ ban_type: 'email', ban_value: mailbox })).status, 201);
      assert.equal((await ban({ ban_type: 'domain', ban_value: dom })).status, 201);
      assert.equal((await ban({ ban_type: 'name', ban_value: name.toUpperCase() })).status, 201);
      const refused: Array<[string, string, string]> = [
        [`${uniq('a')}@relay.example.com`, mailbox.toUpperCase(), 'email'],
        [`${uniq('a')}@relay.example.com`, `x@${dom}`, 'domain'],
        [`${uniq('a')}@relay.example.com`, `x@deep.sub.${dom}`, 'domain'],
        [`${name}@relay.example.com`, 'fine@example.org', 'name'],
      ];
      for (const [address, goto, type] of refused) {
        const res = await api('/api/admin/aliases', { body: { address, goto } });
        assert.equal(res.status, 403, `${address} → ${goto}: ${res.text}`);
        assert.equal(res.body.error, 'banned');
        assert.equal(res.body.ban.ban_type, type);
      }
      // Look-alikes pass.
      await alias(`${uniq('a')}@relay.example.com`, `x@not${dom}`);
      await alias(`${name}x@relay.example.com`, 'fine@example.org');
      // A change that would make an alias match is refused too, and so is re-activating one that matches.
      const ok = await alias(`${uniq('a')}@relay.example.com`, 'fine@example.org');
      const moved = await api(`/api/admin/aliases/${ok.id}`, { method: 'PATCH', body: { goto: `y@${dom}` } });
      assert.equal(moved.status, 403);
      const inactive = await alias(`${uniq('a')}@relay.example.com`, `z@${dom}`, { active: false });
      assert.equal(inactive.active, 0, 'an inactive alias can be recorded');
      assert.equal((await api(`/api/admin/aliases/${inactive.id}`, { method: 'PATCH', body: { active: true } })).status, 403);
    });

    it('disable_matching_aliases on create deactivates every active alias the ban matches, in one transaction, with the count', async () => {
      const dom = `${uniq('casc')}.example`;
      const matching = [
        await alias(`${uniq('c')}@relay.example.com`, `one@${dom}`),
        await alias(`${uniq('c')}@relay.example.com`, `two@mail.${dom}`),
        await alias(`${uniq('c')}@relay.example.com`, `three@${dom.toUpperCase()}`),
      ];
      const already = await alias(`${uniq('c')}@relay.example.com`, `four@${dom}`, { active: false });
      const other = await alias(`${uniq('c')}@relay.example.com`, `five@x${dom}`);
      const res = await ban({ ban_type: 'domain', ban_value: dom, disable_matching_aliases: true });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.disabled_aliases, 3);
      assert.equal(res.body.message, 'Ban created. Also, 3 matching aliases were disabled.', "the product's wording");
      for (const a of matching) assert.equal(await isActive(a.id), false);
      assert.equal(await isActive(already.id), false);
      assert.equal(await isActive(other.id), true);
      // The audit log names the ban that disabled each alias.
      const audit = await api(`/api/admin/bans/${res.body.item.id}/history`);
      assert.equal(audit.body.items[0].after.disabled_aliases, 3);
    });

    it('email and name bans cascade by goto and by local part; zero matches reports 0', async () => {
      const mailbox = `${uniq('m')}@example.net`;
      const a1 = await alias(`${uniq('e')}@relay.example.com`, mailbox);
      const a2 = await alias(`${uniq('e')}@relay.example.com`, mailbox);
      let res = await ban({ ban_type: 'email', ban_value: mailbox, disable_matching_aliases: true });
      assert.equal(res.body.disabled_aliases, 2);
      assert.equal(await isActive(a1.id), false);
      assert.equal(await isActive(a2.id), false);
      const local = uniq('Local');
      const n1 = await alias(`${local}@relay.example.com`, 'a@example.org');
      const n2 = await alias(`${local.toUpperCase()}@other.example.com`, 'b@example.org');
      const n3 = await alias(`${local}x@relay.example.com`, 'c@example.org');
      res = await ban({ ban_type: 'name', ban_value: local, disable_matching_aliases: true });
      assert.equal(res.body.disabled_aliases, 2);
      assert.deepEqual([await isActive(n1.id), await isActive(n2.id), await isActive(n3.id)], [false, false, true]);
      res = await ban({ ban_type: 'name', ban_value: uniq('nobody'), disable_matching_aliases: true });
      assert.equal(res.body.disabled_aliases, 0);
      assert.equal(typeof res.body.message, 'string');
    });

    it('disable_matching_aliases on update cascades for the new value; it is refused (400) for ip bans', async () => {
      const mailbox = `${uniq('u')}@example.net`;
      const a = await alias(`${uniq('u')}@relay.example.com`, mailbox);
      const created = await ban({ ban_type: 'email', ban_value: `${uniq('other')}@example.net` });
      const res = await api(`/api/admin/bans/${created.body.item.id}`, { method: 'PATCH', body: { ban_value: mailbox, disable_matching_aliases: true } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.disabled_aliases, 1);
      assert.equal(await isActive(a.id), false);
      // Only the flag: the cascade runs for the current value.
      await api(`/api/admin/aliases/${a.id}`, { method: 'DELETE' });
      const b = await ban({ ban_type: 'email', ban_value: `${uniq('later')}@example.net` });
      const later = await alias(`${uniq('u')}@relay.example.com`, `${uniq('z')}@example.org`);
      await api(`/api/admin/aliases/${later.id}`, { method: 'PATCH', body: { goto: b.body.item.ban_value, active: false } });
      await s.core.store.db.updateTable('aliases').set({ active: 1 }).where('id', '=', later.id).execute();
      const only = await api(`/api/admin/bans/${b.body.item.id}`, { method: 'PATCH', body: { disable_matching_aliases: true } });
      assert.equal(only.status, 200, only.text);
      assert.equal(only.body.disabled_aliases, 1);

      const ipCreate = await ban({ ban_type: 'ip', ban_value: '192.0.2.99', disable_matching_aliases: true });
      assert.equal(ipCreate.status, 400);
      assert.equal(ipCreate.body.field, 'disable_matching_aliases');
      const ip = await ban({ ban_type: 'ip', ban_value: '192.0.2.98' });
      const ipPatch = await api(`/api/admin/bans/${ip.body.item.id}`, { method: 'PATCH', body: { reason: 'x', disable_matching_aliases: true } });
      assert.equal(ipPatch.status, 400);
      assert.equal(ipPatch.body.field, 'disable_matching_aliases');
      assert.equal((await api(`/api/admin/bans/${ip.body.item.id}`)).body.item.reason, null, 'the refused patch wrote nothing');
      // Turning a name ban into an ip ban while asking for the cascade: refused too.
      const nb = await ban({ ban_type: 'name', ban_value: '192.0.2.97' });
      assert.equal((await api(`/api/admin/bans/${nb.body.item.id}`, { method: 'PATCH', body: { ban_type: 'ip', disable_matching_aliases: true } })).status, 400);
      // false is simply no cascade.
      assert.equal((await ban({ ban_type: 'ip', ban_value: '192.0.2.96', disable_matching_aliases: false })).status, 201);
    });

    it('a refused ban write disables nothing (same transaction)', async () => {
      const mailbox = `${uniq('tx')}@example.net`;
      const a = await alias(`${uniq('tx')}@relay.example.com`, mailbox);
      assert.equal((await ban({ ban_type: 'email', ban_value: mailbox, revoked: true })).status, 201);
      const first = await ban({ ban_type: 'email', ban_value: mailbox });
      assert.equal(first.status, 201);
      // The same active ban again: 409, and the cascade it asked for did not happen.
      await s.core.store.db.updateTable('aliases').set({ active: 1 }).where('id', '=', a.id).execute();
      const dup = await ban({ ban_type: 'email', ban_value: mailbox, disable_matching_aliases: true });
      assert.equal(dup.status, 409);
      assert.equal(await isActive(a.id), true);
      // An inactive ban disables nothing either.
      const expired = await ban({ ban_type: 'email', ban_value: `x${mailbox}`, expires_at: '2020-01-01T00:00:00Z', disable_matching_aliases: true });
      assert.equal(expired.body.disabled_aliases, 0);
    });
  });
}
