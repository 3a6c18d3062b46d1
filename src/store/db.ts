// Opens the store: PostgreSQL when DATABASE_URL is set, embedded SQLite under DATA_DIR otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import SqliteDatabase from 'better-sqlite3';
import type { Database } from './schema.js';
import type { Engine } from './sql.js';
import { namedStatementPool, ReadLanes, StatementNames, statementCachingDatabase } from './statements.js';

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  /** Where the data lives, with any password removed. */
  location: string;
  /**
   * Runs independent statements outside any transaction and returns their rows, in order. PostgreSQL with
   * named statements sends them together on one connection, one write and no wait between them (one round
   * trip instead of several), on a connection shared with the reads of concurrent requests (ReadLanes in
   * ./statements.ts); elsewhere as Kysely runs them. Fails with the first error.
   */
  readTogether(queries: readonly CompiledQuery[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** Whether the store answers a trivial statement now (readiness); never throws. */
export async function pingStore(store: Store): Promise<boolean> {
  try {
    await sql`select 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  pgPoolSize?: number;
  /** Connections shared by the reads of Store.readTogether (statements.ts ReadLanes); 0 for none. Default 2. */
  pgReadLanes?: number;
  /** Named prepared statements (./statements.ts); false sends every statement unnamed. Default true. */
  pgPreparedStatements?: boolean;
}

/** A read lane that cannot connect within this long fails its reads (503) and is tried again on next use. */
const LANE_CONNECT_TIMEOUT_MS = 5000;

// pg returns int8 (bigint, count(*)) as strings; every id and count here fits in a double.
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
// With the session time zone UTC (set on every connection below), PostgreSQL prints timestamptz as
// "YYYY-MM-DD HH:MM:SS[.ffffff]+00". Rewriting that text to the ISO-8601 form SQLite stores (and
// Date#toISOString writes) skips a Date per column per row, which was a measured share of list pages' CPU.
const parseDefaultTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text');
const DASH = 45;
const SPACE = 32;
const DOT = 46;

/**
 * "YYYY-MM-DD HH:MM:SS[.f…]+00" (0 to 6 digits of fraction) → "YYYY-MM-DDTHH:MM:SS.mmmZ", fraction truncated
 * to milliseconds as a Date would show it; anything else (other offsets, infinity, years past 9999, BC)
 * through pg's own parser to a Date. Read by position, not by a regular expression: its match arrays and
 * captures were a tenth of the bytes a list page allocated.
 */
export function timestamptzToIso(text: string): string | Date {
  const n = text.length;
  const fraction = n - 23; // digits after the dot, when there is one
  if (
    text.charCodeAt(4) !== DASH || text.charCodeAt(10) !== SPACE || !text.endsWith('+00') ||
    !(n === 22 || (fraction >= 1 && fraction <= 6 && text.charCodeAt(19) === DOT))
  ) {
    return parseDefaultTimestamptz(text) as Date;
  }
  const ms = n === 22 ? '000' : fraction >= 3 ? text.slice(20, 23) : text.slice(20, 20 + fraction).padEnd(3, '0');
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}Z`;
}

const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return Number;
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return timestamptzToIso;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql://(unparseable url)';
  }
}

/**
 * The store cannot be opened for a reason the operator fixes outside Gatehouse (a PostgreSQL server that
 * does not answer, a DATA_DIR that cannot be written). The message is one line that names the variable, the
 * host or path, and what to do; it never holds a password. `gatehouse` prints it without a stack trace.
 */
export class StoreOpenError extends Error {}

/** Connection failures that a server still starting (or a network still coming up) gives; others are final. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  '57P03', // cannot_connect_now: the database system is starting up
  '57P01', '57P02', // admin_shutdown, crash_shutdown: a restart in progress
  '53300', // too_many_connections
]);

function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') return TRANSIENT_CODES.has(code);
  // node-postgres's own connection timeout and a connection closed during start-up carry no code.
  const message = err instanceof Error ? err.message : '';
  return /timeout|terminated unexpectedly|Connection terminated/i.test(message);
}

/** "host:port" of a PostgreSQL URL (a socket directory in ?host= when there is no host name). */
export function databaseHost(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    return `${host}:${u.port || '5432'}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** The text of a connection error, with the URL's password removed should a driver ever repeat it. */
function reasonOf(err: unknown, url: string): string {
  let text = err instanceof Error ? err.message : String(err);
  // Node's connect to a name with several addresses (localhost: ::1 and 127.0.0.1) fails with an
  // AggregateError whose own message is empty.
  if (!text && err instanceof AggregateError) text = [...new Set(err.errors.map((e) => (e instanceof Error ? e.message : String(e))))].join('; ');
  if ((err as { code?: unknown })?.code && !text.includes(String((err as { code: unknown }).code))) text = `${text} (${(err as { code: unknown }).code})`;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) text = text.split(password).join('***');
  } catch {
    // not a URL: nothing to remove
  }
  return text.replace(/\s+/g, ' ').trim();
}

export interface WaitOptions {
  /** Give up after this many seconds (GATEHOUSE_DB_WAIT); 0 tries once. */
  seconds: number;
  /** Called before each pause: the attempt that failed (from 1), the pause, why it failed. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; host: string }) => void;
}

/**
 * Waits until the PostgreSQL server of `databaseUrl` accepts a connection and answers `select 1`, retrying
 * connection failures with exponential backoff (0.25 s doubling to at most 5 s) for `seconds`, so a server
 * that comes up after Gatehouse (compose, a node reboot) is not a failed start. Errors that waiting cannot
 * fix (authentication, a missing database) fail at once. Throws StoreOpenError naming the host, never the
 * password.
 */
export async function waitForPostgres(databaseUrl: string, opts: WaitOptions): Promise<void> {
  const host = databaseHost(databaseUrl);
  const deadline = Date.now() + opts.seconds * 1000;
  let delayMs = 250;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: Math.max(1000, Math.min(5000, left)) });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      const reason = reasonOf(err, databaseUrl);
      if (!isTransient(err)) {
        throw new StoreOpenError(`cannot use the PostgreSQL server at ${host} (DATABASE_URL): ${reason}; check the user, password and database name in DATABASE_URL`);
      }
      const now = Date.now();
      if (now >= deadline) {
        throw new StoreOpenError(
          `cannot reach the PostgreSQL server at ${host} (DATABASE_URL) after ${opts.seconds} s (GATEHOUSE_DB_WAIT): ${reason}; ` +
          'check that the server runs and DATABASE_URL names it, or wait longer with GATEHOUSE_DB_WAIT',
        );
      }
      const pause = Math.min(delayMs, deadline - now);
      opts.onRetry?.({ attempt, delayMs: pause, reason, host });
      await new Promise((resolve) => setTimeout(resolve, pause));
      delayMs = Math.min(delayMs * 2, 5000);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/**
 * DATA_DIR must be (or become) a directory this process can write: checked before SQLite opens its file,
 * whose own error ("unable to open database file") names neither the path nor the variable.
 */
export function prepareDataDir(dir: string): void {
  const fix = 'point DATA_DIR at a directory this user can write, or make this one writable';
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new StoreOpenError(`DATA_DIR ${dir} is not a directory (or lies under a file): ${fix}`);
    throw new StoreOpenError(`DATA_DIR ${dir} cannot be created (${code ?? String(err)}): ${fix}`);
  }
  if (!fs.statSync(dir).isDirectory()) throw new StoreOpenError(`DATA_DIR ${dir} is not a directory: ${fix}`);
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw new StoreOpenError(`DATA_DIR ${dir} is not writable by this user (uid ${process.getuid?.() ?? '?'}, ${(err as NodeJS.ErrnoException).code}): ${fix}`);
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const named = opts.pgPreparedStatements !== false;
    // The credential checks of concurrent requests, and the reads sent with them, share a few connections
    // (ReadLanes). With prepared statements only: a pooler that cannot keep those may not keep pipelines.
    const readLanes = named ? (opts.pgReadLanes ?? 2) : 0;
    const clientConfig = {
      connectionString: opts.databaseUrl,
      // Timestamps come back in UTC text, which timestamptzToIso turns into ISO-8601 without a Date.
      options: '-c TimeZone=UTC',
      types: pgTypes as unknown as pg.CustomTypesConfig,
    };
    const pool = new pg.Pool({
      ...clientConfig,
      // Without read lanes, readTogether sends its statements on a pool client without waiting for the one
      // before; Kysely still waits for each of its own, so everything else runs as before.
      ...(named && readLanes === 0 ? { pipeline: true } : {}),
      max: opts.pgPoolSize ?? 10,
    });
    // An idle client that errors (server restart) must not crash the process.
    pool.on('error', () => {});
    // Nor one that is checked out: the pool listens for errors of idle clients only, and a client whose
    // connection ends while it is lent but between two statements (PostgreSQL terminating backends on a
    // restart or failover: FATAL 57P01) emits an 'error' nobody heard, which stopped the process. The
    // statement in flight, if any, still fails with that error, and the pool drops the client on release.
    pool.on('connect', (client) => client.on('error', () => {}));
    const names = new StatementNames();
    const namingPool = named ? namedStatementPool(pool, names) : undefined;
    // The lanes carry only fixed statements written to have one plan for any value (credential checks by
    // key, a user by id, a list page, a search's first window), so they are planned once: PostgreSQL's
    // default plan cache plans a prepared statement's first five executions for their values and then keeps
    // doing so whenever its estimate puts the value-specific plan below the generic one, which depends on
    // the sample ANALYZE drew. At 1,000,000 users one seeded database planned every search and list page
    // again (0.36 and 0.15 ms of PostgreSQL CPU each) and another did not (0.19 and 0.10 ms): the same
    // plans, the difference all planning.
    const laneConfig = { ...clientConfig, options: `${clientConfig.options} -c plan_cache_mode=force_generic_plan` };
    const lanes = readLanes > 0
      ? new ReadLanes(() => new pg.Client({ ...laneConfig, pipeline: true, connectionTimeoutMillis: LANE_CONNECT_TIMEOUT_MS } as pg.ClientConfig), names, readLanes)
      : undefined;
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: (namingPool ?? pool) as never }) });
    return {
      db,
      engine: 'postgres',
      location: redactUrl(opts.databaseUrl),
      readTogether: lanes
        ? async (queries) => (await lanes.together(queries)).map((r) => r.rows)
        : namingPool
          ? async (queries) => (queries.length === 1 ? oneAfterAnother(db, queries) : (await namingPool.together(queries)).map((r) => r.rows))
          : (queries) => oneAfterAnother(db, queries),
      close: async () => {
        await lanes?.close();
        await db.destroy();
      },
    };
  }
  prepareDataDir(opts.dataDir);
  const file = path.join(opts.dataDir, 'gatehouse.db');
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
  } catch (err) {
    // A file SQLite cannot open or write (read-only, not a database, a read-only file system).
    throw new StoreOpenError(`cannot open the embedded store ${file} (DATA_DIR): ${reasonOf(err, '')}; check that this user can write it and that it is a Gatehouse store, or point DATA_DIR at another directory`);
  }
  sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statementCachingDatabase(sqlite) }) });
  return {
    db,
    engine: 'sqlite',
    location: file,
    // In-process: there is no round trip to save.
    readTogether: (queries) => oneAfterAnother(db, queries),
    close: () => db.destroy(),
  };
}

async function oneAfterAnother(db: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const q of queries) out.push((await db.executeQuery(q)).rows);
  return out;
}
