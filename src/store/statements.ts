// Statements prepared once and reused, on both engines.
//
// PostgreSQL: named prepared statements. Kysely sends every query as an unnamed statement, which
// PostgreSQL parses, analyses and plans on every execution; for the short statements of a request (the
// credential check joined with the user it is about, the UPDATE … RETURNING with its audit INSERT) that
// was most of the database's CPU: pgbench at 16 clients ran the credential check at ~11,000/s unnamed and
// ~45,000/s prepared, and the update-with-audit statement at ~6,500/s and ~14,000/s. This wraps the pool
// Kysely gets so that each distinct parameterised SQL text becomes a named statement, prepared once per
// connection (node-postgres keeps track of which connection has prepared which name).
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, Compilable } from 'kysely';
import type { Engine, Executor } from './sql.js';

/** More distinct texts than this are sent unnamed (bounds the statements each connection holds). */
const MAX_NAMED_STATEMENTS = 500;
/** Longer texts are sent unnamed (they are rare and each prepared copy costs server memory). */
const MAX_NAMED_TEXT = 16_384;

/** Whether a text is kept prepared (named, or kept by SQLite), given how many texts already are. */
function keepsPrepared(text: string, kept: number): boolean {
  return kept < MAX_NAMED_STATEMENTS && text.length <= MAX_NAMED_TEXT;
}

/** The name of each SQL text: shared by every connection, so a text always gets the same name. */
export class StatementNames {
  private readonly names = new Map<string, string>();

