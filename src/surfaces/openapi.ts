// What the OpenAPI document says about every operation beyond its own route schema, derived in one place
// from each route's method, URL and auth config: a stable operationId, its security requirements (the
// credential its surface takes, as the route's guard reads it) and the error responses it can give, in its
// surface's error schema. Documentation only: @fastify/swagger's `transform` works on a copy of the route
// schema, so validation and serialisation (fast-json-stringify) are not touched.
import { errorSchema as adminError } from './admin/errors.js';
import { errorSchema as accountError, isAccountPath } from './account/errors.js';
import { errorSchema as directoryError, oauthErrorSchema, directoryNotFound } from './directory/errors.js';
import { errorSchema as useradminError, isUseradminPath } from './useradmin/errors.js';

type Surface = 'admin' | 'account' | 'directory' | 'oauth' | 'useradmin' | 'ops';
type Security = Array<Record<string, string[]>>;

/**
 * One scheme per credential, named by surface, so the Authorize dialog of /docs says which is which.
 * Cookies are sent by the browser itself once signed in (the console, /api/auth/login, /auth/simple/login);
 * the bearer, API-key and OAuth2 schemes are filled in the dialog.
 */
export const securitySchemes = {
  adminToken: { type: 'http', scheme: 'bearer', description: 'Admin surface: an admin API token (POST /api/admin/api-tokens, or GATEHOUSE_INIT_API_TOKEN).' },
  adminSession: { type: 'apiKey', in: 'cookie', name: '__Host-access', description: 'Admin surface: the access cookie set by POST /api/auth/sign-in (sent by the browser).' },
  adminCsrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'Admin surface: with the access cookie, on POST/PATCH/PUT/DELETE under /api/admin/ (GET /api/auth/csrf).' },
  adminRefresh: { type: 'apiKey', in: 'cookie', name: '__Host-refresh', description: 'Admin surface: the refresh cookie set by POST /api/auth/sign-in (sent by the browser).' },
  accountSession: { type: 'apiKey', in: 'cookie', name: 'neptun-session', description: 'Account surface: the session cookie set by POST /api/auth/login (sent by the browser).' },
  directoryOAuth2: {
    type: 'oauth2',
    description: 'Directory v1: an access token from POST /oauth/token (client from POST /api/admin/oauth-clients).',
    flows: {
      password: { tokenUrl: '/oauth/token', refreshUrl: '/oauth/token', scopes: {} },
      clientCredentials: { tokenUrl: '/oauth/token', scopes: {} },
    },
  },
  directoryBearer: { type: 'http', scheme: 'bearer', description: 'Directory v1: an access token (JWT) or an admin/personal API token.' },
  directoryClient: { type: 'http', scheme: 'basic', description: 'POST /oauth/token: client_id and client_secret (or send them in the body).' },
  useradminApiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'User-admin surface: an API token, raw (as Unleash clients send it) or as "Bearer <token>".' },
  useradminSession: { type: 'apiKey', in: 'cookie', name: 'unleash-session', description: 'User-admin surface: the session cookie set by POST /auth/simple/login (sent by the browser).' },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'GET /metrics when GATEHOUSE_METRICS_TOKEN is set.' },
} as const;

const ERROR_COMPONENT: Record<Surface, string> = {
  admin: 'AdminError',
  account: 'AccountError',
  directory: 'DirectoryError',
  oauth: 'OAuthError',
  useradmin: 'UseradminError',
  ops: 'OpsError',
};

/** The error schema of each surface (each defined beside its renderer, in the surface's errors.ts). */
export const errorSchemas: Record<string, unknown> = {
  AdminError: adminError,
  AccountError: accountError,
  DirectoryError: directoryError,
  OAuthError: oauthErrorSchema,
  UseradminError: useradminError,
  OpsError: {
    type: 'object',
    additionalProperties: true,
    description: '/metrics: {error, message}; /readyz: {status, store}.',
    properties: { error: { type: 'string' }, message: { type: 'string' }, status: { type: 'string' }, store: { type: 'string' } },
  },
  IpBanned: {
    type: 'object',
    required: ['error', 'ban'],
    description: 'Any surface: the caller\'s address is banned (answered before routing, in this one shape).',
    properties: { error: { const: 'banned' }, ban: { type: 'object', additionalProperties: true } },
  },
};

export function surfaceOf(url: string): Surface {
  if (url === '/healthz' || url === '/readyz' || url === '/metrics') return 'ops';
  if (isUseradminPath(url)) return 'useradmin';
  if (isAccountPath(url)) return 'account';
  if (url.startsWith('/oauth/') || url.startsWith('/.well-known/')) return 'oauth';
  if (directoryNotFound.matches(url)) return 'directory';
  return 'admin';
}

