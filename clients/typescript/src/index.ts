// The typed Gatehouse client: openapi-fetch over the types generated from the server's OpenAPI document
// (schema.d.ts, by scripts/generate-client.sh). Every path, parameter, body and answer of the four surfaces
// is typed; a credential is given once per client:
//   const gh = gatehouseClient('https://id.example.com', { bearer: process.env.GATEHOUSE_TOKEN });
//   const { data, error } = await gh.PATCH('/api/admin/users/{id}', { params: { path: { id: 2 } }, body: { name: 'Jane' } });
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
export type GatehouseClient = Client<paths>;

export interface Credentials {
  /** An admin API token, personal access token or OAuth access token: `Authorization: Bearer …`. */
  bearer?: string;
  /** An admin API token as the user-admin surface's clients send it: the raw `Authorization` value. */
  apiKey?: string;
  /** Cookies to send as they are (`neptun-session=…`, `unleash-session=…`, `__Host-access=…`). */
  cookie?: string;
  /** The admin session's CSRF token (`GET /api/auth/csrf`), sent on writes. */
  csrfToken?: string;
  /** The directory surface's tenant. */
  tenant?: number;
}

export function gatehouseClient(baseUrl: string, credentials: Credentials = {}, options: Omit<ClientOptions, 'baseUrl'> = {}): GatehouseClient {
  const headers: Record<string, string> = {};
  if (credentials.bearer) headers.authorization = `Bearer ${credentials.bearer}`;
  else if (credentials.apiKey) headers.authorization = credentials.apiKey;
  if (credentials.cookie) headers.cookie = credentials.cookie;
  if (credentials.csrfToken) headers['x-csrf-token'] = credentials.csrfToken;
  if (credentials.tenant !== undefined) headers['x-tenant'] = String(credentials.tenant);
  return createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, ''), headers: { ...headers, ...(options.headers as Record<string, string> | undefined) } });
}
