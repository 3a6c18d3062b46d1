// Tenants, memberships and tenant roles (directory v1, seed 003). Every rule of tenant isolation lives
// here: a caller acts in one tenant at a time (TenantAccess), sees only that tenant's members, and
// assigns only that tenant's roles. Root Owners/Admins and admin API tokens may act in any tenant.
import type { CoreDeps } from '../deps.js';
import { recordAudit } from '../audit/index.js';
import { isAdminPrincipal, type Principal, type RequestContext } from '../context.js';
import { conflict, forbidden, invalid, notFound, preconditionFailed } from '../errors.js';
import { isAdminRole, ROOT_ROLES } from '../roles/index.js';
import { ifMatchSatisfied } from '../etag.js';
import { auditView, toUser } from '../users/index.js';
import type { NewUser, User, UserPatch } from '../users/types.js';
import { foldKey, normalizeText } from '../users/validation.js';
import { isForeignKeyViolation, MAX_ID, toIso, uniqueViolation, type Executor } from '../../store/sql.js';
import { keysetBatches } from '../../store/batches.js';
import {
  createTenantStore, deleteMembershipRow, deleteTenantRoleRow, deleteTenantRow, findMemberUserRow, findTenantRoleByRef, findTenantRoleRow,
  findTenantRolesByIds, findTenantRow, insertMembership, insertTenant, insertTenantRole, listDirectoryRows, listMemberRows,
  listTenantRoleRows, listTenantRows, memberAccessRows, memberRoleRows, permissionsInAllTenants, setMembershipDeleted,
  syncMemberRoles, tenantIdsOfUser, updateTenantRoleRow, updateTenantRow, type SortBy, type Tenant, type TenantRole, type TenantStore,
} from './store.js';

/** The permissions a tenant role may carry. */
export const TENANT_PERMISSIONS = ['users.view', 'users.create', 'users.update', 'users.delete', 'roles.assign'] as const;
export type TenantPermission = (typeof TENANT_PERMISSIONS)[number];

/** Who acts, in which tenant, with which permissions there. Built once per request by resolveAccess. */
export interface TenantAccess {
  tenantId: number;
  principal: Principal;
  /** The acting user (null for admin API tokens). */
  userId: number | null;
  /** Root Owner/Admin or admin API token: every permission in every tenant. */
  isRoot: boolean;
  permissions: ReadonlySet<string>;
}

/** A member as the directory shows them: the user, their roles in the tenant, the membership's soft-delete mark. */
export interface DirectoryUser {
  user: User;
  roles: TenantRole[];
  deletedAt: string | null;
}

export interface DirectoryListInput {
  search?: string;
  isActive?: boolean;
  /** A role id or a role name of this tenant. */
  role?: string;
  trashed?: 'without' | 'with' | 'only';
  sortBy?: SortBy;
  sortOrder?: 'asc' | 'desc';
  perPage: number;
  page: number;
}

const UNAUTHORIZED = 'This action is unauthorized.';
/** The directory's 403 is `{message}` alone, so the message says which rule refused (reason target_out_of_reach). */
const OUT_OF_REACH = 'This action is unauthorized: the user holds access that yours does not cover.';

function mapTenantUnique(err: unknown): never {
  const key = uniqueViolation(err);
  if (key === 'tenants.name_key') throw conflict('name', 'name_taken', 'A tenant with this name already exists');
  if (key === 'roles.tenant_id,name_key') throw conflict('name', 'name_taken', 'A role with this name already exists in this tenant');
  throw err;
}

function normalizePermissions(perms: string[]): string[] {
  const out = new Set<string>();
  for (const p of perms) {
    if (!(TENANT_PERMISSIONS as readonly string[]).includes(p)) {
      throw invalid('permissions', 'unknown_permission', `Unknown permission ${JSON.stringify(p)}: use ${TENANT_PERMISSIONS.join(', ')}`, {
        constraints: { items: { enum: [...TENANT_PERMISSIONS] } },
      });
    }
    out.add(p);
  }
  return [...out].sort();
}

function roleAudit(r: TenantRole): Record<string, unknown> {
  return { id: r.id, tenant_id: r.tenantId, name: r.name, description: r.description, permissions: r.permissions };
}

export class TenantsService {
  private readonly rows: TenantStore;

