// The `neptun-session` cookie: an opaque token naming a server-side session of kind 'account' in the one
// session store. Every request re-checks it against the store, so revocation takes effect at once.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Core, type ActiveSession, unauthenticated } from '../../core/index.js';
import { cookieValue } from '../../platform/http.js';
import { guardCookieWrite } from '../cookie-writes.js';

export const SESSION_COOKIE = 'neptun-session';

/** Opaque tokens are 43 base64url characters; anything far longer is not worth hashing. */
const MAX_COOKIE_LENGTH = 512;

/** Every account route says whether it needs a session; 'public' is said out loud. */
export type AccountAuth = 'public' | 'session';

declare module 'fastify' {
  interface FastifyContextConfig {
    accountAuth?: AccountAuth;
  }
  interface FastifyRequest {
    /** The live account session of the caller (routes with accountAuth 'session'). */
    accountSession?: ActiveSession;
  }
}

function cookieOptions(req: FastifyRequest, maxAgeSeconds?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    // Secure whenever the client reached us over HTTPS (directly or, with GATEHOUSE_TRUST_PROXY, via a proxy).
    secure: req.protocol === 'https',
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string, expiresAt: string): void {
  const maxAge = Math.max(1, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
  reply.setCookie(SESSION_COOKIE, token, cookieOptions(req, maxAge));
  reply.header('cache-control', 'no-store');
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
}

/** The live account session of the request's cookie, or undefined. */
export async function findAccountSession(core: Core, req: FastifyRequest): Promise<ActiveSession | undefined> {
  const token = cookieValue(req, SESSION_COOKIE);
  if (!token || token.length > MAX_COOKIE_LENGTH) return undefined;
  return core.sessions.authenticate({ token }, 'account');
}

/** onRequest guard: routes that need a session get it on `req.accountSession`, or answer 401. */
export function accountGuard(core: Core) {
  return async function guard(req: FastifyRequest): Promise<void> {
    // Every state change made with the session cookie (and sign-in, sign-up, logout while one is held):
    // JSON, from our own origin (../cookie-writes.ts). This surface has no bearer tokens.
    if (cookieValue(req, SESSION_COOKIE)) guardCookieWrite(core.config, req);
    if ((req.routeOptions.config.accountAuth ?? 'session') === 'public') return;
    const session = await findAccountSession(core, req);
    if (!session) throw unauthenticated('missing_or_invalid_session', 'Unauthorized');
    req.accountSession = session;
  };
}
