// Account surface (seed 002) - /api/users/{user_id}, /api/auth/login, logout, check, sign-up.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function accountSurface(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
