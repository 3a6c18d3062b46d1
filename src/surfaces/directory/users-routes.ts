// /api/v1/users and /api/v1/account: seed 003 (PUT /v1/users/{id}) and its neighbours.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { type Core, invalid, type TenantAccess, etagOf, type ProfileValues, type UserPatch } from '../../core/index.js';
import { publicBaseUrl } from '../../platform/http.js';
import { requestContext } from '../context.js';
import { AccountRole, CreateUserBody, IdParams, ListUsersQuery, Paginated, Success, SyncRolesBody, TenantHeaders, UpdateUserBody, UserResource } from './schemas.js';
import { accountRole, userResource } from './serialize.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Directory surface: the tenant this request acts in and the caller's permissions there. */
    tenantAccess?: TenantAccess;
  }
}

interface ProfileBody {
  phone?: string | null;
  title?: string | null;
  emergency_contact_name?: string | null;
  emergency_contact_surname?: string | null;
  emergency_contact_phone_number?: string | null;
  blood_group?: string | null;
  avatar_url?: string | null;
  is_active?: boolean | 0 | 1 | null;
  bio?: string | null;
  language?: string[] | null;
}

function profileOf(b: ProfileBody): ProfileValues {
  return {
    phone: b.phone, title: b.title,
    emergencyContactName: b.emergency_contact_name, emergencyContactSurname: b.emergency_contact_surname,
    emergencyContactPhoneNumber: b.emergency_contact_phone_number, bloodGroup: b.blood_group,
    avatarUrl: b.avatar_url, bio: b.bio, languages: b.language,
  };
}

/** is_active: true/false (1/0 too); null means "leave it as it is". */
function activeOf(v: boolean | 0 | 1 | null | undefined): boolean | undefined {
  return v === null || v === undefined ? undefined : v === true || v === 1;
}

/** `password_confirmation` must equal `password` whenever a password is sent (Laravel's `confirmed`). */
function checkConfirmation(b: { password?: string; password_confirmation?: string }): void {
  if (b.password !== undefined && b.password_confirmation !== b.password) {
    throw invalid('password', 'confirmation_mismatch', 'The password field confirmation does not match.');
  }
}

function pageUrl(base: string, req: FastifyRequest, page: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
    if (v !== undefined && k !== 'page') params.set(k, String(v));
  }
  params.set('page', String(page));
  return `${base}/api/v1/users?${params.toString()}`;
}

