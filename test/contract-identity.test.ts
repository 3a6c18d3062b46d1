// Contract coverage (docs/contracts.md "Shared core rules": emails and usernames): the same rules on every surface
// that takes them. Emails are trimmed, stored case-folded, unique across the whole deployment whatever the
// surface that made them, and validated as mailboxes (local part <= 64, a domain with a TLD, <= 254 in
// all). Usernames are trimmed, unique case-insensitively across surfaces, without "@" or control characters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http, type Req, type Res } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';
import { addMember, createTenant, v1 } from './helpers/directory.js';

let lengthCounter = 0;
/** A unique mailbox of exactly `length` characters with a 64-character local part (labels at most 63). */
function mailboxOfLength(length: number): string {
  const local = `m${process.pid}x${Date.now().toString(36)}x${++lengthCounter}`.padEnd(64, 'l');
  const labels: string[] = [];
  let rest = length - 64 - 1 - 4;
  while (rest > 63) {
    labels.push('d'.repeat(62));
    rest -= 63;
  }
  labels.push('d'.repeat(rest));
  return `${local}@${labels.join('.')}.com`;
}

for (const { engine, skip } of engines()) {
  describe(`contract: emails and usernames on every surface [${engine}]`, { skip }, () => {
    let s: TestServer;
    let tenant: { id: number };
    let accountCookie: string;
    let accountId: number;
    let target: { id: number; email: string };

    before(async () => {
      s = await startServer(engine);
      tenant = await createTenant(s.url);
      const up = await http(s.url, '/api/auth/sign-up', { body: { email: uniqueEmail('acct'), password: 'acct-pass-1' } });
      accountCookie = `neptun-session=${up.cookies['neptun-session']}`;
      accountId = up.body.user.id;
      target = await createUser(s.url, { password: 'target-pass-1' });
      await addMember(s.url, tenant.id, target.id);
    });
    after(async () => s?.close());

    const ua = (path: string, r: Req = {}) => http(s.url, path, { ...r, headers: { authorization: ADMIN_TOKEN, ...(r.headers ?? {}) } });
    const dir = (path: string, r: { method?: string; body?: unknown } = {}) => v1(s.url, path, { token: ADMIN_TOKEN, tenant: tenant.id, ...r });
    const userCount = async () => Number((await s.store.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    /** Every route that sets an email, with the email given. */
    const emailWriters = (email: string): Array<[string, () => Promise<Res>]> => [
      ['admin POST', () => http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email, password: 'some-pass-1' } })],
      ['admin PATCH', () => http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email } })],
      ['account sign-up', () => http(s.url, '/api/auth/sign-up', { body: { email, password: 'some-pass-1' } })],
      ['account PATCH', async () => {
        const r = await http(s.url, `/api/users/${accountId}`, { method: 'PATCH', cookie: accountCookie, body: { email } });
        // An email change refreshes the session: carry the new cookie on.
        if (r.cookies['neptun-session']) accountCookie = `neptun-session=${r.cookies['neptun-session']}`;
        return r;
      }],
      ['directory POST', () => dir('/users', { body: { name: 'Someone', email, password: 'some-pass-1', password_confirmation: 'some-pass-1' } })],
      ['directory PUT', () => dir(`/users/${target.id}`, { method: 'PUT', body: { email } })],
      ['user-admin POST', () => ua('/api/admin/user-admin', { body: { email, rootRole: 'Viewer' } })],
      ['user-admin PUT', () => ua(`/api/admin/user-admin/${target.id}`, { method: 'PUT', body: { email } })],
    ];
    const conflictStatus: Record<string, number> = {
      'admin POST': 409, 'admin PATCH': 409, 'account sign-up': 409, 'account PATCH': 409,
      'directory POST': 422, 'directory PUT': 422, 'user-admin POST': 409, 'user-admin PUT': 409,
    };

    it('an email taken through one surface is taken on every surface, in any case', async () => {
      const local = `Taken.${process.pid}.${Date.now().toString(36)}`;
      const made = await http(s.url, '/api/auth/sign-up', { body: { email: `${local}@Example.COM`, password: 'taken-pass-1' } });
      assert.equal(made.status, 200, made.text);
      const row = await s.store.db.selectFrom('users').select(['email', 'email_key']).where('id', '=', made.body.user.id).executeTakeFirstOrThrow();
      assert.equal(row.email_key, `${local}@example.com`.toLowerCase(), 'stored case-folded');
      const count = await userCount();
      for (const [where, run] of emailWriters(`${local.toUpperCase()}@example.com`)) {
        const res = await run();
        assert.equal(res.status, conflictStatus[where], `${where}: ${res.status} ${res.text.slice(0, 200)}`);
        if (where.startsWith('directory')) assert.ok(res.body.errors?.email, `${where}: 422 names email`);
      }
      assert.equal(await userCount(), count, 'no user made');
      const t = await s.store.db.selectFrom('users').select('email').where('id', '=', target.id).executeTakeFirstOrThrow();
      assert.equal(t.email, target.email, 'no email changed');
    });

    it('emails are trimmed and case-folded on every surface that sets them', async () => {
      for (const [where, run] of emailWriters('')) {
        const email = uniqueEmail(`trim-${where.replace(/\W+/g, '-')}`);
        const spaced = `  ${email.toUpperCase()}  `;
        const res = await emailWriters(spaced).find(([w]) => w === where)![1]();
        assert.ok(res.status === 200 || res.status === 201, `${where}: a padded, upper-case email is accepted: ${res.status} ${res.text.slice(0, 200)}`);
        const found = await s.store.db.selectFrom('users').select(['email', 'email_key']).where('email_key', '=', email.toLowerCase()).executeTakeFirst();
        assert.ok(found, `${where}: stored under its trimmed, case-folded key`);
        assert.equal(found.email!.trim(), found.email, `${where}: stored trimmed`);
        void run;
      }
    });

    it('mailbox validation is the same on every surface (local part 64/65, TLD, 254/255 in all)', async () => {
      const local65 = 'l'.repeat(65);
      const bad = [`${local65}@example.com`, 'someone@localhost', 'no-at-sign.example.com', 'a@b@example.com', mailboxOfLength(255)];
      assert.equal(bad[4].length, 255);
      const count = await userCount();
      for (const email of bad) {
        for (const [where, run] of emailWriters(email)) {
          const res = await run();
          assert.ok(res.status === 400 || res.status === 422, `${where} ${email.slice(0, 20)}…(${email.length}): ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
      assert.equal(await userCount(), count);
      // 254 in all, local part 64: accepted everywhere it creates.
      const ok = (_n: number) => mailboxOfLength(254);
      assert.equal(ok(1).length, 254);
      assert.equal(ok(1).split('@')[0].length, 64);
      let n = 0;
      for (const [where, run] of emailWriters('').filter(([w]) => w.endsWith('POST') || w.endsWith('sign-up'))) {
        const email = ok(++n);
        const res = await emailWriters(email).find(([w]) => w === where)![1]();
        assert.ok(res.status === 200 || res.status === 201, `${where}: a 254-character mailbox is accepted: ${res.status} ${res.text.slice(0, 200)}`);
        void run;
      }
    });

    it('usernames: trimmed, unique case-insensitively across surfaces, no "@", no control characters', async () => {
      const base = `Uname${process.pid}${Date.now().toString(36)}`;
      const a = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail('un'), password: 'uname-pass-1', username: `  ${base}  ` } });
      assert.equal(a.status, 201, a.text);
      assert.equal(a.body.item.username, base, 'trimmed on the admin surface');
      const dup = await ua('/api/admin/user-admin', { body: { email: uniqueEmail('un'), username: base.toLowerCase(), rootRole: 'Viewer' } });
      assert.equal(dup.status, 409, `user-admin refuses a username taken on the admin surface: ${dup.text}`);
      const b = await ua('/api/admin/user-admin', { body: { email: uniqueEmail('un'), username: `  ${base}b  `, rootRole: 'Viewer' } });
      assert.equal(b.status, 201, b.text);
      assert.equal(b.body.username, `${base}b`, 'trimmed on the user-admin surface');
      const dup2 = await http(s.url, `/api/admin/users/${a.body.item.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: `${base}B`.toUpperCase() } });
      assert.equal(dup2.status, 409, `the admin surface refuses a username taken on the user-admin surface: ${dup2.text}`);

      const count = await userCount();
      for (const bad of ['with@at', `tab\there`, 'new\nline', 'bell\u0007', 'del\u007f', 'c1\u0085x', 'nul\u0000x']) {
        const r1 = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail('un'), password: 'uname-pass-1', username: bad } });
        assert.equal(r1.status, 400, `admin POST ${JSON.stringify(bad)}: ${r1.status} ${r1.text.slice(0, 200)}`);
        const r2 = await http(s.url, `/api/admin/users/${target.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { username: bad } });
        assert.equal(r2.status, 400, `admin PATCH ${JSON.stringify(bad)}: ${r2.status}`);
        const r3 = await ua('/api/admin/user-admin', { body: { email: uniqueEmail('un'), username: bad, rootRole: 'Viewer' } });
        assert.equal(r3.status, 400, `user-admin POST ${JSON.stringify(bad)}: ${r3.status} ${r3.text.slice(0, 200)}`);
      }
      assert.equal(await userCount(), count);
    });
  });
}
