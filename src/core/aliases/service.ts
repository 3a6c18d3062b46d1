// Aliases: forwarding addresses (address → goto mailbox), the resource bans act on.
// An alias is refused (403 banned) when an active ban matches it: an email ban on goto, a domain ban on
// goto's domain or a parent of it, a name ban on the local part of address — the same rules by which
// `disable_matching_aliases` deactivates existing aliases. The ban check is a guard bans register at wiring
// time (core/index.ts): aliases know nothing of bans. SQL: store.ts.
import { isForeignKeyViolation, nowIso, uniqueViolation, type Executor } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import { conflict, invalid, notFound, preconditionFailed } from '../errors.js';
import { etagOf, ifMatchSatisfied } from '../etag.js';
import { emailDomain, normalizeEmail } from '../users/validation.js';
import { identitySkeleton } from '../identity/index.js';
import { createAliasesStore, toAlias, type Alias, type AliasesStore, type AliasListQuery, type AliasRow } from './store.js';

/**
 * Refuses (throws) an alias that may not forward: `goto` is its target mailbox, `local` its address's local
 * part; `fields` name them in the error. Runs in the write's transaction, for an alias that will be active.
 */
export type AliasGuard = (
  ex: Executor,
  target: { email: string; name: string },
  fields: { email: string; name: string },
) => Promise<void>;

export interface NewAlias {
  address: string;
  goto: string;
  active?: boolean;
  userId?: number | null;
}

export type AliasPatch = Partial<NewAlias>;

/** The alias's entity tag (its id and version), as users and bans have. */
export function aliasEtag(a: Alias): string {
  return etagOf(a);
}

function auditView(a: Alias): Record<string, unknown> {
  return { id: a.id, address: a.address, goto: a.goto, active: a.active, user_id: a.userId };
}

function localPart(address: string): string {
  return address.slice(0, address.lastIndexOf('@'));
}

function columnsOf(address: string, goto: string) {
  if (address === goto) throw invalid('goto', 'same_as_address', 'goto must differ from address (an alias cannot forward to itself)');
  return {
    address,
    address_key: address,
    // The local part's confusable skeleton: what name bans match (core/identity, as for usernames).
    address_local: identitySkeleton(localPart(address)),
    goto,
    goto_key: goto,
    goto_domain: emailDomain(goto),
  };
}

function mapWriteError(err: unknown): never {
  if (uniqueViolation(err) !== undefined) throw conflict('address', 'address_taken', 'An alias with this address already exists');
  if (isForeignKeyViolation(err)) throw invalid('user_id', 'unknown_user', 'user_id names no user');
  throw err;
}

export class AliasesService {
  private readonly aliases: AliasesStore;
  private readonly guards: AliasGuard[] = [];

  constructor(deps: CoreDeps) {
    this.aliases = createAliasesStore(deps.store);
  }

  /** Adds a check every alias that will be active must pass (bans add theirs at wiring time). */
  addGuard(guard: AliasGuard): void {
    this.guards.push(guard);
  }

  private async guard(ex: Executor, goto: string, address: string): Promise<void> {
    for (const g of this.guards) await g(ex, { email: goto, name: localPart(address) }, { email: 'goto', name: 'address' });
  }

  /**
   * Deactivates, inside the caller's transaction, every active alias the ban matches; one audit event per
   * alias. Returns how many were deactivated.
   */
  async disableMatching(
    trx: Executor,
    principal: Principal,
    ctx: RequestContext,
    ban: { id: number; banType: string; banValue: string },
  ): Promise<number> {
    const rows = await this.aliases.lockActiveMatching(trx, { ...ban, nameSkeleton: ban.banType === 'name' ? identitySkeleton(ban.banValue) : undefined });
    if (rows.length === 0) return 0;
    const now = nowIso();
    await this.aliases.deactivate(trx, rows.map((r) => r.id), now);
    for (const row of rows) {
      const before = toAlias(row);
      await recordAudit(trx, principal, ctx, {
        action: 'alias.disabled_by_ban',
        targetType: 'alias',
        targetId: row.id,
        before: auditView(before),
        after: { ...auditView({ ...before, active: false, modified: now, version: before.version + 1 }), ban_id: ban.id },
      });
    }
    return rows.length;
  }