  constructor(private readonly deps: CoreDeps) {
    this.rows = createTenantStore(deps.store);
  }

  private get db() {
    return this.deps.store.db;
  }

  // ------------------------------------------------------------------ admin: tenants

  async listTenants(): Promise<Array<Tenant & { memberCount: number }>> {
    return listTenantRows(this.db);
  }

  /** listTenants, `batchSize` at a time (a keyset read: src/store/batches.ts), for a streamed list. */
  tenantBatches(batchSize: number): AsyncGenerator<Array<Tenant & { memberCount: number }>, void, undefined> {
    return keysetBatches((after, limit) => listTenantRows(this.db, { after, limit }), (t) => t.id, batchSize);
  }

  async getTenant(id: number): Promise<Tenant> {
    const t = await findTenantRow(this.db, id);
    if (!t) throw notFound('tenant');
    return t;
  }

  async createTenant(principal: Principal, ctx: RequestContext, input: { name: string }): Promise<Tenant> {
    const name = this.tenantName(input.name);
    return this.rows.transaction(async (trx) => {
      const t = await insertTenant(trx, name, foldKey(name)).catch(mapTenantUnique);
      await recordAudit(trx, principal, ctx, { action: 'tenant.created', targetType: 'tenant', targetId: t.id, after: { id: t.id, name: t.name } });
      return t;
    });
  }

  async updateTenant(principal: Principal, ctx: RequestContext, id: number, input: { name?: string }): Promise<Tenant> {
    if (input.name === undefined) throw invalid('body', 'empty_patch', 'Nothing to update: send name');
    const name = this.tenantName(input.name);
    return this.rows.transaction(async (trx) => {
      const before = await findTenantRow(trx, id);
      if (!before) throw notFound('tenant');
      const t = (await updateTenantRow(trx, id, name, foldKey(name)).catch(mapTenantUnique))!;
      await recordAudit(trx, principal, ctx, { action: 'tenant.updated', targetType: 'tenant', targetId: id, before: { id, name: before.name }, after: { id, name: t.name } });
      return t;
    });
  }

  async deleteTenant(principal: Principal, ctx: RequestContext, id: number): Promise<Tenant> {
    return this.rows.transaction(async (trx) => {
      const t = await this.rows.lockTenant(trx, id);
      if (!t) throw notFound('tenant');
      await deleteTenantRow(trx, id);
      await recordAudit(trx, principal, ctx, { action: 'tenant.deleted', targetType: 'tenant', targetId: id, before: { id, name: t.name } });
      return t;
    });
  }

  private tenantName(raw: string): string {
    const name = normalizeText(raw, 'name', 255);
    if (!name) throw invalid('name', 'required', 'A tenant name is required', { constraints: { minLength: 1, maxLength: 255 } });
    return name;
  }

  // ------------------------------------------------------------------ admin: tenant roles

  async listRoles(tenantId: number): Promise<TenantRole[]> {
    await this.getTenant(tenantId);
    return listTenantRoleRows(this.db, tenantId);
  }

  /** listRoles, `batchSize` at a time; an unknown tenant fails the first batch (404). */
  async *roleBatches(tenantId: number, batchSize: number): AsyncGenerator<TenantRole[], void, undefined> {
    await this.getTenant(tenantId);
    yield* keysetBatches((after, limit) => listTenantRoleRows(this.db, tenantId, { after, limit }), (r) => r.id, batchSize);
  }

  async createRole(principal: Principal, ctx: RequestContext, tenantId: number, input: { name: string; permissions?: string[]; description?: string | null }): Promise<TenantRole> {
    const name = normalizeText(input.name, 'name', 255);
    if (!name) throw invalid('name', 'required', 'A role name is required', { constraints: { minLength: 1, maxLength: 255 } });
    const permissions = normalizePermissions(input.permissions ?? []);
    const description = input.description ? normalizeText(input.description, 'description', 1000, true) || null : null;
    return this.rows.transaction(async (trx) => {
      if (!(await this.rows.lockTenant(trx, tenantId))) throw notFound('tenant');
      const role = await insertTenantRole(trx, tenantId, { name, nameKey: foldKey(name), description, permissions }).catch(mapTenantUnique);
      await recordAudit(trx, principal, ctx, { action: 'tenant_role.created', targetType: 'role', targetId: role.id, after: roleAudit(role) });
      return role;
    });
  }

