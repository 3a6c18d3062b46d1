import { MAX_ID, isAdminRole, rootRoleName, type ApiToken, type UserCursor, type UserSummary } from '../../core/index.js';

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

/**
 * A page cursor of the admin surface: "<kind>:<id>", base64url (u: users in id order, a: aliases, b: bans).
 * A search page's cursor also carries its key: "s:<id>:<key>" (see encodeUserCursor).
 */
export function encodeIdCursor(kind: 'u' | 'a' | 'b', id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

/** The id a cursor of this kind carries; undefined when it is not one, or its id is past any row's. */
export function decodeIdCursor(kind: 'u' | 'a' | 'b', cursor: string): number | undefined {
  const m = /^([uab]):(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || m[1] !== kind) return undefined;
  const id = Number(m[2]);
  return id <= MAX_ID ? id : undefined;
}

/** The users list's cursor: an id in id order, or, after a search page, the key and id in search order. */
export function encodeUserCursor(c: UserCursor): string {
  return c.key === undefined ? encodeIdCursor('u', c.id) : Buffer.from(`s:${c.id}:${c.key}`).toString('base64url');
}

export function decodeUserCursor(cursor: string): UserCursor | undefined {
  const m = /^s:(\d{1,10}):([^]*)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) {
    const id = decodeIdCursor('u', cursor);
    return id === undefined ? undefined : { id };
  }
  const id = Number(m[1]);
  return id <= MAX_ID ? { id, key: m[2] } : undefined;
}

const QUERY_FLAGS = ['active', 'is_active', 'is_admin'];
const BODY_FLAGS = ['active', 'is_active', 'is_admin', 'revoked', 'disable_matching_aliases'];
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/**
 * The list filters active / is_active / is_admin take what the product's query DTOs take: 1/0, true/false,
 * yes/no, on/off, in any case, trimmed. Rewritten to true/false before validation; anything else is left for
 * validation to refuse.
 */
export function normalizeQueryFlags(query: unknown): void {
  if (!query || typeof query !== 'object') return;
  const q = query as Record<string, unknown>;
  for (const key of QUERY_FLAGS) {
    const v = q[key];
    if (typeof v !== 'string') continue;
    const word = v.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) q[key] = 'true';
    else if (FALSE_WORDS.has(word)) q[key] = 'false';
  }
}

/**
 * The body flags the product's DTOs turn into booleans from words as well ("1"/"0", "true"/"false", "yes"/"no",
 * "on"/"off", any case, trimmed): rewritten to true/false before validation. JSON true/false and 1/0 pass as
 * they are; anything else is left for validation to refuse.
 */
export function normalizeBodyFlags(body: unknown): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const b = body as Record<string, unknown>;
  for (const key of BODY_FLAGS) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) continue;
    const v = b[key];
    if (typeof v !== 'string') continue;
    const word = v.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) b[key] = true;
    else if (FALSE_WORDS.has(word)) b[key] = false;
  }
}
