// The directory surface's error shapes (seed 003, docs/directory.md): Laravel's JSON errors.
// 401 {message:"Unauthenticated."}, 403/404 {message}, 422 {error:"validation_error", message,
// errors:{field:[messages]}} with Laravel's wording, and RFC 6749 §5.2 errors on /oauth/token.
// Reasons: its bodies carry no reason code; it reads the core's (src/core/reasons.ts, typed: an unknown one
// does not compile) to choose Laravel's messages.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { domainErrorOf, isDomainError, type DomainError, OAuthError } from '../../core/index.js';

export interface Rendered {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

type Errors = Record<string, string[]>;

/** Laravel shows `emergency_contact_name` as "emergency contact name". */
export function attribute(field: string): string {
  return field.replace(/_/g, ' ');
}

/** The first failure of each field is reported (a wrong type makes the field's other rules moot). */
function add(errors: Errors, field: string, message: string): void {
  if (!errors[field]) errors[field] = [message];
}

export function validationError(errors: Errors): Rendered {
  const all = Object.values(errors).flat();
  const more = all.length - 1;
  const message = more > 0 ? `${all[0]} (and ${more} more error${more > 1 ? 's' : ''})` : all[0] ?? 'The given data was invalid.';
  return { status: 422, body: { error: 'validation_error', message, errors } };
}

interface AjvIssue {
  instancePath?: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: Record<string, unknown>;
}

function typeMessage(a: string, expected: string): string {
  if (expected.includes('boolean')) return `The ${a} field must be true or false.`;
  if (expected.includes('array')) return `The ${a} field must be an array.`;
  if (expected.includes('integer')) return `The ${a} field must be an integer.`;
  if (expected.includes('number')) return `The ${a} field must be a number.`;
  if (expected.includes('string')) return `The ${a} field must be a string.`;
  return `The ${a} field is invalid.`;
}

/** One Laravel message per Ajv issue. */
function ajvMessage(field: string, issue: AjvIssue): string {
  const a = attribute(field);
  const p = issue.params;
  switch (issue.keyword) {
    case 'required':
      return `The ${a} field is required.`;
    case 'type': {
      const expected = Array.isArray(p.type) ? p.type.join(',') : String(p.type);
      return typeMessage(a, expected);
    }
    case 'maxLength':
      return `The ${a} field must not be greater than ${p.limit} characters.`;
    case 'minLength':
      return Number(p.limit) <= 1 ? `The ${a} field is required.` : `The ${a} field must be at least ${p.limit} characters.`;
    case 'maximum':
      return `The ${a} field must not be greater than ${p.limit}.`;
    case 'minimum':
      return `The ${a} field must be at least ${p.limit}.`;
    case 'maxItems':
      return `The ${a} field must not have more than ${p.limit} items.`;
    case 'enum': {
      const allowed = issue.parentSchema?.enum;
      if (Array.isArray(allowed) && allowed.every((v) => typeof v === 'boolean' || v === 0 || v === 1 || v === null)) {
        return `The ${a} field must be true or false.`;
      }
      return `The selected ${a} is invalid.`;
    }
    case 'format':
      return p.format === 'email' ? `The ${a} field must be a valid email address.` : `The ${a} field format is invalid.`;
    default:
      return `The ${a} field is invalid.`;
  }
}

export function renderValidation(issues: AjvIssue[], context: string | undefined): Rendered {
  const errors: Errors = {};
  for (const issue of issues) {
    let field = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
      field = field ? `${field}.${issue.params.missingProperty}` : issue.params.missingProperty;
    }
    if (!field) {
      add(errors, context === 'querystring' ? 'query' : 'body', context === 'querystring' ? 'The query string is invalid.' : 'The request body must be a JSON object.');
      continue;
    }
    add(errors, field, ajvMessage(field, issue));
  }
  return validationError(errors);
}

/** A core validation failure in Laravel's words. */
function invalidMessage(err: DomainError, field: string): string {
  const a = attribute(field);
  const c = err.constraints ?? {};
  switch (err.reason) {
    case 'too_long':
      return `The ${a} field must not be greater than ${c.maxLength} characters.`;
    case 'too_short':
      return `The ${a} field must be at least ${c.minLength} characters.`;
    case 'required':
      return `The ${a} field is required.`;
    case 'invalid_email':
      return `The ${a} field must be a valid email address.`;
    case 'confirmation_mismatch':
      return `The ${a} field confirmation does not match.`;
    case 'invalid_role':
    case 'invalid_language':
    case 'unknown_role':
      return `The selected ${a} is invalid.`;
    case 'invalid_characters':
    case 'invalid_username':
      return `The ${a} field format is invalid.`;
    default:
      return err.message;
  }
}

const NOT_FOUND_MESSAGES: Record<string, string> = { user: 'User not found.', tenant: 'Tenant not found.', role: 'Role not found.' };

export function renderDomainError(err: DomainError): Rendered {
  switch (err.kind) {
    case 'invalid': {
      const errors: Errors = {};
      const fields = Array.isArray(err.details?.fields) ? (err.details!.fields as string[]) : [err.field ?? 'body'];
      for (const f of fields) add(errors, f, invalidMessage(err, f));
      return validationError(errors);
    }
    case 'unauthenticated':
      return { status: 401, body: { message: 'Unauthenticated.' }, headers: { 'www-authenticate': 'Bearer' } };
    case 'forbidden':
      return { status: 403, body: { message: err.message || 'This action is unauthorized.' } };
    case 'banned':
      return { status: 403, body: { message: 'Your access is banned.', ban: err.details?.ban ?? null } };
    case 'not_found':
      return { status: 404, body: { message: NOT_FOUND_MESSAGES[err.resource ?? ''] ?? 'Not Found.' } };
    case 'conflict':
      if (err.field && err.reason === `${err.field}_taken`) {
        return validationError({ [err.field]: [`The ${attribute(err.field)} has already been taken.`] });
      }
      return { status: 409, body: { message: err.message } };
    case 'precondition_failed':
      return { status: 412, body: { message: err.message } };
    case 'too_many_requests':
      return {
        status: 429,
        body: { message: 'Too Many Attempts.' },
        headers: { 'retry-after': String(err.retryAfterSeconds ?? 60) },
      };
    case 'unavailable':
      return { status: 503, body: { message: 'Service Unavailable.' }, headers: { 'retry-after': String(err.retryAfterSeconds) } };
  }
}

