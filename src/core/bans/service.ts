// Bans (seed 001): the rules of email, domain, ip and name bans, their enforcement and history. SQL: store.ts.
import { nowIso, uniqueViolation, type Executor } from '../../store/sql.js';
import { recordAudit, type AuditEvent, type AuditService } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import { conflict, DomainError, invalid, notFound, preconditionFailed } from '../errors.js';
import { endUserCredentials } from '../sessions/index.js';
import { NO_BAN_END } from '../auth/credentials.js';
import { etagOf, ifMatchSatisfied } from '../etag.js';
import { normalizeText } from '../users/validation.js';
import { identitySkeleton } from '../identity/index.js';
import { BANS_CHANNEL, IpBanCache, noticeOf, type BanNotice } from './cache.js';
import { parseIp, parseRange, rangeContains } from './ip.js';
import { createBansStore, isBanActive, toBan, type Ban, type BanListQuery, type BanMatch, type BansStore } from './store.js';
import { BAN_TYPES, banMatchKey, normalizeBanValue, probeCandidates, type BanProbe, type BanType } from './values.js';

/**
 * What a ban write asks of aliases (`disable_matching_aliases`): deactivate, in the ban's transaction, every
 * active alias the ban matches, and say how many. Registered at wiring time (core/index.ts), so bans and
 * aliases never import each other.
 */
export type AliasDisabler = (
  trx: Executor,
  principal: Principal,
  ctx: RequestContext,
  ban: { id: number; banType: BanType; banValue: string },
) => Promise<number>;

export const REASON_MAX = 255;

export interface NewBan {
  banType: BanType;
  banValue: string;
  reason?: string | null;
  expiresAt?: string | null;
  revoked?: boolean;
  revokedReason?: string | null;
  disableMatchingAliases?: boolean;
  revokeSessions?: boolean;
}

export type BanPatch = Partial<NewBan>;

export interface BanWriteResult {
  ban: Ban;
  changed: string[];
  disabledAliases?: number;
  sessionsRevoked?: number;
}

export function banEtag(b: Ban): string {
  return etagOf(b);
}

function auditView(b: Ban): Record<string, unknown> {
  return {
    id: b.id,
    ban_type: b.banType,
    ban_value: b.banValue,
    reason: b.reason,
    expires_at: b.expiresAt,
    revoked_at: b.revokedAt,
    revoked_reason: b.revokedReason,
    version: b.version,
  };
}

/** `null` or "" clears; otherwise trimmed text of at most 255 characters. */
function optionalText(value: string | null, field: string): string | null {
  if (value === null) return null;
  const text = normalizeText(value, field, REASON_MAX);
  return text === '' ? null : text;
}

/** `null` or "" clears; otherwise an RFC 3339 date-time, stored as ISO-8601 UTC. */
function optionalTime(value: string | null, field: string): string | null {
  if (value === null || value.trim() === '') return null;
  const ms = Date.parse(value);
  const year = Number.isFinite(ms) ? new Date(ms).getUTCFullYear() : NaN;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value.trim()) || !(year >= 1970 && year <= 9999)) {
    throw invalid(field, 'invalid_format', `${field} must be an RFC 3339 date-time such as 2024-12-25T10:00:00Z, or null/"" to clear`, {
      constraints: { format: 'date-time' },
    });
  }
  return new Date(ms).toISOString();
}

function bannedError(notice: BanNotice, field: string): DomainError {
  return new DomainError('banned', `This ${field} is banned`, { field, reason: 'banned', details: { ban: notice } });
}

/**
 * Refuses (403 banned) when an active ban matches the probe: the exact mailbox, then its domain and every
 * parent domain, then the name. A read in `ex`, so a check inside a transaction sees that transaction.
 */
async function assertNotBanned(bans: BansStore, ex: Executor | undefined, probe: BanProbe, fields: { email?: string; name?: string } = {}): Promise<void> {
  const candidates = probeCandidates(probe);
  if (candidates.length === 0) return;
  const rows = await bans.findUnrevoked(candidates, ex);
  const now = Date.now();
  const order: BanType[] = ['email', 'domain', 'name'];
  for (const type of order) {
    for (const row of rows) {
      if (row.ban_type !== type) continue;
      if (!isBanActive(toBan(row), now)) continue;
      throw bannedError(noticeOf(row), type === 'name' ? (fields.name ?? 'username') : (fields.email ?? 'email'));
    }
  }
}

