// Bulk-loads users straight through the store (one INSERT … SELECT per batch, generated in the database),
// for benchmarks and scale tests. Every seeded user shares one argon2id hash of SEED_PASSWORD, computed once
// with the server's parameters, so any of them can sign in. The *_key columns are case-folded exactly as
// src/core/users does for ASCII (lower-case), so the unique indexes and prefix search see them as real users.
//
//   npm run seed -- --users 1000000            DATABASE_URL=postgresql://… (or DATA_DIR=… for SQLite)
//   npm run seed -- --users 100k --batch 50000
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { sql } from 'kysely';
import { parseConfig } from '../src/platform/config.js';
import { openStore, type Store } from '../src/store/db.js';
import { migrateToLatest } from '../src/store/migrate.js';

export const SEED_PASSWORD = 'bench-password-1';

// Realistic, deterministic identities: first.last<n>@domain, "First Last", Editor 3% / Viewer 7% / Member 90%,
// 5% inactive, 10% unverified. No admins: a store with no admin is one where GATEHOUSE_ADMIN_EMAIL still creates
// the first one at start.
export const FIRST_NAMES = [
  'james', 'mary', 'robert', 'patricia', 'john', 'jennifer', 'michael', 'linda', 'david', 'elizabeth',
  'william', 'barbara', 'richard', 'susan', 'joseph', 'jessica', 'thomas', 'sarah', 'charles', 'karen',
  'christopher', 'lisa', 'daniel', 'nancy', 'matthew', 'betty', 'anthony', 'margaret', 'mark', 'sandra',
  'donald', 'ashley', 'steven', 'kimberly', 'paul', 'emily', 'andrew', 'donna', 'joshua', 'michelle',
  'kenneth', 'carol', 'kevin', 'amanda', 'brian', 'dorothy', 'george', 'melissa', 'timothy', 'deborah',
  'ahmet', 'ayse', 'mehmet', 'fatma', 'mustafa', 'emine', 'ali', 'hatice', 'huseyin', 'zeynep',
  'wei', 'li', 'hiroshi', 'yuki', 'sven', 'ingrid', 'pierre', 'camille', 'diego', 'lucia',
];
export const LAST_NAMES = [
  'smith', 'johnson', 'williams', 'brown', 'jones', 'garcia', 'miller', 'davis', 'rodriguez', 'martinez',
  'hernandez', 'lopez', 'gonzalez', 'wilson', 'anderson', 'thomas', 'taylor', 'moore', 'jackson', 'martin',
  'lee', 'perez', 'thompson', 'white', 'harris', 'sanchez', 'clark', 'ramirez', 'lewis', 'robinson',
  'walker', 'young', 'allen', 'king', 'wright', 'scott', 'torres', 'nguyen', 'hill', 'flores',
  'yilmaz', 'kaya', 'demir', 'sahin', 'celik', 'yildiz', 'aydin', 'ozturk', 'arslan', 'dogan',
  'muller', 'schmidt', 'schneider', 'fischer', 'weber', 'dubois', 'moreau', 'rossi', 'russo', 'tanaka',
];
export const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net', 'example.co.uk', 'students.example.edu'];

export interface SeedResult {
  inserted: number;
  firstId: number;
  lastId: number;
  ms: number;
}

/** The n-th seeded identity (1-based), computed the same way as the SQL below: for building queries. */
export function seededIdentity(n: number): { email: string; username: string; name: string } {
  const first = FIRST_NAMES[n % FIRST_NAMES.length];
  const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length];
  const domain = DOMAINS[n % DOMAINS.length];
  const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
  return { email: `${first}.${last}${n}@${domain}`, username: `${first}.${last}${n}`, name: `${cap(first)} ${cap(last)}` };
}

export async function sharedHash(): Promise<string> {
  const config = parseConfig(process.env);
  return argon2Hash(SEED_PASSWORD, {
    algorithm: Algorithm.Argon2id,
    memoryCost: config.argon2.memoryCost,
    timeCost: config.argon2.timeCost,
    parallelism: config.argon2.parallelism,
  });
}

/**
 * Inserts `count` users in batches of `batch`; numbering continues after the highest seeded number so the
 * command can be run again to grow the table. Runs (VACUUM) ANALYZE afterwards so plans reflect the new size.
 */
