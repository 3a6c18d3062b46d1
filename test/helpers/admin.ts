// Admin-surface helpers: sign in, get the CSRF token, create users.
import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from './harness.js';
import { cookieHeader, http, type Res } from './http.js';

export interface AdminSession {
  cookie: string;
  access: string;
  refresh: string;
  csrf: string;
  familyId: string;
  userId: number;
}

export async function signIn(base: string, identifier: string, password: string): Promise<AdminSession> {
  const res = await http(base, '/api/auth/sign-in', { body: { identifier, password } });
  assert.equal(res.status, 200, `sign-in failed: ${res.text}`);
  const access = res.cookies['__Host-access'];
  const refresh = res.cookies['__Host-refresh'];
  const cookie = cookieHeader({ '__Host-access': access, '__Host-refresh': refresh });
  const csrf = await http(base, '/api/auth/csrf', { cookie });
  assert.equal(csrf.status, 200, csrf.text);
  return { cookie, access, refresh, csrf: csrf.body.csrf_token, familyId: res.body.session.session_family_id, userId: res.body.user.id };
}

/** A request as a signed-in admin (cookie + CSRF). */
export function asSession(s: AdminSession, extra: Record<string, string> = {}) {
  return { cookie: s.cookie, headers: { 'x-csrf-token': s.csrf, ...extra } };
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}.${process.pid}.${Date.now().toString(36)}.${counter}@example.com`;
}

export async function createUser(base: string, fields: Record<string, unknown> = {}): Promise<any> {
  const res: Res = await http(base, '/api/admin/users', {
    token: ADMIN_TOKEN,
    body: { email: uniqueEmail(), password: 'password-123', ...fields },
  });
  assert.equal(res.status, 201, `create user failed: ${res.text}`);
  return res.body.item;
}