  async updateRole(
    principal: Principal,
    ctx: RequestContext,
    tenantId: number,
    roleId: number,
    input: { name?: string; permissions?: string[]; description?: string | null },
  ): Promise<TenantRole> {
    if (input.name === undefined && input.permissions === undefined && input.description === undefined) {
      throw invalid('body', 'empty_patch', 'Nothing to update: send name, permissions or description');
    }
    let name: string | undefined;
    if (input.name !== undefined) {
      name = normalizeText(input.name, 'name', 255);
      if (!name) throw invalid('name', 'required', 'A role name is required', { constraints: { minLength: 1, maxLength: 255 } });
    }
    const permissions = input.permissions !== undefined ? normalizePermissions(input.permissions) : undefined;
    const description = input.description === undefined ? undefined : input.description === null ? null : normalizeText(input.description, 'description', 1000, true) || null;
    return this.rows.transaction(async (trx) => {
      const before = await findTenantRoleRow(trx, tenantId, roleId);
      if (!before) throw notFound('role');
      const after = (await updateTenantRoleRow(trx, tenantId, roleId, { name, nameKey: name ? foldKey(name) : undefined, permissions, description }).catch(mapTenantUnique))!;
      await recordAudit(trx, principal, ctx, { action: 'tenant_role.updated', targetType: 'role', targetId: roleId, before: roleAudit(before), after: roleAudit(after) });
      return after;
    });
  }

  async deleteRole(principal: Principal, ctx: RequestContext, tenantId: number, roleId: number): Promise<TenantRole> {
    return this.rows.transaction(async (trx) => {
      const role = await findTenantRoleRow(trx, tenantId, roleId);
      if (!role) throw notFound('role');
      await deleteTenantRoleRow(trx, tenantId, roleId);
      await recordAudit(trx, principal, ctx, { action: 'tenant_role.deleted', targetType: 'role', targetId: roleId, before: roleAudit(role) });
      return role;
    });
  }

  // ------------------------------------------------------------------ admin: members

  async listMembers(tenantId: number): Promise<Array<{ userId: number; email: string | null; name: string | null; username: string | null; createdAt: string; deletedAt: string | null; roles: TenantRole[] }>> {
    await this.getTenant(tenantId);
    const rows = await listMemberRows(this.db, tenantId);
    const roles = await memberRoleRows(this.db, tenantId, rows.map((r) => r.userId));
    return rows.map((r) => ({ ...r, roles: roles.get(r.userId) ?? [] }));
  }

  /** listMembers, `batchSize` members at a time (with their roles); an unknown tenant fails the first batch (404). */
  async *memberBatches(tenantId: number, batchSize: number): AsyncGenerator<Awaited<ReturnType<TenantsService['listMembers']>>, void, undefined> {
    await this.getTenant(tenantId);
    for await (const rows of keysetBatches((after, limit) => listMemberRows(this.db, tenantId, { after, limit }), (m) => m.userId, batchSize)) {
      const roles = await memberRoleRows(this.db, tenantId, rows.map((r) => r.userId));
      yield rows.map((r) => ({ ...r, roles: roles.get(r.userId) ?? [] }));
    }
  }

  async addMember(principal: Principal, ctx: RequestContext, tenantId: number, input: { userId: number; roleIds?: number[] }): Promise<{ userId: number; roles: TenantRole[]; createdAt: string }> {
    return this.rows.transaction(async (trx) => {
      if (!(await this.rows.lockTenant(trx, tenantId))) throw notFound('tenant');
      const user = await this.rows.readUser(trx, input.userId);
      if (!user || user.deleted_at !== null) throw invalid('user_id', 'unknown_user', 'No user has this id');
      if (await this.rows.findMembership(trx, tenantId, input.userId)) {
        throw conflict('user_id', 'already_member', 'This user is already a member of the tenant');
      }
      const roles = await this.checkRoleIds(trx, tenantId, input.roleIds ?? [], 'role_ids');
      const m = await insertMembership(trx, tenantId, input.userId).catch((err) => {
        if (uniqueViolation(err) !== undefined) throw conflict('user_id', 'already_member', 'This user is already a member of the tenant');
        if (isForeignKeyViolation(err)) throw invalid('user_id', 'unknown_user', 'No user has this id');
        throw err;
      });
      await syncMemberRoles(trx, tenantId, input.userId, roles.map((r) => r.id));
      await recordAudit(trx, principal, ctx, {
        action: 'tenant.member_added', targetType: 'user', targetId: input.userId,
        after: { tenant_id: tenantId, user_id: input.userId, role_ids: roles.map((r) => r.id) },
      });
      return { userId: input.userId, roles, createdAt: m.createdAt };
    });
  }

