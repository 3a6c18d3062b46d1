// Account surface (seed 002): /api/users/{user_id}, /api/auth/login, logout, check, sign-up.
// A Nuxt/h3 product's contract: h3 error bodies with Zod issues, an opaque `neptun-session` cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import { installAccountErrorHandler, isAccountPath, renderNotFound } from './errors.js';
import { accountRoutes } from './routes.js';
import { accountGuard } from './session.js';

export { SESSION_COOKIE } from './session.js';

export async function accountSurface(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  installAccountErrorHandler(app);
  app.addHook('onRequest', accountGuard(opts.core));
  await app.register(accountRoutes, { core: opts.core });
}

/** Registered in ../registry.ts: unmatched account paths answer 404 in h3's shape. */
export const accountNotFoundRenderer = {
  matches: (url: string): boolean => isAccountPath(url),
  render: (req: FastifyRequest, reply: FastifyReply): FastifyReply => renderNotFound(req, reply),
};
