// One user's ways in, for administrators (issue 20, the admin console): their live sessions (list, end one,
// end all), their API tokens (list, revoke one), their tenant memberships, and invite links (create a user
// with an invite; issue a new invite to a user who has no password yet). Secrets never leave, except a new
// invite's link, once, to the administrator who issued it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, type UserSessionView, type UserTokenView, etagOf, invalid, MAX_ID, resolveRootRole } from '../../core/index.js';
import { publicBaseUrl } from '../../platform/http.js';
import { requestContext } from '../context.js';
import { sendStreamedList } from '../json-stream.js';
import { clearSessionCookies } from './auth-routes.js';
import { Envelope, IdParams, NullableString, UserItem } from './schemas.js';
import { userItem } from './serialize.js';

const SessionItem = Type.Object({
  id: Type.String({ description: 'The session family id (not a credential: the cookies and tokens are never shown)' }),
  kind: Type.String({ description: 'The surface it was opened on: admin, account, useradmin or oauth' }),
  created_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.String({ format: 'date-time', description: 'When it was opened or last refreshed' }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: NullableString({ description: 'Client address at sign-in' }),
  user_agent: NullableString(),
  current: Type.Boolean({ description: 'The session of this very request' }),
});

const UserTokenItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: Type.String({ description: 'personal: the user\'s own token; admin: an admin API token the user made, acting for them' }),
  created_by: NullableString(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: NullableString({ format: 'date-time' }),
  last_used_at: NullableString({ format: 'date-time', description: 'Kept to the minute' }),
});

const MembershipItem = Type.Object({
  tenant_id: Type.Integer(),
  tenant_name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  deleted_at: NullableString({ format: 'date-time', description: 'Set while the user is soft-deleted in that tenant' }),
  role_ids: Type.Array(Type.Integer()),
  roles: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })),
});

const InviteInfo = Type.Object({
  link: Type.String({ description: 'GATEHOUSE_PUBLIC_URL/new-user?token=… (one use; shown once)' }),
  expires_at: Type.String({ format: 'date-time' }),
  email_sent: Type.Boolean({ description: 'The invite mail was queued (SMTP configured, the user has an email, send_email not false)' }),
});

const SessionParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
  session_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
const TokenParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
  token_id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
});

const InviteBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320, description: 'Format: email' }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 255 })),
    root_role: Type.Optional(Type.Union(['Admin', 'Editor', 'Viewer', 'Owner', 'Member'].map((n) => Type.Literal(n)), { description: 'Root role; default Member' })),
    send_email: Type.Optional(Type.Boolean({ description: 'Mail the link when SMTP is configured; default true' })),
  },
);
const ReinviteQuery = Type.Object({ send_email: Type.Optional(Type.Boolean({ description: 'Mail the link when SMTP is configured; default true' })) });

function sessionItem(s: UserSessionView, req: FastifyRequest) {
  return {
    id: s.id, kind: s.kind, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt, ip: s.ip, user_agent: s.userAgent,
    current: req.sessionFamilyId === s.id,
  };
}

function userTokenItem(t: UserTokenView) {
  return { id: t.id, name: t.name, kind: t.kind, created_by: t.createdBy, created_at: t.createdAt, expires_at: t.expiresAt, last_used_at: t.lastUsedAt };
}

/** Whether this request ended the caller's own cookie session (then its cookies are cleared, as on self-deletion). */
function endedOwnSession(req: FastifyRequest, userId: number, sessionId?: string): boolean {
  if (!req.sessionFamilyId || req.principal?.kind !== 'user' || req.principal.userId !== userId) return false;
  return sessionId === undefined || sessionId === req.sessionFamilyId;
}

