// The admin surface's error shapes (seeds 000/001 and docs/contracts.md), rendered in one place.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { domainErrorOf, type DomainError, type Reason } from '../../core/index.js';
import { fieldIssues } from '../../platform/http.js';

export const UNAUTHORIZED_MESSAGE = 'Authentication required. Please provide a valid API token';
export const FORBIDDEN_MESSAGE = "You don't have permission to access this resource";
export const NOT_FOUND_MESSAGE = 'The requested resource was not found';

/**
 * Errors the email-forwarding product answers with a bare `{error}` body (the pages' generic shape) where the
 * pages are silent: CSRF refusals (its admin mutation middleware and its auth service), a failed sign-in, and
 * the /api/auth/* routes when no live session is presented. The DomainError's reason is the error code.
 */
export const BARE_ERRORS = new Set(['csrf_required', 'invalid_csrf_token', 'auth_failed', 'invalid_or_expired_session']);

/**
 * The reasons the admin surface answers with (the `reason` of its error bodies): every reason of the core
 * (src/core/reasons.ts) and these of its own: schema keywords it names, unreadable bodies, the last-admin
 * guard in the product's words, and the unexpected error.
 */
export const ADMIN_OWN_REASONS = [
  'invalid', 'out_of_range', 'too_many', 'unknown_field', 'malformed_json', 'empty_body',
  'cannot_demote_last_admin', 'cannot_disable_last_admin', 'conflict', 'unexpected_error',
] as const;
export type AdminReason = Reason | (typeof ADMIN_OWN_REASONS)[number];

const REASON_OF_KEYWORD: Record<string, AdminReason> = {
  minLength: 'too_short',
  maxLength: 'too_long',
  type: 'invalid_type',
  format: 'invalid_format',
  required: 'required',
  enum: 'invalid_value',
  const: 'invalid_value',
  anyOf: 'invalid_type',
  oneOf: 'invalid_type',
  minimum: 'out_of_range',
  maximum: 'out_of_range',
  minItems: 'too_few',
  maxItems: 'too_many',
  pattern: 'invalid_format',
  additionalProperties: 'unknown_field',
};

const CONSTRAINT_KEYS = ['type', 'minLength', 'maxLength', 'format', 'enum', 'minimum', 'maximum', 'minItems', 'maxItems', 'pattern'];

function constraintsOf(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as Record<string, unknown>;
  for (const key of CONSTRAINT_KEYS) if (s[key] !== undefined) out[key] = s[key];
  if (Array.isArray(s.anyOf)) {
    for (const alt of s.anyOf as Array<Record<string, unknown>>) {
      for (const key of CONSTRAINT_KEYS) if (alt[key] !== undefined && out[key] === undefined) out[key] = alt[key];
    }
  }
  return out;
}