export async function seedUsers(
  store: Store,
  count: number,
  opts: { batch?: number; hash?: string; onProgress?: (done: number) => void } = {},
): Promise<SeedResult> {
  const started = Date.now();
  const hash = opts.hash ?? (await sharedHash());
  const batch = Math.max(1, opts.batch ?? (store.engine === 'postgres' ? 200_000 : 100_000));
  const db = store.db;
  // Continue numbering after existing seeded rows (their usernames end in the number).
  const maxIdRow = await db.selectFrom('users').select(sql<number>`coalesce(max(id), 0)`.as('m')).executeTakeFirstOrThrow();
  const offset = Number(maxIdRow.m);
  const fl = FIRST_NAMES.length;
  const ll = LAST_NAMES.length;
  const dl = DOMAINS.length;
  let firstId = 0;
  let lastId = 0;
  for (let done = 0; done < count; done += batch) {
    const lo = offset + done + 1;
    const hi = offset + Math.min(count, done + batch);
    if (store.engine === 'postgres') {
      const r = await sql<{ lo: number; hi: number }>`
        with s as (
          select g,
                 (${FIRST_NAMES}::text[])[1 + g % ${fl}] as f,
                 (${LAST_NAMES}::text[])[1 + (g / ${fl}) % ${ll}] as l,
                 (${DOMAINS}::text[])[1 + g % ${dl}] as d
          from generate_series(${lo}::int, ${hi}::int) g
        ), ins as (
          insert into users (username, username_key, name, name_key, email, email_key, email_verified_at, password_hash,
                             is_active, root_role_id, account_type, login_attempts, created_at, updated_at, version)
          select f || '.' || l || g, f || '.' || l || g,
                 initcap(f) || ' ' || initcap(l), f || ' ' || l,
                 f || '.' || l || g || '@' || d, f || '.' || l || g || '@' || d,
                 case when g % 10 = 0 then null else now() - make_interval(days => g % 900) end,
                 ${hash},
                 case when g % 20 = 0 then 0 else 1 end,
                 case when g % 100 < 3 then 2 when g % 100 < 10 then 3 else 5 end,
                 'User', 0,
                 now() - make_interval(days => g % 1000), now() - make_interval(days => g % 100), 1
          from s
          returning id
        )
        select min(id) as lo, max(id) as hi from ins`.execute(db);
      const row = r.rows[0];
      if (!firstId) firstId = Number(row.lo);
      lastId = Number(row.hi);
    } else {
      const j = (a: string[]) => JSON.stringify(a);
      // better-sqlite3 binds JS numbers as REAL: inline the integer constants so g / n stays integer division.
      const [FL, LL, DL] = [fl, ll, dl].map((n) => sql.raw(String(n)));
      await sql`
        with recursive s0(g) as (select cast(${lo} as integer) union all select g + 1 from s0 where g < cast(${hi} as integer)),
        s as (
          select g,
                 json_extract(${j(FIRST_NAMES)}, '$[' || (g % ${FL}) || ']') as f,
                 json_extract(${j(LAST_NAMES)}, '$[' || ((g / ${FL}) % ${LL}) || ']') as l,
                 json_extract(${j(DOMAINS)}, '$[' || (g % ${DL}) || ']') as d
          from s0
        )
        insert into users (username, username_key, name, name_key, email, email_key, email_verified_at, password_hash,
                           is_active, root_role_id, account_type, login_attempts, created_at, updated_at, version)
        select f || '.' || l || g, f || '.' || l || g,
               upper(substr(f, 1, 1)) || substr(f, 2) || ' ' || upper(substr(l, 1, 1)) || substr(l, 2), f || ' ' || l,
               f || '.' || l || g || '@' || d, f || '.' || l || g || '@' || d,
               case when g % 10 = 0 then null else strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (g % 900) || ' days') end,
               ${hash},
               case when g % 20 = 0 then 0 else 1 end,
               case when g % 100 < 3 then 2 when g % 100 < 10 then 3 else 5 end,
               'User', 0,
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (g % 1000) || ' days'),
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (g % 100) || ' days'), 1
        from s`.execute(db);
      const r = await db.selectFrom('users').select([sql<number>`min(id)`.as('lo'), sql<number>`max(id)`.as('hi')])
        .where('id', '>', offset + done).executeTakeFirstOrThrow();
      if (!firstId) firstId = Number(r.lo);
      lastId = Number(r.hi);
    }
    opts.onProgress?.(Math.min(count, done + batch));
  }
  // Statistics for the planner; on PostgreSQL also the visibility map, as autovacuum would set it on a table
  // at rest, so index-only scans are measured as they run in steady state.
  if (store.engine === 'postgres') await sql`vacuum analyze users`.execute(db);
  else await sql`analyze`.execute(db);
  return { inserted: count, firstId, lastId, ms: Date.now() - started };
}

/** "1000000", "1m", "100k" → a count. */
export function parseCount(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(raw.trim());
  if (!m) throw new Error(`not a count: "${raw}"`);
  const n = Number(m[1]) * (m[2].toLowerCase() === 'm' ? 1e6 : m[2].toLowerCase() === 'k' ? 1e3 : 1);
  if (!Number.isInteger(n) || n < 1 || n > 50_000_000) throw new Error(`count out of range: "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { users: { type: 'string', default: '1000000' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write('npm run seed -- [--users N|100k|1m] [--batch N]   (store from DATABASE_URL or DATA_DIR)\n');
    return;
  }
  const config = parseConfig(process.env);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSynchronous: 'NORMAL' });
  try {
    await migrateToLatest(store);
    const count = parseCount(values.users!);
    const result = await seedUsers(store, count, {
      batch: values.batch ? parseCount(values.batch) : undefined,
      onProgress: (done) => process.stderr.write(`\r  ${done.toLocaleString('en')} / ${count.toLocaleString('en')}`),
    });
    process.stderr.write('\n');
    process.stdout.write(`seeded ${result.inserted} users (ids ${result.firstId}..${result.lastId}) into ${store.engine} ${store.location} in ${(result.ms / 1000).toFixed(1)} s; password of each: ${SEED_PASSWORD}\n`);
  } finally {
    await store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`seed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