export async function directoryUserRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['directory v1: users'];
  const security = [{ bearer: [] }];
  const ctx = (req: FastifyRequest) => requestContext(req, 'directory');

  app.get('/api/v1/users', {
    schema: {
      tags, security, summary: 'List the users of the tenant (search, filters, sort, pages)', headers: TenantHeaders, querystring: ListUsersQuery,
      response: { 200: Paginated(UserResource) },
    },
  }, async (req) => {
    const q = req.query;
    const perPage = q.per_page ?? 15;
    const page = q.page ?? 1;
    const { items, total } = await core.tenants.listUsers(req.tenantAccess!, {
      search: q.search,
      isActive: q.is_active === undefined ? undefined : q.is_active === 'true' || q.is_active === '1',
      role: q.role,
      trashed: q.trashed,
      sortBy: q.sort_by,
      sortOrder: q.sort_order,
      perPage,
      page,
    });
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    const from = items.length ? (page - 1) * perPage + 1 : null;
    // Links start from GATEHOUSE_PUBLIC_URL, never from the Host header the client sent.
    const base = publicBaseUrl(core.config, req);
    return {
      data: items.map(userResource),
      links: {
        first: pageUrl(base, req, 1),
        last: pageUrl(base, req, lastPage),
        prev: page > 1 ? pageUrl(base, req, page - 1) : null,
        next: page < lastPage ? pageUrl(base, req, page + 1) : null,
      },
      meta: {
        current_page: page, from, last_page: lastPage, path: `${base}/api/v1/users`,
        per_page: perPage, to: from === null ? null : from + items.length - 1, total,
      },
    };
  });

  app.post('/api/v1/users', {
    schema: {
      tags, security, summary: 'Create a user in the tenant (password_confirmation must match)', headers: TenantHeaders, body: CreateUserBody,
      response: { 201: Success(UserResource) },
    },
  }, async (req, reply) => {
    const b = req.body;
    checkConfirmation(b);
    const created = await core.tenants.createUser(req.tenantAccess!, ctx(req), {
      name: b.name, email: b.email, password: b.password, isActive: activeOf(b.is_active), ...profileOf(b),
    }, b.role_ids ?? undefined);
    reply.code(201).header('etag', etagOf(created.user)).header('location', `/api/v1/users/${created.user.id}`);
    return { success: 'User created successfully.', data: userResource(created) };
  });

  app.get('/api/v1/users/:id', {
    schema: { tags, security, summary: 'Get a user of the tenant', headers: TenantHeaders, params: IdParams, response: { 200: Type.Object({ data: UserResource }) } },
  }, async (req, reply) => {
    const d = await core.tenants.getUser(req.tenantAccess!, req.params.id);
    reply.header('etag', etagOf(d.user));
    return { data: userResource(d) };
  });

  const ifMatchOf = (req: FastifyRequest) => (typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined);
  const update = async (req: FastifyRequest<{ Params: { id: number }; Body: Static<typeof UpdateUserBody> }>, reply: import('fastify').FastifyReply) => {
    const b = req.body ?? {};
    checkConfirmation(b);
    const patch: UserPatch = { name: b.name, email: b.email, password: b.password, isActive: activeOf(b.is_active), ...profileOf(b) };
    const d = await core.tenants.updateUser(req.tenantAccess!, ctx(req), req.params.id, patch, b.role_ids, {
      ifMatch: typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined,
    });
    reply.header('etag', etagOf(d.user));
    return { success: 'User updated successfully.', data: userResource(d) };
  };
  const updateSchema = {
    tags, security, headers: TenantHeaders, params: IdParams, body: UpdateUserBody, response: { 200: Success(UserResource) },
  };
  app.put('/api/v1/users/:id', {
    schema: { ...updateSchema, summary: 'Update a user (seed 003): every field optional, null clears nullable fields, role_ids replaces the roles in this tenant' },
  }, update);
  app.patch('/api/v1/users/:id', { schema: { ...updateSchema, summary: 'Same as PUT (Laravel routes both)' } }, update);

  app.delete('/api/v1/users/:id', {
    schema: { tags, security, summary: 'Soft-delete a user in this tenant (restore brings them back)', headers: TenantHeaders, params: IdParams, response: { 200: Success(UserResource) } },
  }, async (req) => {
    const d = await core.tenants.deleteUser(req.tenantAccess!, ctx(req), req.params.id, { ifMatch: ifMatchOf(req) });
    return { success: 'User deleted successfully.', data: userResource(d) };
  });

  app.post('/api/v1/users/:id/restore', {
    schema: { tags, security, summary: 'Restore a soft-deleted user of this tenant', headers: TenantHeaders, params: IdParams, response: { 200: Success(UserResource) } },
  }, async (req) => {
    const d = await core.tenants.restoreUser(req.tenantAccess!, ctx(req), req.params.id, { ifMatch: ifMatchOf(req) });
    return { success: 'User restored successfully.', data: userResource(d) };
  });

  app.put('/api/v1/users/:id/roles', {
    schema: {
      tags, security, summary: "Replace the user's roles in this tenant (full sync; [] clears)", headers: TenantHeaders, params: IdParams, body: SyncRolesBody,
      response: { 200: Success(UserResource) },
    },
  }, async (req) => {
    const d = await core.tenants.syncRoles(req.tenantAccess!, ctx(req), req.params.id, req.body.role_ids ?? [], { ifMatch: ifMatchOf(req) });
    return { success: 'User roles updated successfully.', data: userResource(d) };
  });

  app.get('/api/v1/account/roles', {
    schema: {
      tags: ['directory v1: account'], security, summary: "The caller's roles in the tenant", headers: TenantHeaders,
      response: { 200: Type.Object({ data: Type.Array(AccountRole), meta: Type.Object({ tenant_id: Type.Integer(), permissions: Type.Array(Type.String()) }) }) },
    },
  }, async (req) => {
    const access = req.tenantAccess!;
    const roles = await core.tenants.accountRoles(access);
    return { data: roles.map(accountRole), meta: { tenant_id: access.tenantId, permissions: [...access.permissions].sort() } };
  });
}
