// PostgreSQL read lanes (ReadLanes in src/store/statements.ts): the credential checks of concurrent
// requests, and the reads sent with them, share a few pipelined connections. What must hold: every request
// gets its own answer however many are in flight on one connection, a failing read leaves the others on the
// same connection be, a lane whose backend was terminated is replaced without a restart, the lane count is
// what the configuration says, lane statements are planned once (generic plans), and 0 lanes serves the same
// answers from the pool.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CompiledQuery, sql } from 'kysely';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { signIn, type AdminSession } from './helpers/admin.js';
import { seedUsers } from '../bench/seed.js';
import { isStoreUnavailable } from '../src/store/sql.js';

const skip = engines()[1].skip;

/** A statement that says which backend ran it and echoes its argument (parameterised: it goes out named). */
const whoAmI = (n: number) => CompiledQuery.raw('select pg_backend_pid() as pid, $1::int as n', [n]);

/** Every list page of 10 from the start, by cursor, read one after another. */
async function pagesInOrder(url: string, headers: { token?: string; cookie?: string }): Promise<Array<{ cursor: string | undefined; ids: number[] }>> {
  const pages: Array<{ cursor: string | undefined; ids: number[] }> = [];
  let cursor: string | undefined;
  for (;;) {
    const r = await http(url, `/api/admin/users?limit=10${cursor ? `&cursor=${cursor}` : ''}`, headers);
    assert.equal(r.status, 200, r.text);
    pages.push({ cursor, ids: r.body.items.map((u: { id: number }) => u.id) });
    if (!r.body.next_cursor) return pages;
    cursor = r.body.next_cursor;
  }
}

