// Named prepared statements for PostgreSQL. Kysely sends every query as an unnamed statement, which
// PostgreSQL parses, analyses and plans on every execution; for the short statements of a request (the
// credential check joined with the user it is about, the UPDATE … RETURNING with its audit INSERT) that
// was most of the database's CPU: pgbench at 16 clients ran the credential check at ~11,000/s unnamed and
// ~45,000/s prepared, and the update-with-audit statement at ~6,500/s and ~14,000/s. This wraps the pool
// Kysely gets so that each distinct parameterised SQL text becomes a named statement, prepared once per
// connection (node-postgres keeps track of which connection has prepared which name).
import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Appended (with Kysely's modifyEnd) to statements PostgreSQL must plan for their actual values every time,
 * because the best plan depends on them (prefix searches: a common prefix and a rare one want different
 * plans). Such statements are still sent unnamed.
 */
export const CUSTOM_PLAN = '/* gatehouse: plan per execution */';

/** More distinct texts than this are sent unnamed (bounds the statements each connection holds). */
const MAX_NAMED_STATEMENTS = 500;
/** Longer texts are sent unnamed (they are rare and each prepared copy costs server memory). */
const MAX_NAMED_TEXT = 16_384;

/** The name of each SQL text: shared by every connection, so a text always gets the same name. */
export class StatementNames {
  private readonly names = new Map<string, string>();

  nameOf(text: string, values: readonly unknown[] | undefined): string | undefined {
    // Statements without parameters (BEGIN, COMMIT, maintenance) gain nothing from a name.
    if (!values || values.length === 0 || text.length > MAX_NAMED_TEXT) return undefined;
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (this.names.size >= MAX_NAMED_STATEMENTS || text.endsWith(CUSTOM_PLAN)) return undefined;
    const name = `gh_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    this.names.set(text, name);
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}

type QueryResult = pg.QueryResult<Record<string, unknown>>;

/** The pool client Kysely's PostgresDialect sees: query(text, values) goes out as a named statement. */
class NamingClient {
  constructor(private readonly client: pg.PoolClient, private readonly names: StatementNames) {}

  query(textOrCursor: unknown, values?: unknown[]): Promise<QueryResult> | unknown {
    if (typeof textOrCursor !== 'string') return this.client.query(textOrCursor as pg.QueryConfig);
    const name = this.names.nameOf(textOrCursor, values);
    return name === undefined ? this.client.query(textOrCursor, values) : this.client.query({ name, text: textOrCursor, values });
  }

  release(err?: Error | boolean): void {
    this.client.release(err);
  }
}

/** The pool to give Kysely's PostgresDialect. */
export function namedStatementPool(pool: pg.Pool, names = new StatementNames()) {
  // Kysely keys its connection objects by client: the same client must always get the same wrapper.
  const wrappers = new WeakMap<pg.PoolClient, NamingClient>();
  return {
    names,
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
  };
}