  async removeMember(principal: Principal, ctx: RequestContext, tenantId: number, userId: number): Promise<void> {
    await this.rows.transaction(async (trx) => {
      if (!(await this.rows.lockTenant(trx, tenantId))) throw notFound('tenant');
      const removed = await deleteMembershipRow(trx, tenantId, userId);
      if (!removed) throw notFound('member');
      await recordAudit(trx, principal, ctx, { action: 'tenant.member_removed', targetType: 'user', targetId: userId, before: { tenant_id: tenantId, user_id: userId } });
    });
  }

  /** The live tenants of a user, default (first joined) first: the `tenants` claim of their access tokens. */
  async tenantIdsOf(userId: number): Promise<number[]> {
    return tenantIdsOfUser(this.db, userId);
  }

  // ------------------------------------------------------------------ directory: access

  /**
   * Resolves the tenant a request acts in (the X-Tenant header, or the caller's default tenant) and the
   * caller's permissions there. Unknown tenants, malformed headers and tenants the caller is not a live
   * member of all answer 403, with one message for "unknown" and "not a member" so tenant ids cannot be probed.
   */
  async resolveAccess(principal: Principal, tenantHeader: string | undefined): Promise<TenantAccess> {
    const isRoot = isAdminPrincipal(principal);
    const userId = principal.kind === 'system' ? null : principal.userId;
    let tenantId: number;
    if (tenantHeader === undefined || tenantHeader.trim() === '') {
      const own = userId !== null ? await tenantIdsOfUser(this.db, userId) : [];
      if (own.length === 0) {
        throw forbidden('tenant_required', isRoot ? 'The X-Tenant header is required.' : 'You do not belong to any tenant.');
      }
      tenantId = own[0];
    } else {
      const trimmed = tenantHeader.trim();
      if (!/^[1-9][0-9]{0,9}$/.test(trimmed) || Number(trimmed) > MAX_ID) {
        throw forbidden('invalid_tenant', 'The X-Tenant header must be a tenant id.');
      }
      tenantId = Number(trimmed);
    }
    if (isRoot) {
      if (!(await findTenantRow(this.db, tenantId))) throw forbidden('unknown_tenant', 'Unknown tenant.');
      return { tenantId, principal, userId, isRoot, permissions: new Set(TENANT_PERMISSIONS) };
    }
    if (userId === null) throw forbidden('not_a_member', 'You are not a member of this tenant.');
    const access = await memberAccessRows(this.db, tenantId, userId);
    if (!access.member) throw forbidden('not_a_member', 'You are not a member of this tenant.');
    return { tenantId, principal, userId, isRoot, permissions: new Set(access.permissions) };
  }

  private require(access: TenantAccess, permission: TenantPermission): void {
    if (!access.isRoot && !access.permissions.has(permission)) throw forbidden('missing_permission', UNAUTHORIZED, permission);
  }

  /**
   * Role ids must all be roles of this tenant. Each bad one is reported on its own index
   * (`role_ids.2`), as the directory's validation errors name them.
   */
  private async checkRoleIds(ex: Executor, tenantId: number, roleIds: number[], field: string): Promise<TenantRole[]> {
    const unique = [...new Set(roleIds)];
    const found = await findTenantRolesByIds(ex, tenantId, unique);
    const ok = new Set(found.map((r) => r.id));
    const bad = roleIds.map((id, i) => (ok.has(id) ? -1 : i)).filter((i) => i >= 0);
    if (bad.length > 0) {
      throw invalid(`${field}.${bad[0]}`, 'invalid_role', `The selected ${field}.${bad[0]} is invalid.`, {
        details: { fields: bad.map((i) => `${field}.${i}`) },
      });
    }
    return found.sort((a, b) => a.id - b.id);
  }

