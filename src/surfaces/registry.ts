// The surfaces beyond admin, each one folder with one plugin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SurfaceName } from '../platform/config.js';
import type { Core } from '../core/index.js';
import { accountNotFoundRenderer, accountSurface } from './account/index.js';
import { directoryNotFound, directorySurface } from './directory/index.js';
import { isUseradminPath, renderUseradminNotFound, useradminSurface } from './useradmin/index.js';

export interface SurfaceModule {
  surface: SurfaceName;
  plugin: (app: FastifyInstance, opts: { core: Core }) => Promise<void>;
}

export interface NotFoundRenderer {
  matches(url: string): boolean;
  render(req: FastifyRequest, reply: FastifyReply): FastifyReply;
}

export const surfaceModules: SurfaceModule[] = [
  { surface: 'account', plugin: accountSurface },
  { surface: 'directory', plugin: directorySurface },
  { surface: 'useradmin', plugin: useradminSurface },
];

/**
 * Unmatched paths answer in the error shape of the surface they belong to. A surface adds its
 * renderer here (most specific prefixes first); the admin shape is the fallback.
 */
export const notFoundRenderers: NotFoundRenderer[] = [];
notFoundRenderers.push(accountNotFoundRenderer);
// User-admin prefixes (/api/admin/user-admin, /api/admin/events, /api/admin/user/, /auth/simple, /logout) are
// more specific than any /api/admin fallback: first in the list.
notFoundRenderers.unshift({ matches: isUseradminPath, render: renderUseradminNotFound });
// Directory v1: /api/v1/*, /oauth/*, /.well-known/jwks.json answer in Laravel's {message} shape.
notFoundRenderers.push(directoryNotFound);
