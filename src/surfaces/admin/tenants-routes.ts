// /api/admin/tenants (tenants, their roles and members), /api/admin/oauth-clients and
// /api/admin/oauth-keys: admin-surface routes of the tenants and OAuth capabilities (directory v1).
import type { FastifyInstance } from 'fastify';
import { sendStreamedList } from '../json-stream.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, GRANT_TYPES, type OAuthClient, TENANT_PERMISSIONS, type Tenant, type TenantRole, MAX_ID } from '../../core/index.js';
import { requestContext } from '../context.js';
import { Envelope, IdParams, NullableString } from './schemas.js';

const Id = () => Type.Integer({ minimum: 1, maximum: MAX_ID });

const TenantItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  member_count: Type.Optional(Type.Integer()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const RoleItem = Type.Object({
  id: Type.Integer(),
  tenant_id: Type.Integer(),
  name: Type.String(),
  description: NullableString(),
  permissions: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const MemberItem = Type.Object({
  tenant_id: Type.Integer(),
  user_id: Type.Integer(),
  email: NullableString(),
  name: NullableString(),
  username: NullableString(),
  role_ids: Type.Array(Type.Integer()),
  roles: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })),
  created_at: Type.String({ format: 'date-time' }),
  deleted_at: NullableString({ format: 'date-time' }),
});

const ClientItem = Type.Object({
  id: Type.Integer(),
  client_id: Type.String(),
  name: Type.String(),
  grant_types: Type.Array(Type.String()),
  service_user_id: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: NullableString({ format: 'date-time' }),
});

const KeyItem = Type.Object({
  kid: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  retired_at: NullableString({ format: 'date-time' }),
  signing: Type.Boolean(),
  published: Type.Boolean(),
});

const Permission = Type.Unsafe<string>({ type: 'string', enum: [...TENANT_PERMISSIONS] });
const Permissions = Type.Array(Permission, { maxItems: 50, description: `Any of ${TENANT_PERMISSIONS.join(', ')}` });

const TenantBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });
const TenantPatchBody = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false });
const RoleBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), permissions: Type.Optional(Permissions), description: Type.Optional(NullableString({ maxLength: 1000 })) },
  { additionalProperties: false },
);
const RolePatchBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), permissions: Type.Optional(Permissions), description: Type.Optional(NullableString({ maxLength: 1000 })) },
  { additionalProperties: false },
);
const MemberBody = Type.Object(
  { user_id: Id(), role_ids: Type.Optional(Type.Array(Id(), { maxItems: 100 })) },
  { additionalProperties: false },
);
const ClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    grant_types: Type.Optional(Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...GRANT_TYPES] }), { minItems: 1, maxItems: 3 })),
  },
  { additionalProperties: false },
);

const RoleParams = Type.Object({ id: Id(), role_id: Id() });
const MemberParams = Type.Object({ id: Id(), user_id: Id() });

function tenantItem(t: Tenant & { memberCount?: number }) {
  return { id: t.id, name: t.name, ...(t.memberCount !== undefined ? { member_count: t.memberCount } : {}), created_at: t.createdAt, updated_at: t.updatedAt };
}

function roleItem(r: TenantRole) {
  return { id: r.id, tenant_id: r.tenantId, name: r.name, description: r.description, permissions: r.permissions, created_at: r.createdAt, updated_at: r.updatedAt };
}

function clientItem(c: OAuthClient) {
  return { id: c.id, client_id: c.clientId, name: c.name, grant_types: c.grantTypes, service_user_id: c.serviceUserId, created_at: c.createdAt, last_used_at: c.lastUsedAt };
}

const ok = <T>(item: T, flags: { created?: boolean; updated?: boolean; deleted?: boolean } = {}) => ({
  ok: true, created: flags.created ?? false, updated: flags.updated ?? false, deleted: flags.deleted ?? false, item,
});

/** Rows read per statement by the streamed lists below (tenants, roles, members, OAuth clients: docs/limits.md). */
const LIST_BATCH = 500;

type MemberView = Awaited<ReturnType<Core['tenants']['listMembers']>>[number];

