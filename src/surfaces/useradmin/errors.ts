// The user-admin surface's error shape (seed 004, Unleash): {id:<fresh uuid>, name, message, details?:[{message}]}.
// The id is new for every error and is written into the request's log line, so a client's report can be
// matched with the server log.
// Reasons: its bodies carry no reason code; it reads the core's (src/core/reasons.ts, typed: an unknown one
// does not compile) to choose Unleash's error names.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { domainErrorOf, type DomainError } from '../../core/index.js';
import { uuid } from '../../platform/crypto.js';
import { fieldIssues } from '../../platform/http.js';

export const LOGIN_PATH = '/auth/simple/login';
export const AUTH_REQUIRED_MESSAGE =
  `You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at ${LOGIN_PATH}.`;
export const AUTH_INVALID_MESSAGE =
  `You must log in to use Unleash. The API token or session you sent is not valid (unknown, expired or revoked). Try logging in at ${LOGIN_PATH}.`;

export interface UnleashErrorBody {
  id: string;
  name: string;
  message: string;
  details?: Array<{ message: string; description?: string; path?: string }>;
  [extra: string]: unknown;
}

export interface Rendered {
  status: number;
  body: UnleashErrorBody;
  headers?: Record<string, string>;
}

/**
 * Unleash's errors always carry `details` (its UnleashError serialises as {id, name, message, details:
 * [{message, description}]}); an error with details of its own (validation) replaces them.
 */
function body(name: string, message: string, extra: Partial<UnleashErrorBody> = {}): UnleashErrorBody {
  return { id: uuid(), name, message, details: [{ message, description: message }], ...extra };
}

/** Unleash's answer to a wrong username or password on /auth/simple/login (its PasswordMismatch error). */
export const PASSWORD_MISMATCH_MESSAGE =
  'The combination of password and username you provided is invalid. If you have forgotten your password, visit /forgotten-password or get in touch with your instance administrator.';

export function permissionMessage(permission: string): string {
  return `You need the "${permission}" permission to perform this action.`;
}

function notFoundMessage(err: DomainError, req: FastifyRequest): string {
  const id = (req.params as Record<string, unknown> | undefined)?.id;
  const resource = err.resource === 'api_token' ? 'personal access token' : err.resource;
  if (resource && (typeof id === 'number' || typeof id === 'string')) return `Could not find the ${resource} with ID "${id}".`;
  if (resource) return `Could not find the ${resource} you requested.`;
  return 'Could not find the resource you requested.';
}

export function renderDomainError(err: DomainError, req: FastifyRequest): Rendered {
  switch (err.kind) {
    case 'invalid': {
      const path = err.field ? { path: err.field } : {};
      const issues = Array.isArray(err.details?.issues) ? (err.details.issues as unknown[]).filter((i): i is string => typeof i === 'string') : [];
      const details = issues.length > 0
        ? issues.map((message) => ({ message, ...path }))
        : [{ message: err.message, ...path, ...(err.hint && err.hint !== err.message ? { description: err.hint } : {}) }];
      return { status: 400, body: body('ValidationError', err.message, { details }) };
    }
    case 'unauthenticated':
      if (err.reason === 'invalid_invite') return { status: 401, body: body('InvalidTokenError', err.message) };
      if (err.reason === 'invalid_credentials') {
        return {
          status: 401,
          body: body('PasswordMismatch', PASSWORD_MISMATCH_MESSAGE),
        };
      }
      return {
        status: 401,
        body: body('AuthenticationRequired', err.reason === 'missing_credentials' ? AUTH_REQUIRED_MESSAGE : AUTH_INVALID_MESSAGE, {
          type: 'password',
          path: LOGIN_PATH,
        }),
      };
    case 'forbidden':
      return {
        status: 403,
        body: body('NoAccessError', err.permission ? permissionMessage(err.permission) : err.message, err.permission ? { permission: err.permission } : {}),
      };
    case 'banned':
      return { status: 403, body: body('NoAccessError', err.message) };
    case 'not_found':
      return { status: 404, body: body('NotFoundError', notFoundMessage(err, req)) };
    case 'conflict':
      if (err.reason && err.field && err.reason === `${err.field}_taken`) {
        return { status: 409, body: body('NameExistsError', err.message, { details: [{ message: err.message, path: err.field }] }) };
      }
      return { status: 409, body: body('ConflictError', err.message) };
    case 'precondition_failed':
      return { status: 412, body: body('PreconditionFailedError', err.message) };
    case 'too_many_requests': {
      const retry = String(err.retryAfterSeconds ?? 60);
      return { status: 429, body: body('RateLimitError', err.message), headers: { 'retry-after': retry } };
    }
    case 'unavailable':
      return {
        status: 503,
        body: body('ServiceUnavailableError', 'The store cannot be reached right now; try again shortly.'),
        headers: { 'retry-after': String(err.retryAfterSeconds) },
      };
  }
}

