// Builds the Fastify application over a Core. Building is separate from listening (tests and the CLI
// both call buildApp and then listen on a port of their choosing).
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from './platform/config.js';
import { clientIp, createHttpServer, redactUrl } from './platform/http.js';
import { invalid, type Core } from './core/index.js';
import { adminSurface, renderAdminError, sendAdminError } from './surfaces/admin/index.js';
import { opsRoutes } from './surfaces/ops/index.js';
import { consoleRoutes } from './surfaces/console/index.js';
import { createMetrics, instrument } from './platform/metrics.js';
import { surfaceModules, notFoundRenderers, surfaceRendererFor } from './surfaces/registry.js';
import { documentErrors, documentRoute, securitySchemes } from './surfaces/openapi.js';

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    // Request logs carry method, url, address and request id; never headers or bodies, and never the value
    // of a secret query parameter (an invite link's ?token=…): redactUrl.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], remove: true },
    serializers: {
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  };
}

export async function buildApp(core: Core, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = core.config;
  const app = createHttpServer(config, options.logger ?? loggerOptions(config), {
    inputError: (field, reason, message, extra) => invalid(field, reason, message, extra),
    renderFrameworkError: (err, req) => {
      const surface = surfaceRendererFor(req.url);
      return surface?.renderError ? surface.renderError(err, req) : renderAdminError(err, req);
    },
  });
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });
  app.addHook('preClose', async () => {
    closing = true;
  });
  // While shutting down, every response closes its connection: a keep-alive client would otherwise hold
  // the server open (server.close() only drops connections idle at that moment) until the force-exit timer.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  // An active ip ban refuses every request from a covered address, on every surface, from the node's
  // in-memory ban cache (src/core/bans/cache.ts): no database round trip at steady state. Liveness and
  // readiness stay reachable.
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url;
    if (route === '/healthz' || route === '/readyz') return done();
    const check = () => {
      const ban = core.bans.ipBan(clientIp(req));
      if (!ban) return done();
      const { ban_type, ban_value, reason, banned_at, expires_at } = ban;
      // Serialised here: the route's own 403 schema (another surface's error shape) must not filter it.
      const body = JSON.stringify({ error: 'banned', ban: { ban_type, ban_value, reason, banned_at, expires_at } });
      reply.code(403).type('application/json; charset=utf-8').send(body);
    };
    if (core.bans.ipCache.ready) return check();
    core.bans.ipCache.ensureLoaded().then(check, done);
  });
  app.addHook('onClose', async () => core.bans.stop());

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: '0.1.0',
        description: 'User administration over four contracts: admin, account, directory v1 and user-admin.',
      },
      components: { securitySchemes: structuredClone(securitySchemes) as never },
    },
    // Every operation's operationId, security and error responses, derived from its route (src/surfaces/openapi.ts).
    transform: documentRoute as never,
    transformObject: documentErrors as never,
  });
  // The API reference page: its scripts and styles from this origin (and the page's own inline ones, by
  // hash: swagger-ui's staticCSP), never framed. swagger-ui's own policy allows framing by 'self' and
  // upgrades requests to https (which breaks the page served over plain http): both replaced.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header: string) =>
      header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/\s*upgrade-insecure-requests;?/, '') + ' form-action \'self\';',
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const route = req.routeOptions.url;
    if (route === '/docs' || route?.startsWith('/docs/')) {
      reply.header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff');
    }
    // Anything answered to an authenticated caller is that caller's: no shared or browser cache keeps it.
    else if ((req.principal || req.accountSession) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // Requests that match no route answer in the error shape of the surface their path belongs to.
  app.setNotFoundHandler((req, reply) => {
    for (const r of notFoundRenderers) {
      if (r.matches(req.url)) return r.render(req, reply);
    }
    return sendAdminError(reply, renderAdminError({ statusCode: 404, message: 'Not Found' }, req));
  });
  app.setErrorHandler((error, req, reply) => sendAdminError(reply, renderAdminError(error, req)));

  const metrics = createMetrics(() => core.hasher.queued);
  instrument(app, metrics);
  await app.register(opsRoutes, { core, metrics, isClosing: () => closing });
  if (config.surfaces.has('admin')) await app.register(consoleRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (config.surfaces.has('admin')) await app.register(adminSurface, { core });
  for (const mod of surfaceModules) {
    if (config.surfaces.has(mod.surface)) await app.register(mod.plugin, { core });
  }
  return app;
}