function matchOf(ban: { banType: BanType; banValue: string }): BanMatch {
  return { banType: ban.banType, banValue: ban.banValue, skeleton: ban.banType === 'name' ? banMatchKey('name', ban.banValue)! : undefined };
}

/** The users a ban matches now, rows without a stored skeleton judged by their username's skeleton. */
async function matchingUserIds(bans: BansStore, ex: Executor, ban: { banType: BanType; banValue: string }): Promise<number[]> {
  const match = matchOf(ban);
  const matched = await bans.matchingUserIds(ex, match);
  if (ban.banType !== 'name') return matched;
  const legacy = await bans.usersWithoutSkeleton(ex);
  const ids = new Set(matched);
  for (const u of legacy) if (identitySkeleton(u.username!) === match.skeleton) ids.add(u.id);
  return [...ids];
}

/**
 * Re-judges users' ban standing (users.banned_until, read by every credential check: auth/credentials):
 * the latest end of the active bans that match each of them now, or null. In the transaction of the change.
 */
async function refreshBanStanding(bans: BansStore, ex: Executor, userIds: readonly number[], opts: { onlyIfBanned?: boolean } = {}): Promise<void> {
  const now = Date.now();
  for (const id of userIds) {
    const u = await bans.userIdentity(ex, id);
    if (!u || (opts.onlyIfBanned && u.banned_until === null)) continue;
    const rows = await bans.findUnrevoked(probeCandidates({ email: u.email ?? undefined, name: u.username ?? undefined }), ex);
    let until: string | null = null;
    for (const row of rows) {
      if (row.ban_type === 'ip') continue;
      const ban = toBan(row);
      if (!isBanActive(ban, now)) continue;
      const end = ban.expiresAt ?? NO_BAN_END;
      if (until === null || end > until) until = end;
    }
    await bans.setBannedUntil(ex, id, until);
  }
}

/**
 * Keeps users.banned_until true to a ban write: the users the ban matched before (when it was changed or
 * deleted) are re-judged from every ban, and when the ban is active after the write, every user it matches
 * is banned at least until its end (one statement, however many users a domain ban matches).
 */
async function applyStanding(bans: BansStore, ex: Executor, before: Ban | undefined, after: Ban | undefined): Promise<void> {
  if (before && before.banType !== 'ip') {
    const ids = await bans.matchingUserIds(ex, matchOf(before), { onlyBanned: true });
    await refreshBanStanding(bans, ex, ids);
  }
  if (after && after.banType !== 'ip' && isBanActive(after)) {
    await bans.extendBannedUntil(ex, matchOf(after), after.expiresAt ?? NO_BAN_END);
  }
}

export class BansService {
  private readonly bans: BansStore;
  readonly ipCache: IpBanCache;
  /** Set at wiring time by aliases (core/index.ts); without it disable_matching_aliases disables none. */
  private disableAliases: AliasDisabler = async () => 0;

  constructor(private readonly deps: CoreDeps, private readonly audit: AuditService) {
    this.bans = createBansStore(deps.store);
    this.ipCache = new IpBanCache(this.bans, deps.config.databaseUrl);
  }

  /** How `disable_matching_aliases` reaches aliases (registered by core/index.ts). */
  setAliasDisabler(disabler: AliasDisabler): void {
    this.disableAliases = disabler;
  }

  /**
   * Refuses (403 banned) when an active ban matches the probe; a read in `ex` (the caller's transaction).
   * The guard other modules (aliases) are given at wiring time.
   */
  assertNotBanned(ex: Executor, probe: BanProbe, fields: { email?: string; name?: string } = {}): Promise<void> {
    return assertNotBanned(this.bans, ex, probe, fields);
  }