describe('PostgreSQL read lanes: concurrent requests share the credential check connections', { skip }, () => {
  let s: TestServer;
  let admin: AdminSession;
  before(async () => {
    s = await startServer('postgres', { env: { GATEHOUSE_PG_READ_LANES: '2' } });
    await seedUsers(s.store, 300, { hash: 'not-a-real-hash' });
    admin = await signIn(s.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  after(async () => s?.close());

  it('reads in flight together run on the configured number of connections, each answered with its own rows', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => s.store.readTogether([whoAmI(i), whoAmI(1000 + i)])));
    const pids = new Set<number>();
    answers.forEach(([first, second], i) => {
      const a = first[0] as { pid: number; n: number };
      const b = second[0] as { pid: number; n: number };
      assert.equal(a.n, i, `read ${i} got another read's answer`);
      assert.equal(b.n, 1000 + i);
      assert.equal(a.pid, b.pid, 'the reads of one call go on one connection');
      pids.add(a.pid);
    });
    assert.equal(pids.size, 2, `60 concurrent calls on ${pids.size} connections, 2 configured`);
  });

  it('lane statements are planned once (generic plans), never again for the values of an execution', async () => {
    const ids = (await http(s.url, '/api/admin/users?limit=20', { token: ADMIN_TOKEN })).body.items.map((u: { id: number }) => u.id);
    const cursor = (await http(s.url, '/api/admin/users?limit=5', { token: ADMIN_TOKEN })).body.next_cursor;
    // More executions than the five PostgreSQL's default plan cache plans for their values, on each lane.
    for (let i = 0; i < 14; i++) {
      const auth = i % 2 === 0 ? { token: ADMIN_TOKEN } : { cookie: admin.cookie };
      for (const path of [`/api/admin/users/${ids[i]}`, `/api/admin/users?limit=10&cursor=${cursor}`, `/api/admin/users?limit=10&q=${'abcdefghijklmn'[i]}`]) {
        const r = await http(s.url, path, auth);
        assert.equal(r.status, 200, r.text);
      }
    }
    // Two calls in a row go to the two lanes.
    const plansOf = CompiledQuery.raw(
      "select pg_backend_pid() as pid, current_setting('plan_cache_mode') as mode, coalesce(sum(generic_plans), 0)::int as generic, coalesce(sum(custom_plans), 0)::int as custom from pg_prepared_statements",
    );
    const lanes = (await Promise.all([s.store.readTogether([plansOf]), s.store.readTogether([plansOf])])).map(([[row]]) => row as { pid: number; mode: string; generic: number; custom: number });
    assert.equal(new Set(lanes.map((l) => l.pid)).size, 2, JSON.stringify(lanes));
    for (const lane of lanes) {
      assert.equal(lane.custom, 0, `plans made for one execution's values: ${JSON.stringify(lanes)}`);
      assert.equal(lane.mode, 'force_generic_plan');
    }
    // 42 requests: a credential check each, with the user, the page or the search's first window.
    assert.ok(lanes[0].generic + lanes[1].generic >= 42 * 2, JSON.stringify(lanes));
    // The pool keeps PostgreSQL's default: its statements (filtered lists, the audit log, OFFSET pages)
    // may want a plan for their values.
    const pool = await sql<{ mode: string }>`select current_setting('plan_cache_mode') as mode`.execute(s.store.db);
    assert.equal(pool.rows[0].mode, 'auto');
  });

  it('a read that fails leaves the reads around it on the same connection be', async () => {
    const calls = Array.from({ length: 20 }, (_, i) =>
      s.store.readTogether([i % 5 === 2 ? CompiledQuery.raw('select 1 / $1::int as n', [0]) : whoAmI(i)]));
    const settled = await Promise.allSettled(calls);
    settled.forEach((r, i) => {
      if (i % 5 === 2) {
        assert.equal(r.status, 'rejected', `call ${i} should fail`);
        assert.match(String((r as PromiseRejectedResult).reason?.message), /division by zero/);
      } else {
        assert.equal(r.status, 'fulfilled', `call ${i}: ${(r as PromiseRejectedResult).reason}`);
        assert.equal(((r as PromiseFulfilledResult<unknown[][]>).value[0][0] as { n: number }).n, i);
      }
    });
  });

  it('concurrent requests with tokens, cookies and made-up tokens each get their own answer', async () => {
    const byToken = await pagesInOrder(s.url, { token: ADMIN_TOKEN });
    assert.ok(byToken.length >= 30, `${byToken.length} pages`);
    const users = byToken.flatMap((p) => p.ids).slice(0, 40);
    // Every page again, and single users, all at once, through both kinds of credential; a made-up token
    // among them on every fifth request.
    const requests = [
      ...byToken.map((p, i) => ({ kind: 'page' as const, p, headers: i % 2 ? { cookie: admin.cookie } : { token: ADMIN_TOKEN } })),
      ...users.map((id, i) => ({ kind: 'user' as const, id, headers: i % 5 === 4 ? { token: `gha_made_up_${'x'.repeat(24)}${i}` } : { token: ADMIN_TOKEN } })),
    ];
    const answers = await Promise.all(requests.map((r) => r.kind === 'page'
      ? http(s.url, `/api/admin/users?limit=10${r.p.cursor ? `&cursor=${r.p.cursor}` : ''}`, r.headers)
      : http(s.url, `/api/admin/users/${r.id}`, r.headers)));
    answers.forEach((res, i) => {
      const r = requests[i];
      if (r.kind === 'page') {
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.items.map((u: { id: number }) => u.id), r.p.ids, `page after ${r.p.cursor}`);
      } else if ('token' in r.headers && r.headers.token !== ADMIN_TOKEN) {
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.items, undefined);
        assert.doesNotMatch(res.text, /"email"/);
      } else {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.item.id, r.id);
      }
    });
  });

  it('reads in flight on a lane whose backend is terminated fail as the store being unavailable, and nothing hangs', async () => {
    // Two slow reads, one per lane, and quick ones queued behind them on the same connections.
    const slow = [0, 1].map((n) => s.store.readTogether([CompiledQuery.raw('select pg_backend_pid() as pid, pg_sleep(5) as slept, $1::int as n', [n])]));
    const behind = Array.from({ length: 6 }, (_, i) => s.store.readTogether([whoAmI(100 + i)]));
    // Observed from the start: they fail while this test is still terminating the backends.
    const outcome = Promise.allSettled([...slow, ...behind]);
    const direct = new pg.Client({ connectionString: s.db.env.DATABASE_URL });
    await direct.connect();
    try {
      let rows: Array<{ pid: number }> = [];
      for (let i = 0; i < 60 && rows.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ({ rows } = await direct.query(`select pid from pg_stat_activity where datname = current_database() and state = 'active' and query like '%pg_sleep(5)%' and pid <> pg_backend_pid()`));
      }
      assert.equal(rows.length, 2, 'both slow reads are running');
      for (const r of rows) await direct.query('select pg_terminate_backend($1)', [r.pid]);
    } finally {
      await direct.end();
    }
    const settled = await outcome;
    for (const r of settled) {
      assert.equal(r.status, 'rejected', 'every read on a terminated connection fails');
      assert.ok(isStoreUnavailable((r as PromiseRejectedResult).reason), `a store-unavailable error (503), got: ${(r as PromiseRejectedResult).reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [[again]] = await s.store.readTogether([whoAmI(7)]);
    assert.equal((again as { n: number }).n, 7, 'the next read is served on a new connection');
    const r = await http(s.url, '/api/admin/users?limit=5', { token: ADMIN_TOKEN });
    assert.equal(r.status, 200, r.text);
  });

  it('a lane whose backend was terminated is replaced: the next requests are served without a restart', async () => {
    const [[row]] = await s.store.readTogether([whoAmI(1)]);
    const [[other]] = await s.store.readTogether([whoAmI(2)]);
    const lanePids = [(row as { pid: number }).pid, (other as { pid: number }).pid];
    const direct = new pg.Client({ connectionString: s.db.env.DATABASE_URL });
    await direct.connect();
    try {
      for (const pid of lanePids) await direct.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await direct.end();
    }
    // The termination reaches the idle lanes as an error event; give it a moment to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 6; i++) {
      const r = await http(s.url, '/api/admin/users?limit=5', { token: ADMIN_TOKEN });
      assert.equal(r.status, 200, `request ${i} after the lanes' backends were terminated: ${r.status} ${r.text}`);
    }
    const [[now]] = await s.store.readTogether([whoAmI(3)]);
    assert.ok(!lanePids.includes((now as { pid: number }).pid), 'a new connection, not a terminated one');
  });
});

