// Directory v1 helpers: tenants, roles, members and OAuth clients through the admin API; tokens from
// /oauth/token; requests to /api/v1 with a bearer token and X-Tenant.
import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from './harness.js';
import { http, type Res } from './http.js';
import { createUser, uniqueEmail } from './admin.js';

export const ALL_PERMISSIONS = ['users.view', 'users.create', 'users.update', 'users.delete', 'roles.assign'];

let n = 0;
export async function createTenant(base: string, name = `Tenant ${process.pid}.${++n}.${Date.now().toString(36)}`): Promise<{ id: number; name: string }> {
  const res = await http(base, '/api/admin/tenants', { token: ADMIN_TOKEN, body: { name } });
  assert.equal(res.status, 201, res.text);
  return res.body.item;
}

export async function createRole(base: string, tenantId: number, name: string, permissions: string[]): Promise<{ id: number; name: string; permissions: string[] }> {
  const res = await http(base, `/api/admin/tenants/${tenantId}/roles`, { token: ADMIN_TOKEN, body: { name, permissions } });
  assert.equal(res.status, 201, res.text);
  return res.body.item;
}

export async function addMember(base: string, tenantId: number, userId: number, roleIds: number[] = []): Promise<void> {
  const res = await http(base, `/api/admin/tenants/${tenantId}/members`, { token: ADMIN_TOKEN, body: { user_id: userId, role_ids: roleIds } });
  assert.equal(res.status, 201, res.text);
}

export interface Client {
  id: number;
  client_id: string;
  secret: string;
  service_user_id: number | null;
}

export async function createClient(base: string, grantTypes = ['password', 'refresh_token']): Promise<Client> {
  const res = await http(base, '/api/admin/oauth-clients', { token: ADMIN_TOKEN, body: { name: `client ${++n}`, grant_types: grantTypes } });
  assert.equal(res.status, 201, res.text);
  return { id: res.body.item.id, client_id: res.body.item.client_id, secret: res.body.client_secret, service_user_id: res.body.item.service_user_id };
}

/** POST /oauth/token with a form body (as OAuth clients send it). */
export function tokenRequest(base: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
  return http(base, '/oauth/token', {
    raw: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

export async function passwordToken(base: string, client: Client, username: string, password: string): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const res = await tokenRequest(base, { grant_type: 'password', client_id: client.client_id, client_secret: client.secret, username, password });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

export interface Member {
  id: number;
  email: string;
  password: string;
  token: string;
  refresh: string;
}

/** A new user, member of `tenantId` with `roleIds`, signed in through the password grant. */
export async function member(base: string, client: Client, tenantId: number, roleIds: number[], fields: Record<string, unknown> = {}): Promise<Member> {
  const password = 'member-password-1';
  const email = uniqueEmail('member');
  const u = await createUser(base, { email, password, ...fields });
  await addMember(base, tenantId, u.id, roleIds);
  const t = await passwordToken(base, client, email, password);
  return { id: u.id, email, password, token: t.access_token, refresh: t.refresh_token };
}

export interface V1Req {
  method?: string;
  token?: string;
  tenant?: number | string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** A request to /api/v1 with a bearer token and (unless `tenant` is undefined) X-Tenant. */
export function v1(base: string, path: string, r: V1Req = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (r.tenant !== undefined) headers['x-tenant'] = String(r.tenant);
  if (r.raw !== undefined) headers['content-type'] ??= 'application/json';
  return http(base, `/api/v1${path}`, { method: r.method, token: r.token, body: r.body, raw: r.raw, headers });
}

export const USER_RESOURCE_KEYS = [
  'id', 'name', 'email', 'title', 'phone', 'emergency_contact_name', 'emergency_contact_surname', 'emergency_contact_phone_number',
  'blood_group', 'language', 'avatar_url', 'is_active', 'bio', 'last_login_at', 'last_login_ip', 'created_at', 'updated_at',
  'deleted_at', 'roles',
];
