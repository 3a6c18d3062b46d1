// User-admin surface (seed 004, Unleash's user admin API): /api/admin/user-admin/*, /api/admin/events,
// /api/admin/user[/tokens], /auth/simple/login, /logout and the invite links' /auth/reset/*. Its own guard (API token raw or Bearer, or the
// unleash-session cookie; ADMIN per route) and its own error shape {id, name, message, details?}, both
// encapsulated in this plugin so they apply to these routes only.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';
import { useradminGuard } from './auth.js';
import { installUseradminErrorHandler } from './errors.js';
import { eventRoutes } from './events-routes.js';
import { inviteRoutes } from './invite-routes.js';
import { sessionRoutes } from './session-routes.js';
import { tokenRoutes } from './tokens-routes.js';
import { userAdminRoutes } from './users-routes.js';

export { isUseradminPath, renderNotFound as renderUseradminNotFound } from './errors.js';

export async function useradminSurface(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  installUseradminErrorHandler(app);
  app.addHook('onRequest', useradminGuard(opts.core));
  await app.register(sessionRoutes, { core: opts.core });
  await app.register(userAdminRoutes, { core: opts.core });
  await app.register(eventRoutes, { core: opts.core });
  await app.register(tokenRoutes, { core: opts.core });
  await app.register(inviteRoutes, { core: opts.core });
}
