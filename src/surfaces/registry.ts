// The surfaces beyond admin, each one folder with one plugin. A surface adds itself here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SurfaceName } from '../platform/config.js';
import type { Core } from '../core/index.js';

export interface SurfaceModule {
  surface: SurfaceName;
  plugin: (app: FastifyInstance, opts: { core: Core }) => Promise<void>;
}

export interface NotFoundRenderer {
  matches(url: string): boolean;
  render(req: FastifyRequest, reply: FastifyReply): FastifyReply;
}

export const surfaceModules: SurfaceModule[] = [];

export const notFoundRenderers: NotFoundRenderer[] = [];
