// /api/admin/user-admin: seed 004 (PUT /api/admin/user-admin/{id}) and its neighbours.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Core, invalid, resolveRootRole, ROOT_ROLE_NAMES, type UserListItem, type UserPatch, etagOf, checkStrongPassword } from '../../core/index.js';
import { publicBaseUrl } from '../../platform/http.js';
import { requestContext } from '../context.js';
import { CreateUserBody, Empty, IdParams, IfMatchHeaders, PasswordBody, SearchQuery, UnleashUser, UpdateUserBody, UsersResponse } from './schemas.js';
import { rootRoleItem, unleashUser } from './serialize.js';
import { sendStreamedList } from '../json-stream.js';

const SURFACE = 'useradmin' as const;
const PASSWORD_POLICY = { min: 10, max: 128 };
/** Users read per statement by the streamed full list. */
const LIST_BATCH = 250;
const SEARCH_LIMIT = 100;

export async function userAdminRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['user-admin: users'];

  app.get('/api/admin/user-admin', {
    schema: { tags, summary: 'All users and the root roles (streamed: any number of users in flat memory)', response: { 200: UsersResponse } },
  }, async (_req, reply) => {
    // Unleash's list has no pages, so it streams (src/surfaces/json-stream.ts): users in id order, LIST_BATCH
    // at a time, serialized by the same schema as before; the root roles (five rows) come first.
    const roles = await core.roles.listRoot();
    return sendStreamedList(reply, {
      envelope: { users: [], rootRoles: roles.map(rootRoleItem) },
      key: 'users',
      itemSchema: UnleashUser,
      batches: core.users.listItemBatches(LIST_BATCH),
      toItem: (u: UserListItem) => unleashUser(u),
    });
  });

  app.get('/api/admin/user-admin/search', {
    schema: {
      tags, summary: 'Users whose email, username or name starts with q (at least 2 characters; at most 100 results)',
      querystring: SearchQuery, response: { 200: { type: 'array', items: UnleashUser } },
    },
  }, async (req) => {
    const q = (req.query.q ?? '').trim();
    if (Array.from(q).length < 2) return [];
    const page = await core.users.list({ limit: SEARCH_LIMIT, q });
    return page.items.map((u) => unleashUser(u));
  });

  app.post('/api/admin/user-admin/validate-password', {
    config: { useradminAuth: 'user' },
    schema: { tags, summary: 'Check a password against the password rules (200 when strong, 400 naming the rule otherwise)', body: PasswordBody, response: { 200: Empty } },
  }, async (req, reply) => {
    checkStrongPassword(req.body.password);
    return reply.code(200).send();
  });

  app.post('/api/admin/user-admin', {
    schema: {
      tags, summary: 'Create a user (username or email required; rootRole by id or name)',
      body: CreateUserBody, response: { 201: UnleashUser },
    },
  }, async (req, reply) => {
    const b = req.body;
    const email = b.email?.trim() ? b.email : undefined;
    const username = b.username?.trim() ? b.username : undefined;
    if (!email && !username) throw invalid('username', 'required', 'You must specify username or email');
    const rootRoleId = resolveRootRole(b.rootRole);
    if (b.password !== undefined) checkStrongPassword(b.password);
    // sendEmail (default true, as Unleash): the invite mail goes out through the outbox when SMTP is configured.
    const sendEmail = b.sendEmail !== false;
    const { user, inviteToken, emailSent } = await core.invites.createWithInvite(req.principal!, requestContext(req, SURFACE), {
      email, username, name: b.name ?? undefined, password: b.password, rootRoleId, emailVerified: true,
    }, {
      passwordPolicy: PASSWORD_POLICY, inviteTtlSeconds: core.config.inviteTtlSeconds,
      onInvite: sendEmail && core.accountMail.enabled ? (trx, u, token, expiresAt) => core.accountMail.invite(trx, u, token, expiresAt, req.principal!.label) : undefined,
    });
    // Unleash echoes a role given by name as that name; a role given by id as the id.
    const rootRole = typeof b.rootRole === 'string' && !/^\s*\d+\s*$/.test(b.rootRole) ? ROOT_ROLE_NAMES[rootRoleId] : rootRoleId;
    reply.code(201).header('location', `/api/admin/user-admin/${user.id}`);
    // A user without a password gets a one-time link to set one (GET /auth/reset/validate, POST /auth/reset/password).
    const inviteLink = inviteToken ? `${publicBaseUrl(core.config, req)}/new-user?token=${encodeURIComponent(inviteToken)}` : undefined;
    if (inviteLink) reply.header('cache-control', 'no-store');
    return unleashUser(user, { rootRole, emailSent: emailSent === true, inviteLink });
  });

  app.get('/api/admin/user-admin/:id', {
    config: { readsTargetUser: true },
    schema: { tags, summary: 'Get a user (with its ETag)', params: IdParams, response: { 200: UnleashUser } },
  }, async (req, reply) => {
    const user = await core.users.getUser(req.params.id, { ctx: requestContext(req, SURFACE) });
    reply.header('etag', etagOf(user));
    return unleashUser(user);
  });

  app.put('/api/admin/user-admin/:id', {
    config: { readsTargetUser: true },
    schema: {
      tags, summary: 'Update a user (seed 004): only the fields sent change; {} returns the user unchanged',
      params: IdParams, headers: IfMatchHeaders, body: UpdateUserBody, response: { 200: UnleashUser },
    },
  }, async (req, reply) => {
    const b = req.body;
    const patch: UserPatch = {
      email: b.email,
      name: b.name,
      rootRoleId: b.rootRole === undefined ? undefined : resolveRootRole(b.rootRole),
    };
    const result = await core.users.update(req.principal!, requestContext(req, SURFACE), req.params.id, patch, {
      ifMatch: req.headers['if-match'],
    });
    reply.header('etag', etagOf(result.user));
    return unleashUser(result.user);
  });

  app.delete('/api/admin/user-admin/:id', {
    schema: { tags, summary: "Delete a user (their sessions and tokens go with them)", params: IdParams, headers: IfMatchHeaders, response: { 200: Empty } },
  }, async (req, reply) => {
    await core.users.delete(req.principal!, requestContext(req, SURFACE), req.params.id, { ifMatch: req.headers['if-match'] });
    return reply.code(200).send();
  });

  app.post('/api/admin/user-admin/:id/change-password', {
    schema: {
      tags, summary: "Set a user's password (password rules checked; every session of the user is revoked)",
      params: IdParams, headers: IfMatchHeaders, body: PasswordBody, response: { 200: Empty },
    },
  }, async (req, reply) => {
    await core.users.setPasswordAsAdmin(req.principal!, requestContext(req, SURFACE), req.params.id, req.body.password, { ifMatch: req.headers['if-match'] });
    return reply.code(200).send();
  });
}