type FastifyLike = FastifyError & { validation?: AjvIssue[]; validationContext?: string };

export function renderError(error: unknown, req: FastifyRequest): Rendered {
  const domain = domainErrorOf(error);
  if (domain?.kind === 'unavailable') {
    req.log.warn({ err: domain.cause }, 'store unavailable');
    return renderDomainError(domain);
  }
  if (isDomainError(error)) {
    // A malformed path id (refused by the shared plumbing) names no user: 404, as route binding answers.
    const params = req.params as Record<string, unknown> | undefined;
    if (error.kind === 'invalid' && error.field && params && typeof params === 'object' && error.field in params) {
      return { status: 404, body: { message: 'User not found.' } };
    }
    return renderDomainError(error);
  }
  const err = error as FastifyLike;
  if (err.validation) {
    // A malformed path id names no user: Laravel's route binding answers 404.
    if (err.validationContext === 'params') return { status: 404, body: { message: 'User not found.' } };
    return renderValidation(err.validation, err.validationContext);
  }
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, body: { message: 'The request body is empty: send a JSON object.' } };
  if (status === 400 && (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || /JSON|prototype|constructor/i.test(err.message))) {
    return { status: 400, body: { message: 'The request body is not valid JSON.' } };
  }
  if (status === 413) return { status, body: { message: 'The request body is too large.' } };
  if (status === 415) return { status, body: { message: 'Unsupported Media Type: send application/json.' } };
  if (status === 404) return { status, body: { message: 'Not Found.' } };
  if (status >= 400 && status < 500) return { status, body: { message: err.message } };
  req.log.error({ err }, 'unhandled error');
  return { status: 500, body: { message: 'Server Error.' } };
}

/** RFC 6749 §5.2 errors of the token endpoint. */
export function renderOAuthError(error: unknown, req: FastifyRequest): Rendered {
  if (error instanceof OAuthError) {
    const headers: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' };
    if (error.status === 401) headers['www-authenticate'] = 'Basic realm="gatehouse", charset="UTF-8"';
    if (error.retryAfterSeconds) headers['retry-after'] = String(error.retryAfterSeconds);
    return { status: error.status, body: { error: error.code, error_description: error.message }, headers };
  }
  const domain = domainErrorOf(error);
  if (domain?.kind === 'unavailable') {
    req.log.warn({ err: domain.cause }, 'store unavailable');
    return {
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'The server cannot issue tokens right now; try again shortly.' },
      headers: { 'cache-control': 'no-store', pragma: 'no-cache', 'retry-after': String(domain.retryAfterSeconds) },
    };
  }
  if (isDomainError(error)) {
    if (error.kind === 'too_many_requests') return { status: 429, body: { error: 'invalid_request', error_description: error.message }, headers: { 'retry-after': String(error.retryAfterSeconds ?? 60) } };
    return { status: 400, body: { error: 'invalid_request', error_description: error.message } };
  }
  const err = error as FastifyLike;
  const status = err.statusCode ?? 500;
  if (err.validation) {
    const first = err.validation[0];
    const field = (first.instancePath ?? '').replace(/^\//, '') || String(first.params.missingProperty ?? 'body');
    return { status: 400, body: { error: 'invalid_request', error_description: `The ${field} parameter is invalid.` } };
  }
  if (status === 413) return { status: 413, body: { error: 'invalid_request', error_description: 'The request body is too large.' } };
  if (status >= 400 && status < 500) {
    return { status: 400, body: { error: 'invalid_request', error_description: status === 415 ? 'Send application/x-www-form-urlencoded or application/json.' : 'The request body is malformed.' } };
  }
  req.log.error({ err }, 'unhandled error');
  return { status: 500, body: { error: 'server_error', error_description: 'The server encountered an unexpected error.' } };
}

export function send(reply: FastifyReply, r: Rendered): FastifyReply {
  if (r.headers) reply.headers(r.headers);
  return reply.code(r.status).type('application/json; charset=utf-8').send(r.body);
}

/** Unmatched paths under this surface's prefixes answer in its shape. */
export const directoryNotFound = {
  matches(url: string): boolean {
    return url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?') || url.startsWith('/oauth/') || url.startsWith('/.well-known/jwks.json');
  },
  render(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
    return send(reply, { status: 404, body: { message: 'Not Found.' } });
  },
};

/**
 * The OpenAPI description of the /api/v1 error bodies (documentation only): Laravel's {message}, with
 * `errors` (field → messages) on a 422 and `ban` on a ban.
 */
export const errorSchema = {
  type: 'object',
  required: ['message'],
  additionalProperties: true,
  properties: {
    message: { type: 'string' },
    error: { type: 'string', description: 'validation_error on a 422.' },
    errors: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    ban: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

/** The OpenAPI description of the token endpoint's RFC 6749 §5.2 error body (documentation only). */
export const oauthErrorSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: true,
  properties: {
    error: { type: 'string', description: 'invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, temporarily_unavailable' },
    error_description: { type: 'string' },
  },
} as const;
