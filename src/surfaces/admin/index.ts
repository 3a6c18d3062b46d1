// The admin surface (seeds 000 and 001): /api/admin/* and /api/auth/*, one error shape, one guard.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';
import { adminGuard, AccessTokens } from './auth.js';
import { authRoutes } from './auth-routes.js';
import { installAdminErrorHandler } from './errors.js';
import { tokenRoutes } from './tokens-routes.js';
import { userRoutes } from './users-routes.js';
import { bansRoutes } from './bans-routes.js';
import { aliasesRoutes } from './aliases-routes.js';
import { tenantsRoutes } from './tenants-routes.js';
import { normalizeBodyFlags, normalizeQueryFlags } from './serialize.js';
import { webhooksRoutes } from './webhooks-routes.js';
import { mailRoutes } from './mail-routes.js';
import { userAccessRoutes } from './user-access-routes.js';

export { AccessTokens, adminGuard, type RouteAuth } from './auth.js';
export { renderError as renderAdminError, sendError as sendAdminError } from './errors.js';

export async function adminSurface(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const access = new AccessTokens(opts.core.secret, opts.core.config.accessTtlSeconds);
  installAdminErrorHandler(app);
  app.addHook('onRequest', adminGuard(opts.core, access));
  app.addHook('preValidation', async (req) => {
    normalizeQueryFlags(req.query);
    normalizeBodyFlags(req.body);
  });
  await app.register(authRoutes, { core: opts.core, access });
  await app.register(userRoutes, { core: opts.core });
  await app.register(tokenRoutes, { core: opts.core });
  await app.register(bansRoutes, { core: opts.core });
  await app.register(aliasesRoutes, { core: opts.core });
  await app.register(tenantsRoutes, { core: opts.core });
  await app.register(webhooksRoutes, { core: opts.core });
  await app.register(mailRoutes, { core: opts.core });
  await app.register(userAccessRoutes, { core: opts.core });
}
