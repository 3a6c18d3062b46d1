// The per-request statement budget of the hot admin routes, and PostgreSQL named statements. Counts, not
// timings: GET /api/admin/users/:id is one statement (the credential check and the user read together),
// a profile PATCH two (that read, then the version-guarded UPDATE with its audit INSERT), whether the
// caller comes with a bearer token or a session cookie. The reads made together with the credentials must
// never leak past a refused credential. Named statements: each parameterised SQL text is prepared once
// per connection, except those marked to be planned per execution. SQLite rows, read as arrays, are the
// objects better-sqlite3 would give, also after a schema change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { asSession, createUser, signIn, type AdminSession } from './helpers/admin.js';
import { fixedQuery, sqliteText, StatementNames } from '../src/store/statements.js';
import { listUserRows } from '../src/core/users/store.js';
import { seedUsers } from '../bench/seed.js';

// Every statement the in-process server sends to PostgreSQL while `recording` is on.
const sent: Array<{ text: string; named: boolean; values: unknown[] }> = [];
/** While recording: "sent:<i>" as statement i goes to the client, "done:<i>" when its answer is in. */
const timeline: string[] = [];
let recording = false;
const originalQuery = pg.Client.prototype.query;
(pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  if (recording) {
    const first = args[0] as string | { text?: string; name?: string };
    const text = typeof first === 'string' ? first : String(first?.text ?? '');
    const values = (typeof first === 'object' && first !== null ? (first as { values?: unknown[] }).values : args[1]) as unknown[] | undefined;
    sent.push({ text, named: typeof first === 'object' && first !== null && typeof first.name === 'string', values: values ?? [] });
    const i = sent.length - 1;
    timeline.push(`sent:${i}`);
    const out = (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      (out as Promise<unknown>).then(() => timeline.push(`done:${i}`), () => timeline.push(`done:${i}`));
    }
    return out;
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
};

async function statementsOf<T>(work: () => Promise<T>): Promise<{ result: T; statements: typeof sent }> {
  sent.length = 0;
  timeline.length = 0;
  recording = true;
  try {
    const result = await work();
    // The node's webhook subscription list is read again at most every SUBSCRIPTION_TTL_MS (2 s), by
    // whichever audited change comes first after that: a cost per node per interval, not per request.
    return { result, statements: sent.filter((x) => !/from "webhooks"/.test(x.text)) };
  } finally {
    recording = false;
  }
}

describe('named statements: which SQL texts get a name', () => {
  it('parameterised texts are named, the same text always with the same name', () => {
    const names = new StatementNames();
    const a = names.nameOf('select * from users where id = $1', [1]);
    assert.match(a ?? '', /^gh_[A-Za-z0-9_-]{22}$/);
    assert.equal(names.nameOf('select * from users where id = $1', [2]), a);
    assert.notEqual(names.nameOf('select * from users where email_key = $1', ['x']), a);
  });
  it('statements without parameters and texts past the caps are not', () => {
    const names = new StatementNames();
    assert.equal(names.nameOf('begin', []), undefined);
    assert.equal(names.nameOf('commit', undefined), undefined);
    assert.equal(names.nameOf(`select ${'1, '.repeat(9000)}$1`, [1]), undefined);
    for (let i = 0; i < 600; i++) names.nameOf(`select $1::int + ${i}`, [1]);
    assert.equal(names.size, 500);
    assert.equal(names.nameOf('select $1::int + 599', [1]), undefined, 'past the budget: sent unnamed');
    assert.notEqual(names.nameOf('select $1::int + 1', [1]), undefined, 'names given before the budget ran out stay');
  });
});

for (const { engine, skip } of engines()) {
  describe(`hot routes read the target user with the credentials [${engine}]`, { skip }, () => {
    let s: TestServer;
    let admin: AdminSession;
    before(async () => {
      s = await startServer(engine);
      admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
    after(async () => s?.close());

    it('GET and PATCH answer from the joined read exactly as from a plain one (token and cookie)', async () => {
      const user = await createUser(s.url, { name: 'Joined Read' });
      const byToken = await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
      assert.equal(byToken.status, 200);
      assert.deepEqual(byToken.body.item, user);
      const patched = await http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', body: { name: 'Renamed Once' }, ...asSession(admin) });
      assert.equal(patched.status, 200, patched.text);
      const again = await http(s.url, `/api/admin/users/${user.id}`, { cookie: admin.cookie });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.item, patched.body.item, 'the PATCH answer is the row as stored');
      assert.equal(again.headers.get('etag'), patched.headers.get('etag'));
      assert.equal(again.body.item.name, 'Renamed Once');
    });

    it('an unknown user is 404, and a refused credential is 401/403 with nothing of the user', async () => {
      const missing = await http(s.url, '/api/admin/users/999999999', { token: ADMIN_TOKEN });
      assert.equal(missing.status, 404);
      const user = await createUser(s.url, { name: 'Secret Person', username: 'secret.person' });
      const badToken = await http(s.url, `/api/admin/users/${user.id}`, { token: 'gha_not_a_real_token_0000000000000' });
      assert.equal(badToken.status, 401);
      assert.doesNotMatch(badToken.text, /Secret Person|secret\.person/);
      const badPatch = await http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', token: 'gha_not_a_real_token_0000000000000', body: { name: 'x' } });
      assert.equal(badPatch.status, 401);
      // A signed-in member (no ADMIN permission) is refused before the row read with their session is used.
      await createUser(s.url, { email: 'member.joined@example.com', password: 'member-password-1' });
      const member = await signIn(s.url, 'member.joined@example.com', 'member-password-1');
      const asMember = await http(s.url, `/api/admin/users/${user.id}`, { cookie: member.cookie });
      assert.equal(asMember.status, 403);
      assert.doesNotMatch(asMember.text, /Secret Person|secret\.person/);
      const memberPatch = await http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', body: { name: 'x' }, ...asSession(member) });
      assert.equal(memberPatch.status, 403);
      const unchanged = await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
      assert.equal(unchanged.body.item.name, 'Secret Person');
      // A signed-out session stops at once, also on these routes.
      const out = await http(s.url, '/api/auth/sign-out', { method: 'POST', ...asSession(member) });
      assert.ok(out.status === 200 || out.status === 204, out.text);
      const afterOut = await http(s.url, `/api/admin/users/${user.id}`, { cookie: member.cookie });
      assert.equal(afterOut.status, 401);
    });

    it('a fixed query is compiled once and fills in its values on every call; an unused value is refused', async () => {
      const byEmail = fixedQuery<[string, number], { id: number; email: string }>(2, (ex, email, limit) =>
        ex.selectFrom('users').select(['id', 'email']).where('email_key', '=', email).where('is_active', '=', 1).limit(limit));
      const a = await createUser(s.url, { name: 'Fixed A' });
      const b = await createUser(s.url, { name: 'Fixed B' });
      assert.deepEqual(await byEmail.execute(s.store.db, engine, a.email.toLowerCase(), 5), [{ id: a.id, email: a.email }]);
      assert.deepEqual(await byEmail.execute(s.store.db, engine, b.email.toLowerCase(), 5), [{ id: b.id, email: b.email }]);
      assert.deepEqual(await byEmail.execute(s.store.db, engine, b.email.toLowerCase(), 0), []);
      const careless = fixedQuery<[number, number], { id: number }>(2, (ex, id) => ex.selectFrom('users').select('id').where('id', '=', id));
      await assert.rejects(careless.execute(s.store.db, engine, 1, 2), /value 1 is not used/);
    });

    it('prefix search pages equal a brute-force search in search order (key, then id; each user once), cursor by cursor', async () => {
      await seedUsers(s.store, 12_000, { hash: 'not-a-real-hash' });
      // Some seeded users deleted: a search never shows them.
      await s.store.db.updateTable('users').set({ deleted_at: new Date().toISOString() }).where('id', 'in', [20, 21, 5000, 9000, 9001]).execute();
      // Ties between a user's keys (username = name) and missing keys.
      for (const [username, name, email] of [['tie.user', 'tie.user', 'tie.user@example.com'], [null, 'tie person', 'tie.x@example.com'], ['tie.noname', null, null], ['mary.tie', 'mary.tie', 'mary.tie@example.com']]) {
        await s.store.db.insertInto('users').values({
          username, username_key: username, name, name_key: name, email, email_key: email, root_role_id: 3, created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
        } as never).execute();
      }
      const KEYS = ['email_key', 'username_key', 'name_key'] as const;
      const all = await s.store.db.selectFrom('users').select(['id', 'email_key', 'username_key', 'name_key', 'deleted_at', 'is_active']).orderBy('id').execute();
      const live = all.filter((u) => u.deleted_at === null);
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      // Each matching user once, at its smallest matching key (email, then username, then name on a tie).
      const search = (prefix: string, isActive?: boolean) =>
        live
          .filter((u) => isActive === undefined || (u.is_active === 1) === isActive)
          .flatMap((u) => {
            const hits = KEYS.map((k, rank) => ({ key: u[k], rank })).filter((h): h is { key: string; rank: number } => h.key !== null && h.key.startsWith(prefix));
            hits.sort((a, b) => cmp(a.key, b.key) || a.rank - b.rank);
            return hits.length > 0 ? [{ id: u.id, key: hits[0].key }] : [];
          })
          .sort((a, b) => cmp(a.key, b.key) || a.id - b.id);
      const prefixes = ['mary', 'mary.s', 'mary.smith', 'mary s', 'mary.tie', 'tie', 'tie.', 'james.j', 'zzz', 'm'];
      for (const prefix of prefixes) {
        for (const isActive of [undefined, false]) {
          const expected = search(prefix, isActive);
          for (const limit of [1, 10, 51]) {
            for (const shape of ['full', 'summary'] as const) {
              // Every page, each continuing after the last row of the one before, until a short page.
              const got: Array<{ id: number; key: string }> = [];
              let after: { id: number; key: string } | undefined;
              for (let pages = 0; ; pages++) {
                assert.ok(pages <= expected.length + 1, 'pages end');
                const rows = await listUserRows(s.store.db, engine, { limit, q: prefix, afterId: after?.id, afterKey: after?.key, isActive }, shape);
                got.push(...rows.map((r) => ({ id: r.id, key: r.search_key! })));
                if (rows.length > 0) {
                  assert.equal('password_hash' in rows[0], shape === 'full', 'a summary page reads no password hash');
                }
                if (rows.length < limit) break;
                after = got[got.length - 1];
                // Long pagings are checked on their first pages and from a cursor in the middle (below).
                if (got.length >= 300) break;
              }
              assert.deepEqual(got, expected.slice(0, got.length), `${prefix} limit ${limit} ${shape} active=${isActive}`);
              if (got.length < 300) assert.equal(got.length, expected.length, `${prefix} limit ${limit}: every match`);
            }
          }
          // From cursors anywhere in the results, including the last one (then nothing follows).
          for (const at of [0, Math.floor(expected.length / 2), expected.length - 3, expected.length - 1]) {
            if (at < 0 || at >= expected.length) continue;
            const rows = await listUserRows(s.store.db, engine, { limit: 51, q: prefix, afterId: expected[at].id, afterKey: expected[at].key, isActive }, 'summary');
            assert.deepEqual(rows.map((r) => r.id), expected.slice(at + 1, at + 52).map((e) => e.id), `${prefix} after #${at}`);
          }
        }
      }
    });

    it('a malformed or out-of-range id still gets the route\'s own 400/404, not a joined read', async () => {
      for (const id of ['abc', '0', '-1', '2147483648', '99999999999999999999']) {
        const res = await http(s.url, `/api/admin/users/${id}`, { token: ADMIN_TOKEN });
        assert.ok(res.status === 400 || res.status === 404, `${id}: ${res.status} ${res.text}`);
      }
    });

    it('PostgreSQL: GET is one statement, a profile PATCH two, with a token or a cookie, all named', { skip: engine !== 'postgres' }, async () => {
      const user = await createUser(s.url, { name: 'Counted' });
      // Warm up: the bans cache and the token's last-used stamp may add a statement on a first request.
      await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
      await http(s.url, `/api/admin/users/${user.id}`, { cookie: admin.cookie });

      const get = await statementsOf(() => http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN }));
      assert.equal(get.result.status, 200);
      assert.equal(get.statements.length, 1, get.statements.map((x) => x.text).join('\n'));
      const getCookie = await statementsOf(() => http(s.url, `/api/admin/users/${user.id}`, { cookie: admin.cookie }));
      assert.equal(getCookie.result.status, 200);
      assert.equal(getCookie.statements.length, 1, getCookie.statements.map((x) => x.text).join('\n'));

      const patch = await statementsOf(() => http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'Counted Twice' } }));
      assert.equal(patch.result.status, 200, patch.result.text);
      assert.equal(patch.statements.length, 2, patch.statements.map((x) => x.text).join('\n'));
      assert.match(patch.statements[1].text, /update "users"/);
      assert.match(patch.statements[1].text, /insert into "audit_events"/);
      const patchCookie = await statementsOf(() => http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', body: { name: 'Counted Thrice' }, ...asSession(admin) }));
      assert.equal(patchCookie.result.status, 200, patchCookie.result.text);
      assert.equal(patchCookie.statements.length, 2, patchCookie.statements.map((x) => x.text).join('\n'));
      for (const st of [...get.statements, ...getCookie.statements, ...patch.statements, ...patchCookie.statements]) {
        assert.ok(st.named, `sent as a named statement: ${st.text.slice(0, 80)}`);
      }
      // The audit event of each went in with it.
      const events = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${user.id}&action=user.updated`, { token: ADMIN_TOKEN });
      assert.equal(events.status, 200, events.text);
      assert.equal(events.body.items.length, 2);
    });

    it('PostgreSQL: a list page is read along with the credential check, both sent before either answers; a made-up token sends the check alone', { skip: engine !== 'postgres' }, async () => {
      for (let i = 0; i < 7; i++) await createUser(s.url, { name: `Along ${i}` });
      const path = '/api/admin/users?limit=5';
      // First use of the token in this process: the check alone, then the page (and the last-used stamp).
      const first = await http(s.url, path, { token: ADMIN_TOKEN });
      assert.equal(first.status, 200, first.text);
      await http(s.url, path, { cookie: admin.cookie });
      for (const auth of [{ token: ADMIN_TOKEN }, { cookie: admin.cookie }]) {
        const run = await statementsOf(() => http(s.url, path, auth));
        assert.equal(run.result.status, 200, run.result.text);
        assert.deepEqual(run.result.body, first.body, 'the same page as when read after the check');
        const texts = run.statements.map((x) => x.text).join('\n');
        assert.equal(run.statements.length, 2, texts);
        assert.match(run.statements[0].text, 'token' in auth ? /from "api_tokens"/ : /from "sessions"/);
        assert.match(run.statements[1].text, /from "users" where "deleted_at" is null order by "id" limit/);
        // One round trip: the page went out before the check's answer came back.
        assert.ok(timeline.indexOf('sent:1') < timeline.indexOf('done:0'), timeline.join(' '));
      }
      // The next page by cursor too.
      const next = await statementsOf(() => http(s.url, `${path}&cursor=${first.body.next_cursor}`, { token: ADMIN_TOKEN }));
      assert.equal(next.result.status, 200);
      assert.equal(next.result.body.items[0].id > first.body.items[4].id, true);
      assert.ok(timeline.indexOf('sent:1') < timeline.indexOf('done:0'), timeline.join(' '));
      // A search's first window too, and its next page.
      const unpiped = await http(s.url, `${path}&q=along&is_active=true`, { token: ADMIN_TOKEN });
      const search = await statementsOf(() => http(s.url, `${path}&q=along`, { token: ADMIN_TOKEN }));
      assert.equal(search.result.status, 200);
      assert.equal(search.statements.length, 2);
      assert.match(search.statements[1].text, /union all/);
      assert.ok(timeline.indexOf('sent:1') < timeline.indexOf('done:0'), timeline.join(' '));
      assert.deepEqual(search.result.body.items.map((u: { name: string }) => u.name), ['Along 0', 'Along 1', 'Along 2', 'Along 3', 'Along 4']);
      assert.deepEqual(search.result.body.items, unpiped.body.items, 'the same page as read after the check');
      const searchNext = await statementsOf(() => http(s.url, `${path}&q=along&cursor=${search.result.body.next_cursor}`, { token: ADMIN_TOKEN }));
      assert.deepEqual(searchNext.result.body.items.map((u: { name: string }) => u.name), ['Along 5', 'Along 6']);
      assert.ok(timeline.indexOf('sent:1') < timeline.indexOf('done:0'), timeline.join(' '));
      // Filters, or a value validation turns down: the page is read after the check, as before.
      const filtered = await statementsOf(() => http(s.url, `${path}&q=along&is_active=true`, { token: ADMIN_TOKEN }));
      assert.equal(filtered.result.status, 200);
      assert.ok(timeline.indexOf('done:0') < timeline.indexOf('sent:1'), timeline.join(' '));
      const mismatched = await statementsOf(() => http(s.url, `${path}&q=along&cursor=${first.body.next_cursor}`, { token: ADMIN_TOKEN }));
      assert.equal(mismatched.result.status, 400, 'a list cursor cannot continue a search');
      assert.equal(mismatched.statements.length, 1);
      const bad = await statementsOf(() => http(s.url, '/api/admin/users?limit=500', { token: ADMIN_TOKEN }));
      assert.equal(bad.result.status, 400);
      assert.equal(bad.statements.length, 1);
      // A token that never passed: the check alone, 401.
      const madeUp = await statementsOf(() => http(s.url, path, { token: 'gha_made_up_0000000000000000000000000000' }));
      assert.equal(madeUp.result.status, 401);
      assert.equal(madeUp.statements.length, 1, madeUp.statements.map((x) => x.text).join('\n'));
      // A signed-in member: the page is read along with the session check, and never sent (403).
      await createUser(s.url, { email: 'member.along@example.com', password: 'member-password-1' });
      const member = await signIn(s.url, 'member.along@example.com', 'member-password-1');
      const refused = await statementsOf(() => http(s.url, path, { cookie: member.cookie }));
      assert.equal(refused.result.status, 403);
      assert.equal(refused.statements.length, 2);
      assert.doesNotMatch(refused.result.text, /Along \d/);
    });

    it('PostgreSQL: a user-admin PUT of the whole user with only the name changed is two statements, its GET one', { skip: engine !== 'postgres' }, async () => {
      const user = await createUser(s.url, { name: 'Put Whole' });
      const ua = (body: unknown, headers: Record<string, string> = {}) =>
        http(s.url, `/api/admin/user-admin/${user.id}`, { method: 'PUT', body, headers: { authorization: ADMIN_TOKEN, ...headers } });
      await ua({ name: 'Put Whole', email: user.email, rootRole: 'Viewer' });
      const same = await statementsOf(() => ua({ name: 'Put Renamed', email: user.email, rootRole: 'Viewer' }));
      assert.equal(same.result.status, 200, same.result.text);
      assert.equal(same.result.body.name, 'Put Renamed');
      assert.ok(!same.statements.some((x) => /^begin/i.test(x.text)), same.statements.map((x) => x.text.slice(0, 60)).join('\n'));
      // The credential check with the user's row, then the write: as the admin PATCH.
      assert.equal(same.statements.length, 2, same.statements.map((x) => x.text.slice(0, 60)).join('\n'));
      const get = await statementsOf(() => http(s.url, `/api/admin/user-admin/${user.id}`, { headers: { authorization: ADMIN_TOKEN } }));
      assert.equal(get.result.status, 200);
      assert.equal(get.result.body.name, 'Put Renamed');
      assert.equal(get.statements.length, 1);
      // Changing the email or the role goes through the locking transaction, with its rules.
      const moved = await statementsOf(() => ua({ name: 'Put Renamed', email: `moved.${user.email}`, rootRole: 'Viewer' }));
      assert.equal(moved.result.status, 200, moved.result.text);
      assert.equal(moved.result.body.email, `moved.${user.email}`);
      assert.ok(moved.statements.some((x) => /^begin/i.test(x.text)));
      const role = await ua({ rootRole: 'Editor' });
      assert.equal(role.status, 200, role.text);
      assert.equal(role.body.rootRole, 2);
      const events = await http(s.url, `/api/admin/audit-events?target_type=user&target_id=${user.id}&action=user.updated`, { token: ADMIN_TOKEN });
      const changed = events.body.items.map((e: { after: { changed: string[] } }) => e.after.changed);
      assert.ok(changed.some((c: string[]) => c.length === 1 && c[0] === 'name'), JSON.stringify(changed));
    });

    it('PostgreSQL: a prefix search page is one named statement, as is a filtered one', { skip: engine !== 'postgres' }, async () => {
      await http(s.url, '/api/admin/users?q=counted', { token: ADMIN_TOKEN });
      const search = await statementsOf(() => http(s.url, '/api/admin/users?q=counted', { token: ADMIN_TOKEN }));
      assert.equal(search.result.status, 200);
      // The credential check, then the search.
      assert.equal(search.statements.length, 2, search.statements.map((x) => x.text).join('\n'));
      assert.match(search.statements[0].text, /from "api_tokens"/);
      assert.ok(search.statements[0].named);
      assert.ok(search.statements[1].named);
      assert.match(search.statements[1].text, /union all/);
      const filtered = await statementsOf(() => http(s.url, '/api/admin/users?q=counted&is_active=true', { token: ADMIN_TOKEN }));
      assert.equal(filtered.result.status, 200);
      assert.equal(filtered.statements.length, 2);
      assert.ok(filtered.statements[1].named);
    });

    it('PostgreSQL: rows of named statements are the same objects node-postgres gives (duplicate names, odd names, nulls, types)', { skip: engine !== 'postgres' }, async () => {
      const text = 'select 1 as a, 2 as a, $1::int as "__proto__", null::text as "n", timestamptz \'2026-01-02 03:04:05.678901+00\' as "t", 5::int8 as "big", \'x y\' as "with space", true as "flag", \'{"k":1}\'::jsonb as "j" from generate_series(1, 3)';
      const named = await s.store.db.executeQuery(CompiledQuery.raw(text, [7]));
      // The same statement unnamed (Kysely without the naming pool gives node-postgres's own objects).
      const plain = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: s.db.env.DATABASE_URL, max: 1 }) }) });
      try {
        const direct = await plain.executeQuery(CompiledQuery.raw(text, [7]));
        assert.equal(named.rows.length, 3);
        const row = named.rows[0] as Record<string, unknown>;
        assert.equal(Object.getPrototypeOf(row), Object.prototype);
        assert.deepEqual(Object.keys(row), ['a', '__proto__', 'n', 't', 'big', 'with space', 'flag', 'j']);
        assert.equal(row.a, 2, 'the last of two same-named columns wins');
        assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 7);
        assert.equal(row.n, null);
        assert.equal(row.big, 5);
        assert.deepEqual(row.j, { k: 1 });
        const d = direct.rows[0] as Record<string, unknown>;
        assert.deepEqual(Object.keys(d), Object.keys(row));
        for (const k of ['a', 'n', 'flag', 'with space', 'j']) assert.deepEqual(row[k], d[k], k);
        // The store's own type parsers still apply (timestamps as ISO text; the plain pool gives a Date).
        assert.equal(row.t, (d.t as Date).toISOString());
      } finally {
        await plain.destroy();
      }
    });

    it('PostgreSQL: a named statement whose table changed shape is prepared again (a migration beside a running node)', { skip: engine !== 'postgres' }, async () => {
      await sql`create table gh_plan_probe (id integer primary key, a text)`.execute(s.store.db);
      await sql`insert into gh_plan_probe (id, a) values (1, 'x')`.execute(s.store.db);
      const probe = fixedQuery<[number], Record<string, unknown>>(1, (ex, id) =>
        (ex as unknown as Kysely<any>).selectFrom('gh_plan_probe').selectAll().where('id', '=', id));
      await s.store.db.connection().execute(async (conn) => {
        assert.deepEqual(await probe.execute(conn, engine, 1), [{ id: 1, a: 'x' }]);
        await sql`alter table gh_plan_probe add column b text default 'y'`.execute(conn);
        // Outside a transaction: retried under a new name at once.
        assert.deepEqual(await probe.execute(conn, engine, 1), [{ id: 1, a: 'x', b: 'y' }]);
        await sql`alter table gh_plan_probe add column c integer default 3`.execute(conn);
        // Inside one: that statement fails (the transaction is aborted), the next use works.
        await assert.rejects(conn.transaction().execute((trx) => probe.execute(trx, engine, 1)), /cached plan must not change result type/);
        assert.deepEqual(await probe.execute(conn, engine, 1), [{ id: 1, a: 'x', b: 'y', c: 3 }]);
      });
    });

    it('SQLite: rows are the objects better-sqlite3 gives (duplicate names, odd names, nulls, types)', { skip: engine !== 'sqlite' }, async () => {
      const text = 'select 1 as a, 2 as a, ? as "__proto__", null as "n", \'x y\' as "with space", x\'0102\' as "blob", 5.5 as "real", 9007199254740993 as "big" from (select 1 union all select 2 union all select 3)';
      const ours = (await s.store.db.executeQuery(CompiledQuery.raw(text, [7]))).rows as Array<Record<string, unknown>>;
      // better-sqlite3's own objects, on a connection of its own to the same file.
      const plain = new BetterSqlite3(s.store.location, { readonly: true });
      try {
        const direct = plain.prepare(text).all(7) as Array<Record<string, unknown>>;
        assert.equal(ours.length, 3);
        const row = ours[0];
        assert.equal(Object.getPrototypeOf(row), Object.prototype);
        assert.deepEqual(Object.keys(row), ['a', '__proto__', 'n', 'with space', 'blob', 'real', 'big']);
        // better-sqlite3 sets a column named __proto__ as the prototype (its value is lost); here it is kept as
        // an own property, as on PostgreSQL. Every other column is the same.
        assert.deepEqual(Object.keys(row).filter((k) => k !== '__proto__'), Object.keys(direct[0]));
        assert.equal(row.a, 2, 'the last of two same-named columns wins');
        assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 7);
        for (const k of ['a', 'n', 'with space', 'blob', 'real', 'big']) assert.deepEqual(row[k], direct[0][k], k);
        assert.ok(Buffer.isBuffer(row.blob));
        // Each row is an object of its own.
        ours[1].a = 99;
        assert.equal(ours[2].a, 2);
      } finally {
        plain.close();
      }
    });

    it('SQLite: a kept statement reads the table as it is after a schema change (added, renamed, dropped columns)', { skip: engine !== 'sqlite' }, async () => {
      await sql`create table gh_shape_probe (id integer primary key, a text)`.execute(s.store.db);
      await sql`insert into gh_shape_probe (id, a) values (1, 'x')`.execute(s.store.db);
      const probe = fixedQuery<[number], Record<string, unknown>>(1, (ex, id) =>
        (ex as unknown as Kysely<any>).selectFrom('gh_shape_probe').selectAll().where('id', '=', id));
      assert.deepEqual(await probe.execute(s.store.db, engine, 1), [{ id: 1, a: 'x' }]);
      await sql`alter table gh_shape_probe add column b text default 'y'`.execute(s.store.db);
      assert.deepEqual(await probe.execute(s.store.db, engine, 1), [{ id: 1, a: 'x', b: 'y' }]);
      // The same number of columns under other names.
      await sql`alter table gh_shape_probe rename column a to z`.execute(s.store.db);
      assert.deepEqual(await probe.execute(s.store.db, engine, 1), [{ id: 1, z: 'x', b: 'y' }]);
      await sql`alter table gh_shape_probe drop column b`.execute(s.store.db);
      assert.deepEqual(await probe.execute(s.store.db, engine, 1), [{ id: 1, z: 'x' }]);
      // A column added by another connection to the file.
      const other = new BetterSqlite3(s.store.location);
      try {
        other.exec(`alter table gh_shape_probe add column c integer default 3`);
      } finally {
        other.close();
      }
      assert.deepEqual(await probe.execute(s.store.db, engine, 1), [{ id: 1, z: 'x', c: 3 }]);
      await sql`drop table gh_shape_probe`.execute(s.store.db);
    });

    it('SQLite: parameters go to SQLite as +? (planned once for any value), never inside literals, quoted names or comments', { skip: engine !== 'sqlite' }, async () => {
      assert.equal(sqliteText('select "id" from "users" where "id" > ? order by "id" limit ? offset ?'),
        'select "id" from "users" where "id" > +? order by "id" limit +? offset +?');
      assert.equal(sqliteText(`select '?' as q, "a?" as [b?], \`c?\`, ? -- why?\n, ? /* ? */, 'it''s ?', ?`),
        `select '?' as q, "a?" as [b?], \`c?\`, +? -- why?\n, +? /* ? */, 'it''s ?', +?`);
      assert.equal(sqliteText('insert into t (a, b) values (?, ?)'), 'insert into t (a, b) values (+?, +?)');
      assert.equal(sqliteText("select 'no parameter ?"), "select 'no parameter ?");
      assert.equal(sqliteText('select 1'), 'select 1');
      // Through the store: the literal and the quoted name stay as written, the values bind in order.
      const text = `select '?' as "q?", ? as v, ? || 'x' as s, ? is null as n from (select 1 union all select 2 union all select 3) limit ? offset ?`;
      const rows = (await s.store.db.executeQuery(CompiledQuery.raw(text, [5, 'a', null, 2, 1]))).rows;
      assert.deepEqual(rows, [{ 'q?': '?', v: 5, s: 'ax', n: 1 }, { 'q?': '?', v: 5, s: 'ax', n: 1 }]);
      const page = await s.store.db.selectFrom('users').select('id').orderBy('id').limit(2).offset(1).execute();
      const all = await s.store.db.selectFrom('users').select('id').orderBy('id').execute();
      assert.deepEqual(page, all.slice(1, 3));
    });

    it('SQLite: streamed rows are objects too', { skip: engine !== 'sqlite' }, async () => {
      const streamed: Array<Record<string, unknown>> = [];
      for await (const row of s.store.db.selectFrom('users').select(['id', 'email']).orderBy('id').limit(3).stream()) streamed.push(row);
      const listed = await s.store.db.selectFrom('users').select(['id', 'email']).orderBy('id').limit(3).execute();
      assert.ok(streamed.length > 0);
      assert.deepEqual(streamed, listed);
      assert.deepEqual(Object.keys(streamed[0]), ['id', 'email']);
    });

    it('PostgreSQL: a connection prepares a named statement once and reuses it', { skip: engine !== 'postgres' }, async () => {
      const prepared = await s.store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 3; i++) await trx.selectFrom('users').select('id').where('id', '=', i + 1).execute();
        const r = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(trx);
        return r.rows;
      });
      const ours = prepared.filter((p) => p.statement.includes('select "id" from "users" where "id" = $1'));
      assert.equal(ours.length, 1, JSON.stringify(prepared));
      assert.match(ours[0].name, /^gh_/);
    });
  });
}

