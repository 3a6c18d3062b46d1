// Aliases: forwarding addresses (address → goto mailbox), the resource bans act on.
// An alias is refused (403 banned) when an active ban matches it: an email ban on goto, a domain ban on
// goto's domain or a parent of it, a name ban on the local part of address — the same rules by which
// `disable_matching_aliases` deactivates existing aliases.
import type { Store } from '../../store/db.js';
import { isForeignKeyViolation, nowIso, uniqueViolation, type Engine, type Executor } from '../../store/sql.js';
import { recordAudit } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import type { CoreDeps } from '../deps.js';
import { conflict, invalid, notFound, preconditionFailed } from '../errors.js';
import { etagOf, ifMatchSatisfied } from '../etag.js';
import { emailDomain, normalizeEmail } from '../users/validation.js';
import { assertNotBanned } from '../bans/index.js';
import { identitySkeleton } from '../identity/index.js';
import { findAliasRow, listAliasRows, lockActiveAliasesMatching, toAlias, type Alias, type AliasListQuery, type AliasRow } from './store.js';

export type { Alias, AliasListQuery } from './store.js';

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

/**
 * Deactivates, inside the caller's transaction, every active alias the ban matches; one audit event per
 * alias. Returns how many were deactivated.
 */
export async function disableAliasesMatching(
  trx: Executor,
  engine: Engine,
  principal: Principal,
  ctx: RequestContext,
  ban: { id: number; banType: string; banValue: string },
): Promise<number> {
  const rows = await lockActiveAliasesMatching(trx, engine, { ...ban, nameSkeleton: ban.banType === 'name' ? identitySkeleton(ban.banValue) : undefined });
  if (rows.length === 0) return 0;
  const now = nowIso();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    await trx.updateTable('aliases').set((eb) => ({ active: 0, modified: now, version: eb('version', '+', 1) })).where('id', 'in', ids.slice(i, i + 500)).execute();
  }
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

export class AliasesService {
  private readonly store: Store;

  constructor(private readonly deps: CoreDeps) {
    this.store = deps.store;
  }

  async list(q: AliasListQuery): Promise<{ items: Alias[]; nextCursor: number | null }> {
    const rows = await listAliasRows(this.store.db, {
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
    const row = await findAliasRow(this.store.db, this.store.engine, id);
    if (!row) throw notFound('alias');
    return toAlias(row);
  }

  async create(principal: Principal, ctx: RequestContext, input: NewAlias): Promise<Alias> {
    const address = normalizeEmail(input.address, 'address');
    const goto = normalizeEmail(input.goto, 'goto');
    const cols = columnsOf(address, goto);
    const active = input.active ?? true;
    const now = nowIso();
    return this.store.db.transaction().execute(async (trx) => {
      if (active) await assertNotBanned(trx, { email: goto, name: localPart(cols.address) }, { email: 'goto', name: 'address' });
      const row = await trx
        .insertInto('aliases')
        .values({ ...cols, active: active ? 1 : 0, user_id: input.userId ?? null, created: now, modified: now })
        .returningAll()
        .executeTakeFirstOrThrow()
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
    return this.store.db.transaction().execute(async (trx) => {
      const row = await findAliasRow(trx, this.store.engine, id, { forUpdate: true });
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
        await assertNotBanned(trx, { email: cols.goto, name: localPart(cols.address) }, { email: 'goto', name: 'address' });
      }
      const updated = await trx
        .updateTable('aliases')
        .set({ ...changes, modified: nowIso(), version: before.version + 1 })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow()
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
    return this.store.db.transaction().execute(async (trx) => {
      const row = await findAliasRow(trx, this.store.engine, id, { forUpdate: true });
      if (!row) throw notFound('alias');
      const before = toAlias(row);
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, before)) throw preconditionFailed();
      if (!before.active) return { alias: before, deleted: false };
      const updated = await trx
        .updateTable('aliases')
        .set({ active: 0, modified: nowIso(), version: before.version + 1 })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const alias = toAlias(updated);
      await recordAudit(trx, principal, ctx, { action: 'alias.deleted', targetType: 'alias', targetId: id, before: auditView(before), after: auditView(alias) });
      return { alias, deleted: true };
    });
  }
}
