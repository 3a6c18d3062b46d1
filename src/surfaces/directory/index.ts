// Directory v1 surface (seed 003) - /api/v1/*, /oauth/token, /.well-known/jwks.json.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function directorySurface(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
