// The request context a surface calls the core with: who asks and from where (the platform's request
// facts), plus what the surface's guard read ahead with the caller's credentials (core/auth/read-ahead.ts),
// which the core takes instead of reading again.
import type { FastifyRequest } from 'fastify';
import type { ReadCache, RequestContext } from '../core/index.js';
import type { SurfaceName } from '../platform/config.js';
import { requestFacts } from '../platform/http.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the surface's guard read ahead with the caller's credentials, once the caller is allowed (RequestContext.reads). */
    reads?: ReadCache;
  }
}

export function requestContext(req: FastifyRequest, surface: SurfaceName): RequestContext {
  const facts: RequestContext = requestFacts(req, surface);
  if (req.reads !== undefined) facts.reads = req.reads;
  return facts;
}
