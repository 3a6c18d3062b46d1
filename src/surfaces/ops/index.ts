// Operations: liveness, readiness (store reachable), the OpenAPI document and the API reference page.
import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';
import type { Metrics } from '../../platform/metrics.js';
import { safeEqual } from '../../platform/crypto.js';

export async function opsRoutes(app: FastifyInstance, opts: { core: Core; metrics: Metrics; isClosing: () => boolean }): Promise<void> {
  const { core } = opts;
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process serves requests', hide: false } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (request durations by route, auth failures, hash queue, process); with GATEHOUSE_METRICS_TOKEN set, "Authorization: Bearer <token>"' } }, async (req, reply) => {
    const token = core.config.metricsToken;
    if (token !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m || !safeEqual(m[1], token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').header('cache-control', 'no-store')
          .send({ error: 'unauthorized', message: 'GET /metrics needs "Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>"' });
      }
    }
    reply.type(opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
  app.get('/readyz', { schema: { tags: ['ops'], summary: 'Readiness: the store answers and the node is not shutting down' } }, async (_req, reply) => {
    if (opts.isClosing()) return reply.code(503).send({ status: 'shutting_down' });
    const { ok, store } = await core.ping();
    if (ok) return { status: 'ok', store };
    return reply.code(503).send({ status: 'unavailable', store });
  });
}