/** `PATCH /api/admin/users/:id` → patchApiAdminUsersById: deterministic, readable, unique per method and path. */
export function operationIdOf(method: string, url: string): string {
  const words = url.split('/').filter(Boolean).flatMap((segment) => {
    const param = /^[:{]([^}]+)}?$/.exec(segment);
    const parts = (param ? param[1] : segment).split(/[^A-Za-z0-9]+/).filter(Boolean);
    return param ? ['By', ...parts] : parts;
  });
  return method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes the guards let through as "public" that still read a credential of their own (a cookie, client
 * authentication). `{}` in a list makes the credential optional.
 */
const PUBLIC_CREDENTIALS: Record<string, Security> = {
  'POST /api/auth/refresh': [{ adminRefresh: [] }],
  'GET /api/auth/csrf': [{ adminSession: [] }, { adminRefresh: [] }],
  'POST /api/auth/sign-out': [{ adminSession: [] }, { adminRefresh: [] }, {}],
  // Without a session it is a no-op that answers 200 (as the product's).
  'POST /api/auth/sign-out-all': [{ adminToken: [] }, { adminSession: [] }, { adminRefresh: [] }, {}],
  'POST /api/auth/logout': [{ accountSession: [] }, {}],
  'POST /logout': [{ useradminSession: [] }, {}],
  'GET /logout': [{ useradminSession: [] }, {}],
  'POST /oauth/token': [{ directoryClient: [] }, {}],
  'GET /metrics': [{ metricsToken: [] }, {}],
};

/** Error statuses a route answers beyond what its method, schema and auth imply (credential checks, throttles). */
const EXTRA_ERRORS: Record<string, number[]> = {
  'POST /api/auth/sign-in': [401, 429],
  'POST /api/auth/refresh': [401],
  'GET /api/auth/csrf': [401],
  'POST /api/auth/password-reset/confirm': [401],
  'POST /api/auth/verify-email': [401],
  'PATCH /api/admin/users/me/password': [401, 429],
  'POST /api/auth/login': [401, 429],
  'POST /api/auth/sign-up': [409, 429],
  'POST /oauth/token': [401, 429],
  'POST /auth/simple/login': [401, 429],
  'GET /auth/reset/validate': [401],
  'POST /auth/reset/password': [401],
  'GET /metrics': [401],
  'GET /readyz': [503],
};

interface RouteLike {
  method: string | string[];
  url: string;
  config?: Record<string, unknown>;
  schema?: Record<string, any>;
}

/** Who may call the route, as its surface's guard reads the route's config. */
function securityOf(surface: Surface, method: string, url: string, config: Record<string, unknown>): Security {
  const key = `${method} ${url}`;
  if (PUBLIC_CREDENTIALS[key]) return PUBLIC_CREDENTIALS[key];
  switch (surface) {
    case 'admin': {
      if ((config.auth ?? 'admin') === 'public') return [];
      // The CSRF header goes with the cookie on writes under /api/admin/ (src/surfaces/admin/auth.ts).
      const cookie: Record<string, string[]> = WRITE.has(method) && url.startsWith('/api/admin/') ? { adminSession: [], adminCsrf: [] } : { adminSession: [] };
      return [{ adminToken: [] }, cookie];
    }
    case 'account':
      return (config.accountAuth ?? 'session') === 'public' ? [] : [{ accountSession: [] }];
    case 'useradmin':
      return (config.useradminAuth ?? 'admin') === 'public' ? [] : [{ useradminApiKey: [] }, { useradminSession: [] }];
    case 'directory':
      return [{ directoryOAuth2: [] }, { directoryBearer: [] }];
    case 'oauth':
    case 'ops':
      return [];
  }
}

