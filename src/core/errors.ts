// Typed domain errors. Core services throw these; each surface renders them in its own contract's shape.
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from '../store/sql.js';
import type { Reason, Resource } from './reasons.js';

export type { Reason, Resource } from './reasons.js';

export type ErrorKind =
  | 'invalid' // 400 (422 on the directory surface)
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'banned' // 403 with the ban
  | 'not_found' // 404
  | 'conflict' // 409
  | 'precondition_failed' // 412
  | 'too_many_requests' // 429
  | 'unavailable'; // 503 with Retry-After: the store is busy or unreachable, through no fault of the request

export const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  banned: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_many_requests: 429,
  unavailable: 503,
};

export interface DomainErrorInit {
  field?: string;
  reason?: Reason;
  hint?: string;
  constraints?: Record<string, unknown>;
  permission?: string;
  resource?: string;
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly reason?: Reason;
  readonly hint?: string;
  readonly constraints?: Record<string, unknown>;
  readonly permission?: string;
  readonly resource?: string;
  readonly retryAfterSeconds?: number;
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, init: DomainErrorInit = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.kind = kind;
    Object.assign(this, init);
  }

  get status(): number {
    return STATUS_OF[this.kind];
  }
}

export function invalid(field: string, reason: Reason, message: string, extra: Omit<DomainErrorInit, 'field' | 'reason'> = {}): DomainError {
  return new DomainError('invalid', message, { field, reason, ...extra });
}

export function notFound(resource: Resource, message = `The requested ${resource} was not found`): DomainError {
  return new DomainError('not_found', message, { resource, reason: `${resource}_not_found` });
}

export function conflict(field: string, reason: Reason, message: string): DomainError {
  return new DomainError('conflict', message, { field, reason });
}

export function forbidden(reason: Reason, message: string, permission?: string): DomainError {
  return new DomainError('forbidden', message, { reason, permission });
}

export function unauthenticated(reason: Reason, message = 'Authentication required'): DomainError {
  return new DomainError('unauthenticated', message, { reason });
}

export function preconditionFailed(message = 'The resource has changed since it was read (If-Match does not match its ETag)'): DomainError {
  return new DomainError('precondition_failed', message, { reason: 'stale_etag' });
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/**
 * The store cannot serve right now (PostgreSQL unreachable or restarting, too many connections, SQLite busy
 * past its timeout, the store closed under a request): 503 with Retry-After on every surface. `cause` is
 * the store's own error, for the log line (never the response).
 */
export function unavailable(cause?: unknown): DomainError {
  return new DomainError('unavailable', 'The store cannot be reached right now; try again shortly', {
    reason: 'store_unavailable',
    retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
  }, { cause });
}

/**
 * The core's word on an error a request ended with: a DomainError as it is; a store that cannot serve as an
 * `unavailable` DomainError; anything else (a framework or programming error) undefined. Each surface's
 * error renderer asks this first.
 */
export function domainErrorOf(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  if (isStoreUnavailable(err)) return unavailable(err);
  return undefined;
}
