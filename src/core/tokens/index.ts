// API tokens: admin tokens and personal tokens. Only the SHA-256 of a token is stored; the secret is shown once.
//
// A token's power is its owner's current power, judged on every request from the row the check reads
// (docs/credentials.md):
// - a personal token acts for its owner (user_id) with the owner's current root-role permissions, and is
//   refused while the owner is inactive, deleted or matched by an active ban;
// - an admin token acts for the user who made it (creator_user_id: the signed-in user, or the user behind
//   the token that made it) with min(ADMIN, that user's current root role) = the root role's permissions,
//   and is refused while that user may not act; it is deleted with them. Only tokens the system made
//   (GATEHOUSE_INIT_API_TOKEN) have no user and act as ADMIN.
import type { CompiledQuery } from 'kysely';
import type { Store } from '../../store/db.js';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { nowIso, toIso, type Executor } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import { ADMIN_PERMISSION, type Principal, type RequestContext } from '../context.js';
import { conflict, invalid, notFound } from '../errors.js';
import { rootRolePermissions } from '../roles/index.js';
import { normalizeText } from '../users/validation.js';
import { targetUserRow, withTargetUser, type UserRow } from '../users/store.js';
import { mayAct } from '../auth/credentials.js';
import { fixedQuery } from '../../store/statements.js';
import { keysetBatches } from '../../store/batches.js';

export type TokenKind = 'admin' | 'personal';

export interface ApiToken {
  id: number;
  name: string;
  kind: TokenKind;
  userId: number | null;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const TOKEN_PREFIX: Record<TokenKind, string> = { admin: 'gha_', personal: 'ghp_' };
// Writing last_used_at on every request would turn each read into a write; once a minute is enough.
const LAST_USED_GRANULARITY_MS = 60_000;

function toToken(r: { id: number; name: string; kind: string; user_id: number | null; created_by: string | null; created_at: Date | string; expires_at: Date | string | null; last_used_at: Date | string | null }): ApiToken {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as TokenKind,
    userId: r.user_id,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at),
    lastUsedAt: toIso(r.last_used_at),
  };
}

/** The user a new admin token made by `principal` acts for (null: the system made it). */
function actingUserOf(principal: Principal): number | null {
  if (principal.kind === 'user') return principal.userId;
  if (principal.kind === 'api_token') return principal.userId ?? principal.creatorUserId ?? null;
  return null;
}

