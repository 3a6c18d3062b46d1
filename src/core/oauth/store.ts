// SQL and row mapping for OAuth clients, their sessions and the signing keys. No rules here.
import type { Generated, Selectable, Transaction } from 'kysely';
import type { Database, NullableTimestamp, Timestamp } from '../../store/schema.js';
import { nowIso, parseJson, toIso, type Executor } from '../../store/sql.js';
import type { Store } from '../../store/db.js';
import { fixedQuery } from '../../store/statements.js';
import { mayAct } from '../auth/credentials.js';
import { tenantIdsOfUser } from '../tenants/store.js';
import { toUser } from '../users/store.js';
import type { User } from '../users/types.js';

export interface OAuthClientsTable {
  id: Generated<number>;
  client_id: string;
  name: string;
  secret_hash: string;
  grant_types: string;
  service_user_id: number | null;
  created_by: string | null;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface OAuthSessionsTable {
  session_id: string;
  client_id: number;
}

export interface OAuthSigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_key: string;
  created_at: Timestamp;
  retired_at: NullableTimestamp;
}

declare module '../../store/schema.js' {
  interface Database {
    oauth_clients: OAuthClientsTable;
    oauth_sessions: OAuthSessionsTable;
    oauth_signing_keys: OAuthSigningKeysTable;
  }
}

export type GrantType = 'password' | 'refresh_token' | 'client_credentials';

export interface OAuthClient {
  id: number;
  clientId: string;
  name: string;
  grantTypes: GrantType[];
  serviceUserId: number | null;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export function toClient(r: Selectable<OAuthClientsTable>): OAuthClient {
  return {
    id: r.id,
    clientId: r.client_id,
    name: r.name,
    grantTypes: parseJson<GrantType[]>(r.grant_types, []),
    serviceUserId: r.service_user_id,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at)!,
    lastUsedAt: toIso(r.last_used_at),
  };
}

export async function findClientRow(ex: Executor, by: { id: number } | { clientId: string }): Promise<(OAuthClient & { secretHash: string }) | undefined> {
  let q = ex.selectFrom('oauth_clients').selectAll();
  q = 'id' in by ? q.where('id', '=', by.id) : q.where('client_id', '=', by.clientId);
  const r = await q.executeTakeFirst();
  return r ? { ...toClient(r), secretHash: r.secret_hash } : undefined;
}

/** Clients in id order (with `page`: the clients after id `page.after`, at most `page.limit`). */
export async function listClientRows(ex: Executor, page?: { after: number | undefined; limit: number }): Promise<OAuthClient[]> {
  let q = ex.selectFrom('oauth_clients').selectAll();
  if (page?.after !== undefined) q = q.where('id', '>', page.after);
  return (await q.orderBy('id').$if(page !== undefined, (b) => b.limit(page!.limit)).execute()).map(toClient);
}

