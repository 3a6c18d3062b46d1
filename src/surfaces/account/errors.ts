// The account surface's error shape: h3's `{statusCode, statusMessage, message, data?}` (the real product is
// a Nuxt/h3 app), with validation problems as Zod v3 issues in `data.issues`, one issue per invalid field.
// Reasons: its bodies carry no reason code; it reads the core's (src/core/reasons.ts, typed: an unknown one
// does not compile) to choose h3's words and Zod's issue codes.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { domainErrorOf, type DomainError, isValidEmail } from '../../core/index.js';

/** The seed page's 400 message for PATCH /api/users/{user_id}. */
export const UPDATE_BODY_MESSAGE = 'Invalid body(?email, ?password). At least one of email or password is required.';
/** The real product's message for an invalid `user_id` route parameter. */
export const PARAMS_MESSAGE = 'Invalid routeParams(user_id).';
export const BAD_REQUEST = 'Bad Request.';
export const EMPTY_PATCH_ISSUE = 'At least one of email or password is required';
export const PASSWORD_MATCH_ISSUE = 'Password must match';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Account routes: the `message` of a 400 about this route's body. */
    bodyMessage?: string;
    /** Account routes: the `statusMessage` of that 400 (default "Bad Request."). */
    bodyStatusMessage?: string;
  }
}

export interface ZodIssue {
  code: string;
  path: Array<string | number>;
  message: string;
  [key: string]: unknown;
}

