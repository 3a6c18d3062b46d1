// Moving users in and out in bulk: the export's records, and the import's rules (the same validation, identity
// keys, uniqueness and ban guards as UsersService.create, password hashes stored as they come, an audit event
// `user.imported` per user). The CLI's formats (src/cli/) turn files into ImportRecords; docs/cli.md.
import type { Insertable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { UsersTable } from '../../store/schema.js';
import { parseJson, toBool, type Executor } from '../../store/sql.js';
import { keysetBatches } from '../../store/batches.js';
import { auditListenerOf, auditRow, recordAudit } from '../audit/index.js';
import type { Principal, RequestContext } from '../context.js';
import { isDomainError } from '../errors.js';
import { isVerifiableHash } from '../passwords/index.js';
import { resolveRootRole, ROOT_ROLE_NAMES, ROOT_ROLES } from '../roles/index.js';
import { insertTenant, insertTenantRole } from '../tenants/store.js';
import { auditView, type UsersService } from '../users/service.js';
import { createUserStore, toUser, type UserRow, type UserStore } from '../users/store.js';
import { PROFILE_FIELDS, type ProfileValues, type UserPatch } from '../users/types.js';
import { foldKey, normalizeText } from '../users/validation.js';
import { exportUserRows, findTenantIdByKey, findTenantRoleIdByKey, insertAuditRows, insertMemberships, insertUserRowsSkippingTaken, membershipsOf, usersHoldingKeys, analyzeImported } from './store.js';

/** One user as the export writes it and the gatehouse import format reads it (one JSON object per line). */
export interface ExportedUser {
  id: number;
  email: string | null;
  username: string | null;
  name: string | null;
  avatar_url: string | null;
  phone: string | null;
  title: string | null;
  emergency_contact_name: string | null;
  emergency_contact_surname: string | null;
  emergency_contact_phone_number: string | null;
  blood_group: string | null;
  bio: string | null;
  languages: string[] | null;
  root_role: string;
  is_active: boolean;
  email_verified_at: string | null;
  created_at: string;
  /** As stored: argon2id PHC, or an imported format not yet upgraded (src/core/passwords). */
  password_hash: string | null;
  memberships: Array<{ tenant: string; roles: string[] }>;
}

/** Every live user in id order, `batchSize` at a time (keyset reads: one batch in memory at once). */
export async function* exportBatches(store: Store, batchSize: number): AsyncGenerator<ExportedUser[], void, undefined> {
  for await (const rows of keysetBatches((after, limit) => exportUserRows(store.db, after, limit), (r) => r.id, batchSize)) {
    const members = await membershipsOf(store.db, rows.map((r) => r.id));
    const byUser = new Map<number, Map<string, string[]>>();
    for (const m of members) {
      let tenants = byUser.get(m.user_id);
      if (!tenants) byUser.set(m.user_id, (tenants = new Map()));
      let roles = tenants.get(m.tenant);
      if (!roles) tenants.set(m.tenant, (roles = []));
      if (m.role !== null) roles.push(m.role);
    }
    yield rows.map((r) => exportedUser(r, byUser.get(r.id)));
  }
}

function exportedUser(r: UserRow, tenants: Map<string, string[]> | undefined): ExportedUser {
  const u = toUser(r);
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    name: u.name,
    avatar_url: u.avatarUrl,
    phone: u.phone,
    title: u.title,
    emergency_contact_name: u.emergencyContactName,
    emergency_contact_surname: u.emergencyContactSurname,
    emergency_contact_phone_number: u.emergencyContactPhoneNumber,
    blood_group: u.bloodGroup,
    bio: u.bio,
    languages: u.languages,
    root_role: ROOT_ROLE_NAMES[u.rootRoleId] ?? String(u.rootRoleId),
    is_active: toBool(r.is_active),
    email_verified_at: u.emailVerifiedAt,
    created_at: u.createdAt,
    password_hash: r.password_hash,
    memberships: tenants ? [...tenants].map(([tenant, roles]) => ({ tenant, roles })) : [],
  };
}

