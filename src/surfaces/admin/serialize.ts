import { MAX_ID } from '../../store/sql.js';
import { isAdminRole, rootRoleName } from '../../core/roles/index.js';
import type { ApiToken } from '../../core/tokens/index.js';
import type { UserCursor, UserSummary } from '../../core/users/types.js';

export function userItem(u: UserSummary) {
  return {
    id: u.id,
    username: u.username,
    name: u.name,
    email: u.email,
    email_verified_at: u.emailVerifiedAt,
    // The page's example shows an integer; clients read 1/0.
    is_active: u.isActive ? 1 : 0,
    is_admin: isAdminRole(u.rootRoleId),
    root_role: rootRoleName(u.rootRoleId),
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    last_login_at: u.lastLoginAt,
  };
}

export function tokenItem(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    user_id: t.userId,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    last_used_at: t.lastUsedAt,
  };
}

export function encodeCursor(id: number): string {
  return Buffer.from(`u:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  const m = /^u:(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * The users list's cursor: "u:<id>" after a page in id order, "s:<id>:<key>" after a search page (search
 * order is by the matching key, then id), base64url.
 */
export function encodeUserCursor(c: UserCursor): string {
  return Buffer.from(c.key === undefined ? `u:${c.id}` : `s:${c.id}:${c.key}`).toString('base64url');
}

export function decodeUserCursor(cursor: string): UserCursor | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(?:u:(\d{1,10})|s:(\d{1,10}):([^]*))$/.exec(text);
  if (!m) return undefined;
  const id = Number(m[1] ?? m[2]);
  if (id > MAX_ID) return undefined;
  return m[3] === undefined ? { id } : { id, key: m[3] };
}