export interface H3Error {
  statusCode: number;
  statusMessage: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface Rendered {
  body: H3Error;
  headers?: Record<string, string>;
}

// The page's TypeScript and Pydantic models of an issue require `validation` on every issue, while Zod
// sets it only on invalid_string: every other issue gets the name of the check that failed, so clients
// written against either the page or Zod parse it.
const VALIDATION_OF_CODE: Record<string, string> = { invalid_type: 'type', too_small: 'min', too_big: 'max', invalid_enum_value: 'enum', custom: 'custom' };

function withValidation(issue: ZodIssue): ZodIssue {
  return issue.validation === undefined ? { ...issue, validation: VALIDATION_OF_CODE[issue.code] ?? issue.code } : issue;
}

function h3(statusCode: number, message?: string, data?: Record<string, unknown>, statusMessage?: string): H3Error {
  const text = statusMessage ?? (statusCode === 400 ? BAD_REQUEST : STATUS_CODES[statusCode] ?? 'Error');
  if (data && Array.isArray(data.issues)) data = { ...data, issues: (data.issues as ZodIssue[]).map(withValidation) };
  return { statusCode, statusMessage: text, message: message ?? text, ...(data ? { data } : {}) };
}

// ---- Zod v3 issues --------------------------------------------------------------------------------------

/** Zod's name for the type of a value (ZodParsedType). */
function parsedType(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'nan' : 'number';
  return typeof value;
}

export function invalidType(path: Array<string | number>, expected: string, received: string): ZodIssue {
  return { code: 'invalid_type', expected, received, path, message: received === 'undefined' ? 'Required' : `Expected ${expected}, received ${received}` };
}

export function invalidEmail(path: Array<string | number>): ZodIssue {
  return { code: 'invalid_string', validation: 'email', message: 'Invalid email', path };
}

function tooSmall(path: Array<string | number>, type: 'string' | 'number', minimum: number): ZodIssue {
  const message = type === 'string' ? `String must contain at least ${minimum} character(s)` : `Number must be greater than or equal to ${minimum}`;
  return { code: 'too_small', minimum, type, inclusive: true, exact: false, message, path };
}

function tooBig(path: Array<string | number>, type: 'string' | 'number', maximum: number): ZodIssue {
  const message = type === 'string' ? `String must contain at most ${maximum} character(s)` : `Number must be less than or equal to ${maximum}`;
  return { code: 'too_big', maximum, type, inclusive: true, exact: false, message, path };
}

function custom(path: Array<string | number>, message: string): ZodIssue {
  return { code: 'custom', message, path };
}

/**
 * The real product reads `user_id` with Number() and validates that with Zod, so a word is "nan" and a
 * fraction a "float". Undefined for strings Number() would read as an integer ("0x10", "1e3").
 */
function paramTypeIssue(path: Array<string | number>, raw: string): ZodIssue | undefined {
  const n = Number(raw);
  if (Number.isNaN(n) || raw.trim() === '') return invalidType(path, 'number', 'nan');
  if (!Number.isInteger(n)) return invalidType(path, 'integer', 'float');
  return undefined;
}

interface AjvError {
  instancePath?: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
}

function pathOf(instancePath: string | undefined): string[] {
  return (instancePath ?? '').split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function numberOrZero(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** One Ajv error as a Zod issue. Route parameters arrive as strings, so their type errors read like Number(). */
function issueOfAjv(e: AjvError, context: string | undefined): ZodIssue {
  const path = pathOf(e.instancePath);
  switch (e.keyword) {
    case 'type': {
      const expectedRaw = Array.isArray(e.params.type) ? String(e.params.type[0]) : String(e.params.type);
      if (context === 'params' && typeof e.data === 'string') return paramTypeIssue(path, e.data) ?? custom(path, 'Expected integer');
      const expected = expectedRaw === 'integer' ? 'number' : expectedRaw;
      return invalidType(path, expected, parsedType(e.data));
    }
    case 'required': {
      const prop = String(e.params.missingProperty ?? '');
      return invalidType([...path, prop], 'string', 'undefined');
    }
    case 'minLength':
      return tooSmall(path, 'string', numberOrZero(e.params.limit));
    case 'maxLength':
      return tooBig(path, 'string', numberOrZero(e.params.limit));
    case 'minimum':
      return tooSmall(path, 'number', numberOrZero(e.params.limit));
    case 'maximum':
      return tooBig(path, 'number', numberOrZero(e.params.limit));
    case 'format':
      return e.params.format === 'email' ? invalidEmail(path) : { code: 'invalid_string', validation: String(e.params.format), message: 'Invalid', path };
    default:
      return custom(path, e.message ?? 'Invalid input');
  }
}

function key(path: Array<string | number>): string {
  return path.join('.');
}

/**
 * Ajv's errors as Zod issues, one per field (the first error of a field wins), in the schema's field order.
 * Email syntax is the core's rule, not the schema's: an email that passed the schema is checked here too,
 * so a body with a bad email and a bad password reports both.
 */
export function issuesOfValidation(errors: AjvError[], context: string | undefined, body: unknown, bodySchema: unknown): ZodIssue[] {
  const byField = new Map<string, ZodIssue>();
  for (const e of errors) {
    const issue = issueOfAjv(e, context);
    if (!byField.has(key(issue.path))) byField.set(key(issue.path), issue);
  }
  if (context === 'body' && body && typeof body === 'object' && !Array.isArray(body)) {
    const email = (body as Record<string, unknown>).email;
    if (typeof email === 'string' && !byField.has('email') && !isValidEmail(email.trim().toLowerCase())) {
      byField.set('email', invalidEmail(['email']));
    }
  }
  const order = Object.keys(((bodySchema as { properties?: Record<string, unknown> } | undefined)?.properties) ?? {});
  const rank = (i: ZodIssue) => (i.path.length === 0 ? -1 : order.indexOf(String(i.path[0])) === -1 ? order.length : order.indexOf(String(i.path[0])));
  return [...byField.values()].sort((a, b) => rank(a) - rank(b));
}

/** A core validation error as the Zod issue of its field. */
function issueOfDomain(err: DomainError): ZodIssue {
  const field = err.field && err.field !== 'body' ? err.field : undefined;
  const path = field ? field.split('.') : [];
  const c = err.constraints ?? {};
  switch (err.reason) {
    case 'invalid_email':
      return invalidEmail(path);
    case 'too_short':
      return typeof c.minLength === 'number' ? tooSmall(path, 'string', c.minLength) : custom(path, err.message);
    case 'too_long':
      return typeof c.maxLength === 'number' ? tooBig(path, 'string', c.maxLength) : custom(path, err.message);
    case 'empty_patch':
      return custom([], EMPTY_PATCH_ISSUE);
    default:
      return custom(path, err.message);
  }
}

// ---- rendering ------------------------------------------------------------------------------------------

function bodyMessage(req: FastifyRequest): string {
  return req.routeOptions?.config?.bodyMessage ?? BAD_REQUEST;
}

/** A 400 about the route's body, in the route's own words. */
function badBody(req: FastifyRequest, issues: ZodIssue[]): H3Error {
  return h3(400, bodyMessage(req), { issues }, req.routeOptions?.config?.bodyStatusMessage);
}

export function renderDomainError(err: DomainError, req: FastifyRequest): Rendered {
  switch (err.kind) {
    case 'invalid': {
      const params = (req.params ?? {}) as Record<string, unknown>;
      const param = err.field !== undefined && Object.hasOwn(params, err.field) ? err.field : undefined;
      if (param !== undefined) {
        // A path parameter refused before validation (not a plain decimal, NUL characters).
        const raw = params[param];
        const issue = (err.reason === 'invalid_type' && typeof raw === 'string' ? paramTypeIssue([param], raw) : undefined) ?? custom([param], err.message);
        return { body: h3(400, PARAMS_MESSAGE, { issues: [issue] }) };
      }
      if (err.reason === 'password_mismatch') {
        // The product's sign-up refinement: one "Password must match" issue on each of the two fields.
        return { body: badBody(req, [custom(['password'], PASSWORD_MATCH_ISSUE), custom(['confirmPassword'], PASSWORD_MATCH_ISSUE)]) };
      }
      return { body: badBody(req, [issueOfDomain(err)]) };
    }
    case 'unauthenticated':
      // A failed login in the product's words; every other 401 is nuxt-auth-utils' plain "Unauthorized".
      return { body: h3(401, err.reason === 'login_failed' ? 'Invalid email or password' : 'Unauthorized') };
    case 'forbidden':
      return { body: h3(403, err.message || 'Forbidden') };
    case 'banned': {
      const ban = err.details?.ban;
      return { body: h3(403, err.message || 'Forbidden', ban ? { ban } : undefined) };
    }
    case 'not_found':
      return { body: h3(404, err.resource === 'user' ? 'User not found.' : 'Not Found') };
    case 'conflict': {
      // The product's sign-up wording (its PATCH answers 200 with user:null instead, which is not copied).
      const message = err.field === 'email' ? 'A user with this email already exists' : err.message;
      return { body: h3(409, message, { issues: [custom(err.field ? [err.field] : [], message)] }) };
    }
    case 'precondition_failed':
      return { body: h3(412, err.message) };
    case 'too_many_requests': {
      const retry = String(err.retryAfterSeconds ?? 60);
      return { body: h3(429, err.message), headers: { 'retry-after': retry } };
    }
    case 'unavailable':
      return { body: h3(503, 'The store cannot be reached right now; try again shortly.'), headers: { 'retry-after': String(err.retryAfterSeconds) } };
  }
}

export function renderError(error: unknown, req: FastifyRequest): Rendered {
  const domain = domainErrorOf(error);
  if (domain) {
    if (domain.kind === 'unavailable') req.log.warn({ err: domain.cause }, 'store unavailable');
    return renderDomainError(domain, req);
  }
  const err = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (err.validation) {
    const context = err.validationContext;
    const issues = issuesOfValidation(err.validation, context, req.body, req.routeOptions?.schema?.body);
    if (context === 'body') return { body: badBody(req, issues) };
    return { body: h3(400, context === 'params' ? PARAMS_MESSAGE : BAD_REQUEST, { issues }) };
  }
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return { body: badBody(req, [invalidType([], 'object', 'undefined')]) };
  }
  if (status === 400 && (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || /JSON|prototype|constructor/i.test(err.message))) {
    return { body: badBody(req, [custom([], 'Invalid JSON body')]) };
  }
  if (status === 413) return { body: h3(413, 'The request body is too large.') };
  if (status === 415) return { body: h3(415, 'Send Content-Type: application/json.') };
  if (status >= 400 && status < 500) return { body: h3(status) };
  req.log.error({ err }, 'unhandled error');
  return { body: h3(500, 'Internal Server Error') };
}

export function sendError(reply: FastifyReply, rendered: Rendered): FastifyReply {
  if (rendered.headers) reply.headers(rendered.headers);
  reply.header('cache-control', 'no-store');
  return reply.code(rendered.body.statusCode).type('application/json; charset=utf-8').send(rendered.body);
}

export function installAccountErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, req, reply) => sendError(reply, renderError(error, req)));
}

/** Unmatched /api/users/… paths (and wrong methods on the account's /api/auth routes) answer 404 in h3's shape. */
export const ACCOUNT_AUTH_PATHS = ['/api/auth/login', '/api/auth/logout', '/api/auth/check', '/api/auth/sign-up'];

export function isAccountPath(url: string): boolean {
  const path = url.split('?')[0].replace(/\/+$/, '') || '/';
  return path === '/api/users' || path.startsWith('/api/users/') || ACCOUNT_AUTH_PATHS.includes(path);
}

export function renderNotFound(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, { body: h3(404, 'Not Found') });
}

/** The OpenAPI description of h3's error body (documentation only: routes keep their own response schemas). */
export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'statusMessage', 'message'],
  additionalProperties: true,
  properties: {
    statusCode: { type: 'integer' },
    statusMessage: { type: 'string' },
    message: { type: 'string' },
    data: {
      type: 'object',
      additionalProperties: true,
      properties: { issues: { type: 'array', items: { type: 'object', additionalProperties: true, description: 'A Zod v3 issue: code, path, message, validation, …' } } },
    },
  },
} as const;
