// Prometheus metrics: one registry per application instance (no module-level state).
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  authFailures: Counter<'surface' | 'reason'>;
  hashQueue: Gauge;
}

export function createMetrics(hashQueueDepth: () => number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const httpDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'gatehouse_auth_failures_total',
    help: 'Refused authentications by surface and reason',
    labelNames: ['surface', 'reason'] as const,
    registers: [registry],
  });
  const hashQueue = new Gauge({
    name: 'gatehouse_password_hash_queue_depth',
    help: 'Password hashes waiting for a worker',
    registers: [registry],
    collect() {
      this.set(hashQueueDepth());
    },
  });
  return { registry, httpDuration, authFailures, hashQueue };
}

/** Times every request by its route template (never the raw URL, which may hold ids or search terms). */
export function instrument(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: req.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode === 401) {
      const surface = route.startsWith('/api/v1') || route.startsWith('/oauth') ? 'directory'
        : route.startsWith('/api/admin/user-admin') || route.startsWith('/auth/simple') ? 'useradmin'
        : route.startsWith('/api/users') || route === '/api/auth/login' ? 'account' : 'admin';
      metrics.authFailures.inc({ surface, reason: 'unauthenticated' });
    }
  });
}