/** The error statuses a route can answer, from its surface, method, schema and security. */
function errorStatusesOf(surface: Surface, method: string, url: string, schema: Record<string, any>, security: Security): number[] {
  const s = new Set<number>(EXTRA_ERRORS[`${method} ${url}`] ?? []);
  for (const code of Object.keys(schema.response ?? {})) {
    const n = Number(code);
    if (n >= 400 && n < 600 && n !== 500) s.add(n);
  }
  if (surface === 'ops') {
    // The ip ban spares liveness and readiness only.
    if (url === '/metrics') s.add(403);
    return [...s].sort((a, b) => a - b);
  }
  // Every request but liveness/readiness is refused 403 from a banned address; every one reads the store.
  s.add(403);
  s.add(503);
  const authenticated = security.length > 0 && !security.some((r) => Object.keys(r).length === 0);
  if (authenticated) s.add(401);
  const hasBody = schema.body !== undefined || (WRITE.has(method) && method !== 'DELETE');
  const hasParams = /[:{]/.test(url);
  if (hasBody) {
    // Malformed JSON, a body over the limit, a media type the server does not read (the token endpoint
    // answers that one as RFC 6749's 400 invalid_request).
    s.add(400);
    s.add(413);
    if (surface !== 'oauth') s.add(415);
  }
  if (schema.querystring || schema.params || schema.body) s.add(surface === 'directory' ? 422 : 400);
  // A malformed id on the directory is Laravel's 404; elsewhere a 400 (above).
  if (hasParams) s.add(404);
  // Every /api/v1 route resolves the X-Tenant header: an unknown tenant is 404, a malformed one 422.
  if (surface === 'directory') {
    s.add(404);
    s.add(422);
  }
  // Writes to resources can meet a taken name or the last-admin rule; sign-in and session routes cannot.
  const sessionRoute = url.startsWith('/api/auth/') || url.startsWith('/auth/') || url === '/logout' || url.endsWith('/validate-password');
  if (authenticated && WRITE.has(method) && !sessionRoute) s.add(409);
  if (WRITE.has(method) && schema.headers?.properties?.['if-match']) s.add(412);
  return [...s].sort((a, b) => a - b);
}

const REASON: Record<number, string> = {
  400: 'Bad request: malformed JSON or a value that breaks the schema',
  401: 'Missing, invalid or expired credentials',
  403: 'Not allowed (permission, CSRF, cross-site cookie write) or a banned caller',
  404: 'Not found',
  409: 'Conflicts with the current state (a name taken, the last admin)',
  412: 'If-Match does not match the current ETag',
  413: 'The body is over the size limit',
  415: 'Unsupported Content-Type: send application/json',
  422: 'Validation failed',
  429: 'Too many attempts: wait for Retry-After seconds',
  503: 'The store cannot be reached: retry after Retry-After seconds',
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** @fastify/swagger `transform`: the route's schema as documented (a copy), with id, security and errors. */
export function documentRoute({ schema, url, route }: { schema: any; url: string; route: RouteLike }): { schema: any; url: string } {
  if (!schema || schema.hide) return { schema, url };
  const method = (Array.isArray(route.method) ? route.method[0] : route.method).toUpperCase();
  const surface = surfaceOf(url);
  // Always derived (a route's own `security` would be a second source of truth).
  const security = securityOf(surface, method, url, route.config ?? {});
  const errors = errorStatusesOf(surface, method, url, schema, security);
  return {
    url,
    schema: { ...schema, operationId: schema.operationId ?? operationIdOf(method, url), security, 'x-gatehouse-errors': { surface, errors } },
  };
}

/**
 * @fastify/swagger `transformObject`: writes each operation's error responses as $refs to its surface's error
 * schema (the 403 also as the ip-ban body every surface answers), adds the schemas and security schemes, and
 * asserts that operationIds are unique.
 */
export function documentErrors({ openapiObject }: { openapiObject: any }): any {
  const seen = new Map<string, string>();
  for (const [path, item] of Object.entries<any>(openapiObject.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      if (op.operationId) {
        const other = seen.get(op.operationId);
        if (other) throw new Error(`OpenAPI: operationId ${op.operationId} of ${method.toUpperCase()} ${path} is also ${other}'s`);
        seen.set(op.operationId, `${method.toUpperCase()} ${path}`);
      }
      const meta = op['x-gatehouse-errors'] as { surface: Surface; errors: number[] } | undefined;
      delete op['x-gatehouse-errors'];
      if (!meta) continue;
      const name = ERROR_COMPONENT[meta.surface];
      for (const status of meta.errors) {
        const own = op.responses[String(status)];
        const schema = status !== 403 ? ref(name) : meta.surface === 'ops' ? ref('IpBanned') : { anyOf: [ref(name), ref('IpBanned')] };
        const headers = status === 429 || status === 503 ? { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } } : undefined;
        op.responses[String(status)] = {
          description: own?.description && own.description !== 'Default Response' ? own.description : REASON[status] ?? 'Error',
          ...(headers ? { headers } : {}),
          content: { 'application/json': { schema } },
        };
      }
    }
  }
  openapiObject.components = openapiObject.components ?? {};
  openapiObject.components.schemas = { ...openapiObject.components.schemas, ...errorSchemas };
  return openapiObject;
}