describe('PostgreSQL read lanes turned off (GATEHOUSE_PG_READ_LANES=0): the checks go on pool connections', { skip }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('postgres', { env: { GATEHOUSE_PG_READ_LANES: '0' } });
    await seedUsers(s.store, 40, { hash: 'not-a-real-hash' });
  });
  after(async () => s?.close());

  it('serves the same pages, users and refusals', async () => {
    const pages = await pagesInOrder(s.url, { token: ADMIN_TOKEN });
    assert.equal(pages.flatMap((p) => p.ids).length, 41, 'the 40 seeded users and the first admin');
    const answers = await Promise.all(pages.map((p) => http(s.url, `/api/admin/users?limit=10${p.cursor ? `&cursor=${p.cursor}` : ''}`, { token: ADMIN_TOKEN })));
    answers.forEach((r, i) => assert.deepEqual(r.body.items.map((u: { id: number }) => u.id), pages[i].ids));
    const one = await http(s.url, `/api/admin/users/${pages[0].ids[1]}`, { token: ADMIN_TOKEN });
    assert.equal(one.status, 200, one.text);
    assert.equal((await http(s.url, `/api/admin/users/${pages[0].ids[1]}`, { token: `gha_made_up_${'y'.repeat(24)}` })).status, 401);
    // Calls in flight together: each on a pool connection of its own, as many as the pool lends.
    const answersTogether = await Promise.all(Array.from({ length: 12 }, (_, i) => s.store.readTogether([whoAmI(i)])));
    answersTogether.forEach(([rows], i) => assert.equal((rows[0] as { n: number }).n, i));
  });
});