  /**
   * A non-root caller may only grant or take away roles whose permissions they hold themselves, and may
   * only change members whose permissions in the tenant they hold (no taking over a stronger account).
   */
  private covers(access: TenantAccess, permissions: Iterable<string>): boolean {
    if (access.isRoot) return true;
    for (const p of permissions) if (!access.permissions.has(p)) return false;
    return true;
  }

  /** The target must be a member of the tenant (live unless `trashed`); root admins are out of reach of tenant callers. */
  private async loadTarget(ex: Executor, access: TenantAccess, id: number, opts: { trashed?: 'only' | 'with'; write?: boolean; lock?: boolean } = {}): Promise<DirectoryUser> {
    // Under a write lock, the membership row is locked first, then read with its user. (updateUser locks
    // every membership of the target instead, then UsersService.update locks the users row: one order.)
    if (opts.lock) await this.rows.lockMembership(ex, access.tenantId, id);
    const row = await findMemberUserRow(ex, access.tenantId, id);
    if (!row || row.deleted_at !== null) throw notFound('user', 'User not found.');
    const deletedAt = toIso(row.member_deleted_at);
    if (opts.trashed === 'only' ? deletedAt === null : opts.trashed !== 'with' && deletedAt !== null) throw notFound('user', 'User not found.');
    const user = toUser(row);
    const roles = (await memberRoleRows(ex, access.tenantId, [id])).get(id) ?? [];
    if (opts.write && !access.isRoot && access.userId !== id) {
      if (isAdminRole(user.rootRoleId) || !this.covers(access, roles.flatMap((r) => r.permissions))) {
        throw forbidden('target_out_of_reach', OUT_OF_REACH);
      }
    }
    return { user, roles, deletedAt };
  }

  /**
   * The rule for changes to a user's account itself (the users row: password, email, username, name,
   * is_active, profile), which every tenant of the user shares, as opposed to their roles and membership
   * in this tenant. A tenant caller may make such a change only when their permissions in this tenant
   * include every permission the target holds in any tenant (soft-deleted memberships count: a restore
   * brings their roles back) and the target has no root role above Member. Otherwise power in one tenant
   * would reach into another: a new password lets the caller sign in as the target wherever the target is
   * strong, and deactivation shuts the target out of every tenant. Root callers (root Owner/Admin, admin
   * API tokens) and users changing their own account are not limited by it.
   *
   * `target` must be the user row as read in the writing transaction, after lockMembershipsOfUser, so the
   * decision is made on what the write will change and no role granted meanwhile is missed.
   */
  private async assertAccountReach(ex: Executor, access: TenantAccess, target: User): Promise<void> {
    if (access.isRoot || access.userId === target.id) return;
    if (target.rootRoleId !== ROOT_ROLES.Member) throw forbidden('target_out_of_reach', OUT_OF_REACH);
    if (!this.covers(access, await permissionsInAllTenants(ex, target.id))) throw forbidden('target_out_of_reach', OUT_OF_REACH);
  }

  private async view(ex: Executor, tenantId: number, id: number): Promise<DirectoryUser> {
    const row = await findMemberUserRow(ex, tenantId, id);
    if (!row) throw notFound('user', 'User not found.');
    const roles = (await memberRoleRows(ex, tenantId, [id])).get(id) ?? [];
    return { user: toUser(row), roles, deletedAt: toIso(row.member_deleted_at) };
  }

  // ------------------------------------------------------------------ directory: users

  async listUsers(access: TenantAccess, q: DirectoryListInput): Promise<{ items: DirectoryUser[]; total: number }> {
    this.require(access, 'users.view');
    let roleId: number | undefined;
    if (q.role !== undefined && q.role.trim() !== '') {
      const ref = q.role.trim();
      const role = /^[0-9]{1,10}$/.test(ref)
        ? await findTenantRoleByRef(this.db, access.tenantId, { id: Number(ref) <= MAX_ID ? Number(ref) : 0 })
        : await findTenantRoleByRef(this.db, access.tenantId, { nameKey: foldKey(ref) });
      // A role this tenant does not have matches nobody.
      if (!role) return { items: [], total: 0 };
      roleId = role.id;
    }
    const { rows, total } = await listDirectoryRows(this.db, {
      tenantId: access.tenantId,
      search: q.search?.trim() ? foldKey(q.search.trim()) : undefined,
      isActive: q.isActive,
      roleId,
      trashed: q.trashed ?? 'without',
      sortBy: q.sortBy ?? 'id',
      sortOrder: q.sortOrder ?? 'asc',
      limit: q.perPage,
      offset: (q.page - 1) * q.perPage,
    });
    const roles = await memberRoleRows(this.db, access.tenantId, rows.map((r) => r.id));
    return {
      items: rows.map((r) => ({ user: toUser(r), roles: roles.get(r.id) ?? [], deletedAt: toIso(r.member_deleted_at) })),
      total,
    };
  }

