// Account-surface helpers (seed 002): sign up / log in and carry the neptun-session cookie.
import assert from 'node:assert/strict';
import { http, type Res } from './helpers/http.js';

export const SESSION_COOKIE = 'neptun-session';
export const UPDATE_BODY_MESSAGE = 'Invalid body(?email, ?password). At least one of email or password is required.';

export interface AccountSession {
  id: number;
  email: string;
  token: string;
  cookie: string;
}

export function sessionOf(res: Res): AccountSession {
  const token = res.cookies[SESSION_COOKIE];
  assert.ok(token, `no ${SESSION_COOKIE} cookie: ${res.status} ${res.text}`);
  return { id: res.body.user.id, email: res.body.user.primary_email, token, cookie: `${SESSION_COOKIE}=${token}` };
}

export async function signUp(base: string, email: string, password = 'password-123'): Promise<AccountSession> {
  const res = await http(base, '/api/auth/sign-up', { body: { email, password } });
  assert.equal(res.status, 200, `sign-up failed: ${res.text}`);
  return sessionOf(res);
}

export async function logIn(base: string, email: string, password: string): Promise<AccountSession> {
  const res = await http(base, '/api/auth/login', { body: { email, password } });
  assert.equal(res.status, 200, `login failed: ${res.text}`);
  return sessionOf(res);
}

/** A cookie header with a new token for the same session (after a refresh). */
export function withToken(s: AccountSession, token: string): AccountSession {
  return { ...s, token, cookie: `${SESSION_COOKIE}=${token}` };
}

/** Asserts h3's error shape exactly: {statusCode, statusMessage, message, data?}. */
export function assertH3(res: Res, status: number, opts: { message?: string; statusMessage?: string; data?: boolean } = {}): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const keys = Object.keys(res.body).sort();
  const withData = opts.data ?? keys.includes('data');
  assert.deepEqual(keys, withData ? ['data', 'message', 'statusCode', 'statusMessage'] : ['message', 'statusCode', 'statusMessage']);
  assert.equal(res.body.statusCode, status);
  assert.equal(typeof res.body.statusMessage, 'string');
  assert.equal(typeof res.body.message, 'string');
  if (opts.statusMessage !== undefined) assert.equal(res.body.statusMessage, opts.statusMessage);
  if (opts.message !== undefined) assert.equal(res.body.message, opts.message);
  if (opts.data) assert.ok(Array.isArray(res.body.data.issues), 'data.issues is an array');
}