describe('PostgreSQL: the search plan does not depend on how many matches the statistics expect', { skip: engines()[1].skip }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('postgres');
    // 20,000 users (ANALYZE then reads every row: the statistics are the same each run) and 150 whose
    // name starts with "plan": fewer than a search window, so PostgreSQL plans those reads knowing their count.
    await seedUsers(s.store, 20_000);
    await sql`insert into users (username, username_key, name, name_key, email, email_key, root_role_id, created_at, updated_at)
      select 'probe' || g, 'probe' || g, 'Plan Probe', 'plan probe', 'probe' || g || '@example.com', 'probe' || g || '@example.com', 3, now(), now()
      from generate_series(1, 150) g`.execute(s.store.db);
    await sql`analyze users`.execute(s.store.db);
  });
  after(async () => s?.close());

  it('each key is read by an ordered index scan that stops at the page, also in a prepared statement\'s first (custom) plans', async () => {
    const client = new pg.Client({ connectionString: s.db.env.DATABASE_URL });
    await client.connect();
    try {
      for (const path of ['/api/admin/users?q=plan&limit=50', '/api/admin/users?q=plan%20probe&limit=20&is_active=true']) {
        const run = await statementsOf(() => http(s.url, path, { token: ADMIN_TOKEN }));
        assert.equal(run.result.status, 200, run.result.text);
        const search = run.statements.find((x) => /union all/.test(x.text));
        assert.ok(search, run.statements.map((x) => x.text).join('\n'));
        assert.ok(run.result.body.items.length > 0 && run.result.body.items.every((u: { name: string }) => u.name === 'Plan Probe'));
        // The first executions of a named statement are planned for their values: explain one such.
        await client.query('deallocate all');
        await client.query(`prepare probe as ${search.text}`);
        const args = search.values.map((v) => (typeof v === 'number' ? String(v) : client.escapeLiteral(String(v)))).join(', ');
        const explained = await client.query(`explain (format json) execute probe(${args})`);
        const nodes: string[] = [];
        const walk = (n: { 'Node Type': string; Plans?: unknown[] }) => {
          nodes.push(n['Node Type']);
          for (const c of n.Plans ?? []) walk(c as typeof n);
        };
        walk(explained.rows[0]['QUERY PLAN'][0].Plan);
        // Read in full and sorted (Bitmap Heap Scan + Sort), a common prefix costs its whole range: at
        // 1,000,000 users "mary" took 245-1,200 ms that way, against 0.2 ms.
        assert.ok(!nodes.includes('Bitmap Heap Scan') && !nodes.includes('Seq Scan'), `${path}: ${nodes.join(' > ')}`);
        assert.equal(nodes.filter((n) => n === 'Index Scan').length, 3, `${path}: ${nodes.join(' > ')}`);
        assert.ok(nodes.includes('Merge Append'), nodes.join(' > '));
      }
    } finally {
      await client.end();
    }
  });
});

