// /api/admin/users: seed 000 (PATCH) and its neighbours.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, invalid, isDomainError, unauthenticated, etagOf, resolveRootRole, type UserListQuery, type UserPatch, emptyPatchError, isEmptyPatch } from '../../core/index.js';
import { requestContext } from '../context.js';
import { CreateUserBody, Envelope, IdParams, IfMatchHeaders, ListUsersQuery, PatchUserBody, SelfPasswordBody, UserItem } from './schemas.js';
import { decodeUserCursor, encodeUserCursor, userItem } from './serialize.js';
import { clearSessionCookies } from './auth-routes.js';

const ADMIN_PASSWORD_POLICY = { min: 8, max: 128 };
const toBoolFlag = (v: boolean | 0 | 1 | undefined) => (v === undefined ? undefined : v === true || v === 1);

/** root_role as a root role id; both it and is_admin at once is ambiguous (is_admin: true keeps Owner). */
function rootRoleOf(b: { root_role?: string; is_admin?: boolean | 0 | 1 }): number | undefined {
  if (b.root_role === undefined) return undefined;
  if (b.is_admin !== undefined) throw invalid('root_role', 'conflicting_fields', 'Send root_role or is_admin, not both');
  return resolveRootRole(b.root_role, 'root_role');
}

/**
 * The page a list request asks for, from its limit, cursor and q; a string instead when the cursor cannot
 * serve (the message a 400 gives). Used by the handler on the validated query and by the guard on the raw one.
 */
function listQueryOf(limit: number, cursor: string | undefined, q: string | undefined): UserListQuery | string {
  const search = q || undefined;
  const after = cursor ? decodeUserCursor(cursor) : undefined;
  if (cursor && after === undefined) return 'cursor must be a next_cursor value from a previous page';
  // A search pages in search order, a list in id order: a cursor of one cannot continue the other.
  if (after && (after.key !== undefined) !== (search !== undefined)) {
    return search ? 'this cursor continues a list without q, not a search' : 'this cursor continues a search (q), not a list without q';
  }
  return { limit, afterId: after?.id, afterKey: after?.key, q: search };
}

/**
 * The page a raw query string asks for (limit, cursor and q only), read as validation and the handler will
 * read it; undefined for anything else (filters, a value validation would turn down or coerce, a refused
 * cursor): those pages are read after the credential check.
 */
function pageOf(query: unknown): UserListQuery | undefined {
  const q = query as Record<string, unknown>;
  for (const key in q) if (key !== 'limit' && key !== 'cursor' && key !== 'q') return undefined;
  if (q.limit !== undefined && (typeof q.limit !== 'string' || !/^[1-9][0-9]{0,2}$/.test(q.limit) || Number(q.limit) > 200)) return undefined;
  if (q.q !== undefined && (typeof q.q !== 'string' || q.q.length > 254)) return undefined;
  if (q.cursor !== undefined && (typeof q.cursor !== 'string' || q.cursor.length > 1024)) return undefined;
  const page = listQueryOf(q.limit === undefined ? 50 : Number(q.limit), q.cursor as string | undefined, q.q as string | undefined);
  return typeof page === 'string' ? undefined : page;
}