  async getUser(access: TenantAccess, id: number): Promise<DirectoryUser> {
    this.require(access, 'users.view');
    return this.loadTarget(this.db, access, id);
  }

  /** Creates a user as a member of the tenant with the given roles, in one transaction. */
  async createUser(access: TenantAccess, ctx: RequestContext, input: NewUser, roleIds: number[] | undefined): Promise<DirectoryUser> {
    this.require(access, 'users.create');
    if (roleIds && roleIds.length > 0) this.require(access, 'roles.assign');
    // UsersService opens the transaction once the password is hashed; the membership and roles join it.
    let created: DirectoryUser | undefined;
    await this.deps.users.create(access.principal, ctx, { ...input, rootRoleId: ROOT_ROLES.Member, isAdmin: undefined }, {
      transaction: (work) => this.rows.transaction(async (trx) => {
        const roles = await this.checkRoleIds(trx, access.tenantId, roleIds ?? [], 'role_ids');
        if (!this.covers(access, roles.flatMap((r) => r.permissions))) throw forbidden('role_out_of_reach', UNAUTHORIZED);
        const result = await work(trx);
        const user = result as unknown as User;
        await insertMembership(trx, access.tenantId, user.id).catch((err) => {
          // The tenant was deleted while this request ran.
          if (isForeignKeyViolation(err)) throw forbidden('unknown_tenant', 'Unknown tenant.');
          throw err;
        });
        await syncMemberRoles(trx, access.tenantId, user.id, roles.map((r) => r.id));
        await recordAudit(trx, access.principal, ctx, {
          action: 'tenant.member_added', targetType: 'user', targetId: user.id,
          after: { tenant_id: access.tenantId, user_id: user.id, role_ids: roles.map((r) => r.id) },
        });
        created = { user, roles, deletedAt: null };
        return result;
      }),
    });
    return created!;
  }

  /**
   * Updates a member: the user's fields through UsersService.update, and (when `roleIds` is given, null
   * meaning none) their roles in this tenant, all in one transaction.
   */
  async updateUser(
    access: TenantAccess,
    ctx: RequestContext,
    id: number,
    patch: UserPatch,
    roleIds: number[] | null | undefined,
    opts: { ifMatch?: string } = {},
  ): Promise<DirectoryUser> {
    this.require(access, 'users.update');
    if (roleIds !== undefined) this.require(access, 'roles.assign');
    // Checked before any validation of the body, so a non-member answers 404 whatever was sent.
    const early = await this.loadTarget(this.db, access, id, { write: true });
    // A new password always changes the account: refuse an out-of-reach target before paying for the hash
    // (the transaction below decides again on fresh data).
    if (patch.password !== undefined) await this.assertAccountReach(this.db, access, early.user);
    let view: DirectoryUser | undefined;
    // UsersService opens the transaction once the password (if any) is hashed; inside it every membership
    // of the target is locked (in tenant order) and this one re-checked (it may have ended since), then the
    // user row is locked and read, the account rule is applied if the row would change, then it is
    // updated, then the roles in this tenant.
    await this.deps.users.update(access.principal, ctx, id, { ...patch, rootRoleId: undefined, isAdmin: undefined }, {
      ifMatch: opts.ifMatch,
      keepSessionId: access.principal.kind === 'user' ? access.principal.sessionId : null,
      authorize: (trx, before) => this.assertAccountReach(trx, access, before),
      transaction: (work) => this.rows.transaction(async (trx) => {
        await this.rows.lockMembershipsOfUser(trx, id);
        await this.loadTarget(trx, access, id, { write: true });
        const result = await work(trx);
        if (roleIds !== undefined) {
          const target = await this.loadTarget(trx, access, id, { write: true });
          await this.applyRoles(trx, access, ctx, target, roleIds ?? []);
        }
        view = await this.view(trx, access.tenantId, id);
        return result;
      }),
    });
    return view!;
  }

