// /api/auth/*: cookie sessions of the admin surface (sign-in, session, csrf, refresh, sign-out).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type Core, DomainError, invalid, isDomainError, unauthenticated } from '../../core/index.js';
import { cookieValue } from '../../platform/http.js';
import { requestContext } from '../context.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, checkCsrf, resolvePrincipal, type AccessTokens } from './auth.js';
import { SessionInfo, SignInBody, UserItem } from './schemas.js';
import { userItem } from './serialize.js';

const COOKIE_BASE = { httpOnly: true, secure: true, sameSite: 'lax' as const, path: '/' };

function setSessionCookies(reply: FastifyReply, access: { token: string; expiresAt: string }, refresh: { token: string; expiresAt: string }): void {
  const now = Date.now();
  reply.setCookie(ACCESS_COOKIE, access.token, { ...COOKIE_BASE, maxAge: Math.max(1, Math.round((Date.parse(access.expiresAt) - now) / 1000)) });
  reply.setCookie(REFRESH_COOKIE, refresh.token, { ...COOKIE_BASE, maxAge: Math.max(1, Math.round((Date.parse(refresh.expiresAt) - now) / 1000)) });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(ACCESS_COOKIE, COOKIE_BASE);
  reply.clearCookie(REFRESH_COOKIE, COOKIE_BASE);
}

const RefreshReply = Type.Object({
  ok: Type.Boolean(),
  action: Type.String(),
  refreshed: Type.Boolean({ description: 'Always true (as the product answers)' }),
  authenticated: Type.Boolean(),
  user: UserItem,
  session: SessionInfo,
});

const SessionReply = Type.Object({
  ok: Type.Boolean(),
  action: Type.String(),
  authenticated: Type.Boolean(),
  user: UserItem,
  session: SessionInfo,
});