/** A user to bring in, whatever file it came from (src/cli/formats.ts makes these). */
export interface ImportRecord extends ProfileValues {
  /** Where it was in the input (line number, or index in a document), for the report. */
  source: number;
  /** Its id in the system it came from, for the report only (ids are never reused). */
  sourceId?: string | number | null;
  email?: string | null;
  username?: string | null;
  name?: string | null;
  passwordHash?: string | null;
  rootRole?: string | number | null;
  isActive?: boolean;
  emailVerifiedAt?: string | null;
  createdAt?: string | null;
  languages?: string[] | null;
  memberships?: Array<{ tenant: string; roles: string[] }>;
}

export type ImportOutcome =
  | { source: number; source_id?: string | number | null; status: 'created'; id: number | null; email: string | null; username: string | null }
  | { source: number; source_id?: string | number | null; status: 'updated'; id: number; changed: string[] }
  | { source: number; source_id?: string | number | null; status: 'skipped'; reason: string; field?: string; existing_id?: number }
  | { source: number; source_id?: string | number | null; status: 'error'; reason: string; field?: string; message: string };

interface Prepared {
  record: ImportRecord;
  values: Insertable<UsersTable>;
}

/** A batch checked by prepareBatch, to be written by writeBatch. */
export interface PreparedBatch {
  records: ImportRecord[];
  prepared: Prepared[];
  outcomes: Map<ImportRecord, ImportOutcome>;
}

/** Thrown to roll back a dry run's transaction once everything in it has been checked. */
class DryRunRollback extends Error {}

function isoOrThrow(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw Object.assign(new Error(`${field} is not a date: ${JSON.stringify(value).slice(0, 60)}`), { field, reason: 'invalid_date' });
  return new Date(t).toISOString();
}

/**
 * The `after` of a user.imported event: auditView's fields (service.ts) of the row just inserted, built from
 * the values written (no read back, no User object on the way), and the row's id in its source.
 */
function importedAuditView(id: number, v: Insertable<UsersTable>, sourceId: string | number | null): Record<string, unknown> {
  return {
    id,
    username: v.username ?? null,
    name: v.name ?? null,
    email: v.email ?? null,
    is_active: v.is_active === 1,
    root_role: ROOT_ROLE_NAMES[v.root_role_id as number] ?? v.root_role_id,
    avatar_url: v.avatar_url ?? null,
    phone: v.phone ?? null,
    title: v.title ?? null,
    emergency_contact_name: v.emergency_contact_name ?? null,
    emergency_contact_surname: v.emergency_contact_surname ?? null,
    emergency_contact_phone_number: v.emergency_contact_phone_number ?? null,
    blood_group: v.blood_group ?? null,
    bio: v.bio ?? null,
    languages: typeof v.languages === 'string' ? parseJson<string[] | null>(v.languages, null) : null,
    deleted_at: null,
    version: 1,
    source_id: sourceId,
  };
}

/** A row's identity keys, each with the field it reports (`e:`/`u:`/`s:` email, username, skeleton). */
function keysOf(values: Insertable<UsersTable>): Array<[string, 'email' | 'username']> {
  const keys: Array<[string, 'email' | 'username']> = [];
  if (values.email_key) keys.push([`e:${values.email_key}`, 'email']);
  if (values.username_key) keys.push([`u:${values.username_key}`, 'username']);
  if (values.username_skeleton) keys.push([`s:${values.username_skeleton}`, 'username']);
  return keys;
}

function errorOutcome(record: ImportRecord, err: unknown): ImportOutcome {
  const e = err as { code?: string; reason?: string; field?: string; message?: string; kind?: string };
  if (isDomainError(err)) {
    return { source: record.source, source_id: record.sourceId, status: 'error', reason: err.reason ?? err.kind, field: err.field, message: err.message };
  }
  return { source: record.source, source_id: record.sourceId, status: 'error', reason: e.reason ?? 'invalid', field: e.field, message: e.message ?? String(err) };
}

/**
 * Imports users in batches, each batch in one transaction: checks every record first (a bad one is reported
 * and the rest go on), skips identities already taken (in the store or earlier in the same batch), then
 * inserts the batch in one statement with its audit events and tenant memberships. A batch whose transaction
 * fails as a whole (a race with another writer) is retried one record per transaction, so the failure is
 * pinned on its record. `dryRun`: the same work, every transaction rolled back.
 */
export class UserImporter {
  private readonly userRows: UserStore;

