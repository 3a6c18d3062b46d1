// Where the two engines differ, the difference is written once, here.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** The largest id a row can have (ids are PostgreSQL integer columns); route schemas bound ids by it. */
export const MAX_ID = 2147483647;

export type Engine = 'sqlite' | 'postgres';
/** Stores take an executor: the database handle or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

export function toIso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  // SQLite keeps what we wrote: an ISO-8601 string in UTC.
  return value;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function toBool(value: number | boolean | null | undefined): boolean {
  return value === true || value === 1;
}

export function fromBool(value: boolean): number {
  return value ? 1 : 0;
}

export function parseJson<T>(value: string | null | undefined, fallback: T): T {
  if (value === null || value === undefined || value === '') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/**
 * Names the unique key a failed write collided with, as "table.column[,column]", on both engines.
 * PostgreSQL: error 23505 with `table` and `detail` "Key (col)=(…) already exists.".
 * SQLite: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY "UNIQUE constraint failed: table.col".
 */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; table?: string; detail?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (e.code === '23505') {
    const cols = /Key \(([^)]+)\)=/.exec(e.detail ?? '')?.[1]?.replace(/\s+/g, '');
    return `${e.table ?? ''}.${cols ?? ''}`;
  }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const m = /constraint failed: (.+)$/.exec(e.message ?? '');
    if (!m) return '.';
    const parts = m[1].split(',').map((s) => s.trim());
    const table = parts[0].split('.')[0];
    return `${table}.${parts.map((p) => p.split('.')[1]).join(',')}`;
  }
  return undefined;
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return !!e && (e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY');
}

/** Seconds a client is told to wait (Retry-After) when the store cannot be reached. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * The store cannot serve right now, through no fault of the request: PostgreSQL unreachable, its connection
 * lost or terminated (a restart, a failover: SQLSTATE class 08, 57P01-57P03), too many connections (53300),
 * the pool's connect timeout; SQLite still locked after its busy timeout; the store closed while a request
 * was still running (shutting down). Surfaces answer 503 with Retry-After, in their own error shape.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // SQLite busy or locked, in every extended form (SQLITE_BUSY_SNAPSHOT: a read transaction that turned into a
  // write after another connection committed; SQLITE_BUSY_RECOVERY, SQLITE_LOCKED_SHAREDCACHE …): the
  // request is sound, the store is momentarily taken. Never a 500.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  // The last three: the store was closed under a request still running (the node shutting down, its
  // connections already closed): Kysely's, the read lanes' and node-postgres's pool's words for it.
  return /^Connection terminated|not queryable|timeout exceeded when trying to connect|^driver has already been destroyed|^the store is closed|^Cannot use a pool after calling end/.test(message);
}

/** Serialization failures / deadlocks / SQLite busy: safe to retry the whole transaction. */
export function isRetryable(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return !!e && (e.code === '40001' || e.code === '40P01' || (typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')));
}

/** The upper bound of a prefix range: every string starting with `prefix` is >= prefix and < this. */
export function prefixUpperBound(prefix: string): string {
  const cps = Array.from(prefix);
  const last = cps.pop()!;
  return cps.join('') + String.fromCodePoint(Math.min(last.codePointAt(0)! + 1, 0x10ffff));
}
