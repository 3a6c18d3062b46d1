// Helpers for the user-admin surface tests (seed 004, Unleash).
import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from './helpers/harness.js';
import { http, type Req, type Res } from './helpers/http.js';
import { uniqueEmail } from './helpers/admin.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const STRONG = 'Str0ng-pass!word';
export const USER_KEYS = ['id', 'name', 'email', 'username', 'imageUrl', 'loginAttempts', 'emailSent', 'rootRole', 'seenAt', 'createdAt', 'accountType', 'permissions'];

/** A request with the admin API token sent raw, as Unleash clients send it. */
export function ua(base: string, path: string, req: Req = {}): Promise<Res> {
  return http(base, path, { ...req, headers: { authorization: ADMIN_TOKEN, ...(req.headers ?? {}) } });
}

/** Asserts Unleash's error shape: {id: uuid, name, message, details?}. */
export function assertError(res: Res, status: number, name: string): void {
  assert.equal(res.status, status, `expected ${status} ${name}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.match(res.body.id, UUID_RE, 'error id is a uuid');
  assert.equal(res.body.name, name);
  assert.equal(typeof res.body.message, 'string');
  assert.ok(res.body.message.length > 0);
  if (res.body.details !== undefined) {
    assert.ok(Array.isArray(res.body.details));
    for (const d of res.body.details) assert.equal(typeof d.message, 'string');
  }
  assert.ok(!/at .+\.(ts|js):\d+/.test(res.text), 'no stack trace');
}

export async function createUa(base: string, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await ua(base, '/api/admin/user-admin', { body: { email: uniqueEmail('ua'), rootRole: 'Editor', ...fields } });
  assert.equal(res.status, 201, `create failed: ${res.text}`);
  return res.body;
}

/** Signs in at /auth/simple/login and returns the Cookie header value. */
export async function login(base: string, username: string, password: string): Promise<string> {
  const res = await http(base, '/auth/simple/login', { body: { username, password } });
  assert.equal(res.status, 200, `login failed: ${res.text}`);
  const value = res.cookies['unleash-session'];
  assert.ok(value, 'unleash-session cookie set');
  return `unleash-session=${value}`;
}