export async function authRoutes(base: FastifyInstance, opts: { core: Core; access: AccessTokens }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core, access } = opts;
  const tags = ['admin: auth'];

  app.post('/api/auth/sign-in', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Sign in with email or username and password', body: SignInBody, response: { 200: SessionReply } },
  }, async (req, reply) => {
    const identifier = req.body.identifier ?? req.body.email ?? req.body.username;
    if (!identifier) throw invalid('identifier', 'required', 'identifier (email or username) is required', { hint: 'Send {identifier, password}' });
    const ctx = requestContext(req, 'admin');
    // A wrong identifier or password is 401 {"error":"auth_failed"}, as the product answers its sign-in.
    // A throttled one is 429 {"error":"rate_limited","where":"auth_login","reason":…} naming the limit (per
    // address or per identifier), as the product's sign-in rate limits answer.
    const user = await core.auth.verifyCredentials(identifier, req.body.password, ctx).catch((err: unknown) => {
      if (isDomainError(err) && err.kind === 'unauthenticated') throw unauthenticated('auth_failed', 'Invalid credentials');
      if (isDomainError(err) && err.kind === 'too_many_requests') {
        const reason = err.reason === 'address_throttled' ? 'too_many_failed_attempts_ip' : 'too_many_failed_attempts_identifier';
        throw new DomainError('too_many_requests', err.message, { reason, retryAfterSeconds: err.retryAfterSeconds });
      }
      throw err;
    });
    const { session, refreshToken } = await core.sessions.open(ctx, {
      userId: user.id, kind: 'admin', ttlSeconds: core.config.refreshTtlSeconds, ip: ctx.ip, userAgent: ctx.userAgent, refresh: true,
    });
    const token = await access.sign(session.id, user.id);
    setSessionCookies(reply, token, { token: refreshToken!, expiresAt: session.expiresAt });
    reply.header('cache-control', 'no-store');
    return {
      ok: true, action: 'sign_in', authenticated: true, user: userItem(user),
      session: { session_family_id: session.id, access_expires_at: token.expiresAt, refresh_expires_at: session.expiresAt },
    };
  });

  app.post('/api/auth/refresh', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Rotate the refresh token; reuse of a rotated token revokes the whole family', response: { 200: RefreshReply } },
  }, async (req, reply) => {
    // Every refusal is 401 {"error":"invalid_or_expired_session"}, as the product answers (a missing, unknown,
    // expired or reused token alike; reuse is still logged and still revokes the family).
    const presented = cookieValue(req, REFRESH_COOKIE);
    if (!presented) throw unauthenticated('invalid_or_expired_session');
    // As the product: a live refresh token is only rotated with its family's X-CSRF-Token (403 csrf_required /
    // invalid_csrf_token, the token not spent). A token that is not live (unknown, expired, or already rotated:
    // reuse) goes on to rotateRefresh, which refuses it, and on reuse revokes the family, whatever the header.
    const live = await core.sessions.findByRefreshToken(presented);
    if (live && live.kind === 'admin') checkCsrf(req, access, live.id);
    // A refresh token of another kind of session (OAuth shares the table) is refused without being spent.
    const outcome = await core.sessions.rotateRefresh(presented, 'refresh_token_reuse', 'admin');
    if (outcome.kind !== 'rotated') {
      clearSessionCookies(reply);
      if (outcome.kind === 'reused') req.log.warn({ session_family_id: outcome.sessionId }, 'refresh token reuse: session family revoked');
      throw unauthenticated('invalid_or_expired_session');
    }
    const user = await core.users.getUser(outcome.session.userId);
    const token = await access.sign(outcome.session.id, user.id);
    setSessionCookies(reply, token, { token: outcome.refreshToken, expiresAt: outcome.session.expiresAt });
    reply.header('cache-control', 'no-store');
    return {
      ok: true, action: 'refresh', refreshed: true, authenticated: true, user: userItem(user),
      session: { session_family_id: outcome.session.id, access_expires_at: token.expiresAt, refresh_expires_at: outcome.session.expiresAt },
    };
  });

  app.get('/api/auth/session', {
    config: { auth: 'session' },
    schema: {
      tags, summary: 'The current session and its user',
      response: {
        200: Type.Object({
          ok: Type.Boolean(), authenticated: Type.Boolean(),
          user: Type.Union([UserItem, Type.Null()]),
          session: Type.Union([
            Type.Object({ session_family_id: Type.String(), access_expires_at: Type.String(), refresh_expires_at: Type.String() }),
            Type.Null(),
          ]),
          principal: Type.Object({ kind: Type.String(), label: Type.String() }),
        }),
      },
    },
  }, async (req) => {
    const p = req.principal!;
    const userId = p.kind === 'user' ? p.userId : p.kind === 'api_token' ? p.userId : null;
    const user = userId ? await core.users.findUser(userId) : undefined;
    return {
      ok: true,
      authenticated: true,
      user: user ? userItem(user) : null,
      // The guard checked this session against the store moments ago.
      // access_expires_at too, as the product's session answer carries it.
      session: req.sessionFamilyId && req.sessionExpiresAt && req.accessExpiresAt
        ? { session_family_id: req.sessionFamilyId, access_expires_at: req.accessExpiresAt, refresh_expires_at: req.sessionExpiresAt }
        : null,
      principal: { kind: p.kind, label: p.label },
    };
  });

  app.get('/api/auth/csrf', {
    config: { auth: 'public' },
    schema: { tags, summary: 'The CSRF token of the current session family', response: { 200: Type.Object({ ok: Type.Boolean(), csrf_token: Type.String() }) } },
  }, async (req, reply) => {
    let familyId: string | undefined;
    const accessCookie = cookieValue(req, ACCESS_COOKIE);
    if (accessCookie) {
      const claims = await access.verify(accessCookie);
      if (claims && (await core.sessions.authenticate({ id: claims.sessionId }, 'admin'))) familyId = claims.sessionId;
    }
    if (!familyId) {
      const refresh = cookieValue(req, REFRESH_COOKIE);
      const session = refresh ? await core.sessions.findByRefreshToken(refresh) : undefined;
      if (session && session.kind === 'admin') familyId = session.id;
    }
    if (!familyId) throw unauthenticated('invalid_or_expired_session');
    reply.header('cache-control', 'no-store');
    return { ok: true, csrf_token: access.csrfToken(familyId) };
  });

  app.post('/api/auth/sign-out', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'End this session family',
      response: { 200: Type.Object({ ok: Type.Boolean(), action: Type.String(), signed_out: Type.Boolean(), authenticated: Type.Boolean() }) },
    },
  }, async (req, reply) => {
    const ctx = requestContext(req, 'admin');
    // As the product: the live session family of the access cookie, or else of the refresh cookie, is ended,
    // and only with its X-CSRF-Token (403 csrf_required / invalid_csrf_token, nothing ended); with no live
    // session there is nothing to end and the answer is 200 (the cookies are cleared either way).
    let live: { familyId: string; userId: number } | undefined;
    const accessCookie = cookieValue(req, ACCESS_COOKIE);
    const claims = accessCookie ? await access.verify(accessCookie) : undefined;
    if (claims && (await core.sessions.authenticate({ id: claims.sessionId }, 'admin'))) live = { familyId: claims.sessionId, userId: claims.userId };
    if (!live) {
      const refresh = cookieValue(req, REFRESH_COOKIE);
      const session = refresh ? await core.sessions.findByRefreshToken(refresh) : undefined;
      if (session && session.kind === 'admin') live = { familyId: session.id, userId: session.userId };
    }
    if (live) {
      checkCsrf(req, access, live.familyId);
      const { familyId, userId } = live;
      await core.sessions.close({ kind: 'user', userId, sessionId: familyId, rootRoleId: 0, permissions: new Set(), label: `user:${userId}` }, ctx, familyId);
    }
    clearSessionCookies(reply);
    return { ok: true, action: 'sign_out', signed_out: true, authenticated: false };
  });

  app.post('/api/auth/sign-out-all', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'End every session of the signed-in user, on every surface (cookie callers send X-CSRF-Token)',
      response: {
        200: Type.Object({
          ok: Type.Boolean(), action: Type.String(), signed_out_all: Type.Boolean(), authenticated: Type.Boolean(), sessions_revoked: Type.Integer(),
        }),
      },
    },
  }, async (req, reply) => {
    // As the product: the caller is found by the access cookie or else the refresh cookie (or, here, an admin
    // API token); a cookie caller must send the session family's CSRF token like every other cookie write
    // (403 csrf_required / invalid_csrf_token, nothing revoked); with no live session there is nothing to end
    // (200, sessions_revoked 0).
    await resolvePrincipal(core, access, req);
    const p = req.principal;
    let userId = p ? (p.kind === 'user' || p.kind === 'api_token' ? p.userId : null) : undefined;
    let familyId = req.sessionFamilyId;
    if (!p) {
      const refresh = cookieValue(req, REFRESH_COOKIE);
      const session = refresh ? await core.sessions.findByRefreshToken(refresh) : undefined;
      if (session && session.kind === 'admin') {
        familyId = session.id;
        userId = session.userId;
      }
    }
    if (familyId) checkCsrf(req, access, familyId);
    if (userId === null) throw invalid('session', 'user_session_required', 'Sign out everywhere needs a signed-in user');
    const actor = p ?? { kind: 'user' as const, userId: userId!, sessionId: familyId ?? null, rootRoleId: 0, permissions: new Set<string>(), label: `user:${userId}` };
    const n = userId === undefined ? 0 : await core.sessions.closeAllForUser(actor, requestContext(req, 'admin'), userId);
    clearSessionCookies(reply);
    return { ok: true, action: 'sign_out_all', signed_out_all: true, authenticated: false, sessions_revoked: n };
  });
}
