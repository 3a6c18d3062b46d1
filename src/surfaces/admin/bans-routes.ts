// /api/admin/bans: admin-surface routes of the bans capability.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function bansRoutes(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
