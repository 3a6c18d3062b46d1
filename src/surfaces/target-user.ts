// What a route reads ahead with the caller's credentials (core/auth/read-ahead.ts): the user named by its
// `:id` (config.readsTargetUser) and a read of its own (config.readsAlong), sent in the same round trip as
// the credential check. The surface's guard asks for them (readAheadOf) and attaches what came back to the
// request (req.reads), from where it reaches the core in the request context (requestContext) once the
// caller is allowed. Shared by the admin and user-admin surfaces.
import type { FastifyRequest } from 'fastify';
import type { CompiledQuery } from 'kysely';
import { type ReadAheadRequest, MAX_ID } from '../core/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route is about the user named by its `:id` parameter: that user's row is read in the same
     * statement as the caller's credentials, saving the handler a round trip.
     */
    readsTargetUser?: boolean;
    /**
     * A read the route will make whatever the caller is, to send along with the credential check (one round
     * trip instead of two on PostgreSQL): the guard calls it before validation, so it returns undefined for
     * anything but the plain requests it understands. The core takes the rows by their key, only for the
     * very read it would have made.
     */
    readsAlong?: (req: FastifyRequest) => { key: string; query: CompiledQuery } | undefined;
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

/** What the route asks its credential check to read ahead. */
export function readAheadOf(req: FastifyRequest): ReadAheadRequest {
  const config = req.routeOptions.config;
  const targetId = targetUserId(req);
  const along = config.readsAlong?.(req);
  return targetId === undefined && along === undefined ? NOTHING : { targetUserId: targetId, along };
}

const NOTHING: ReadAheadRequest = Object.freeze({});