export interface Rendered {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

function invalidParams(field: string, reason: AdminReason, hint: string, constraints: Record<string, unknown>, message?: string): Rendered {
  return { status: 400, body: { error: 'invalid_params', field, reason, hint, constraints, ...(message ? { message } : {}) } };
}

/** The last-admin guard's reason, named as the product names it (cannot_demote_… when is_admin would change). */
function conflictReason(err: DomainError): AdminReason {
  if (err.reason === 'last_admin') return err.field === 'is_admin' ? 'cannot_demote_last_admin' : 'cannot_disable_last_admin';
  return err.reason ?? 'conflict';
}

export function renderDomainError(err: DomainError): Rendered {
  if ((err.kind === 'forbidden' || err.kind === 'unauthenticated') && err.reason && BARE_ERRORS.has(err.reason)) {
    return { status: err.kind === 'forbidden' ? 403 : 401, body: { error: err.reason } };
  }
  // A wrong current password on the self-password route: the product's 401 {error, field}.
  if (err.kind === 'unauthenticated' && err.reason === 'invalid_current_password') {
    return { status: 401, body: { error: 'invalid_credentials', field: 'current_password' } };
  }
  switch (err.kind) {
    case 'invalid':
      return invalidParams(err.field ?? 'body', err.reason ?? 'invalid', err.hint ?? err.message, err.constraints ?? {}, err.message);
    case 'unauthenticated':
      return {
        status: 401,
        body: {
          error: 'Unauthorized',
          message: err.reason === 'invalid_credentials' ? err.message : UNAUTHORIZED_MESSAGE,
          code: 401,
          ...(err.reason ? { reason: err.reason } : {}),
        },
      };
    case 'forbidden':
      return { status: 403, body: { error: 'Forbidden', message: err.message || FORBIDDEN_MESSAGE, code: 403, ...(err.reason ? { reason: err.reason } : {}) } };
    case 'banned':
      return { status: 403, body: { error: 'banned', ban: err.details?.ban ?? null } };
    case 'not_found':
      return { status: 404, body: { error: 'Not Found', message: NOT_FOUND_MESSAGE, code: 404 } };
    case 'conflict':
      return {
        status: 409,
        body: {
          error: 'Conflict',
          message: err.message,
          code: 409,
          details: err.reason === `${err.field}_taken` ? `${err.field} already exists` : err.message,
          field: err.field ?? null,
          reason: conflictReason(err),
        },
      };
    case 'precondition_failed':
      return { status: 412, body: { error: 'precondition_failed', message: err.message, code: 412 } };
    case 'unavailable':
      return {
        status: 503,
        body: { error: 'service_unavailable', message: 'The store cannot be reached right now; try again shortly', code: 503 },
        headers: { 'retry-after': String(err.retryAfterSeconds) },
      };
    case 'too_many_requests':
      // The sign-in throttle, in the product's words (its auth_login rate limits): {error, where, reason}.
      if (err.reason === 'too_many_failed_attempts_ip' || err.reason === 'too_many_failed_attempts_identifier') {
        return {
          status: 429,
          body: { error: 'rate_limited', where: 'auth_login', reason: err.reason },
          headers: { 'retry-after': String(err.retryAfterSeconds ?? 60) },
        };
      }
      return {
        status: 429,
        body: { error: 'too_many_requests', message: err.message, code: 429, retry_after: err.retryAfterSeconds ?? 60 },
        headers: { 'retry-after': String(err.retryAfterSeconds ?? 60) },
      };
  }
}

export function renderError(error: unknown, req: FastifyRequest): Rendered {
  const domain = domainErrorOf(error);
  if (domain) {
    if (domain.kind === 'unavailable') req.log.warn({ err: domain.cause }, 'store unavailable');
    return renderDomainError(domain);
  }
  const err = error as FastifyError & { validation?: Array<{ instancePath?: string; keyword: string; params: Record<string, unknown>; message?: string; parentSchema?: unknown }> };
  if (err.validation) {
    const issues = fieldIssues(err);
    const first = issues[0];
    const raw = err.validation[0];
    const reason = REASON_OF_KEYWORD[first.keyword] ?? 'invalid';
    return invalidParams(first.field, reason, `${first.field} ${first.message}`, constraintsOf(raw.parentSchema));
  }
  const status = err.statusCode ?? 500;
  if (status === 400 && (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || /JSON|prototype|constructor/i.test(err.message))) {
    return invalidParams('body', 'malformed_json', 'Send a valid JSON object', {});
  }
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return invalidParams('body', 'empty_body', 'Send a JSON object body', {});
  if (status === 413) return { status, body: { error: 'payload_too_large', message: 'The request body is too large', code: 413 } };
  if (status === 415) return { status, body: { error: 'unsupported_media_type', message: 'Send Content-Type: application/json', code: 415 } };
  if (status === 404) return { status, body: { error: 'Not Found', message: NOT_FOUND_MESSAGE, code: 404 } };
  if (status >= 400 && status < 500) return { status, body: { error: err.code ? err.code.toLowerCase() : 'bad_request', message: err.message } };
  req.log.error({ err }, 'unhandled error');
  const reason: AdminReason = 'unexpected_error';
  return { status: 500, body: { error: 'internal_error', where: req.routeOptions?.url ?? 'request', reason } };
}

export function sendError(reply: FastifyReply, rendered: Rendered): FastifyReply {
  if (rendered.headers) reply.headers(rendered.headers);
  return reply.code(rendered.status).type('application/json; charset=utf-8').send(rendered.body);
}

export function installAdminErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, req, reply) => sendError(reply, renderError(error, req)));
}

/**
 * The OpenAPI description of every error body above (documentation only: no route serialises with it, so
 * no field is ever filtered). Which fields appear depends on the error: `invalid_params` carries field,
 * reason, hint and constraints; 401/403/404/409/412/413/415/429/503 carry message and code (409 also field,
 * reason and details); CSRF and sign-in refusals are a bare {error}; bans carry `ban`.
 */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: true,
  properties: {
    error: { type: 'string', description: 'The error code: invalid_params, Unauthorized, Forbidden, Not Found, Conflict, csrf_required, banned, rate_limited, …' },
    message: { type: 'string' },
    code: { type: 'integer', description: 'The HTTP status, repeated.' },
    reason: { type: 'string', description: 'The machine-readable cause (e.g. too_short, admin_required, username_taken, cannot_demote_last_admin).' },
    field: { type: ['string', 'null'], description: 'The request field at fault.' },
    hint: { type: 'string' },
    constraints: { type: 'object', additionalProperties: true, description: 'The schema constraints of the field at fault.' },
    details: { type: 'string' },
    where: { type: 'string' },
    retry_after: { type: 'integer', description: 'Seconds, as in the Retry-After header.' },
    ban: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;