  /** PUT /users/{id}/roles: replaces the member's roles in this tenant (an empty list clears them). */
  async syncRoles(access: TenantAccess, ctx: RequestContext, id: number, roleIds: number[], opts: { ifMatch?: string } = {}): Promise<DirectoryUser> {
    this.require(access, 'roles.assign');
    return this.rows.transaction(async (trx) => {
      const target = await this.loadTarget(trx, access, id, { write: true, lock: true });
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, target.user)) throw preconditionFailed();
      await this.applyRoles(trx, access, ctx, target, roleIds);
      return this.view(trx, access.tenantId, id);
    });
  }

  private async applyRoles(trx: Executor, access: TenantAccess, ctx: RequestContext, target: DirectoryUser, roleIds: number[]): Promise<void> {
    const roles = await this.checkRoleIds(trx, access.tenantId, roleIds, 'role_ids');
    const current = new Set(target.roles.map((r) => r.id));
    const wanted = new Set(roles.map((r) => r.id));
    const touched = [...roles.filter((r) => !current.has(r.id)), ...target.roles.filter((r) => !wanted.has(r.id))];
    if (!this.covers(access, touched.flatMap((r) => r.permissions))) throw forbidden('role_out_of_reach', UNAUTHORIZED);
    const { added, removed } = await syncMemberRoles(trx, access.tenantId, target.user.id, [...wanted]);
    if (added.length || removed.length) {
      await recordAudit(trx, access.principal, ctx, {
        action: 'tenant.member_roles_synced', targetType: 'user', targetId: target.user.id,
        before: { tenant_id: access.tenantId, role_ids: [...current].sort((a, b) => a - b) },
        after: { tenant_id: access.tenantId, role_ids: [...wanted].sort((a, b) => a - b), added, removed },
      });
    }
  }

  /**
   * Soft-deletes a member in this tenant: they leave the tenant's lists and lose access to it; their
   * account, and their place in other tenants, are untouched. Restore brings them back with their roles.
   */
  async deleteUser(access: TenantAccess, ctx: RequestContext, id: number, opts: { ifMatch?: string } = {}): Promise<DirectoryUser> {
    this.require(access, 'users.delete');
    if (access.userId === id) throw forbidden('self_delete', 'You cannot delete your own account.');
    return this.rows.transaction(async (trx) => {
      const target = await this.loadTarget(trx, access, id, { write: true, lock: true });
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, target.user)) throw preconditionFailed();
      await setMembershipDeleted(trx, access.tenantId, id, true);
      const after = await this.view(trx, access.tenantId, id);
      await recordAudit(trx, access.principal, ctx, {
        action: 'tenant.member_deleted', targetType: 'user', targetId: id,
        before: { tenant_id: access.tenantId, ...auditView(target.user) }, after: { tenant_id: access.tenantId, deleted_at: after.deletedAt },
      });
      return after;
    });
  }

  async restoreUser(access: TenantAccess, ctx: RequestContext, id: number, opts: { ifMatch?: string } = {}): Promise<DirectoryUser> {
    this.require(access, 'users.delete');
    return this.rows.transaction(async (trx) => {
      const target = await this.loadTarget(trx, access, id, { write: true, lock: true, trashed: 'with' });
      if (opts.ifMatch !== undefined && !ifMatchSatisfied(opts.ifMatch, target.user)) throw preconditionFailed();
      if (target.deletedAt !== null) {
        await setMembershipDeleted(trx, access.tenantId, id, false);
        await recordAudit(trx, access.principal, ctx, {
          action: 'tenant.member_restored', targetType: 'user', targetId: id,
          before: { tenant_id: access.tenantId, deleted_at: target.deletedAt }, after: { tenant_id: access.tenantId, deleted_at: null },
        });
      }
      return this.view(trx, access.tenantId, id);
    });
  }

  /** The caller's own roles in the tenant. */
  async accountRoles(access: TenantAccess): Promise<TenantRole[]> {
    if (access.userId === null) return [];
    return (await memberRoleRows(this.db, access.tenantId, [access.userId])).get(access.userId) ?? [];
  }
}