  nameOf(text: string, values: readonly unknown[] | undefined): string | undefined {
    // Statements without parameters (BEGIN, COMMIT, maintenance) gain nothing from a name.
    if (!values || values.length === 0) return undefined;
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (!keepsPrepared(text, this.names.size)) return undefined;
    const name = `gh_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    this.names.set(text, name);
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}

type QueryResult = pg.QueryResult<Record<string, unknown>>;

/**
 * A named statement PostgreSQL can no longer run as prepared: its tables changed shape after this connection
 * prepared it (`select *` after a migration added a column, while an older node kept serving).
 */
function isStaleResultType(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

// Rows of named statements are read as arrays and made into objects here. node-postgres builds each row
// object by spreading a template made with Object.create(null), which V8 keeps in dictionary mode: every
// row was a slow clone, and every read of its fields a hash lookup (the credential check joined with a
// user's 29 columns was the widest). An object literal per column list gives every row of a statement one
// fast shape.

/** Row builders by column list (the names of a statement's columns, in order). */
const rowBuilders = new Map<string, (values: unknown[]) => Record<string, unknown>>();
const MAX_ROW_BUILDERS = 1000;

function rowBuilderOf(fields: ReadonlyArray<{ name: string }>): (values: unknown[]) => Record<string, unknown> {
  const key = fields.map((f) => f.name).join('\u0000');
  let build = rowBuilders.get(key);
  if (build === undefined) {
    const names = fields.map((f) => f.name);
    // Duplicate names: the last column wins, as in node-postgres's own row objects. A column named
    // __proto__ in a literal would set the prototype instead: such a row is built property by property.
    build = names.includes('__proto__')
      ? (v) => {
        const row: Record<string, unknown> = {};
        names.forEach((name, i) => Object.defineProperty(row, name, { value: v[i], writable: true, enumerable: true, configurable: true }));
        return row;
      }
      : (new Function('v', `return {${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ')}};`) as (values: unknown[]) => Record<string, unknown>);
    if (rowBuilders.size < MAX_ROW_BUILDERS) rowBuilders.set(key, build);
  }
  return build;
}

/** The result with its array rows made into objects (what Kysely expects). */
function withRowObjects(result: pg.QueryResult<unknown[]>): QueryResult {
  const rows = result.rows as unknown[] as Array<unknown[] | Record<string, unknown>>;
  if (rows.length > 0) {
    const build = rowBuilderOf(result.fields);
    for (let i = 0; i < rows.length; i++) rows[i] = build(rows[i] as unknown[]);
  }
  return result as unknown as QueryResult;
}

/** The pool client Kysely's PostgresDialect sees: query(text, values) goes out as a named statement. */
class NamingClient {
  /** Names this connection prepared before their tables changed shape, and the names used instead. */
  private readonly renamed = new Map<string, string>();
  private inTransaction = false;
  /** A shared lane's socket is corked until the end of this event-loop turn (ReadLanes). */
  private corked = false;

  constructor(private readonly client: pg.PoolClient, private readonly names: StatementNames) {}

  query(textOrCursor: unknown, values?: unknown[]): Promise<QueryResult> | unknown {
    // A cursor (streaming) goes through as it is: pg returns the cursor itself, not a promise.
    if (typeof textOrCursor !== 'string') return this.client.query(textOrCursor as pg.QueryConfig);
    this.trackTransaction(textOrCursor);
    const shared = this.names.nameOf(textOrCursor, values);
    if (shared === undefined) return this.client.query(textOrCursor, values);
    return this.named(shared, textOrCursor, values);
  }

  private named(shared: string, text: string, values: unknown[] | undefined): Promise<QueryResult> {
    const name = this.renamed.get(shared) ?? shared;
    return this.client.query<unknown[]>({ name, text, values, rowMode: 'array' }).then(withRowObjects, (err: unknown) => {
      if (!isStaleResultType(err)) throw err;
      // Prepare it again under a new name on this connection. Outside a transaction the statement is simply
      // retried; inside one the error stands (the transaction is already aborted) and the next use succeeds.
      const fresh = `${shared}_${this.renamed.size + 1}`;
      this.renamed.set(shared, fresh);
      if (this.inTransaction) throw err;
      return this.client.query<unknown[]>({ name: fresh, text, values, rowMode: 'array' }).then(withRowObjects);
    });
  }

  /**
   * Statements sent together: written to the socket in one write, without waiting for each answer
   * (node-postgres's pipeline mode; each keeps its own Sync, so one failing does not abort the other).
   * Settles when all have; fails with the first error.
   */
  async together(queries: readonly CompiledQuery[], shared = false): Promise<QueryResult[]> {
    const stream = (this.client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
    if (shared && !this.corked && stream?.cork) {
      // A shared lane: what the rest of this event-loop turn sends on it goes out in the same write.
      this.corked = true;
      stream.cork();
      setImmediate(() => {
        this.corked = false;
        stream.uncork?.();
      });
    }
    stream?.cork?.();
    let pending: Array<Promise<QueryResult>>;
    try {
      pending = queries.map((q) => this.query(q.sql, q.parameters as unknown[]) as Promise<QueryResult>);
    } finally {
      stream?.uncork?.();
    }
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((r) => (r as PromiseFulfilledResult<QueryResult>).value);
  }

  /** Ends a client that is not the pool's (ReadLanes). */
  async end(): Promise<void> {
    await (this.client as unknown as pg.Client).end();
  }

  release(err?: Error | boolean): void {
    this.inTransaction = false;
    this.client.release(err);
  }

  private trackTransaction(text: string): void {
    // BEGIN, COMMIT, ROLLBACK and START TRANSACTION … are short; the statements of requests are not.
    if (text.length > 64) return;
    const head = text.trimStart().toLowerCase();
    if (head.startsWith('begin') || head.startsWith('start transaction')) this.inTransaction = true;
    else if (head === 'commit' || head === 'rollback' || head.startsWith('commit ') || (head.startsWith('rollback ') && !head.startsWith('rollback to'))) {
      this.inTransaction = false;
    }
  }
}

/** The pool to give Kysely's PostgresDialect. */
export function namedStatementPool(pool: pg.Pool, names = new StatementNames()) {
  // Kysely keys its connection objects by client: the same client must always get the same wrapper.
  const wrappers = new WeakMap<pg.PoolClient, NamingClient>();
  return {
    async connect(): Promise<NamingClient> {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = new NamingClient(client, names);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
    /** Statements read together on one connection (NamingClient.together); the pool must be in pipeline mode. */
    async together(queries: readonly CompiledQuery[]): Promise<QueryResult[]> {
      // Released as Kysely releases its connections (a client whose connection broke leaves the pool by itself).
      const client = await this.connect();
      try {
        return await client.together(queries);
      } finally {
        client.release();
      }
    },
  };
}

/**
 * Connections shared by the reads of concurrent requests (Store.readTogether): each is a node-postgres
 * client in pipeline mode, and every read goes out on it at once, without waiting for the reads of other
 * requests ahead of it. The writes of one event-loop turn are corked into one socket write, so under load
 * a PostgreSQL backend wakes once for the reads of many requests instead of once per request, and each
 * request needs no pool client for its reads. Only single statements outside any transaction go here (the
 * credential checks and the reads sent with them), each with its own Sync: one failing leaves the others be.
 * A lane whose connection broke is replaced on next use; the reads that were on it fail (503).
 */
export class ReadLanes {
  private readonly lanes: Array<Promise<NamingClient> | undefined>;
  private next = 0;
  private closed = false;

  constructor(
    private readonly open: () => pg.Client,
    private readonly names: StatementNames,
    count: number,
  ) {
    this.lanes = Array.from({ length: count }, () => undefined);
  }

  async together(queries: readonly CompiledQuery[]): Promise<QueryResult[]> {
    const i = this.next;
    this.next = (i + 1) % this.lanes.length;
    const lane = await (this.lanes[i] ??= this.connect(i));
    return lane.together(queries, true);
  }

  private connect(i: number): Promise<NamingClient> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const client = this.open();
    let connecting: Promise<NamingClient> | undefined;
    // A broken connection (PostgreSQL restarted, a backend terminated) leaves the lane; the next read opens
    // a new one. The reads that were on it fail with the connection's error; the listener also keeps an
    // error between reads from being unheard, which would stop the process.
    const gone = () => {
      if (connecting !== undefined && this.lanes[i] === connecting) this.lanes[i] = undefined;
    };
    client.on('error', gone);
    client.on('end', gone);
    connecting = client.connect().then(
      () => new NamingClient(client as unknown as pg.PoolClient, this.names),
      (err: unknown) => {
        gone();
        throw err;
      },
    );
    return connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = [...this.lanes];
    this.lanes.fill(undefined);
    await Promise.all(open.map(async (p) => {
      const lane = await p?.catch(() => undefined);
      await lane?.end();
    }));
  }
}

// SQLite: Kysely's driver calls better-sqlite3's prepare() (SQLite's compiler) for every query. A
// better-sqlite3 Statement can be run again with new parameters, and Kysely runs one query at a time on
// the connection, so statements are kept per SQL text and reused (same bounds as the names above).
//
// Rows are read as arrays too: better-sqlite3 builds a row object by setting each column's name on an empty
// object, which makes a new string for the name and moves the object through a map per column, for every
// row (about a fifth of the server's samples on pages of 50 at 1M users, in perf). The rows are made into
// objects with the row builders above, as on PostgreSQL.

/** What Kysely's SQLite driver calls on a statement. */
type SqliteStatement = Pick<BetterSqlite3.Statement, 'reader' | 'all' | 'run' | 'iterate'>;

/**
 * A reader statement whose rows are read as arrays and built into objects. Its row builder is kept until
 * the schema may have changed: a schema statement run on this database (`schema.changes`), or rows of
 * another width (a column added by another process).
 */
function arrayRowStatement(statement: BetterSqlite3.Statement, schema: { changes: number }): SqliteStatement {
  if (!statement.reader) return statement;
  const raw = statement.raw(true);
  let kept: { build: (values: unknown[]) => Record<string, unknown>; width: number; changes: number } | undefined;
  const builder = (width: number) => {
    if (kept === undefined || kept.width !== width || kept.changes !== schema.changes) {
      const columns = raw.columns();
      kept = { build: rowBuilderOf(columns), width: columns.length, changes: schema.changes };
    }
    return kept.build;
  };
  return {
    reader: true,
    run: (...params: unknown[]) => raw.run(...params),
    all: (...params: unknown[]) => {
      const rows = raw.all(...params) as unknown[][];
      if (rows.length === 0) return rows;
      const build = builder(rows[0].length);
      for (let i = 0; i < rows.length; i++) (rows as unknown[])[i] = build(rows[i]);
      return rows;
    },
    *iterate(...params: unknown[]) {
      for (const row of raw.iterate(...params) as IterableIterator<unknown[]>) yield builder(row.length)(row);
    },
  } as SqliteStatement;
}

/** Statements that change the schema: row builders made before one are made again. */
const SCHEMA_STATEMENT = /^\s*(create|alter|drop)\s/i;

// SQLite plans some statements for the values bound to them: a LIMIT or OFFSET given as a parameter, and
// (better-sqlite3 builds SQLite with STAT4, and once ANALYZE has run) a parameter compared with an indexed
// column. Such a statement is marked to be prepared again (parsed and planned) each time a value is bound:
// every list page and search went through SQLite's parser again (perf: 8% of a list page's samples, 19% of
// a search's). Given as `+?`, a parameter is the same value (unary plus is a no-op in SQLite, and neither
// form has an affinity) but SQLite no longer plans for it: each statement is planned once, for any value,
// as on PostgreSQL (see the search's statements in src/core/users/store.ts). The one plan that needs a
// bound value, LIKE 'prefix%' through an index, is not used here (every LIKE here starts with %).

/**
 * The text SQLite prepares for a statement: every parameter `?` outside string literals, quoted names and
 * comments written as `+?`.
 */
export function sqliteText(text: string): string {
  if (!text.includes('?')) return text;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      // A literal or a quoted name: to its closing quote (a doubled quote inside is one character).
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        j = text.indexOf(close, j);
        if (j === -1) return out + text.slice(from);
        if (close !== ']' && text[j + 1] === close) j += 2;
        else break;
      }
      i = j + 1;
    } else if (c === '-' && text[i + 1] === '-') {
      const j = text.indexOf('\n', i);
      if (j === -1) return out + text.slice(from);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const j = text.indexOf('*/', i + 2);
      if (j === -1) return out + text.slice(from);
      i = j + 2;
    } else if (c === '?') {
      out += `${text.slice(from, i)}+?`;
      from = i + 1;
      i++;
    } else {
      i++;
    }
  }
  return out + text.slice(from);
}