export async function tenantsRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: tenants'];

  // ---- tenants

  app.get('/api/admin/tenants', {
    schema: { tags, summary: 'List tenants', response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(TenantItem) }) } },
  }, async (_req, reply) => sendStreamedList(reply, {
    envelope: { ok: true, items: [] }, key: 'items', itemSchema: TenantItem,
    batches: core.tenants.tenantBatches(LIST_BATCH), toItem: tenantItem,
  }));

  app.post('/api/admin/tenants', {
    schema: { tags, summary: 'Create a tenant', body: TenantBody, response: { 201: Envelope(TenantItem) } },
  }, async (req, reply) => {
    const t = await core.tenants.createTenant(req.principal!, requestContext(req, 'admin'), { name: req.body.name });
    reply.code(201).header('location', `/api/admin/tenants/${t.id}`);
    return ok(tenantItem(t), { created: true });
  });

  app.get('/api/admin/tenants/:id', {
    schema: { tags, summary: 'Get a tenant', params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: TenantItem }) } },
  }, async (req) => ({ ok: true, item: tenantItem(await core.tenants.getTenant(req.params.id)) }));

  app.patch('/api/admin/tenants/:id', {
    schema: { tags, summary: 'Rename a tenant', params: IdParams, body: TenantPatchBody, response: { 200: Envelope(TenantItem) } },
  }, async (req) => {
    const t = await core.tenants.updateTenant(req.principal!, requestContext(req, 'admin'), req.params.id, { name: req.body?.name });
    return ok(tenantItem(t), { updated: true });
  });

  app.delete('/api/admin/tenants/:id', {
    schema: { tags, summary: 'Delete a tenant with its roles and memberships (the users stay)', params: IdParams, response: { 200: Envelope(TenantItem) } },
  }, async (req) => ok(tenantItem(await core.tenants.deleteTenant(req.principal!, requestContext(req, 'admin'), req.params.id)), { deleted: true }));

  // ---- tenant roles

  app.get('/api/admin/tenants/:id/roles', {
    schema: { tags, summary: "List a tenant's roles", params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(RoleItem) }) } },
  }, async (req, reply) => sendStreamedList(reply, {
    envelope: { ok: true, items: [] }, key: 'items', itemSchema: RoleItem,
    batches: core.tenants.roleBatches(req.params.id, LIST_BATCH), toItem: roleItem,
  }));

  app.post('/api/admin/tenants/:id/roles', {
    schema: { tags, summary: 'Create a tenant role (a named set of permissions)', params: IdParams, body: RoleBody, response: { 201: Envelope(RoleItem) } },
  }, async (req, reply) => {
    const r = await core.tenants.createRole(req.principal!, requestContext(req, 'admin'), req.params.id, req.body);
    reply.code(201);
    return ok(roleItem(r), { created: true });
  });

  app.patch('/api/admin/tenants/:id/roles/:role_id', {
    schema: { tags, summary: 'Update a tenant role', params: RoleParams, body: RolePatchBody, response: { 200: Envelope(RoleItem) } },
  }, async (req) => {
    const r = await core.tenants.updateRole(req.principal!, requestContext(req, 'admin'), req.params.id, req.params.role_id, req.body ?? {});
    return ok(roleItem(r), { updated: true });
  });

  app.delete('/api/admin/tenants/:id/roles/:role_id', {
    schema: { tags, summary: 'Delete a tenant role (members lose it)', params: RoleParams, response: { 200: Envelope(RoleItem) } },
  }, async (req) => ok(roleItem(await core.tenants.deleteRole(req.principal!, requestContext(req, 'admin'), req.params.id, req.params.role_id)), { deleted: true }));

  // ---- members

  app.get('/api/admin/tenants/:id/members', {
    schema: { tags, summary: "List a tenant's members (soft-deleted ones with deleted_at)", params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(MemberItem) }) } },
  }, async (req, reply) => sendStreamedList(reply, {
    envelope: { ok: true, items: [] }, key: 'items', itemSchema: MemberItem,
    batches: core.tenants.memberBatches(req.params.id, LIST_BATCH),
    toItem: (m: MemberView) => ({
      tenant_id: req.params.id, user_id: m.userId, email: m.email, name: m.name, username: m.username,
      role_ids: m.roles.map((r) => r.id), roles: m.roles.map((r) => ({ id: r.id, name: r.name })), created_at: m.createdAt, deleted_at: m.deletedAt,
    }),
  }));

  app.post('/api/admin/tenants/:id/members', {
    schema: { tags, summary: 'Add a user to a tenant, optionally with roles of that tenant', params: IdParams, body: MemberBody, response: { 201: Envelope(MemberItem) } },
  }, async (req, reply) => {
    const m = await core.tenants.addMember(req.principal!, requestContext(req, 'admin'), req.params.id, { userId: req.body.user_id, roleIds: req.body.role_ids });
    const user = await core.users.findUser(m.userId);
    reply.code(201);
    return ok({
      tenant_id: req.params.id, user_id: m.userId, email: user?.email ?? null, name: user?.name ?? null, username: user?.username ?? null,
      role_ids: m.roles.map((r) => r.id), roles: m.roles.map((r) => ({ id: r.id, name: r.name })), created_at: m.createdAt, deleted_at: null,
    }, { created: true });
  });

  app.delete('/api/admin/tenants/:id/members/:user_id', {
    schema: {
      tags, summary: 'Remove a user from a tenant (their roles there go too)', params: MemberParams,
      response: { 200: Type.Object({ ok: Type.Boolean(), created: Type.Boolean(), updated: Type.Boolean(), deleted: Type.Boolean(), item: Type.Object({ tenant_id: Type.Integer(), user_id: Type.Integer() }) }) },
    },
  }, async (req) => {
    await core.tenants.removeMember(req.principal!, requestContext(req, 'admin'), req.params.id, req.params.user_id);
    return ok({ tenant_id: req.params.id, user_id: req.params.user_id }, { deleted: true });
  });

  // ---- OAuth clients and signing keys

  const oauthTags = ['admin: oauth'];

  app.get('/api/admin/oauth-clients', {
    schema: { tags: oauthTags, summary: 'List OAuth clients (never their secrets)', response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(ClientItem) }) } },
  }, async (_req, reply) => sendStreamedList(reply, {
    envelope: { ok: true, items: [] }, key: 'items', itemSchema: ClientItem,
    batches: core.oauth.clientBatches(LIST_BATCH), toItem: clientItem,
  }));

  app.post('/api/admin/oauth-clients', {
    schema: {
      tags: oauthTags,
      summary: 'Create an OAuth client; client_secret is shown once. With client_credentials it gets a service account (add it to tenants as a member).',
      body: ClientBody,
      response: { 201: Envelope(ClientItem, { client_secret: Type.String() }) },
    },
  }, async (req, reply) => {
    const { client, secret } = await core.oauth.createClient(req.principal!, requestContext(req, 'admin'), { name: req.body.name, grantTypes: req.body.grant_types });
    reply.code(201).header('cache-control', 'no-store');
    return { ...ok(clientItem(client), { created: true }), client_secret: secret };
  });

  app.delete('/api/admin/oauth-clients/:id', {
    schema: { tags: oauthTags, summary: 'Delete an OAuth client: its sessions end at once', params: IdParams, response: { 200: Envelope(ClientItem) } },
  }, async (req) => ok(clientItem(await core.oauth.deleteClient(req.principal!, requestContext(req, 'admin'), req.params.id)), { deleted: true }));

  app.post('/api/admin/oauth-clients/:id/rotate-secret', {
    schema: {
      tags: oauthTags,
      summary: "Give an OAuth client a new secret, shown once; the old secret stops working at /oauth/token at once (granted sessions stay)",
      params: IdParams,
      response: { 200: Envelope(ClientItem, { client_secret: Type.String() }) },
    },
  }, async (req, reply) => {
    const { client, secret } = await core.oauth.rotateClientSecret(req.principal!, requestContext(req, 'admin'), req.params.id);
    reply.header('cache-control', 'no-store');
    return { ...ok(clientItem(client), { updated: true }), client_secret: secret };
  });

  app.get('/api/admin/oauth-keys', {
    schema: { tags: oauthTags, summary: 'The access-token signing keys (public data only)', response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(KeyItem) }) } },
  }, async () => ({
    ok: true,
    items: (await core.oauth.describeKeys()).map((k) => ({ kid: k.kid, created_at: k.createdAt, retired_at: k.retiredAt, signing: k.signing, published: k.published })),
  }));

  app.post('/api/admin/oauth-keys/rotate', {
    schema: {
      tags: oauthTags, summary: 'Start signing with a new key; old keys stay published until their tokens expire (nobody is logged out)',
      response: { 200: Type.Object({ ok: Type.Boolean(), kid: Type.String(), retired: Type.Array(Type.String()) }) },
    },
  }, async (req) => {
    const r = await core.oauth.rotateKeys(req.principal!, requestContext(req, 'admin'));
    return { ok: true, kid: r.kid, retired: r.retired };
  });
}