  async list(q: AliasListQuery): Promise<{ items: Alias[]; nextCursor: number | null }> {
    const rows = await this.aliases.list({
      ...q,
      q: q.q ? q.q.trim().toLowerCase() : undefined,
      goto: q.goto ? q.goto.trim().toLowerCase() : undefined,
      addressContains: q.addressContains?.trim().toLowerCase() || undefined,
      domainContains: q.domainContains?.trim().toLowerCase() || undefined,
      handleContains: q.handleContains?.trim().toLowerCase() || undefined,
      gotoContains: q.gotoContains?.trim().toLowerCase() || undefined,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit).map(toAlias);
    return { items: page, nextCursor: rows.length > q.limit ? page[page.length - 1].id : null };
  }

  async getAlias(id: number): Promise<Alias> {
    const row = await this.aliases.find(id);
    if (!row) throw notFound('alias');
    return toAlias(row);
  }

  async create(principal: Principal, ctx: RequestContext, input: NewAlias): Promise<Alias> {
    const address = normalizeEmail(input.address, 'address');
    const goto = normalizeEmail(input.goto, 'goto');
    const cols = columnsOf(address, goto);
    const active = input.active ?? true;
    const now = nowIso();
    return this.aliases.transaction(async (trx) => {
      if (active) await this.guard(trx, goto, cols.address);
      const row = await this.aliases
        .insert(trx, { ...cols, active: active ? 1 : 0, user_id: input.userId ?? null, created: now, modified: now })
        .catch(mapWriteError);
      const alias = toAlias(row);
      await recordAudit(trx, principal, ctx, { action: 'alias.created', targetType: 'alias', targetId: alias.id, after: auditView(alias) });
      return alias;
    });
  }

  async update(principal: Principal, ctx: RequestContext, id: number, patch: AliasPatch, opts: { ifMatch?: string } = {}): Promise<{ alias: Alias; changed: string[] }> {
    const present = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (present.length === 0) {
      throw invalid('body', 'empty_patch', 'Nothing to update: send at least one field', { hint: 'Send address, goto, active or user_id' });
    }
    const address = patch.address === undefined ? undefined : normalizeEmail(patch.address, 'address');
    const goto = patch.goto === undefined ? undefined : normalizeEmail(patch.goto, 'goto');
    return this.aliases.transaction(async (trx) => {
      const row = await this.aliases.find(id, trx, { forUpdate: true });
      if (!row) throw notFound('alias');
      const before = toAlias(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();
      const cols = columnsOf(address ?? row.address, goto ?? row.goto);
      const next: Partial<AliasRow> = { ...cols };
      if (patch.active !== undefined) next.active = patch.active ? 1 : 0;
      if (patch.userId !== undefined) next.user_id = patch.userId;
      const changes: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(next)) if ((row as Record<string, unknown>)[k] !== v) changes[k] = v;
      const changed = Object.keys(changes).filter((k) => !/_(key|local|domain)$/.test(k));
      if (changed.length === 0) return { alias: before, changed };
      const willBeActive = (next.active ?? row.active) === 1;
      if (willBeActive && (changes.address !== undefined || changes.goto !== undefined || changes.active === 1)) {
        await this.guard(trx, cols.goto, cols.address);
      }
      const updated = await this.aliases
        .update(trx, id, { ...changes, modified: nowIso(), version: before.version + 1 })
        .catch(mapWriteError);
      const alias = toAlias(updated);
      await recordAudit(trx, principal, ctx, {
        action: 'alias.updated', targetType: 'alias', targetId: id, before: auditView(before), after: { ...auditView(alias), changed },
      });
      return { alias, changed };
    });
  }

  /**
   * Deletes an alias the way the email-forwarding product does: the row stays, deactivated, so its address
   * stays taken (a later create of it is 409) and no one else can start receiving that address's mail.
   * `deleted` is false when the alias was already inactive (nothing changed, nothing audited).
   */
  async delete(principal: Principal, ctx: RequestContext, id: number, opts: { ifMatch?: string } = {}): Promise<{ alias: Alias; deleted: boolean }> {
    return this.aliases.transaction(async (trx) => {
      const row = await this.aliases.find(id, trx, { forUpdate: true });
      if (!row) throw notFound('alias');
      const before = toAlias(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();
      if (!before.active) return { alias: before, deleted: false };
      const updated = await this.aliases.update(trx, id, { active: 0, modified: nowIso(), version: before.version + 1 });
      const alias = toAlias(updated);
      await recordAudit(trx, principal, ctx, { action: 'alias.deleted', targetType: 'alias', targetId: id, before: auditView(before), after: auditView(alias) });
      return { alias, deleted: true };
    });
  }
}