describe('PostgreSQL named statements can be turned off (GATEHOUSE_PG_PREPARED_STATEMENTS=false)', { skip: engines()[1].skip }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('postgres', { env: { GATEHOUSE_PG_PREPARED_STATEMENTS: 'false' } });
  });
  after(async () => s?.close());

  it('serves GET, PATCH and search with every statement unnamed and nothing prepared', async () => {
    const user = await createUser(s.url, { name: 'Unnamed Statements' });
    await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
    const run = await statementsOf(async () => {
      const got = await http(s.url, `/api/admin/users/${user.id}`, { token: ADMIN_TOKEN });
      assert.equal(got.status, 200);
      const patched = await http(s.url, `/api/admin/users/${user.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { name: 'Still Unnamed' } });
      assert.equal(patched.status, 200, patched.text);
      const found = await http(s.url, '/api/admin/users?q=still', { token: ADMIN_TOKEN });
      assert.equal(found.status, 200);
      assert.deepEqual(found.body.items.map((u: { id: number }) => u.id), [user.id]);
    });
    assert.ok(run.statements.length >= 5);
    assert.ok(run.statements.every((x) => !x.named), 'no statement was sent with a name');
    const prepared = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(s.store.db);
    assert.equal(prepared.rows[0].n, 0);
  });
});