/** Inserts a token row (only the secret's hash) and its audit event, inside the caller's transaction. */
async function insertToken(
  trx: Executor,
  principal: Principal,
  ctx: RequestContext,
  t: { name: string; secret: string; kind: TokenKind; userId: number | null; expiresAt: string | null },
): Promise<ApiToken> {
  const row = await trx
    .insertInto('api_tokens')
    .values({
      name: t.name,
      token_hash: sha256Hex(t.secret),
      kind: t.kind,
      user_id: t.userId,
      creator_user_id: t.kind === 'admin' ? actingUserOf(principal) : null,
      created_by: principal.kind === 'system' ? 'system' : `${principal.kind}:${principal.kind === 'user' ? principal.userId : principal.tokenId}`,
      created_at: nowIso(),
      expires_at: t.expiresAt,
      last_used_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const token = toToken(row);
  await recordAudit(trx, principal, ctx, {
    action: 'api_token.created', targetType: 'api_token', targetId: token.id,
    after: { id: token.id, name: token.name, kind: token.kind, user_id: token.userId, expires_at: token.expiresAt },
  });
  return token;
}

// The owner of a personal token (u) and the user an admin token acts for (c), in the same statement.
const TOKEN_COLUMNS = [
  't.id', 't.name', 't.kind', 't.user_id', 't.creator_user_id', 't.expires_at', 't.last_used_at',
  'u.is_active', 'u.deleted_at', 'u.banned_until', 'u.root_role_id',
  'c.id as c_id', 'c.is_active as c_is_active', 'c.deleted_at as c_deleted_at', 'c.banned_until as c_banned_until', 'c.root_role_id as c_root_role_id',
] as const;
const tokenByHash = (ex: Executor, hash: string) =>
  ex.selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('users as c', 'c.id', 't.creator_user_id')
    .select(TOKEN_COLUMNS)
    .where('t.token_hash', '=', hash);
/** A token (and its owner's standing) by the secret's hash. */
const TOKEN_BY_HASH = fixedQuery<[string], TokenAuthRow>(1, tokenByHash);
/** The same, with the row of the user a request is about (see authenticateAndRead). */
const TOKEN_BY_HASH_WITH_USER = fixedQuery<[string, number], TokenAuthRow>(2, (ex, hash, targetUserId) =>
  withTargetUser(tokenByHash(ex, hash), targetUserId));
type TokenAuthRow = Awaited<ReturnType<ReturnType<typeof tokenByHash>['executeTakeFirstOrThrow']>>;

const SYSTEM_TOKEN_PERMISSIONS: ReadonlySet<string> = new Set([ADMIN_PERMISSION]);

/** Token hashes remembered as having passed (TokensService.passed); past this many the set starts over. */
const MAX_PASSED_TOKENS = 4096;

export class TokensService {
  /** Hashes of tokens that passed the check in this process: only those get reads sent along (authenticateAndRead). */
  private readonly passed = new Set<string>();

  constructor(private readonly store: Store) {}

  async create(
    principal: Principal,
    ctx: RequestContext,
    input: { name: string; kind: TokenKind; userId?: number | null; expiresAt?: string | null; secret?: string },
  ): Promise<{ token: ApiToken; secret: string }> {
    const name = normalizeText(input.name, 'name', 255);
    if (!name) throw invalid('name', 'required', 'A token name is required');
    let expiresAt: string | null = null;
    if (input.expiresAt) {
      const t = Date.parse(input.expiresAt);
      if (Number.isNaN(t)) throw invalid('expires_at', 'invalid_date', 'expires_at must be an ISO-8601 date-time');
      if (t <= Date.now()) throw invalid('expires_at', 'in_the_past', 'expires_at must be in the future');
      expiresAt = new Date(t).toISOString();
    }
    const secret = input.secret ?? randomToken(TOKEN_PREFIX[input.kind]);
    return this.store.db.transaction().execute(async (trx) => {
      const token = await insertToken(trx, principal, ctx, { name, secret, kind: input.kind, userId: input.userId ?? null, expiresAt });
      return { token, secret };
    });
  }

  /** Creates the token given by GATEHOUSE_INIT_API_TOKEN unless a token with that secret exists. */
  async ensureInitToken(principal: Principal, ctx: RequestContext, secret: string): Promise<void> {
    const existing = await this.store.db.selectFrom('api_tokens').select('id').where('token_hash', '=', sha256Hex(secret)).executeTakeFirst();
    if (existing) return;
    await this.create(principal, ctx, { name: 'init token (GATEHOUSE_INIT_API_TOKEN)', kind: 'admin', secret });
  }

  /** Tokens in id order (with `page`: the tokens after id `page.after`, at most `page.limit`). */
  async list(filter: { kind?: TokenKind; userId?: number } = {}, page?: { after: number | undefined; limit: number }): Promise<ApiToken[]> {
    let q = this.store.db.selectFrom('api_tokens').select(['id', 'name', 'kind', 'user_id', 'created_by', 'created_at', 'expires_at', 'last_used_at']);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (page?.after !== undefined) q = q.where('id', '>', page.after);
    return (await q.orderBy('id').$if(page !== undefined, (b) => b.limit(page!.limit)).execute()).map(toToken);
  }

  /** list(filter), `batchSize` at a time (a keyset read: src/store/batches.ts), for a streamed list. */
  listBatches(filter: { kind?: TokenKind; userId?: number }, batchSize: number): AsyncGenerator<ApiToken[], void, undefined> {
    return keysetBatches((after, limit) => this.list(filter, { after, limit }), (t) => t.id, batchSize);
  }

  async delete(principal: Principal, ctx: RequestContext, id: number, filter: { kind?: TokenKind; userId?: number } = {}): Promise<ApiToken> {
    return this.store.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('api_tokens').select(['id', 'name', 'kind', 'user_id', 'created_by', 'created_at', 'expires_at', 'last_used_at']).where('id', '=', id);
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      const row = await q.executeTakeFirst();
      if (!row) throw notFound('api_token');
      await trx.deleteFrom('api_tokens').where('id', '=', id).execute();
      const token = toToken(row);
      await recordAudit(trx, principal, ctx, { action: 'api_token.deleted', targetType: 'api_token', targetId: id, before: { id, name: token.name, kind: token.kind, user_id: token.userId } });
      return token;
    });
  }

  /** The principal of a presented token secret, or undefined when it is unknown, expired or its owner is gone. */
  async authenticate(secret: string): Promise<(Principal & { kind: 'api_token' }) | undefined> {
    return (await this.authenticateAndRead(secret))?.principal;
  }

  /**
   * authenticate(), and when `targetUserId` is given, that user's row read in the same statement (one round
   * trip instead of two for the routes about one user; the row is only used once the principal is allowed).
   * `along`: a read of the route's own sent together with the check (Store.readTogether); its rows come
   * back as `along`, for the caller to use only once the principal is allowed.
   */
  async authenticateAndRead(
    secret: string,
    targetUserId?: number,
    along?: CompiledQuery,
  ): Promise<{ principal: Principal & { kind: 'api_token' }; target: UserRow | undefined; along?: unknown[] } | undefined> {
    if (secret.length < 16 || secret.length > 512) return undefined;
    const hash = sha256Hex(secret);
    const { db, engine } = this.store;
    const check = targetUserId === undefined ? TOKEN_BY_HASH.compile(db, engine, hash) : TOKEN_BY_HASH_WITH_USER.compile(db, engine, hash, targetUserId);
    // The read along goes out only with a token this process has seen pass: made-up tokens cost the
    // database the check alone, as before.
    const readAlong = along !== undefined && this.passed.has(hash);
    const [rows, alongRows] = await this.store.readTogether(readAlong ? [check, along] : [check]);
    const row = rows[0] as TokenAuthRow | undefined;
    const principal = row && this.principalOf(row);
    if (!row || !principal) {
      this.passed.delete(hash);
      return undefined;
    }
    if (!readAlong && along !== undefined) {
      if (this.passed.size >= MAX_PASSED_TOKENS) this.passed.clear();
      this.passed.add(hash);
    }
    const lastUsed = toIso(row.last_used_at);
    const now = Date.now();
    if (!lastUsed || now - Date.parse(lastUsed) > LAST_USED_GRANULARITY_MS) {
      await this.store.db.updateTable('api_tokens').set({ last_used_at: new Date(now).toISOString() }).where('id', '=', row.id).execute();
    }
    return {
      principal,
      target: targetUserId !== undefined ? targetUserRow(row as unknown as Record<string, unknown>) : undefined,
      along: alongRows,
    };
  }

  /** The principal a token row stands for; undefined when it expired or its owner may no longer act. */
  private principalOf(row: TokenAuthRow): (Principal & { kind: 'api_token' }) | undefined {
    const now = Date.now();
    const expires = toIso(row.expires_at);
    if (expires && Date.parse(expires) <= now) return undefined;
    let permissions: ReadonlySet<string>;
    if (row.kind === 'admin') {
      if (row.creator_user_id === null) permissions = SYSTEM_TOKEN_PERMISSIONS;
      else {
        const creator = row.c_id === null ? undefined : { is_active: row.c_is_active, deleted_at: row.c_deleted_at, banned_until: row.c_banned_until };
        if (!mayAct(creator, now)) return undefined;
        // min(ADMIN, the creator's root role): ADMIN covers every permission, so the root role's own.
        permissions = rootRolePermissions(row.c_root_role_id ?? 5);
      }
    } else {
      if (row.user_id === null || !mayAct(row.is_active === null ? undefined : row, now)) return undefined;
      permissions = rootRolePermissions(row.root_role_id ?? 5);
    }
    return { kind: 'api_token', tokenId: row.id, userId: row.user_id, creatorUserId: row.creator_user_id, permissions, label: `token:${row.name}` };
  }

  // --- user-admin surface (Unleash personal access tokens) ---

  /**
   * A personal access token for `userId`, acting with that user's root-role permissions. Its name (Unleash's
   * "description") is unique per owner (409 name_taken); an expiry in the future is required. The owner's row
   * is locked (PostgreSQL) so two concurrent creations cannot both pass the uniqueness check.
   */
  async createPersonal(
    principal: Principal,
    ctx: RequestContext,
    input: { userId: number; name: string; expiresAt: string },
  ): Promise<{ token: ApiToken; secret: string }> {
    const name = normalizeText(input.name, 'description', 255);
    if (!name) throw invalid('description', 'required', 'A token description is required');
    const t = Date.parse(input.expiresAt);
    if (Number.isNaN(t)) throw invalid('expiresAt', 'invalid_date', 'expiresAt must be an ISO-8601 date-time');
    if (t <= Date.now()) throw invalid('expiresAt', 'in_the_past', 'expiresAt must be in the future');
    const expiresAt = new Date(t).toISOString();
    const secret = randomToken(TOKEN_PREFIX.personal);
    return this.store.db.transaction().execute(async (trx) => {
      let owner = trx.selectFrom('users').select(['id', 'deleted_at']).where('id', '=', input.userId);
      if (this.store.engine === 'postgres') owner = owner.forUpdate();
      const row = await owner.executeTakeFirst();
      if (!row || row.deleted_at !== null) throw notFound('user');
      const clash = await trx
        .selectFrom('api_tokens')
        .select('id')
        .where('kind', '=', 'personal')
        .where('user_id', '=', input.userId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (clash) throw conflict('name', 'name_taken', 'You already have a personal access token with this description');
      const token = await insertToken(trx, principal, ctx, { name, secret, kind: 'personal', userId: input.userId, expiresAt });
      return { token, secret };
    });
  }
}
