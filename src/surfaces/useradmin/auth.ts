// Who is calling the user-admin surface: an API token in the Authorization header (raw, as Unleash
// clients send it, or "Bearer <token>": admin tokens and personal access tokens), or the
// `unleash-session` cookie from POST /auth/simple/login (an opaque session token, checked against the
// store on every request). Each route says what it needs; ADMIN routes answer 403 naming the permission.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Core, hasPermission, ADMIN_PERMISSION, type Principal, DomainError, forbidden, unauthenticated } from '../../core/index.js';
import { cookieValue } from '../../platform/http.js';
import { readAheadOf } from '../target-user.js';
import { guardCookieWrite } from '../cookie-writes.js';

export const SESSION_COOKIE = 'unleash-session';

/** public: anyone; user: any authenticated caller; admin: the route's permission (ADMIN by default). */
export type UseradminAuth = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    useradminAuth?: UseradminAuth;
  }
  interface FastifyRequest {
    /** Set when the caller came with the unleash-session cookie. */
    useradminSessionId?: string;
  }
}

/** The token of an Authorization header: "Bearer <token>" or the raw token. */
export function authorizationToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  if (!value) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(value);
  if (bearer) return bearer[1];
  return /\s/.test(value) ? undefined : value;
}

/** The caller's principal; throws 401 when credentials are missing or not valid. */
export async function authenticate(core: Core, req: FastifyRequest): Promise<Principal> {
  // Routes about one user read it in the same statement (see ../target-user.ts).
  const ahead = readAheadOf(req);
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.trim() !== '') {
    const token = authorizationToken(header);
    const found = token ? await core.tokens.authenticateAndRead(token, ahead) : undefined;
    if (!found) throw unauthenticated('invalid_token');
    req.reads = found.reads;
    return found.principal;
  }
  const cookie = cookieValue(req, SESSION_COOKIE);
  if (cookie) {
    const found = cookie.length <= 512 ? await core.sessions.authenticateAndRead({ token: cookie }, 'useradmin', ahead) : undefined;
    if (!found) throw unauthenticated('invalid_session');
    req.useradminSessionId = found.session.id;
    req.reads = found.reads;
    return found.session.principal;
  }
  throw unauthenticated('missing_credentials');
}

export function useradminGuard(core: Core) {
  return async function guard(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const mode = req.routeOptions.config.useradminAuth ?? 'admin';
    if (mode === 'public') {
      // Logout (and a sign-in made while holding a session) acts on the cookie: from our own pages only.
      if (!req.headers.authorization && cookieValue(req, SESSION_COOKIE)) guardCookieWrite(core.config, req);
      return;
    }
    const principal = await authenticate(core, req);
    req.principal = principal;
    // Every state change the session cookie authenticates: JSON, from our own origin (../cookie-writes.ts).
    if (req.useradminSessionId) guardCookieWrite(core.config, req);
    if (mode === 'admin' && !hasPermission(principal, ADMIN_PERMISSION)) {
      throw forbidden('permission_required', `You need the "${ADMIN_PERMISSION}" permission to perform this action.`, ADMIN_PERMISSION);
    }
  };
}

/** The user a principal acts for (a session user or a personal token's owner); undefined for admin API tokens. */
export function principalUserId(p: Principal): number | undefined {
  if (p.kind === 'user') return p.userId;
  if (p.kind === 'api_token' && p.userId !== null) return p.userId;
  return undefined;
}

export function requireUser(p: Principal): number {
  const id = principalUserId(p);
  if (id === undefined) {
    throw new DomainError('forbidden', 'This route acts for a user: sign in at /auth/simple/login or use a personal access token', {
      reason: 'user_required',
    });
  }
  return id;
}