  /** Registers the identity and login guards that make bans apply on every surface. */
  install(): void {
    // Identity changes and ban writes are ordered (lockBansState), so neither misses the other.
    this.deps.users.addIdentityLock((ex) => this.bans.lockState(ex, 'share'));
    // A user whose email or username changed is re-judged against every ban (in the same transaction). Only
    // a banned user can change standing this way: the identity guard refuses a new email or username that an
    // active ban matches, so a user without a ban cannot gain one by it.
    this.deps.users.addIdentityHook((userId, ex) => refreshBanStanding(this.bans, ex, [userId], { onlyIfBanned: true }));
    this.deps.users.addIdentityGuard(
      (identity, ex) => assertNotBanned(this.bans, ex, { email: identity.email, name: identity.username }, { email: 'email', name: 'username' }),
      // Bulk import: one statement for a whole batch; only when some unrevoked ban could match is each checked.
      async (identities, ex) => {
        const wanted = new Map<BanType, Set<string>>();
        for (const identity of identities) {
          for (const c of probeCandidates({ email: identity.email, name: identity.username })) {
            let set = wanted.get(c.type);
            if (!set) wanted.set(c.type, (set = new Set()));
            for (const v of c.values) set.add(v);
          }
        }
        return (await this.bans.findUnrevoked([...wanted].map(([type, values]) => ({ type, values: [...values] })), ex)).length === 0;
      },
    );
    this.deps.auth.addLoginGuard((user, _ctx, ex) =>
      assertNotBanned(this.bans, ex, { email: user.email ?? undefined, name: user.username ?? undefined }, { email: 'email', name: 'username' }),
    );
  }

  /** Stops following ban changes (closes the LISTEN connection and the poll timer). */
  async stop(): Promise<void> {
    await this.ipCache.stop();
  }

  /**
   * The active ip ban covering this client address, answered from memory once the cache is loaded
   * (`ipCache.ready`; otherwise await `ipCache.ensureLoaded()` first).
   */
  ipBan(ip: string, nowMs?: number): BanNotice | undefined {
    return this.ipCache.match(ip, nowMs);
  }

