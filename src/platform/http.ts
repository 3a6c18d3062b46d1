// HTTP plumbing shared by every surface: the Fastify instance, validators, request ids, client address.
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Config, SurfaceName } from './config.js';
import { uuid } from './crypto.js';
import type { RequestContext } from '../core/context.js';
import { invalid } from '../core/errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // Request schemas list their allowed fields; anything else is dropped, never stored.
    removeAdditional: true,
    useDefaults: true,
    strict: false,
    verbose: true,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export function createHttpServer(config: Config, logger: FastifyServerOptions['logger']): FastifyInstance {
  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : uuid();
    },
    // Default JSON parsing refuses __proto__ and constructor.prototype keys with a 400.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // Bodies are never coerced (a string is not a boolean); path and query parameters are.
  const bodyAjv = makeAjv({ coerceTypes: false });
  const paramAjv = makeAjv({ coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : paramAjv;
    return ajv.compile(schema) as never;
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // NUL characters cannot be stored by PostgreSQL and have no place in any field: refuse them up front.
  app.addHook('preValidation', async (req) => {
    const path = findNul(req.body, '');
    if (path !== undefined) {
      throw invalid(path || 'body', 'invalid_characters', 'Strings must not contain NUL characters');
    }
  });
  return app;
}

function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 64) return undefined;
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], path ? `${path}.${i}` : String(i), depth + 1);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return path || 'body';
      const hit = findNul(v, path ? `${path}.${k}` : k, depth + 1);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** The client address, with IPv4-mapped IPv6 (::ffff:a.b.c.d) reduced to IPv4. */
export function clientIp(req: FastifyRequest): string {
  const ip = req.ip || req.socket.remoteAddress || '0.0.0.0';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function requestContext(req: FastifyRequest, surface: SurfaceName): RequestContext {
  const ua = req.headers['user-agent'];
  return {
    ip: clientIp(req),
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    requestId: String(req.id),
    surface,
  };
}

/** Reads one cookie from the Cookie header (surfaces use @fastify/cookie's parsed map when available). */
export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const cookies = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies;
  const v = cookies?.[name];
  return v === undefined || v === '' ? undefined : v;
}

/** Validation errors from Ajv, flattened: the first failing field, its reason and the schema's limits. */
export interface FieldIssue {
  field: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

export function fieldIssues(err: { validation?: Array<{ instancePath?: string; keyword: string; params: Record<string, unknown>; message?: string }>; validationContext?: string }): FieldIssue[] {
  return (err.validation ?? []).map((v) => {
    let field = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (v.keyword === 'required' && typeof v.params.missingProperty === 'string') {
      field = field ? `${field}.${v.params.missingProperty}` : v.params.missingProperty;
    }
    if (!field) field = err.validationContext ?? 'body';
    return { field, keyword: v.keyword, message: v.message ?? 'is invalid', params: v.params };
  });
}
