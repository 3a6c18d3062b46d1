// Who is calling the admin surface: an admin API token (Bearer, no CSRF) or the __Host-access cookie
// (a short-lived HS256 JWT naming the session family, re-checked against the store on every request,
// with the X-CSRF-Token header on every POST/PATCH/DELETE under /api/admin/).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import { type Core, hasPermission, type Principal, DomainError, forbidden, unauthenticated } from '../../core/index.js';
import { hmacBase64url, safeEqual } from '../../platform/crypto.js';
import { cookieValue } from '../../platform/http.js';
import { readAheadOf } from '../target-user.js';
import { guardCookieWrite, requireJsonBodyIfAny } from '../cookie-writes.js';

export const ACCESS_COOKIE = '__Host-access';
export const REFRESH_COOKIE = '__Host-refresh';

/** Every admin-surface route says who may call it. */
export type RouteAuth = 'public' | 'session' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** The permission an 'admin' route needs (default ADMIN). */
    permission?: string;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Set when the caller came with the access cookie: the session family id. */
    sessionFamilyId?: string;
    /** When the caller's session family (refresh) expires. */
    sessionExpiresAt?: string;
    /** When the caller's access cookie expires. */
    accessExpiresAt?: string;
  }
}

export class AccessTokens {
  private readonly key: Uint8Array;
  constructor(private readonly secret: string, private readonly ttlSeconds: number) {
    this.key = createHmac('sha256', secret).update('gatehouse/admin-access-token').digest();
  }

  async sign(sessionId: string, userId: number): Promise<{ token: string; expiresAt: string }> {
    // Rounded up: a token lives at least its whole lifetime (rounding down cut up to a second off it,
    // so a 1-second token could be born expired).
    const exp = Math.ceil(Date.now() / 1000) + this.ttlSeconds;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuedAt()
      .setExpirationTime(exp)
      .setAudience('gatehouse-admin')
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /**
   * Checks the access cookie on every cookie request. HS256 only, verified synchronously with node:crypto:
   * jose's WebCrypto path (importKey + an async verify on the thread pool) cost ~5× more per request.
   * Same checks: compact form, alg HS256 and no crit, signature (constant time), aud, exp, nbf.
   */
  async verify(token: string): Promise<{ sessionId: string; userId: number; expiresAt: string } | undefined> {
    try {
      const parts = token.split('.');
      if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined;
      const [h, p, s] = parts;
      const expected = createHmac('sha256', this.key).update(`${h}.${p}`).digest();
      const given = Buffer.from(s, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (header.alg !== 'HS256' || header.crit !== undefined) return undefined;
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (!payload || typeof payload !== 'object') return undefined;
      const aud = payload.aud;
      if (!(aud === 'gatehouse-admin' || (Array.isArray(aud) && aud.includes('gatehouse-admin')))) return undefined;
      const now = Math.floor(Date.now() / 1000);
      if (typeof payload.exp !== 'number' || payload.exp <= now) return undefined;
      if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) return undefined;
      if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') return undefined;
      return { sessionId: payload.sid, userId: Number(payload.sub), expiresAt: new Date(payload.exp * 1000).toISOString() };
    } catch {
      return undefined;
    }
  }

  /** The CSRF token of a session family: an HMAC of its id, valid for the family's whole life. */
  csrfToken(sessionFamilyId: string): string {
    return hmacBase64url(this.secret, `csrf:${sessionFamilyId}`);
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Resolves the caller; undefined when no credentials were presented or they are not valid. */
export async function resolvePrincipal(core: Core, access: AccessTokens, req: FastifyRequest): Promise<void> {
  // What the route reads ahead with the credentials (../target-user.ts): req.reads, once they pass.
  const ahead = readAheadOf(req);
  const bearer = bearerToken(req);
  if (bearer) {
    const found = await core.tokens.authenticateAndRead(bearer, ahead);
    if (!found) return;
    req.principal = found.principal;
    req.reads = found.reads;
    return;
  }
  const cookie = cookieValue(req, ACCESS_COOKIE);
  if (!cookie) return;
  const claims = await access.verify(cookie);
  if (!claims) return;
  const found = await core.sessions.authenticateAndRead({ id: claims.sessionId }, 'admin', ahead);
  if (!found || found.session.userId !== claims.userId) return;
  req.principal = found.session.principal;
  req.sessionFamilyId = found.session.id;
  req.sessionExpiresAt = found.session.expiresAt;
  req.accessExpiresAt = claims.expiresAt;
  req.reads = found.reads;
}

const UNSAFE = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/**
 * The X-CSRF-Token check of a cookie write, answered as the email-forwarding product does: the header is
 * trimmed; none (or only blanks) is 403 {"error":"csrf_required"}, a wrong one 403 {"error":"invalid_csrf_token"}.
 */
export function checkCsrf(req: FastifyRequest, access: AccessTokens, sessionFamilyId: string): void {
  const header = req.headers['x-csrf-token'];
  const given = typeof header === 'string' ? header.trim() : '';
  if (given === '') throw new DomainError('forbidden', 'CSRF token missing: send the X-CSRF-Token header (GET /api/auth/csrf)', { reason: 'csrf_required' });
  if (!safeEqual(given, access.csrfToken(sessionFamilyId))) {
    throw new DomainError('forbidden', 'CSRF token invalid for this session', { reason: 'invalid_csrf_token' });
  }
}

/** onRequest guard: authentication, permission, then CSRF for cookie callers on unsafe methods. */
export function adminGuard(core: Core, access: AccessTokens) {
  return async function guard(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    // JSON bodies only (seed 000: "Options: application/json"): form posts and text/plain are 415 before they
    // are read, which also keeps cross-site HTML forms from signing anyone in.
    requireJsonBodyIfAny(req);
    const auth = req.routeOptions.config.auth ?? 'admin';
    if (auth === 'public') {
      // Public routes that act on the session cookies (sign-out, refresh) take them from our own pages only.
      if (!bearerToken(req) && (cookieValue(req, ACCESS_COOKIE) || cookieValue(req, REFRESH_COOKIE))) guardCookieWrite(core.config, req);
      return;
    }
    await resolvePrincipal(core, access, req);
    // The pages give /api/admin/* its 401 shape; on /api/auth/* (where they are silent) the product answers
    // {"error":"invalid_or_expired_session"}.
    if (!req.principal) {
      const url = req.routeOptions.url ?? req.url;
      throw unauthenticated(url.startsWith('/api/auth/') ? 'invalid_or_expired_session' : 'missing_or_invalid_credentials');
    }
    // Every state change a session cookie authenticates (sign-out-all included): JSON, from our own origin.
    if (req.sessionFamilyId) guardCookieWrite(core.config, req);
    if (auth === 'admin') {
      const permission = req.routeOptions.config.permission ?? 'ADMIN';
      if (!hasPermission(req.principal, permission)) throw forbidden('admin_required', "You don't have permission to access this resource", permission);
    }
    // Judged on the matched route, not the raw URL: the router decodes %61pi/... into /api/..., so a
    // percent-encoded path would otherwise reach an admin route without the CSRF check.
    const url = req.routeOptions.url ?? req.url;
    if (req.sessionFamilyId && UNSAFE.has(req.method) && url.startsWith('/api/admin/')) {
      checkCsrf(req, access, req.sessionFamilyId);
    }
  };
}