type AjvLike = FastifyError & {
  validation?: Array<{ instancePath?: string; keyword: string; params: Record<string, unknown>; message?: string }>;
  validationContext?: string;
};

export function renderError(error: unknown, req: FastifyRequest): Rendered {
  const domain = domainErrorOf(error);
  if (domain) return renderDomainError(domain, req);
  const err = error as AjvLike;
  if (err.validation) {
    const issues = fieldIssues(err);
    const where = err.validationContext === 'body' || !err.validationContext ? 'payload' : err.validationContext;
    const describe = (i: (typeof issues)[number]) => `The .${i.field} property ${i.message}.`;
    return {
      status: 400,
      body: body('ValidationError', `The request ${where} you provided doesn't conform to the schema. ${describe(issues[0])}`, {
        details: issues.slice(0, 20).map((i) => ({ message: describe(i), path: i.field })),
      }),
    };
  }
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return { status: 400, body: body('ValidationError', 'The request body is empty: send a JSON object.') };
  }
  if (status === 400 && (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || /JSON|prototype|constructor/i.test(err.message))) {
    return { status: 400, body: body('ValidationError', 'The request body is not valid JSON (or has a forbidden __proto__/constructor key).') };
  }
  if (status === 413) return { status, body: body('ContentTooLargeError', 'The request body is too large.') };
  if (status === 415) return { status, body: body('ContentTypeError', 'Send the body as JSON (Content-Type: application/json).') };
  if (status === 404) return { status, body: body('NotFoundError', 'Could not find the resource you requested.') };
  if (status >= 400 && status < 500) return { status, body: body('BadDataError', err.message || 'The request could not be processed.') };
  return { status: 500, body: body('InternalError', 'Something went wrong on our side. Quote the error id when you report it.') };
}

/** Sends the rendered error and ties its id to this request's log line. */
export function sendError(req: FastifyRequest, reply: FastifyReply, rendered: Rendered, cause?: unknown): FastifyReply {
  const errorId = rendered.body.id;
  // reply.log writes the "request completed" line: the child logger puts the error id on it.
  reply.log = reply.log.child({ error_id: errorId, error_name: rendered.body.name });
  if (rendered.status === 503) req.log.warn({ err: cause, error_id: errorId }, 'store unavailable');
  else if (rendered.status >= 500) req.log.error({ err: cause, error_id: errorId }, 'unhandled error');
  if (rendered.headers) reply.headers(rendered.headers);
  return reply.code(rendered.status).type('application/json; charset=utf-8').send(rendered.body);
}

export function installUseradminErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, req, reply) => sendError(req, reply, renderError(error, req), error));
}

/** Paths of this surface: unmatched requests under them answer NotFoundError in this shape. */
export function isUseradminPath(url: string): boolean {
  const path = url.split('?')[0];
  return (
    /^\/api\/admin\/user-admin(\/|$)/.test(path) ||
    /^\/api\/admin\/events(\/|$)/.test(path) ||
    /^\/api\/admin\/user(\/|$)/.test(path) ||
    /^\/auth\/simple(\/|$)/.test(path) ||
    /^\/auth\/reset(\/|$)/.test(path) ||
    /^\/logout\/?$/.test(path)
  );
}

export function renderNotFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(req, reply, { status: 404, body: body('NotFoundError', 'Could not find the resource you requested.') });
}

/** The OpenAPI description of Unleash's error body (documentation only). */
export const errorSchema = {
  type: 'object',
  required: ['id', 'name', 'message'],
  additionalProperties: true,
  properties: {
    id: { type: 'string', format: 'uuid', description: 'Fresh for every error; also written to the server log.' },
    name: { type: 'string', description: 'ValidationError, AuthenticationRequired, PasswordMismatch, NoAccessError, NotFoundError, NameExistsError, …' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: { type: 'object', required: ['message'], additionalProperties: true, properties: { message: { type: 'string' }, description: { type: 'string' }, path: { type: 'string' } } },
    },
    permission: { type: 'string' },
    type: { type: 'string' },
    path: { type: 'string' },
  },
} as const;
