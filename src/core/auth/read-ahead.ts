// The read-ahead of a request: rows a route will read whatever the caller is, read in the same statement as
// the caller's credentials (one round trip instead of two on PostgreSQL), kept for the request only.
//
// The credential checks (core/sessions, core/tokens) join the row of the user a route is about to their own
// row (withTargetUser) and send a route's own read along with them (Store.readTogether). What they read comes
// back as a RequestReads, which the surface attaches to the request context (RequestContext.reads, made only
// once the caller is allowed); the users store takes a row from it instead of reading again. Neither the
// users module nor the credential modules import each other for this: both use this file.
import { sql, type CompiledQuery, type SelectQueryBuilder, type Selectable } from 'kysely';
import type { UsersTable } from '../../store/schema.js';
import type { ReadCache } from '../context.js';

export type UserRow = Selectable<UsersTable>;

/** Every column of users, in table order (the joined reads name them one by one). */
export const USER_COLUMNS = [
  'id', 'username', 'username_key', 'name', 'name_key', 'email', 'email_key', 'email_verified_at', 'password_hash',
  'is_active', 'root_role_id', 'account_type', 'avatar_url', 'phone', 'title', 'emergency_contact_name',
  'emergency_contact_surname', 'emergency_contact_phone_number', 'blood_group', 'bio', 'languages',
  'login_attempts', 'last_login_at', 'last_login_ip', 'seen_at', 'created_at', 'updated_at', 'deleted_at', 'version',
  'username_skeleton',
  'banned_until',
] as const satisfies ReadonlyArray<keyof UsersTable>;
// A column added to UsersTable and not to the list above fails to compile here.
const everyUserColumn: Exclude<keyof UsersTable, (typeof USER_COLUMNS)[number]> extends never ? true : never = true;
void everyUserColumn;

const TARGET_PREFIX = 'target_';
/** USER_COLUMNS as named in a credential row they were joined to (target_<column>), built once. */
const TARGET_COLUMNS = USER_COLUMNS.map((c) => `${TARGET_PREFIX}${c}`);

/**
 * A query for the caller's credentials with the row of user `targetUserId` joined to it (a left join: no
 * such user leaves the columns null), every users column named `target_<column>` so it cannot collide with
 * the credential row's. Read it back with targetUserRow.
 */
export function withTargetUser(query: SelectQueryBuilder<any, any, any>, targetUserId: unknown): SelectQueryBuilder<any, any, any> {
  return query
    .leftJoin('users as target', (j) => j.on('target.id', '=', targetUserId as number))
    .select(USER_COLUMNS.map((c, i) => sql.ref(`target.${c}`).as(TARGET_COLUMNS[i])));
}

/** The user row back out of a row read with withTargetUser; undefined when the join found none. */
export function targetUserRow(row: Record<string, unknown>): UserRow | undefined {
  if (row[TARGET_COLUMNS[0]] === null || row[TARGET_COLUMNS[0]] === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < USER_COLUMNS.length; i++) out[USER_COLUMNS[i]] = row[TARGET_COLUMNS[i]];
  return out as unknown as UserRow;
}

/** What a credential check reads ahead: the user a route is about, and a route's own read (its key and statement). */
export interface ReadAheadRequest {
  targetUserId?: number;
  along?: { key: string; query: CompiledQuery };
}

/** The cache key of user `id`'s row. */
export function userReadKey(id: number): string {
  return `user:${id}`;
}

/**
 * What one request read ahead, each entry taken at most once: a row read ahead stands for the read the
 * request would have made next, not for the row after the request's own writes.
 */
export class RequestReads implements ReadCache {
  private readonly entries = new Map<string, unknown>();

  put(key: string, value: unknown): void {
    this.entries.set(key, value);
  }

  take(key: string): { value: unknown } | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key);
    this.entries.delete(key);
    return { value };
  }
}

/** The reads of a credential row and the route's read along with it, as a RequestReads (undefined: none was asked for). */
export function readsOf(ahead: ReadAheadRequest, credentialRow: Record<string, unknown>, alongRows: unknown[] | undefined): RequestReads | undefined {
  if (ahead.targetUserId === undefined && !(ahead.along && alongRows)) return undefined;
  const reads = new RequestReads();
  if (ahead.targetUserId !== undefined) reads.put(userReadKey(ahead.targetUserId), targetUserRow(credentialRow));
  if (ahead.along && alongRows) reads.put(ahead.along.key, alongRows);
  return reads;
}

/** User `id`'s row as the request read it ahead (value undefined: there is no such user); undefined when it did not. */
export function takeUserRow(reads: ReadCache | undefined, id: number): { value: UserRow | undefined } | undefined {
  return reads?.take(userReadKey(id)) as { value: UserRow | undefined } | undefined;
}
