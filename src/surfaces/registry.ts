// The surfaces beyond admin, each one folder with one plugin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SurfaceName } from '../platform/config.js';
import type { Core, DomainError } from '../core/index.js';
import { renderDomainError as renderAccountError } from './account/errors.js';
import { renderDomainError as renderDirectoryError } from './directory/errors.js';
import { renderDomainError as renderUseradminError } from './useradmin/errors.js';
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
  /** Renders a request refused before routing (bad percent-encoding, over-long parameter) in this surface's shape. */
  renderError?(err: DomainError, req: FastifyRequest): { status: number; body: unknown; headers?: Record<string, string> };
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
notFoundRenderers.push({ ...accountNotFoundRenderer, renderError: (err, req) => { const r = renderAccountError(err, req); return { status: r.body.statusCode, ...r }; } });
// User-admin prefixes (/api/admin/user-admin, /api/admin/events, /api/admin/user/, /auth/simple, /logout) are
// more specific than any /api/admin fallback: first in the list.
notFoundRenderers.unshift({ matches: isUseradminPath, render: renderUseradminNotFound, renderError: renderUseradminError });
// Directory v1: /api/v1/*, /oauth/*, /.well-known/jwks.json answer in Laravel's {message} shape.
notFoundRenderers.push({ ...directoryNotFound, renderError: (err) => renderDirectoryError(err) });

/** The renderer of the surface `url` belongs to, if it is not the admin surface. */
export function surfaceRendererFor(url: string): NotFoundRenderer | undefined {
  return notFoundRenderers.find((r) => r.matches(url));
}