  async list(q: BanListQuery): Promise<{ items: Ban[]; nextCursor: number | null }> {
    const rows = await this.bans.list({ ...q, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit).map(toBan);
    return { items: page, nextCursor: rows.length > q.limit ? page[page.length - 1].id : null };
  }

  async getBan(id: number): Promise<Ban> {
    const row = await this.bans.findBan(id);
    if (!row) throw notFound('ban');
    return toBan(row);
  }

  /** Every audit event about one ban, newest first (it outlives the ban: deleted bans keep their history). */
  async history(id: number, opts: { before?: number; limit: number }): Promise<{ items: AuditEvent[]; nextCursor: number | null }> {
    const page = await this.audit.list({ targetType: 'ban', targetId: String(id), before: opts.before, limit: opts.limit });
    if (page.items.length === 0 && opts.before === undefined) {
      const exists = await this.bans.findBan(id);
      if (!exists) throw notFound('ban');
    }
    return page;
  }

  async create(principal: Principal, ctx: RequestContext, input: NewBan): Promise<BanWriteResult> {
    const type = input.banType;
    const value = normalizeBanValue(type, input.banValue);
    const reason = input.reason === undefined ? null : optionalText(input.reason, 'reason');
    const expiresAt = input.expiresAt === undefined ? null : optionalTime(input.expiresAt, 'expires_at');
    const revokedReason = input.revokedReason === undefined ? null : optionalText(input.revokedReason, 'revoked_reason');
    if (revokedReason !== null && !input.revoked) {
      throw invalid('revoked_reason', 'requires_revoked', 'revoked_reason applies to a revoked ban: send revoked:true with it');
    }
    if (input.disableMatchingAliases && type === 'ip') throw aliasesNotForIp();
    const now = nowIso();
    const draft = { banType: type, banValue: value, revokedAt: input.revoked ? now : null, expiresAt };
    this.refuseSelfBan(draft, ctx);

    const result = await this.bans.transaction(async (trx) => {
      await this.bans.lockState(trx, 'update');
      const row = await this.bans
        .insert(trx, {
          ban_type: type,
          ban_value: value,
          value_skeleton: banMatchKey(type, value),
          reason,
          created_at: now,
          updated_at: now,
          expires_at: expiresAt,
          revoked_at: input.revoked ? now : null,
          revoked_reason: input.revoked ? revokedReason : null,
          created_by: principal.label,
          version: 1,
        })
        .catch(mapUnique);
      const ban = toBan(row);
      await applyStanding(this.bans, trx, undefined, ban);
      const effects = await this.applyEffects(trx, principal, ctx, ban, input);
      await this.bans.bumpVersion(trx, BANS_CHANNEL);
      await recordAudit(trx, principal, ctx, {
        action: 'ban.created',
        targetType: 'ban',
        targetId: ban.id,
        after: { ...auditView(ban), ...effectsView(effects) },
      });
      return { ban, changed: [], ...effects };
    });
    await this.ipCache.changed();
    return result;
  }

  async update(principal: Principal, ctx: RequestContext, id: number, patch: BanPatch, opts: { ifMatch?: string } = {}): Promise<BanWriteResult> {
    const present = Object.entries(patch).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (present.length === 0) {
      throw invalid('body', 'empty_patch', 'Nothing to update: send at least one field', { hint: 'Send at least one of the documented fields' });
    }
    const reason = patch.reason === undefined ? undefined : optionalText(patch.reason, 'reason');
    const expiresAt = patch.expiresAt === undefined ? undefined : optionalTime(patch.expiresAt, 'expires_at');
    const revokedReason = patch.revokedReason === undefined ? undefined : optionalText(patch.revokedReason, 'revoked_reason');

    const result = await this.bans.transaction(async (trx) => {
      await this.bans.lockState(trx, 'update');
      const row = await this.bans.findBan(id, trx, { forUpdate: true });
      if (!row) throw notFound('ban');
      const before = toBan(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();

      // Type and value are one pair: a new type is checked against the current value, and the other way round.
      const type = patch.banType ?? before.banType;
      let value = before.banValue;
      if (patch.banType !== undefined || patch.banValue !== undefined) value = normalizeBanValue(type, patch.banValue ?? before.banValue);
      if (patch.disableMatchingAliases && type === 'ip') throw aliasesNotForIp();

      const now = nowIso();
      let revokedAt = before.revokedAt;
      let nextRevokedReason = before.revokedReason;
      if (patch.revoked === true && before.revokedAt === null) revokedAt = now;
      if (patch.revoked === false) {
        revokedAt = null;
        nextRevokedReason = null;
      }
      if (revokedReason !== undefined) {
        if (revokedAt === null && revokedReason !== null) {
          throw invalid('revoked_reason', 'requires_revoked', 'revoked_reason applies to a revoked ban: send revoked:true with it');
        }
        nextRevokedReason = revokedReason;
      }
      const next = {
        ban_type: type,
        ban_value: value,
        reason: reason === undefined ? before.reason : reason,
        expires_at: expiresAt === undefined ? before.expiresAt : expiresAt,
        revoked_at: revokedAt,
        revoked_reason: nextRevokedReason,
      };
      const current: Record<string, unknown> = {
        ban_type: before.banType, ban_value: before.banValue, reason: before.reason,
        expires_at: before.expiresAt, revoked_at: before.revokedAt, revoked_reason: before.revokedReason,
      };
      const changes: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(next)) if (current[k] !== v) changes[k] = v;
      const changed = Object.keys(changes);
      this.refuseSelfBan({ banType: type, banValue: value, revokedAt, expiresAt: next.expires_at }, ctx);

      let ban = before;
      if (changed.length > 0) {
        // The match key follows the pair it is computed from.
        const matchKey = changes.ban_type !== undefined || changes.ban_value !== undefined ? { value_skeleton: banMatchKey(type, value) } : {};
        const updated = await this.bans
          .update(trx, id, before.version, { ...changes, ...matchKey, updated_at: now, version: before.version + 1 })
          .catch(mapUnique);
        if (!updated) throw preconditionFailed('The ban changed while this update ran; retry');
        ban = toBan(updated);
        await applyStanding(this.bans, trx, before, ban);
        await this.bans.bumpVersion(trx, BANS_CHANNEL);
      }
      const effects = await this.applyEffects(trx, principal, ctx, ban, patch);
      if (changed.length === 0 && effects.disabledAliases === undefined && effects.sessionsRevoked === undefined) {
        return { ban, changed };
      }
      const action = changes.revoked_at !== undefined ? (revokedAt === null ? 'ban.unrevoked' : 'ban.revoked') : 'ban.updated';
      await recordAudit(trx, principal, ctx, {
        action,
        targetType: 'ban',
        targetId: id,
        before: auditView(before),
        after: { ...auditView(ban), changed, ...effectsView(effects) },
      });
      return { ban, changed, ...effects };
    });
    if (result.changed.length > 0) await this.ipCache.changed();
    return result;
  }

  async delete(principal: Principal, ctx: RequestContext, id: number, opts: { ifMatch?: string } = {}): Promise<Ban> {
    const ban = await this.bans.transaction(async (trx) => {
      await this.bans.lockState(trx, 'update');
      const row = await this.bans.findBan(id, trx, { forUpdate: true });
      if (!row) throw notFound('ban');
      const ban = toBan(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, ban)) throw preconditionFailed();
      await this.bans.delete(trx, id);
      await applyStanding(this.bans, trx, ban, undefined);
      await this.bans.bumpVersion(trx, BANS_CHANNEL);
      await recordAudit(trx, principal, ctx, { action: 'ban.deleted', targetType: 'ban', targetId: id, before: auditView(ban) });
      return ban;
    });
    await this.ipCache.changed();
    return ban;
  }