/** The database Kysely's SqliteDialect sees: prepare() returns the kept statement for a known text. */
export function statementCachingDatabase(db: BetterSqlite3.Database) {
  const statements = new Map<string, SqliteStatement>();
  const schema = { changes: 0 };
  return {
    prepare(text: string): SqliteStatement {
      if (SCHEMA_STATEMENT.test(text)) schema.changes++;
      const known = statements.get(text);
      if (known !== undefined) return known;
      const statement = arrayRowStatement(db.prepare(sqliteText(text)), schema);
      if (keepsPrepared(text, statements.size)) statements.set(text, statement);
      return statement;
    },
    close(): void {
      statements.clear();
      db.close();
    },
  };
}

// Kysely builds and compiles a query's SQL on every call; for the statements of every request (the
// credential checks, the user read, the update with its audit event) that was a sixth of the server's busy
// time. A fixed query is built once per engine with placeholders in place of its values, and each call only
// fills in the parameters: the SQL text is the same string every time, which also makes the statement
// lookups above cheap (the string's hash is computed once).

/** Stands for the i-th argument while a fixed query is built. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  sql: string;
  query: CompiledQuery['query'];
  queryId: CompiledQuery['queryId'];
  /** Per compiled parameter: the argument index it takes, or the constant the builder wrote. */
  parts: Array<number | { value: unknown }>;
}

