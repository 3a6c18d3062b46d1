// User-admin surface (seed 004, Unleash) - /api/admin/user-admin/*, /auth/simple/login, /api/admin/events.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function useradminSurface(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