export async function userAccessRoutes(base: FastifyInstance, opts: { core: Core }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;
  const tags = ['admin: users'];
  const inviteLink = (req: FastifyRequest, token: string) => `${publicBaseUrl(core.config, req)}/new-user?token=${encodeURIComponent(token)}`;
  const inviteTtlSeconds = core.config.inviteTtlSeconds;

  // ---- sessions

  app.get('/api/admin/users/:id/sessions', {
    schema: {
      tags, summary: "A user's live sessions on every surface, newest first (at most 500; has_more tells there are more). Never a secret",
      params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(SessionItem), has_more: Type.Boolean() }) },
    },
  }, async (req) => {
    const page = await core.userAccess.listSessions(req.params.id);
    return { ok: true, items: page.items.map((s) => sessionItem(s, req)), has_more: page.hasMore };
  });

  app.delete('/api/admin/users/:id/sessions/:session_id', {
    schema: {
      tags, summary: 'End one live session of a user (every node refuses it from the next request on)',
      params: SessionParams, response: { 200: Envelope(SessionItem) },
    },
  }, async (req, reply) => {
    const session = await core.userAccess.revokeSession(req.principal!, requestContext(req, 'admin'), req.params.id, req.params.session_id);
    if (endedOwnSession(req, req.params.id, req.params.session_id)) clearSessionCookies(reply);
    return { ok: true, created: false, updated: false, deleted: true, item: sessionItem(session, req) };
  });

  app.delete('/api/admin/users/:id/sessions', {
    schema: {
      tags, summary: 'End every session of a user on every surface, and their pending invite links (as sign-out everywhere)',
      params: IdParams,
      response: { 200: Type.Object({ ok: Type.Boolean(), created: Type.Boolean(), updated: Type.Boolean(), deleted: Type.Boolean(), sessions_revoked: Type.Integer() }) },
    },
  }, async (req, reply) => {
    const n = await core.userAccess.revokeAllSessions(req.principal!, requestContext(req, 'admin'), req.params.id);
    if (endedOwnSession(req, req.params.id)) clearSessionCookies(reply);
    return { ok: true, created: false, updated: false, deleted: n > 0, sessions_revoked: n };
  });

  // ---- API tokens

  app.get('/api/admin/users/:id/tokens', {
    schema: {
      tags, summary: "A user's API tokens: their personal tokens and the admin API tokens acting for them, in id order (never the secret)",
      params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(UserTokenItem) }) },
    },
  }, async (req, reply) => {
    await core.userAccess.assertUser(req.params.id);
    const userId = req.params.id;
    return sendStreamedList(reply, {
      envelope: { ok: true, items: [] }, key: 'items', itemSchema: UserTokenItem,
      batches: core.userAccess.tokenBatches(userId), toItem: userTokenItem,
    });
  });

  app.delete('/api/admin/users/:id/tokens/:token_id', {
    schema: {
      tags, summary: "Revoke one of a user's API tokens (refused from the next request on)",
      params: TokenParams, response: { 200: Envelope(UserTokenItem) },
    },
  }, async (req) => {
    const token = await core.userAccess.revokeToken(req.principal!, requestContext(req, 'admin'), req.params.id, req.params.token_id);
    return { ok: true, created: false, updated: false, deleted: true, item: userTokenItem(token) };
  });

  // ---- tenant memberships

  app.get('/api/admin/users/:id/memberships', {
    schema: {
      tags, summary: "A user's tenant memberships and their tenant roles, in tenant order",
      params: IdParams, response: { 200: Type.Object({ ok: Type.Boolean(), items: Type.Array(MembershipItem) }) },
    },
  }, async (req) => {
    const items = await core.userAccess.listMemberships(req.params.id);
    return {
      ok: true,
      items: items.map((m) => ({
        tenant_id: m.tenantId, tenant_name: m.tenantName, created_at: m.createdAt, deleted_at: m.deletedAt,
        role_ids: m.roles.map((r) => r.id), roles: m.roles,
      })),
    };
  });

  // ---- invites

  app.post('/api/admin/invites', {
    schema: {
      tags, summary: 'Create a user without a password and a one-time invite link to set it (GATEHOUSE_INVITE_TTL; mailed when SMTP is configured)',
      body: InviteBody, response: { 201: Envelope(UserItem, { invite: InviteInfo }) },
    },
  }, async (req, reply) => {
    const b = req.body;
    const sendEmail = b.send_email !== false;
    const { user, inviteToken, inviteExpiresAt, emailSent } = await core.invites.createWithInvite(req.principal!, requestContext(req, 'admin'), {
      email: b.email, username: b.username, name: b.name,
      rootRoleId: b.root_role === undefined ? undefined : resolveRootRole(b.root_role, 'root_role'),
      // As POST /api/admin/users: a user an administrator creates counts as email-verified.
      emailVerified: true,
    }, {
      inviteTtlSeconds,
      onInvite: sendEmail && core.accountMail.enabled ? (trx, u, token, expiresAt) => core.accountMail.invite(trx, u, token, expiresAt, req.principal!.label) : undefined,
    });
    if (!inviteToken || !inviteExpiresAt) throw invalid('password', 'invalid_value', 'An invite creates a user without a password');
    reply.code(201).header('etag', etagOf(user)).header('location', `/api/admin/users/${user.id}`).header('cache-control', 'no-store');
    return {
      ok: true, created: true, updated: false, deleted: false, item: userItem(user),
      invite: { link: inviteLink(req, inviteToken), expires_at: inviteExpiresAt, email_sent: emailSent === true },
    };
  });

  app.post('/api/admin/users/:id/invite', {
    schema: {
      tags, summary: 'Issue a new invite link to a user who has no password yet (their pending links end); 409 has_password or user_cannot_act',
      params: IdParams, querystring: ReinviteQuery,
      response: { 201: Envelope(UserItem, { invite: InviteInfo, invites_ended: Type.Integer() }) },
    },
  }, async (req, reply) => {
    const sendEmail = req.query.send_email !== false;
    const r = await core.userAccess.reissueInvite(req.principal!, requestContext(req, 'admin'), req.params.id, { ttlSeconds: inviteTtlSeconds, mail: sendEmail });
    reply.code(201).header('cache-control', 'no-store');
    return {
      ok: true, created: true, updated: false, deleted: false, item: userItem(r.user),
      invite: { link: inviteLink(req, r.token), expires_at: r.expiresAt, email_sent: r.emailSent }, invites_ended: r.invitesEnded,
    };
  });
}
