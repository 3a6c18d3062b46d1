// /api/admin/aliases: admin-surface routes of the aliases capability.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function aliasesRoutes(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
