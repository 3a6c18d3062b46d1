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
// SQL: ./store.ts.
import type { Store } from '../../store/db.js';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { nowIso, toIso, type Executor } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import { ADMIN_PERMISSION, type Principal, type RequestContext } from '../context.js';
import { conflict, invalid, notFound } from '../errors.js';
import { rootRolePermissions } from '../roles/index.js';
import { normalizeText } from '../users/validation.js';
import { mayAct } from '../auth/credentials.js';
import { readsOf, type ReadAheadRequest, type RequestReads } from '../auth/read-ahead.js';
import { keysetBatches } from '../../store/batches.js';
import { createTokenStore, type TokenAuthRow, type TokenStore } from './store.js';

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
  rows: TokenStore,
  trx: Executor,
  principal: Principal,
  ctx: RequestContext,
  t: { name: string; secret: string; kind: TokenKind; userId: number | null; expiresAt: string | null },
): Promise<ApiToken> {
  const row = await rows.insert(trx, {
      name: t.name,
      token_hash: sha256Hex(t.secret),
      kind: t.kind,
      user_id: t.userId,
      creator_user_id: t.kind === 'admin' ? actingUserOf(principal) : null,
      created_by: principal.kind === 'system' ? 'system' : `${principal.kind}:${principal.kind === 'user' ? principal.userId : principal.tokenId}`,
      created_at: nowIso(),
      expires_at: t.expiresAt,
      last_used_at: null,
  });
  const token = toToken(row);
  await recordAudit(trx, principal, ctx, {
    action: 'api_token.created', targetType: 'api_token', targetId: token.id,
    after: { id: token.id, name: token.name, kind: token.kind, user_id: token.userId, expires_at: token.expiresAt },
  });
  return token;
}

const SYSTEM_TOKEN_PERMISSIONS: ReadonlySet<string> = new Set([ADMIN_PERMISSION]);

/** Token hashes remembered as having passed (TokensService.passed); past this many the set starts over. */
const MAX_PASSED_TOKENS = 4096;

export class TokensService {
  /** Hashes of tokens that passed the check in this process: only those get reads sent along (authenticateAndRead). */
  private readonly passed = new Set<string>();

  private readonly rows: TokenStore;

  constructor(store: Store) {
    this.rows = createTokenStore(store);
  }

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
    return this.rows.transaction(async (trx) => {
      const token = await insertToken(this.rows, trx, principal, ctx, { name, secret, kind: input.kind, userId: input.userId ?? null, expiresAt });
      return { token, secret };
    });
  }

  /** Creates the token given by GATEHOUSE_INIT_API_TOKEN unless a token with that secret exists. */
  async ensureInitToken(principal: Principal, ctx: RequestContext, secret: string): Promise<void> {
    if (await this.rows.existsByHash(sha256Hex(secret))) return;
    await this.create(principal, ctx, { name: 'init token (GATEHOUSE_INIT_API_TOKEN)', kind: 'admin', secret });
  }

  /** Tokens in id order (with `page`: the tokens after id `page.after`, at most `page.limit`). */
  async list(filter: { kind?: TokenKind; userId?: number } = {}, page?: { after: number | undefined; limit: number }): Promise<ApiToken[]> {
    return (await this.rows.list(filter, page)).map(toToken);
  }

  /** list(filter), `batchSize` at a time (a keyset read: src/store/batches.ts), for a streamed list. */
  listBatches(filter: { kind?: TokenKind; userId?: number }, batchSize: number): AsyncGenerator<ApiToken[], void, undefined> {
    return keysetBatches((after, limit) => this.list(filter, { after, limit }), (t) => t.id, batchSize);
  }

  async delete(principal: Principal, ctx: RequestContext, id: number, filter: { kind?: TokenKind; userId?: number } = {}): Promise<ApiToken> {
    return this.rows.transaction(async (trx) => {
      const row = await this.rows.find(trx, id, filter);
      if (!row) throw notFound('api_token');
      await this.rows.delete(trx, id);
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
   * authenticate(), reading in the same round trip what `ahead` asks for: the row of the user a route is
   * about, and a route's own read (`along`, sent together with the check: Store.readTogether). They come back
   * as `reads`, for the request context once the principal is allowed (core/auth/read-ahead.ts).
   */
  async authenticateAndRead(
    secret: string,
    ahead: ReadAheadRequest = {},
  ): Promise<{ principal: Principal & { kind: 'api_token' }; reads: RequestReads | undefined } | undefined> {
    if (secret.length < 16 || secret.length > 512) return undefined;
    const hash = sha256Hex(secret);
    // The read along goes out only with a token this process has seen pass: made-up tokens cost the
    // database the check alone, as before.
    const along = ahead.along;
    const readAlong = along !== undefined && this.passed.has(hash);
    const sent: ReadAheadRequest = readAlong ? ahead : { targetUserId: ahead.targetUserId };
    const { row, along: alongRows } = await this.rows.authenticate(hash, sent);
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
      await this.rows.setLastUsed(row.id, new Date(now).toISOString());
    }
    return { principal, reads: readsOf(sent, row as unknown as Record<string, unknown>, alongRows) };
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
    return this.rows.transaction(async (trx) => {
      const row = await this.rows.lockOwner(trx, input.userId);
      if (!row || row.deleted_at !== null) throw notFound('user');
      if (await this.rows.personalNameTaken(trx, input.userId, name)) throw conflict('name', 'name_taken', 'You already have a personal access token with this description');
      const token = await insertToken(this.rows, trx, principal, ctx, { name, secret, kind: 'personal', userId: input.userId, expiresAt });
      return { token, secret };
    });
  }
}
