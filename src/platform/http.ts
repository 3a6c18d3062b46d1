// HTTP plumbing shared by every surface: the Fastify instance, validators, request ids, client address.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { baseUrlOf, type Config, type SurfaceName } from './config.js';
import { uuid } from './crypto.js';

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

/** The reasons the plumbing refuses input for (each one of the core's reasons too: core/reasons.ts). */
export type PlatformReason = 'too_long' | 'invalid_url' | 'invalid_encoding' | 'invalid_characters' | 'invalid_type';

/**
 * The error the plumbing refuses bad input with (a field, a reason code, a message, and optionally a hint
 * and the limits): the caller's own type, made by the factory it passes in, so the surfaces render it as
 * any other input error of theirs. The platform knows no core.
 */
export type InputErrorFactory<E extends Error> = (
  field: string,
  reason: PlatformReason,
  message: string,
  extra?: { hint?: string; constraints?: Record<string, unknown> },
) => E;

/** How a surface renders a request the router refuses before any route runs (a badly encoded URL, an over-long parameter). */
export type FrameworkErrorRenderer<E extends Error> = (err: E, req: FastifyRequest) => { status: number; body: unknown; headers?: Record<string, string> };

export interface HttpServerOptions<E extends Error> {
  inputError: InputErrorFactory<E>;
  renderFrameworkError: FrameworkErrorRenderer<E>;
}

/** Who is calling and from where, as the plumbing reads it from the request. */
export interface RequestFacts {
  ip: string;
  userAgent: string | null;
  requestId: string;
  surface: SurfaceName;
}

function trustHops(hops: number) {
  return (_address: string, hop: number): boolean => hop < hops;
}

export function createHttpServer<E extends Error>(config: Config, logger: FastifyServerOptions['logger'], options: HttpServerOptions<E>): FastifyInstance {
  const { inputError: invalid, renderFrameworkError } = options;
  const app = Fastify({
    // The router refuses some URLs before any hook runs; they still get the error shape and a request id.
    frameworkErrors: (error, req, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const err = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? invalid('path', 'too_long', 'A path parameter is too long', { constraints: { maxLength: 500 } })
        : invalid('path', 'invalid_url', 'The URL is not validly percent-encoded');
      const rendered = renderFrameworkError(err, req);
      // No route context exists here, so the body is sent as a ready JSON string.
      reply.header('x-request-id', String(req.id));
      if (rendered.headers) reply.headers(rendered.headers);
      reply.code(rendered.status).type('application/json; charset=utf-8').send(JSON.stringify(rendered.body));
    },
    logger,
    bodyLimit: config.bodyLimit,
    // A hop count trusts that many proxies nearest to us (the socket peer is hop 0), as Fastify does for a
    // number; a list trusts those addresses/CIDRs. Either way the client is the rightmost untrusted hop.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
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
    // Built-in HTTPS (GATEHOUSE_TLS_CERT / GATEHOUSE_TLS_KEY): the Secure __Host- cookies then work across hosts.
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key } } : {}),
  }) as unknown as FastifyInstance;

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

  // JSON bodies must be valid UTF-8: the default parser would silently turn bad bytes into U+FFFD and store them.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    // A bodiless POST (sign-out, refresh) from a client that always sends Content-Type: application/json is
    // fine where the route takes no body; where it does, the parser's empty-body error stands.
    if (buf.length === 0 && !req.routeOptions.schema?.body) {
      done(null, undefined);
      return;
    }
    if (!isUtf8(buf)) {
      done(invalid('body', 'invalid_encoding', 'The request body is not valid UTF-8', { hint: 'Encode the JSON body as UTF-8' }), undefined);
      return;
    }
    parseJson(req, buf.toString('utf8'), done);
  });

  // NUL characters cannot be stored by PostgreSQL and have no place in any field (body, query string or
  // path parameter), nor have unpaired surrogates: refuse them up front.
  app.addHook('preValidation', async (req) => {
    for (const [part, value] of [['body', req.body], ['query', req.query], ['params', req.params]] as const) {
      const path = findNul(value, '');
      if (path !== undefined) throw invalid(path || part, 'invalid_characters', 'Strings must not contain NUL characters or unpaired surrogates');
    }
    // Integer path parameters (ids) are plain decimals: the coercing validator alone would take "0x10", "1e3" or "1 ".
    const properties = (req.routeOptions.schema?.params as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
    if (properties && req.params && typeof req.params === 'object') {
      for (const [key, value] of Object.entries(req.params as Record<string, unknown>)) {
        if (properties[key]?.type === 'integer' && typeof value === 'string' && !/^-?[0-9]{1,20}$/.test(value)) {
          throw invalid(key, 'invalid_type', `${key} must be an integer`, { constraints: { type: 'integer' } });
        }
      }
    }
  });
  return app;
}

// JSON may spell an unpaired UTF-16 surrogate (\ud800); it is not a character, and the engines store it differently.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 64) return undefined;
  if (typeof value === 'string') return value.includes('\u0000') || LONE_SURROGATE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], path ? `${path}.${i}` : String(i), depth + 1);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000') || LONE_SURROGATE.test(k)) return path || 'body';
      const hit = findNul(v, path ? `${path}.${k}` : k, depth + 1);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/**
 * The base (origin, and path prefix if any) of every link the server builds: GATEHOUSE_PUBLIC_URL, else
 * http://HOST:<the port this connection came in on>. Never the Host header, which the client writes.
 */
export function publicBaseUrl(config: Config, req: FastifyRequest): string {
  return baseUrlOf(config, req.socket.localPort ?? config.port);
}

/** Query parameters whose values are secrets (invite and reset tokens, OAuth codes, passwords, keys). */
const SECRET_PARAM = /token|secret|password|passwd|pwd|code|key|signature|sig|auth|session|cookie|otp|nonce|credential/i;

/**
 * The URL as a request log may show it: the value of every secret query parameter (a name matching
 * SECRET_PARAM: token, code, secret, password, refresh_token, access_token, api_key …) replaced with
 * [REDACTED]; the path and other parameters as sent.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&').map((part) => {
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A name that does not decode is judged as sent.
    }
    return eq >= 0 && SECRET_PARAM.test(name) ? `${rawName}=[REDACTED]` : part;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/** The client address, with IPv4-mapped IPv6 (::ffff:a.b.c.d) reduced to IPv4. */
export function clientIp(req: FastifyRequest): string {
  const ip = req.ip || req.socket.remoteAddress || '0.0.0.0';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function requestFacts(req: FastifyRequest, surface: SurfaceName): RequestFacts {
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