export async function userRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: users'];

  app.get('/api/admin/users', {
    config: { readsAlong: (req) => { const page = pageOf(req.query); return page && core.users.summaryPageRead(page); } },
    schema: {
      tags, summary: 'List users: in id order, or with q a prefix search on email/username/name in search order (by the matching key, then id); cursor = next_cursor', querystring: ListUsersQuery,
      response: {
        200: Type.Object({
          ok: Type.Boolean(), items: Type.Array(UserItem), next_cursor: Type.Union([Type.String(), Type.Null()]), limit: Type.Integer(),
          total: Type.Optional(Type.Integer({ description: 'With total=true: users the query matches (filters and q applied, every page alike): exact up to 1,000; past it see total_exact' })),
          total_exact: Type.Optional(Type.Boolean({ description: 'false: more than 1,000 match, and total is 1,000 (a filtered list or a search) or an estimate (the unfiltered list: PostgreSQL\'s planner, SQLite\'s highest user id)' })),
        }),
      },
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 50;
    const query = listQueryOf(limit, q.cursor, q.q);
    if (typeof query === 'string') throw invalid('cursor', 'invalid_cursor', query);
    const email = q.email?.trim().toLowerCase() || undefined;
    if (email && query.q) throw invalid('email', 'not_with_q', 'email filters a list in id order; send either q (a search) or email', { hint: 'Drop q or email' });
    const filters = { isActive: q.is_active ?? q.active, isAdmin: q.is_admin, emailContains: email };
    const page = await core.users.listSummaries({ ...query, ...filters }, requestContext(req, 'admin'));
    const body = { ok: true, items: page.items.map(userItem), next_cursor: page.nextCursor ? encodeUserCursor(page.nextCursor) : null, limit };
    // Asked for (total=true) only: without it the page stays one round trip with the credential check.
    if (q.total !== true) return body;
    // A first page that holds every match is its own total (no count: a rare match costs one scan, not two).
    const total = query.afterId === undefined && !page.nextCursor
      ? { total: page.items.length, exact: true }
      : await core.userAccess.listTotal({ q: query.q, ...filters });
    return { ...body, total: total.total, total_exact: total.exact };
  });

  app.post('/api/admin/users', {
    schema: { tags, summary: 'Create a user (admin-created users count as email-verified)', body: CreateUserBody, response: { 201: Envelope(UserItem) } },
  }, async (req, reply) => {
    const b = req.body;
    const user = await core.users.create(req.principal!, requestContext(req, 'admin'), {
      username: b.username, email: b.email, password: b.password, name: b.name,
      isActive: toBoolFlag(b.is_active), isAdmin: toBoolFlag(b.is_admin), rootRoleId: rootRoleOf(b), emailVerified: true,
    }, { passwordPolicy: ADMIN_PASSWORD_POLICY });
    reply.code(201).header('etag', etagOf(user)).header('location', `/api/admin/users/${user.id}`);
    return { ok: true, created: true, updated: false, deleted: false, item: userItem(user) };
  });

  app.patch('/api/admin/users/me/password', {
    schema: {
      tags, summary: "Change the signed-in admin's own password (revokes their other sessions)", headers: IfMatchHeaders, body: SelfPasswordBody,
      response: { 200: Envelope(UserItem, { reauth_required: Type.Boolean(), sessions_revoked: Type.Integer() }) },
    },
  }, async (req, reply) => {
    const p = req.principal!;
    if (p.kind !== 'user') throw invalid('session', 'user_session_required', 'Changing your own password needs a signed-in user, not an API token');
    const result = await core.users.changeOwnPassword(p, requestContext(req, 'admin'), req.body.current_password, req.body.new_password, ADMIN_PASSWORD_POLICY, {
      ifMatch: req.headers['if-match'],
    }).catch((err: unknown) => {
      // The product answers a wrong current password 401 {"error":"invalid_credentials","field":"current_password"}.
      throw isDomainError(err) && err.reason === 'invalid_current_password' ? unauthenticated('invalid_current_password', err.message) : err;
    });
    reply.header('etag', etagOf(result.user));
    // reauth_required as the product answers it; false here, because this session is kept (only the others end).
    return {
      ok: true, created: false, updated: true, deleted: false, reauth_required: false, sessions_revoked: result.sessionsRevoked, item: userItem(result.user),
    };
  });

  app.get('/api/admin/users/:id', {
    config: { readsTargetUser: true },
    schema: { tags, summary: 'Get a user', params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), item: UserItem }) } },
  }, async (req, reply) => {
    const user = await core.users.getUser(req.params.id, { ctx: requestContext(req, 'admin') });
    reply.header('etag', etagOf(user));
    return { ok: true, item: userItem(user) };
  });

  app.patch('/api/admin/users/:id', {
    config: { readsTargetUser: true },
    schema: {
      tags, summary: 'Update a user (seed 000): only the fields sent change', params: IdParams, headers: IfMatchHeaders, body: PatchUserBody,
      response: { 200: Envelope(UserItem, { sessions_revoked: Type.Integer() }) },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const patch: UserPatch = {
      username: b.username, email: b.email, password: b.password, name: b.name,
      isActive: toBoolFlag(b.is_active), isAdmin: toBoolFlag(b.is_admin), rootRoleId: rootRoleOf(b),
    };
    if (isEmptyPatch(patch)) throw emptyPatchError();
    // An admin changes their own password on its own route (with the current one), not here.
    const p = req.principal!;
    const selfId = p.kind === 'user' ? p.userId : p.kind === 'api_token' ? p.userId : null;
    if (patch.password !== undefined && selfId === req.params.id) {
      throw invalid('password', 'use_self_password_route', 'Change your own password with PATCH /api/admin/users/me/password', {
        hint: 'PATCH /api/admin/users/me/password {current_password, new_password}',
      });
    }
    const result = await core.users.update(p, requestContext(req, 'admin'), req.params.id, patch, {
      ifMatch: req.headers['if-match'],
      passwordPolicy: ADMIN_PASSWORD_POLICY,
    });
    reply.header('etag', etagOf(result.user));
    // As the product: a cookie caller who deactivated or demoted themselves gets their cookies cleared (the
    // session is already revoked).
    if (req.sessionFamilyId && req.principal?.kind === 'user' && req.principal.userId === req.params.id && (!result.user.isActive || !userItem(result.user).is_admin)) {
      clearSessionCookies(reply);
    }
    return { ok: true, created: false, updated: true, deleted: false, sessions_revoked: result.sessionsRevoked, item: userItem(result.user) };
  });

  app.delete('/api/admin/users/:id', {
    schema: {
      tags, summary: 'Delete a user (their sessions and tokens go with them; sessions_revoked counts the live sessions ended)',
      params: IdParams, headers: IfMatchHeaders, response: { 200: Envelope(UserItem, { sessions_revoked: Type.Integer() }) },
    },
  }, async (req, reply) => {
    const user = await core.users.delete(req.principal!, requestContext(req, 'admin'), req.params.id, { ifMatch: req.headers['if-match'] });
    // As the product: deleting yourself (with the cookie session) clears your cookies.
    if (req.sessionFamilyId && req.principal?.kind === 'user' && req.principal.userId === req.params.id) clearSessionCookies(reply);
    return { ok: true, created: false, updated: false, deleted: true, sessions_revoked: user.sessionsRevoked, item: userItem(user) };
  });
}