  /** An active ip ban that covers the caller's own address would lock the caller out: refused. */
  private refuseSelfBan(b: { banType: BanType; banValue: string; revokedAt: string | null; expiresAt: string | null }, ctx: RequestContext): void {
    if (b.banType !== 'ip' || !isBanActive(b)) return;
    const range = parseRange(b.banValue);
    const own = parseIp(ctx.ip);
    if (!('error' in range) && own && rangeContains(range, own)) {
      throw invalid('ban_value', 'would_ban_yourself', 'This ip ban covers the address you are calling from and would lock you out', {
        hint: 'Ban another address or range, or call from elsewhere',
      });
    }
  }

  /** The cascades a write asked for, inside its transaction. Only an active ban cascades. */
  private async applyEffects(
    trx: Executor,
    principal: Principal,
    ctx: RequestContext,
    ban: Ban,
    input: { disableMatchingAliases?: boolean; revokeSessions?: boolean },
  ): Promise<{ disabledAliases?: number; sessionsRevoked?: number }> {
    const out: { disabledAliases?: number; sessionsRevoked?: number } = {};
    const active = isBanActive(ban);
    if (input.disableMatchingAliases) out.disabledAliases = active ? await this.disableAliases(trx, principal, ctx, ban) : 0;
    if (input.revokeSessions) out.sessionsRevoked = active ? await this.revokeMatchingSessions(trx, ban) : 0;
    return out;
  }

  /**
   * Ends the sessions of every user the ban matches, with their tokens and invite links (ip bans: the
   * sessions opened from a covered address).
   */
  private async revokeMatchingSessions(trx: Executor, ban: Ban): Promise<number> {
    if (ban.banType === 'ip') {
      const range = parseRange(ban.banValue);
      if ('error' in range) return 0;
      const now = nowIso();
      const live = await this.bans.liveSessionAddresses(trx, now);
      const ids = live.filter((s) => {
        const ip = parseIp(s.ip!);
        return ip !== undefined && rangeContains(range, ip);
      }).map((s) => s.id);
      return this.bans.revokeSessions(trx, ids, now, 'banned');
    }
    // A ban that revokes cuts every credential of the users it matches for good (docs/credentials.md):
    // sessions, personal and admin API tokens acting for them, pending invite links.
    const users = await matchingUserIds(this.bans, trx, ban);
    let n = 0;
    for (const id of users) n += (await endUserCredentials(trx, id, 'banned', { sessions: true, tokens: true, invites: true })).sessions;
    return n;
  }
}

function effectsView(e: { disabledAliases?: number; sessionsRevoked?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.disabledAliases !== undefined) out.disabled_aliases = e.disabledAliases;
  if (e.sessionsRevoked !== undefined) out.sessions_revoked = e.sessionsRevoked;
  return out;
}

function aliasesNotForIp(): DomainError {
  // The reason code is the email-forwarding product's.
  return invalid('disable_matching_aliases', 'not_supported_for_ip_bans', 'disable_matching_aliases does not apply to ip bans (aliases have no address to match)', {
    hint: 'Leave disable_matching_aliases out for ip bans',
  });
}

function mapUnique(err: unknown): never {
  if (uniqueViolation(err) !== undefined) {
    throw conflict('ban_value', 'ban_exists', 'An unrevoked ban with this ban_type and ban_value already exists: update that one');
  }
  throw err;
}