export interface FixedQuery<A extends unknown[], R> {
  /** Runs the query with these values on `ex` (a Kysely instance or a transaction of the given engine). */
  execute(ex: Executor, engine: Engine, ...args: A): Promise<R[]>;
  /** The query with these values, compiled for the engine, to run later (Store.readTogether). */
  compile(ex: Executor, engine: Engine, ...args: A): CompiledQuery<R>;
}

/**
 * A query whose shape never changes. `build` receives stand-ins for the `arity` values and must use each of
 * them where a value goes (a where/on/set/limit value, sql.val); it runs once per engine.
 */
export function fixedQuery<A extends unknown[], R>(
  arity: number,
  // The stand-ins are typed `any`: each takes the place of a value of whatever type its position wants.
  build: (ex: Executor, ...values: any[]) => Compilable<R>,
): FixedQuery<A, R> {
  const templates = new Map<Engine, Template>();
  const compile = (ex: Executor, engine: Engine, args: unknown[]): CompiledQuery<R> => {
    let t = templates.get(engine);
    if (t === undefined) {
      const slots = Array.from({ length: arity }, (_, i) => new Slot(i));
      const compiled = build(ex, ...slots).compile();
      const parts = compiled.parameters.map((p) => (p instanceof Slot ? p.index : { value: p }));
      for (const s of slots) {
        if (!parts.includes(s.index)) throw new Error(`fixed query: value ${s.index} is not used as a parameter in: ${compiled.sql}`);
      }
      t = { sql: compiled.sql, query: compiled.query, queryId: compiled.queryId, parts };
      templates.set(engine, t);
    }
    const parameters = t.parts.map((p) => (typeof p === 'number' ? args[p] : p.value));
    return { sql: t.sql, parameters, query: t.query, queryId: t.queryId } as CompiledQuery<R>;
  };
  return {
    async execute(ex, engine, ...args) {
      return (await ex.executeQuery<R>(compile(ex, engine, args))).rows;
    },
    compile: (ex, engine, ...args) => compile(ex, engine, args),
  };
}
