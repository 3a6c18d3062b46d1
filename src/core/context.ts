// Who is acting (Principal) and from where (RequestContext). Every mutating core call takes both.
import type { SurfaceName } from '../platform/config.js';

export interface RequestContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
  surface: SurfaceName | 'system';
  /** What the request read ahead with its credentials (core/auth/read-ahead.ts), for the core to take instead of reading again. */
  reads?: ReadCache;
}

/** Rows a request has already read, by what was read; each taken at most once. */
export interface ReadCache {
  take(key: string): { value: unknown } | undefined;
}

export type Principal =
  | {
      kind: 'user';
      userId: number;
      sessionId: string | null;
      rootRoleId: number;
      permissions: ReadonlySet<string>;
      label: string;
    }
  | {
      kind: 'api_token';
      tokenId: number;
      /** Personal tokens act for their owner; admin tokens have no user. */
      userId: number | null;
      /** Admin tokens: the user whose current power the token has (null: made by the system). */
      creatorUserId?: number | null;
      permissions: ReadonlySet<string>;
      label: string;
    }
  | { kind: 'system'; label: string };

export const ADMIN_PERMISSION = 'ADMIN';

export function hasPermission(principal: Principal, permission: string): boolean {
  if (principal.kind === 'system') return true;
  return principal.permissions.has(ADMIN_PERMISSION) || principal.permissions.has(permission);
}

export function isAdminPrincipal(principal: Principal): boolean {
  return principal.kind === 'system' || principal.permissions.has(ADMIN_PERMISSION);
}

export function actorOf(principal: Principal): { type: string; id: string | null; label: string } {
  switch (principal.kind) {
    case 'user':
      return { type: 'user', id: String(principal.userId), label: principal.label };
    case 'api_token':
      return { type: 'api_token', id: String(principal.tokenId), label: principal.label };
    case 'system':
      return { type: 'system', id: null, label: principal.label };
  }
}

export const SYSTEM_CONTEXT: RequestContext = { ip: '127.0.0.1', userAgent: null, requestId: 'system', surface: 'system' };
export const SYSTEM_PRINCIPAL: Principal = { kind: 'system', label: 'system' };
