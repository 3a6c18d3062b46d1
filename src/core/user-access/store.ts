// SQL of the admin's view of one user's ways in (src/core/user-access): their live sessions, their API
// tokens, their tenant memberships, their invite links. Secrets (token and session hashes) are never read.
import type { Engine, Executor } from '../../store/sql.js';
import { nowIso, toIso } from '../../store/sql.js';
import type { Store } from '../../store/db.js';
import { findUserRow } from '../users/store.js';
import { liveUsersBeyondCap, type ListTotal } from '../users/total-store.js';

export interface UserSessionView {
  id: string;
  kind: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

export interface UserTokenView {
  id: number;
  name: string;
  kind: string;
  /** personal: the user owns it; admin: an admin API token acting for the user (they made it). */
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface UserMembershipView {
  tenantId: number;
  tenantName: string;
  createdAt: string;
  deletedAt: string | null;
  roles: Array<{ id: number; name: string }>;
}

const SESSION_COLUMNS = ['id', 'kind', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'] as const;

function toSessionView(r: { id: string; kind: string; created_at: Date | string; last_seen_at: Date | string; expires_at: Date | string; ip: string | null; user_agent: string | null }): UserSessionView {
  return {
    id: r.id, kind: r.kind, createdAt: toIso(r.created_at)!, lastSeenAt: toIso(r.last_seen_at)!, expiresAt: toIso(r.expires_at)!,
    ip: r.ip, userAgent: r.user_agent,
  };
}

/** A user's live sessions (not revoked, not expired), newest first, at most `limit`. */
export async function liveSessionRows(ex: Executor, userId: number, limit: number): Promise<UserSessionView[]> {
  const rows = await ex
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso())
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toSessionView);
}

/** One live session of a user (row-locked on PostgreSQL); undefined when it is not theirs, revoked or expired. */
export async function liveSessionRow(ex: Executor, engine: Engine, userId: number, sessionId: string): Promise<UserSessionView | undefined> {
  let q = ex
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso());
  if (engine === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && toSessionView(row);
}

const TOKEN_COLUMNS = ['id', 'name', 'kind', 'created_by', 'created_at', 'expires_at', 'last_used_at'] as const;

function toTokenView(r: { id: number; name: string; kind: string; created_by: string | null; created_at: Date | string; expires_at: Date | string | null; last_used_at: Date | string | null }): UserTokenView {
  return {
    id: r.id, name: r.name, kind: r.kind, createdBy: r.created_by, createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at), lastUsedAt: toIso(r.last_used_at),
  };
}

/** The user's personal tokens and the admin API tokens acting for them, in id order after `after`, at most `limit`. */
export async function userTokenRows(ex: Executor, userId: number, after: number | undefined, limit: number): Promise<UserTokenView[]> {
  const rows = await ex
    .selectFrom('api_tokens')
    .select(TOKEN_COLUMNS)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('creator_user_id', '=', userId)]))
    .$if(after !== undefined, (b) => b.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toTokenView);
}

/** One token of the user (theirs, or acting for them); undefined otherwise. */
export async function userTokenRow(ex: Executor, userId: number, tokenId: number): Promise<UserTokenView | undefined> {
  const row = await ex
    .selectFrom('api_tokens')
    .select(TOKEN_COLUMNS)
    .where('id', '=', tokenId)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('creator_user_id', '=', userId)]))
    .executeTakeFirst();
  return row && toTokenView(row);
}

export async function deleteTokenRow(ex: Executor, tokenId: number): Promise<boolean> {
  const r = await ex.deleteFrom('api_tokens').where('id', '=', tokenId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The user's tenant memberships (soft-deleted ones too, with deleted_at) and their roles there, in tenant order. */
export async function membershipRows(ex: Executor, userId: number): Promise<UserMembershipView[]> {
  const members = await ex
    .selectFrom('tenant_members as m')
    .innerJoin('tenants as t', 't.id', 'm.tenant_id')
    .select(['m.tenant_id', 't.name', 'm.created_at', 'm.deleted_at'])
    .where('m.user_id', '=', userId)
    .orderBy('m.tenant_id')
    .execute();
  if (members.length === 0) return [];
  const roles = await ex
    .selectFrom('tenant_user_roles as ur')
    .innerJoin('roles as r', 'r.id', 'ur.role_id')
    .select(['ur.tenant_id', 'r.id', 'r.name'])
    .where('ur.user_id', '=', userId)
    .orderBy('ur.tenant_id')
    .orderBy('r.id')
    .execute();
  const byTenant = new Map<number, Array<{ id: number; name: string }>>();
  for (const r of roles) {
    let list = byTenant.get(r.tenant_id);
    if (!list) byTenant.set(r.tenant_id, (list = []));
    list.push({ id: r.id, name: r.name });
  }
  return members.map((m) => ({
    tenantId: m.tenant_id, tenantName: m.name, createdAt: toIso(m.created_at)!, deletedAt: toIso(m.deleted_at), roles: byTenant.get(m.tenant_id) ?? [],
  }));
}

/** A new invite (set-your-first-password) token row: only the token's SHA-256 is stored. */
export async function insertInviteRow(ex: Executor, v: { tokenHash: string; userId: number; createdBy: string; expiresAt: string }): Promise<void> {
  await ex
    .insertInto('useradmin_invites')
    .values({ token_hash: v.tokenHash, user_id: v.userId, created_by: v.createdBy, created_at: nowIso(), expires_at: v.expiresAt, used_at: null })
    .execute();
}

/** The statements above bound to one store: the engine decides the locking inside, the service never sees it. */
export function createUserAccessStore(store: Store) {
  const { db, engine } = store;
  return {
    db,
    findUser: (ex: Executor, id: number, forUpdate = false) => findUserRow(ex, engine, id, { forUpdate }),
    liveSession: (ex: Executor, userId: number, sessionId: string) => liveSessionRow(ex, engine, userId, sessionId),
    liveUsersBeyondCap: (): Promise<ListTotal> => liveUsersBeyondCap(db, engine),
  };
}