export async function insertClient(
  ex: Executor,
  v: { clientId: string; name: string; secretHash: string; grantTypes: GrantType[]; serviceUserId: number | null; createdBy: string | null },
): Promise<OAuthClient> {
  const r = await ex
    .insertInto('oauth_clients')
    .values({
      client_id: v.clientId, name: v.name, secret_hash: v.secretHash, grant_types: JSON.stringify(v.grantTypes),
      service_user_id: v.serviceUserId, created_by: v.createdBy, created_at: nowIso(), last_used_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toClient(r);
}

/** Replaces a client's secret hash; false when there is no such client. */
export async function updateClientSecret(ex: Executor, id: number, secretHash: string): Promise<boolean> {
  const r = await ex.updateTable('oauth_clients').set({ secret_hash: secretHash }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function touchClient(ex: Executor, id: number): Promise<void> {
  await ex.updateTable('oauth_clients').set({ last_used_at: nowIso() }).where('id', '=', id).execute();
}

/** Revokes every live session granted to a client, then deletes the client (its session links cascade). */
export async function deleteClientRow(ex: Executor, id: number, reason: string): Promise<number> {
  const now = nowIso();
  const r = await ex
    .updateTable('sessions')
    .set({ revoked_at: now, revoke_reason: reason })
    .where('id', 'in', (eb) => eb.selectFrom('oauth_sessions').select('session_id').where('client_id', '=', id))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  await ex.deleteFrom('oauth_clients').where('id', '=', id).execute();
  return Number(r.numUpdatedRows);
}

export async function linkSession(ex: Executor, sessionId: string, clientId: number): Promise<void> {
  await ex.insertInto('oauth_sessions').values({ session_id: sessionId, client_id: clientId }).execute();
}

export async function sessionClientId(ex: Executor, sessionId: string): Promise<number | undefined> {
  const r = await ex.selectFrom('oauth_sessions').select('client_id').where('session_id', '=', sessionId).executeTakeFirst();
  return r?.client_id;
}

export interface LiveOAuthSession {
  sessionId: string;
  userId: number;
  rootRoleId: number;
  label: string;
}

/**
 * One indexed query on every request with an access token: the session is live and of kind 'oauth',
 * still linked to an existing client, and its user may act (active, not deleted, not banned: auth/credentials).
 */
const oauthSessionById = (ex: Executor, sessionId: string) => ex
  .selectFrom('sessions as s')
  .innerJoin('oauth_sessions as o', 'o.session_id', 's.id')
  .innerJoin('users as u', 'u.id', 's.user_id')
  .select(['s.id', 's.user_id', 's.kind', 's.expires_at', 's.revoked_at', 'u.is_active', 'u.deleted_at', 'u.banned_until', 'u.root_role_id', 'u.email', 'u.username'])
  .where('s.id', '=', sessionId);
type OAuthSessionRow = Awaited<ReturnType<ReturnType<typeof oauthSessionById>['executeTakeFirstOrThrow']>>;
/** An OAuth session with its user's standing, by session id (the access token's `sid`). */
const OAUTH_SESSION_BY_ID = fixedQuery<[string], OAuthSessionRow>(1, oauthSessionById);

/**
 * The live OAuth session an access token names, read as the other credential checks are (Store.readTogether:
 * on PostgreSQL's read lanes); undefined when it is revoked, expired, not an OAuth session, or its user may
 * no longer act.
 */
export async function findLiveOAuthSession(store: Store, sessionId: string): Promise<LiveOAuthSession | undefined> {
  const [rows] = await store.readTogether([OAUTH_SESSION_BY_ID.compile(store.db, store.engine, sessionId)]);
  const r = rows[0] as OAuthSessionRow | undefined;
  if (!r || r.kind !== 'oauth' || r.revoked_at !== null || toIso(r.expires_at)! <= nowIso()) return undefined;
  if (!mayAct(r)) return undefined;
  return { sessionId: r.id, userId: r.user_id, rootRoleId: r.root_role_id, label: r.email ?? r.username ?? `user:${r.user_id}` };
}

// ---- signing keys ----

export interface KeyRow {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKey: string;
  createdAt: string;
  retiredAt: string | null;
}

export async function listKeyRows(ex: Executor): Promise<KeyRow[]> {
  const rows = await ex.selectFrom('oauth_signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
  return rows.map((r) => ({
    kid: r.kid,
    alg: r.alg,
    publicJwk: parseJson<Record<string, unknown>>(r.public_jwk, {}),
    privateKey: r.private_key,
    createdAt: toIso(r.created_at)!,
    retiredAt: toIso(r.retired_at),
  }));
}

export async function insertKeyRow(ex: Executor, v: { kid: string; alg: string; publicJwk: Record<string, unknown>; privateKey: string }): Promise<void> {
  await ex.insertInto('oauth_signing_keys').values({
    kid: v.kid, alg: v.alg, public_jwk: JSON.stringify(v.publicJwk), private_key: v.privateKey, created_at: nowIso(), retired_at: null,
  }).execute();
}

export async function retireKeys(ex: Executor): Promise<string[]> {
  const live = await ex.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is', null).execute();
  if (live.length) await ex.updateTable('oauth_signing_keys').set({ retired_at: nowIso() }).where('retired_at', 'is', null).execute();
  return live.map((r) => r.kid);
}

export async function deleteKeysRetiredBefore(ex: Executor, before: string): Promise<void> {
  await ex.deleteFrom('oauth_signing_keys').where('retired_at', 'is not', null).where('retired_at', '<', before).execute();
}

/**
 * The OAuth store: every statement the OAuth service runs, bound to the database and its engine. Methods
 * that take an executor run in the caller's transaction (`transaction`).
 */
export function createOAuthStore(store: Store) {
  const { db } = store;
  return {
    transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
    },
    findClient: (by: { id: number } | { clientId: string }, ex: Executor = db) => findClientRow(ex, by),
    listClients: (page?: { after: number | undefined; limit: number }) => listClientRows(db, page),
    insertClient,
    updateClientSecret,
    touchClient: (id: number) => touchClient(db, id),
    deleteClient: deleteClientRow,
    linkSession,
    sessionClientId: (sessionId: string) => sessionClientId(db, sessionId),
    findLiveSession: (sessionId: string) => findLiveOAuthSession(store, sessionId),
    /** The tenants a user belongs to (the access token's `tenants` claim). */
    tenantsOf: (userId: number) => tenantIdsOfUser(db, userId),
    /** A service account's standing (what mayAct judges). */
    serviceUserStanding: (userId: number) =>
      db.selectFrom('users').select(['id', 'is_active', 'deleted_at', 'banned_until']).where('id', '=', userId).executeTakeFirst(),
    /** Deletes a client's service account; its row as it was, or undefined when there was none. */
    deleteServiceUser: async (ex: Executor, userId: number): Promise<User | undefined> => {
      const row = await ex.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      if (!row) return undefined;
      await ex.deleteFrom('users').where('id', '=', row.id).execute();
      return toUser(row);
    },
  };
}

export type OAuthStore = ReturnType<typeof createOAuthStore>;
