// Directory v1 surface (seed 003): /api/v1/* (OAuth2 bearer tokens or admin API tokens, scoped by
// X-Tenant), POST /oauth/token and GET /.well-known/jwks.json. Laravel-style error shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Core, type Principal, unauthenticated } from '../../core/index.js';
import { renderError, send } from './errors.js';
import { oauthRoutes } from './oauth-routes.js';
import { directoryUserRoutes } from './users-routes.js';

export { directoryNotFound } from './errors.js';

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** An access token from /oauth/token (a JWT) or an admin/personal API token. */
async function resolveCaller(core: Core, req: FastifyRequest): Promise<Principal | undefined> {
  const token = bearer(req);
  if (!token) return undefined;
  if (token.split('.').length === 3) return core.oauth.authenticate(token);
  return core.tokens.authenticate(token);
}

const UNTRIMMED = new Set(['password', 'password_confirmation', 'current_password']);

function cleanString(v: string): string | null {
  const t = v.trim();
  return t === '' ? null : t;
}

function laravelInput(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (UNTRIMMED.has(k)) out[k] = v;
    else if (typeof v === 'string') out[k] = cleanString(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? cleanString(x) : x));
    else out[k] = v;
  }
  return out;
}

async function v1(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const { core } = opts;
  app.setErrorHandler((error, req, reply) => send(reply, renderError(error, req)));
  // Authentication, then the tenant, before the body is looked at (as Laravel's middleware runs first).
  app.addHook('onRequest', async (req) => {
    const principal = await resolveCaller(core, req);
    if (!principal) throw unauthenticated('missing_or_invalid_token', 'Unauthenticated.');
    req.principal = principal;
    const header = req.headers['x-tenant'];
    req.tenantAccess = await core.tenants.resolveAccess(principal, Array.isArray(header) ? 'invalid' : header);
  });
  // A PUT or POST without a body is an empty object (nothing to change), not a type error. Strings are
  // trimmed and "" becomes null before validation, as Laravel's TrimStrings and ConvertEmptyStringsToNull
  // middleware do for the real product (passwords are left as they are).
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined) req.body = {};
    else if (req.body && typeof req.body === 'object' && !Array.isArray(req.body)) req.body = laravelInput(req.body as Record<string, unknown>);
  });
  await app.register(directoryUserRoutes, { core });
}

export async function directorySurface(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  await app.register(v1, opts);
  await app.register(oauthRoutes, opts);
}
