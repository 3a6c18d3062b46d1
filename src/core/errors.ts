// Typed domain errors. Core services throw these; each surface renders them in its own contract's shape.
export type ErrorKind =
  | 'invalid' // 400 (422 on the directory surface)
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'banned' // 403 with the ban
  | 'not_found' // 404
  | 'conflict' // 409
  | 'precondition_failed' // 412
  | 'too_many_requests'; // 429

export const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  banned: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_many_requests: 429,
};

export interface DomainErrorInit {
  field?: string;
  reason?: string;
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
  readonly reason?: string;
  readonly hint?: string;
  readonly constraints?: Record<string, unknown>;
  readonly permission?: string;
  readonly resource?: string;
  readonly retryAfterSeconds?: number;
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, init: DomainErrorInit = {}) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    Object.assign(this, init);
  }

  get status(): number {
    return STATUS_OF[this.kind];
  }
}

export function invalid(field: string, reason: string, message: string, extra: Omit<DomainErrorInit, 'field' | 'reason'> = {}): DomainError {
  return new DomainError('invalid', message, { field, reason, ...extra });
}

export function notFound(resource: string, message = `The requested ${resource} was not found`): DomainError {
  return new DomainError('not_found', message, { resource, reason: `${resource}_not_found` });
}

export function conflict(field: string, reason: string, message: string): DomainError {
  return new DomainError('conflict', message, { field, reason });
}

export function forbidden(reason: string, message: string, permission?: string): DomainError {
  return new DomainError('forbidden', message, { reason, permission });
}

export function unauthenticated(reason: string, message = 'Authentication required'): DomainError {
  return new DomainError('unauthenticated', message, { reason });
}

export function preconditionFailed(message = 'The resource has changed since it was read (If-Match does not match its ETag)'): DomainError {
  return new DomainError('precondition_failed', message, { reason: 'stale_etag' });
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
