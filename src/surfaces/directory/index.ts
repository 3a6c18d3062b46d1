// Directory v1 surface (seed 003): /api/v1/* (OAuth2 bearer tokens or admin API tokens, scoped by
// X-Tenant), POST /oauth/token and GET /.well-known/jwks.json. Laravel-style error shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import type { Principal } from '../../core/context.js';
import { unauthenticated } from '../../core/errors.js';
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
  // A PUT or POST without a body is an empty object (nothing to change), not a type error.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });
  await app.register(directoryUserRoutes, { core });
}

export async function directorySurface(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  await app.register(v1, opts);
  await app.register(oauthRoutes, opts);
}