  constructor(
    private readonly store: Store,
    private readonly users: UsersService,
    private readonly principal: Principal,
    private readonly ctx: RequestContext,
    /** existing 'update': a record whose identity one user already holds updates that user (UsersService.update). */
    private readonly opts: { dryRun: boolean; existing?: 'skip' | 'update' },
  ) {
    this.userRows = createUserStore(store);
  }

  /** Tenants and tenant roles known to exist (committed by an earlier batch or there before), by key. */
  private readonly knownTenants = new Map<string, number>();
  private readonly knownRoles = new Map<string, number>();

  /**
   * Whether writing this batch may create a tenant or tenant role (one its memberships name and no earlier
   * batch has seen): such a batch is written alone, never beside another that could create the same one.
   */
  createsTenants(batch: PreparedBatch): boolean {
    for (const p of batch.prepared) {
      for (const m of p.record.memberships ?? []) {
        try {
          const tenantId = this.knownTenants.get(foldKey(normalizeText(m.tenant, 'memberships.tenant', 255)));
          if (tenantId === undefined) return true;
          for (const r of m.roles) if (!this.knownRoles.has(`${tenantId}:${foldKey(normalizeText(r, 'memberships.roles', 255))}`)) return true;
        } catch {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * After an import that added many rows (PostgreSQL): fresh planner statistics for the tables it filled.
   * Without them a table that grew from nothing in minutes (autovacuum's analyze comes later, later still on
   * a busy server) is planned as still empty, and the export's keyset page (`id > $1 … order by id`) was
   * planned as a scan of a partial index and a sort: each page read the whole table.
   */
  async analyze(): Promise<void> {
    if (!this.opts.dryRun) await analyzeImported(this.store);
  }

  async importBatch(records: ImportRecord[]): Promise<ImportOutcome[]> {
    return this.writeBatch(await this.prepareBatch(records));
  }

  /**
   * The checks that need no database (CPU only): a caller may prepare the next batch while the previous
   * one is being written (writeBatch), never two writes at once.
   */
  async prepareBatch(records: ImportRecord[]): Promise<PreparedBatch> {
    const outcomes = new Map<ImportRecord, ImportOutcome>();
    const prepared: Prepared[] = [];
    for (const record of records) {
      try {
        prepared.push({ record, values: await this.prepare(record) });
      } catch (err) {
        outcomes.set(record, errorOutcome(record, err));
      }
    }
    return { records, prepared, outcomes };
  }

  /** The previous batch's first insert of users: each batch's waits for it, so ids follow the input's order. */
  private lastInsert: Promise<void> = Promise.resolve();

  /**
   * Writes a prepared batch (its own transaction). Batches may be written concurrently (PostgreSQL); their
   * first INSERTs of users still run in the order writeBatch was called, so users get ids in input order and
   * an export lists them as the file did.
   */
  async writeBatch(batch: PreparedBatch): Promise<ImportOutcome[]> {
    const { records, prepared, outcomes } = batch;
    const previous = this.lastInsert;
    let release!: () => void;
    this.lastInsert = new Promise<void>((resolve) => (release = resolve));
    const turn = { wait: () => previous, done: () => release() };
    try {
      await this.write(prepared, outcomes, turn);
    } catch (err) {
      // Whatever happened before its insert, the next batch's may go now.
      turn.done();
      if (prepared.length <= 1) {
        if (prepared.length === 1) outcomes.set(prepared[0].record, errorOutcome(prepared[0].record, err));
      } else {
        for (const p of prepared) {
          try {
            await this.write([p], outcomes);
          } catch (e) {
            outcomes.set(p.record, errorOutcome(p.record, e));
          }
        }
      }
    } finally {
      turn.done();
    }
    return records.map((r) => outcomes.get(r)!);
  }

  /** The row to insert for a record, by create()'s rules; throws what is wrong with it. */
  private async prepare(record: ImportRecord): Promise<Insertable<UsersTable>> {
    const email = record.email?.trim() || undefined;
    const username = record.username?.trim() || undefined;
    if (!email && !username) throw Object.assign(new Error('An email or a username is required'), { field: 'email', reason: 'required' });
    const profile: ProfileValues = {};
    for (const f of PROFILE_FIELDS) if (record[f] !== undefined && record[f] !== '') profile[f] = record[f];
    const v = await this.users.normalize({ email, username, name: record.name?.trim() ? record.name : undefined, ...profile, languages: record.languages ?? undefined }, { min: 0, max: 0 });
    const hash = record.passwordHash || null;
    if (hash !== null && (hash.length > 1024 || !isVerifiableHash(hash))) {
      throw Object.assign(new Error('password_hash is in no format sign-in can verify (bcrypt, argon2, pbkdf2-sha1/256/512, scrypt: docs/cli.md)'), { field: 'password_hash', reason: 'unsupported_hash' });
    }
    const rootRoleId = record.rootRole === undefined || record.rootRole === null || record.rootRole === '' ? ROOT_ROLES.Member : resolveRootRole(record.rootRole, 'root_role');
    const createdAt = isoOrThrow(record.createdAt, 'created_at') ?? new Date().toISOString();
    const verifiedAt = isoOrThrow(record.emailVerifiedAt, 'email_verified_at');
    for (const m of record.memberships ?? []) {
      if (typeof m?.tenant !== 'string' || !m.tenant.trim() || !Array.isArray(m.roles) || m.roles.some((r) => typeof r !== 'string' || !r.trim())) {
        throw Object.assign(new Error('memberships must be [{"tenant": name, "roles": [names]}]'), { field: 'memberships', reason: 'invalid' });
      }
    }
    return {
      username: v.username ?? null,
      username_key: v.username_key ?? null,
      username_skeleton: v.username_skeleton ?? null,
      name: v.name ?? null,
      name_key: v.name_key ?? null,
      email: v.email ?? null,
      email_key: v.email_key ?? null,
      email_verified_at: verifiedAt,
      password_hash: hash,
      is_active: record.isActive === false ? 0 : 1,
      root_role_id: rootRoleId,
      account_type: 'User',
      avatar_url: v.avatar_url ?? null,
      phone: v.phone ?? null,
      title: v.title ?? null,
      emergency_contact_name: v.emergency_contact_name ?? null,
      emergency_contact_surname: v.emergency_contact_surname ?? null,
      emergency_contact_phone_number: v.emergency_contact_phone_number ?? null,
      blood_group: v.blood_group ?? null,
      bio: v.bio ?? null,
      languages: v.languages ?? null,
      login_attempts: 0,
      created_at: createdAt,
      updated_at: createdAt,
      version: 1,
    };
  }

  private async write(prepared: Prepared[], outcomes: Map<ImportRecord, ImportOutcome>, turn?: { wait(): Promise<void>; done(): void }): Promise<void> {
    if (prepared.length === 0) return;
    const decided = new Map<ImportRecord, ImportOutcome>();
    const out = (r: ImportRecord, o: ImportOutcome) => decided.set(r, o);
    const tenantIds = new Map<string, number>();
    const roleIds = new Map<string, number>();
    try {
      await this.store.db.transaction().execute(async (trx) => {
        await this.users.newIdentity.lock(trx);
        // Keys claimed in this batch: by a user it inserted (insertedIds) or one it updated (--existing update).
        const seen = new Set<string>();
        const insertedIds = new Set<number>();
        const audits = [];
        const members: Array<{ tenant_id: number; user_id: number }> = [];
        const memberRoles: Array<{ tenant_id: number; user_id: number; role_id: number }> = [];
        let pending = prepared;
        // Rounds: a record sharing a key with an earlier one of the same round waits for the next round, so no
        // statement inserts two rows with one key. Almost every batch is one round.
        while (pending.length > 0) {
          const round: Prepared[] = [];
          const later: Prepared[] = [];
          /** Records whose identity is taken (in the store, or by a record of this batch): decided below, in order. */
          const clashing: Prepared[] = [];
          const roundKeys = new Set<string>();
          for (const p of pending) {
            const keys = keysOf(p.values);
            if (keys.some(([k]) => seen.has(k))) clashing.push(p);
            else if (keys.some(([k]) => roundKeys.has(k))) later.push(p);
            else {
              for (const [k] of keys) roundKeys.add(k);
              round.push(p);
            }
          }
          // The identity guards (bans), a round at a time: a refused record is reported, the rest go in. A
          // refused record whose identity is taken is reported as taken, as it was before the guard ran.
          const refusals = await this.users.newIdentity.guardMany(round.map((p) => ({ email: p.values.email ?? undefined, username: p.values.username ?? undefined })), trx);
          const toInsert: Prepared[] = [];
          const refused: Array<[Prepared, unknown]> = [];
          round.forEach((p, i) => {
            const refusal = refusals[i];
            if (refusal === undefined) toInsert.push(p);
            else if (isDomainError(refusal)) refused.push([p, refusal]);
            else throw refusal;
          });
          // Uniqueness is the database's: one INSERT … ON CONFLICT DO NOTHING, and only the records it did not
          // insert are looked up (a read per batch only when something clashes).
          await turn?.wait();
          const rows = await insertUserRowsSkippingTaken(trx, toInsert.map((p) => p.values)).finally(() => turn?.done());
          const byKey = new Map<string, number>();
          for (const r of rows) byKey.set(r.email_key !== null ? `e:${r.email_key}` : `u:${r.username_key}`, r.id);
          for (const p of toInsert) {
            const id = byKey.get(p.values.email_key ? `e:${p.values.email_key}` : `u:${p.values.username_key}`);
            if (id === undefined) {
              clashing.push(p);
              continue;
            }
            insertedIds.add(id);
            for (const [k] of keysOf(p.values)) seen.add(k);
            audits.push(auditRow(this.principal, this.ctx, { action: 'user.imported', targetType: 'user', targetId: id, after: importedAuditView(id, p.values, p.record.sourceId ?? null) }));
            for (const m of p.record.memberships ?? []) {
              const tenantId = await this.tenantId(trx, m.tenant, tenantIds);
              if (members.some((x) => x.tenant_id === tenantId && x.user_id === id)) continue;
              members.push({ tenant_id: tenantId, user_id: id });
              for (const role of new Set(m.roles.map((r) => r.trim()))) {
                const roleId = await this.roleId(trx, tenantId, role, roleIds);
                if (!memberRoles.some((x) => x.tenant_id === tenantId && x.user_id === id && x.role_id === roleId)) memberRoles.push({ tenant_id: tenantId, user_id: id, role_id: roleId });
              }
            }
            out(p.record, { source: p.record.source, source_id: p.record.sourceId, status: 'created', id: this.opts.dryRun ? null : id, email: p.values.email ?? null, username: p.values.username ?? null });
          }
          const lookup = [...clashing, ...refused.map(([p]) => p)];
          if (lookup.length > 0) {
            const taken = await usersHoldingKeys(trx, {
              email: lookup.flatMap((p) => (p.values.email_key ? [p.values.email_key] : [])),
              username: lookup.flatMap((p) => (p.values.username_key ? [p.values.username_key] : [])),
              skeleton: lookup.flatMap((p) => (p.values.username_skeleton ? [p.values.username_skeleton] : [])),
            });
            const holder = new Map<string, number>();
            for (const t of taken) {
              if (t.email_key) holder.set(`e:${t.email_key}`, t.id);
              if (t.username_key) holder.set(`u:${t.username_key}`, t.id);
              if (t.username_skeleton) holder.set(`s:${t.username_skeleton}`, t.id);
            }
            const refusal = new Map(refused.map(([p, err]) => [p, err]));
            for (const p of lookup.sort((a, b) => a.record.source - b.record.source)) {
              const { record } = p;
              const keys = keysOf(p.values);
              // Held by a user who was here before this batch: taken (or updated); held by a record of this batch: a duplicate.
              const clash = keys.find(([k]) => holder.has(k) && !insertedIds.has(holder.get(k)!));
              const holders = new Set(keys.flatMap(([k]) => (holder.has(k) && !insertedIds.has(holder.get(k)!) ? [holder.get(k)!] : [])));
              if (clash && this.opts.existing === 'update' && holders.size === 1 && !keys.some(([k]) => seen.has(k))) {
                for (const [k] of keys) seen.add(k);
                out(record, await this.updateExisting(trx, [...holders][0], record, p.values.password_hash ?? undefined));
              } else if (clash) {
                out(record, { source: record.source, source_id: record.sourceId, status: 'skipped', reason: `${clash[1]}_taken`, field: clash[1], existing_id: holder.get(clash[0]) });
              } else if (refusal.has(p)) {
                out(record, errorOutcome(record, refusal.get(p)));
              } else {
                const dup = keys.find(([k]) => seen.has(k) || holder.has(k)) ?? keys[0];
                out(record, { source: record.source, source_id: record.sourceId, status: 'skipped', reason: 'duplicate_in_input', field: dup[1] });
              }
            }
          }
          pending = later;
        }
        await insertAuditRows(trx, audits);
        // The webhook deliveries of the batch's events (user.imported, for subscriptions that match it), in one write.
        const listener = auditListenerOf(trx);
        if (listener) {
          const deliveries = [];
          for (const a of audits) deliveries.push(...(await listener.rowsFor(trx, a)));
          if (deliveries.length > 0) await listener.write(trx, deliveries);
        }
        await insertMemberships(trx, members, memberRoles);
        if (this.opts.dryRun) throw new DryRunRollback();
      });
      // Committed: what this batch found or created is known to the next ones.
      for (const [k, v] of tenantIds) this.knownTenants.set(k, v);
      for (const [k, v] of roleIds) this.knownRoles.set(k, v);
    } catch (err) {
      if (!(err instanceof DryRunRollback)) throw err;
    }
    for (const [r, o] of decided) outcomes.set(r, o);
  }

  /**
   * A record for a user who exists: their profile, name, activity and root role as the record has them,
   * through UsersService.update (its rules: validation, the last admin, an audit event user.updated). The
   * record's password hash (checked by prepare) replaces theirs when it differs, which ends their sessions as
   * any password change does; memberships are left as they are.
   */
  private async updateExisting(trx: Executor, id: number, record: ImportRecord, passwordHash: string | undefined): Promise<ImportOutcome> {
    const patch: UserPatch = {};
    if (record.name !== undefined && record.name !== null && record.name.trim()) patch.name = record.name;
    if (record.username) patch.username = record.username;
    for (const f of PROFILE_FIELDS) if (record[f] !== undefined && record[f] !== null && record[f] !== '') (patch as Record<string, unknown>)[f] = record[f];
    if (record.isActive !== undefined) patch.isActive = record.isActive;
    if (record.rootRole !== undefined && record.rootRole !== null && record.rootRole !== '') patch.rootRoleId = resolveRootRole(record.rootRole, 'root_role');
    try {
      // Read in the batch's transaction (SQLite has one connection, and the transaction holds it).
      const user = await this.userRows.readUser(trx, id);
      if (!user || user.deleted_at !== null) return { source: record.source, source_id: record.sourceId, status: 'skipped', reason: 'deleted_user_holds_identity', existing_id: id };
      const result = await this.users.update(this.principal, this.ctx, id, patch, { ex: trx, passwordHash });
      return { source: record.source, source_id: record.sourceId, status: 'updated', id, changed: result.changed };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return errorOutcome(record, err);
    }
  }

  /** The tenant of this name, created (with an audit event) when there is none. */
  private async tenantId(trx: Executor, name: string, cache: Map<string, number>): Promise<number> {
    const clean = normalizeText(name, 'memberships.tenant', 255);
    const key = foldKey(clean);
    let id = cache.get(key) ?? this.knownTenants.get(key) ?? (await findTenantIdByKey(trx, key));
    if (id === undefined) {
      const t = await insertTenant(trx, clean, key);
      id = t.id;
      await recordAudit(trx, this.principal, this.ctx, { action: 'tenant.created', targetType: 'tenant', targetId: t.id, after: { id: t.id, name: t.name, via: 'import' } });
    }
    cache.set(key, id);
    return id;
  }

  /** The tenant role of this name, created with no permissions (and an audit event) when there is none. */
  private async roleId(trx: Executor, tenantId: number, name: string, cache: Map<string, number>): Promise<number> {
    const clean = normalizeText(name, 'memberships.roles', 255);
    const key = foldKey(clean);
    const ck = `${tenantId}:${key}`;
    let id = cache.get(ck) ?? this.knownRoles.get(ck) ?? (await findTenantRoleIdByKey(trx, tenantId, key));
    if (id === undefined) {
      const role = await insertTenantRole(trx, tenantId, { name: clean, nameKey: key, description: null, permissions: [] });
      id = role.id;
      await recordAudit(trx, this.principal, this.ctx, { action: 'tenant_role.created', targetType: 'role', targetId: role.id, after: { id: role.id, tenant_id: tenantId, name: role.name, permissions: [], via: 'import' } });
    }
    cache.set(ck, id);
    return id;
  }
}

