// Routes about one user (`:id`) can have that user's row read in the same statement as the caller's
// credentials (config.readsTargetUser): the surface's guard asks for it, the handler passes it on to the
// core as the row already read. Shared by the admin and user-admin surfaces.
import type { FastifyRequest } from 'fastify';
import { type Prefetched, type UserRow, MAX_ID } from '../core/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route is about the user named by its `:id` parameter: that user's row is read in the same
     * statement as the caller's credentials (req.targetUser), saving the handler a round trip.
     */
    readsTargetUser?: boolean;
  }
  interface FastifyRequest {
    /** Routes with readsTargetUser: the `:id` user's row as read with the credentials (undefined row: none). */
    targetUser?: { id: number; row: UserRow | undefined };
  }
}

/** The `:id` to read with the credentials, when the route asks for it and the parameter is a valid id. */
export function targetUserId(req: FastifyRequest): number | undefined {
  if (!req.routeOptions.config.readsTargetUser) return undefined;
  const raw = (req.params as Record<string, unknown> | undefined)?.id;
  // Anything else is left to the route's own validation (400), never to the joined read.
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,9}$/.test(raw)) return undefined;
  const id = Number(raw);
  return id <= MAX_ID ? id : undefined;
}

/** The target user's row as the guard read it with the credentials, when it read that very id. */
export function readOf(req: FastifyRequest, id: number): Prefetched | undefined {
  return req.targetUser && req.targetUser.id === id ? { row: req.targetUser.row } : undefined;
}
