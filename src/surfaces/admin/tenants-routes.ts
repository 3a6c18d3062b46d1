// /api/admin/tenants: admin-surface routes of the tenants capability.
// STUB: filled in by its issue.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';

export async function tenantsRoutes(_app: FastifyInstance, _opts: { core: Core }): Promise<void> {}
