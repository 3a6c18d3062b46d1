// Property-based requests generated from the server's own OpenAPI document (fast-check): for every
// operation, well-formed requests and requests with wrong types, missing and extra fields, huge and odd
// strings, bad ids, odd headers and content types. The property: never a 5xx, and every error in the
// documented shape of the surface that answered it. Used by test/fuzz.test.ts (a fixed-seed sample, part of
// `npm test`) and test/tools/fuzz.ts (`npm run fuzz`: thousands of requests per surface).
import fc from 'fast-check';

/**
 * The fuzzed server's throttles are opened wide: generated sign-ins fail by the thousand from one address,
 * and the run's own set-up signs in again and again (the throttles have their own tests).
 */
export const FUZZ_ENV: Record<string, string> = {
  GATEHOUSE_LOGIN_MAX_FAILURES: '1000000',
  GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
  GATEHOUSE_SIGNUP_MAX_PER_ADDRESS: '1000000',
};

export type Surface = 'admin' | 'account' | 'directory' | 'useradmin' | 'platform';

type Schema = Record<string, any>;

export interface Operation {
  method: string;
  path: string;
  surface: Surface;
  parameters: Array<{ name: string; in: string; required?: boolean; schema: Schema }>;
  body?: Schema;
}

export interface Credentials {
  /** Admin API token (admin, directory and user-admin bearer). */
  adminToken: string;
  /** Admin cookie session and its CSRF token. */
  adminCookie: string;
  csrf: string;
  /** A signed-in account-surface user and their id. */
  accountCookie: string;
  accountUserId: number;
  /** A user-admin session cookie. */
  unleashCookie: string;
  /** A tenant id the admin token may act in. */
  tenantId: number;
}

export interface FuzzRequest {
  op: Operation;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Which surface answers a path (its error shape). */
export function surfaceOf(path: string): Surface {
  if (path === '/healthz' || path === '/readyz' || path === '/metrics' || path.startsWith('/.well-known')) return 'platform';
  if (path.startsWith('/api/admin/user-admin') || path === '/api/admin/events' || path.startsWith('/api/admin/user/') || path === '/api/admin/user'
    || path.startsWith('/auth/') || path === '/logout') return 'useradmin';
  if (path.startsWith('/api/v1/') || path === '/oauth/token') return 'directory';
  if (path.startsWith('/api/users/') || ['/api/auth/login', '/api/auth/sign-up', '/api/auth/logout', '/api/auth/check'].includes(path)) return 'account';
  return 'admin';
}

/** Every operation of the document (HEAD, docs and the metrics endpoint excluded: they have no error shape to check). */
export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) continue;
      const body = op.requestBody?.content?.['application/json']?.schema ?? op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
      ops.push({ method: method.toUpperCase(), path, surface: surfaceOf(path), parameters: op.parameters ?? [], body });
    }
  }
  return ops;
}

// ------------------------------------------------------------------ values

/** Strings that have broken servers: control and format characters, lone surrogates, long runs, injection. */
const ODD_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', '\u202eabc', 'a\u200bb', '\ufeff', '𝐚𝐥𝐢𝐜𝐞', 'ａｄｍｉｎ', '😀'.repeat(50),
  "' OR 1=1 --", '"; DROP TABLE users; --', '%00', '%', '../../etc/passwd', '<script>alert(1)</script>', 'javascript:alert(1)',
  '__proto__', 'constructor', 'null', 'undefined', 'NaN', '-1', '0', '1e309', '9'.repeat(40), '{"a":1}', '[]',
  'x'.repeat(256), 'x'.repeat(1025), 'é'.repeat(300), 'a@b', 'user@example.com', 'USER@EXAMPLE.COM', '@', 'a'.repeat(64) + '@example.com',
];

const oddString = fc.oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 20 }));

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), oddString,
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 31, 2 ** 53 + 1, 1e308, -0),
  fc.array(fc.oneof(fc.integer(), oddString), { maxLength: 4 }),
  fc.dictionary(oddString, fc.oneof(fc.integer(), oddString), { maxKeys: 3 }),
);

/** Loopback addresses (and the run's own users' domain) are never banned by a generated body: the run would ban itself. */
const SAFE_IP = fc.constantFrom('203.0.113.7', '198.51.100.0/24', '2001:db8::1', '::ffff:203.0.113.9', '10.9.8.7', '300.1.1.1', 'not-an-ip');

function fromSchema(schema: Schema | undefined, name = ''): fc.Arbitrary<unknown> {
  if (!schema) return anyJson;
  if (schema.anyOf || schema.oneOf) return fc.oneof(...(schema.anyOf ?? schema.oneOf).map((s: Schema) => fromSchema(s, name)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((t) => fromSchema({ ...schema, type: t }, name)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 100, 100) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -100, max: schema.maximum ?? 100, noNaN: true });
    case 'string': {
      if (/ip|ban_value/.test(name)) return fc.oneof(SAFE_IP, fc.constantFrom('spam@spam.example', 'spam.example', 'mallory'));
      if (/email|identifier|username/.test(name)) return fc.oneof(fc.emailAddress(), fc.constantFrom('fuzz.user@example.com', 'root'), oddString);
      if (/password/.test(name)) return fc.constantFrom('password-123', 'short', 'x'.repeat(200), 'fuzz-password-1');
      const max = Math.min(schema.maxLength ?? 40, 80);
      return fc.oneof(fc.string({ minLength: Math.min(schema.minLength ?? 0, max), maxLength: max }), oddString);
    }
    case 'array':
      return fc.array(fromSchema(schema.items, name), { maxLength: 4 });
    case 'object': {
      const props: Record<string, Schema> = schema.properties ?? {};
      const keys = Object.keys(props);
      if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 });
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const k of keys) record[k] = fromSchema(props[k], k);
      return fc.record(record, { requiredKeys: [] });
    }
    default:
      return anyJson;
  }
}

/** A body: mostly from the schema, sometimes mutated (wrong types, extra and prototype keys, nesting), sometimes raw. */
function bodyArb(schema: Schema | undefined): fc.Arbitrary<{ text: string; contentType: string }> {
  const json = (v: unknown) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' });
  const valid = fromSchema(schema ?? { type: 'object' });
  const props = Object.keys(schema?.properties ?? {});
  const mutated = fc.tuple(valid, fc.constantFrom(...(props.length ? props : ['x'])), anyJson).map(([v, k, bad]) => {
    const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as object) } : {};
    return { ...o, [k]: bad };
  });
  return fc.oneof(
    { weight: 5, arbitrary: valid.map(json) },
    { weight: 4, arbitrary: mutated.map(json) },
    { weight: 1, arbitrary: valid.map((v) => ({ text: JSON.stringify(v)?.replace(/^\{/, '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},') ?? '{}', contentType: 'application/json' })) },
    { weight: 1, arbitrary: anyJson.map(json) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { text: '{', contentType: 'application/json' },
        { text: '', contentType: 'application/json' },
        { text: '{"a":1}{"b":2}', contentType: 'application/json' },
        { text: '{"email":"a@b.co","email":"c@d.co"}', contentType: 'application/json' },
        { text: 'email=a%40b.co&password=x', contentType: 'application/x-www-form-urlencoded' },
        { text: 'hello', contentType: 'text/plain' },
        { text: '{"a":1}', contentType: 'application/json; charset=latin1' },
        { text: '{"a":1}', contentType: 'application/vnd.api+json' },
        { text: '<a/>', contentType: 'application/xml' },
        { text: '[' .repeat(5000), contentType: 'application/json' },
        { text: JSON.stringify({ username: 'x'.repeat(70_000) }), contentType: 'application/json' },
        { text: '\u0000\u0001\u0002', contentType: 'application/octet-stream' },
      ),
    },
  );
}

// Id 1 is the first admin and the init API token: changing or deleting them would end the run's own access.
const ID_VALUES = ['2', '3', '5', '8', '13', '0', '-1', '2147483647', '2147483648', '9007199254740993', 'abc', '1.5', '1e3', '%00', ' 1', '0x10', '9'.repeat(30), 'me', '00000000-0000-0000-0000-000000000000'];

function paramValue(p: { name: string; schema: Schema }): fc.Arbitrary<string> {
  const fromS = fromSchema(p.schema, p.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? ''));
  if (p.schema?.type === 'integer' || /id$/.test(p.name)) {
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ID_VALUES) }, { weight: 1, arbitrary: fromS.filter((v) => v.trim() !== '1') });
  }
  return fc.oneof({ weight: 3, arbitrary: fromS }, { weight: 1, arbitrary: oddString });
}

/** The credential headers for a surface, sometimes wrong or missing. */
function credentialArb(op: Operation, c: Credentials): fc.Arbitrary<Record<string, string>> {
  const right: Record<string, string>[] = [];
  if (op.surface === 'admin') {
    right.push({ authorization: `Bearer ${c.adminToken}` }, { cookie: c.adminCookie, 'x-csrf-token': c.csrf });
  } else if (op.surface === 'account') {
    right.push({ cookie: c.accountCookie });
  } else if (op.surface === 'directory') {
    right.push({ authorization: `Bearer ${c.adminToken}`, 'x-tenant': String(c.tenantId) });
  } else if (op.surface === 'useradmin') {
    right.push({ authorization: c.adminToken }, { cookie: c.unleashCookie });
  } else right.push({});
  const wrong = fc.constantFrom<Record<string, string>>(
    {},
    { authorization: 'Bearer gha_not_a_real_token_000000000000000000' },
    { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' },
    { authorization: 'Basic Zm9vOmJhcg==' },
    { cookie: '__Host-access=garbage; neptun-session=garbage; unleash-session=garbage' },
    { cookie: c.adminCookie },
    { cookie: c.adminCookie, 'x-csrf-token': 'wrong' },
    { authorization: `Bearer ${c.adminToken}`, 'x-tenant': '999999' },
    { authorization: `Bearer ${c.adminToken}`, 'x-tenant': 'abc' },
  );
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...right) }, { weight: 1, arbitrary: wrong });
}

const extraHeaders = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Record<string, string>>({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'if-match': '"v0"' }, { 'if-match': '*' }, { 'if-match': 'W/"1"' }, { 'if-match': 'garbage' },
      { 'x-request-id': 'x'.repeat(300) }, { 'accept': 'text/html' }, { 'accept-encoding': 'gzip, br' },
      { 'x-forwarded-for': '203.0.113.1' }, { origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' },
    ),
  },
);

/** A path segment as sent: percent-encoded (a lone surrogate as its replacement character), `%xx` kept raw. */
function encodePathValue(v: string): string {
  const wellFormed = (v as string & { toWellFormed(): string }).toWellFormed();
  return encodeURIComponent(wellFormed).replace(/%25/g, '%');
}

/** Requests for one operation. `accountUserId` fills `{user_id}` half the time so the account routes go deep. */
export function requestArb(op: Operation, c: Credentials): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const pathArb = fc.tuple(...pathParams.map((p) => (p.name === 'user_id' ? fc.oneof(fc.constant(String(c.accountUserId)), paramValue(p)) : paramValue(p))));
  const queryArb = fc.tuple(...queryParams.map((p) => fc.option(paramValue(p), { nil: undefined, freq: 2 })));
  const hasBody = op.method !== 'GET' && op.method !== 'HEAD' && op.method !== 'DELETE';
  const body = hasBody ? fc.option(bodyArb(op.body), { nil: undefined, freq: 8 }) : fc.constant(undefined);
  return fc.tuple(pathArb, queryArb, body, credentialArb(op, c), extraHeaders).map(([pv, qv, b, cred, extra]) => {
    let path = op.path;
    pathParams.forEach((p, i) => {
      path = path.replace(`{${p.name}}`, encodePathValue(pv[i]));
    });
    const qs = new URLSearchParams();
    queryParams.forEach((p, i) => {
      if (qv[i] !== undefined) qs.set(p.name, qv[i]!);
    });
    const q = qs.toString();
    const headers: Record<string, string> = { ...cred, ...extra };
    if (b) headers['content-type'] = b.contentType;
    return { op, path: q ? `${path}?${q}` : path, method: op.method, headers, body: b?.text };
  });
}

/** Operations a fuzz run leaves out because they would end its own credentials (not because they fail). */
export function fuzzable(op: Operation): boolean {
  if (op.path === '/api/auth/sign-out-all' || op.path === '/api/auth/sign-out' || op.path === '/api/auth/logout' || op.path === '/logout') return false;
  if (op.path === '/api/admin/oauth-keys/rotate') return false;
  if (op.path === '/metrics') return false;
  return true;
}

export interface Outcome {
  ok: boolean;
  status: number;
  problem?: string;
}

/** Sends one request and checks the property. */
export async function check(base: string, r: FuzzRequest): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body });
  } catch (err) {
    return { ok: false, status: 0, problem: `request failed: ${(err as Error).message}` };
  }
  const text = await res.text();
  if (res.status >= 500) return { ok: false, status: res.status, problem: `${res.status}: ${text.slice(0, 300)}` };
  if (res.status < 400 || r.method === 'HEAD' || text === '') return { ok: true, status: res.status };
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, status: res.status, problem: `error body is not JSON: ${text.slice(0, 200)}` };
  }
  const problem = shapeProblem(r, res.status, body);
  return problem ? { ok: false, status: res.status, problem } : { ok: true, status: res.status };
}

const isStr = (v: unknown) => typeof v === 'string' && v.length > 0;

/** The surface's documented error shape, or what is wrong with this body. */
export function shapeProblem(r: FuzzRequest, status: number, body: any): string | undefined {
  if (typeof body !== 'object' || body === null) return 'error body is not an object';
  // An ip ban answers every surface in one shape.
  if (status === 403 && body.error === 'banned') return undefined;
  // 404 for a path no route serves, and 405, are the platform's.
  switch (r.op.surface) {
    case 'admin':
      return isStr(body.error) ? undefined : `admin error without "error": ${JSON.stringify(body).slice(0, 200)}`;
    case 'account':
      return typeof body.statusCode === 'number' && body.statusCode === status && isStr(body.statusMessage) && typeof body.message === 'string'
        ? undefined : `account error not in h3's shape: ${JSON.stringify(body).slice(0, 200)}`;
    case 'directory':
      if (r.op.path === '/oauth/token') return isStr(body.error) ? undefined : `OAuth error without "error": ${JSON.stringify(body).slice(0, 200)}`;
      return isStr(body.message) ? undefined : `directory error without "message": ${JSON.stringify(body).slice(0, 200)}`;
    case 'useradmin':
      return isStr(body.name) && typeof body.message === 'string' && isStr(body.id) ? undefined : `user-admin error not {id, name, message}: ${JSON.stringify(body).slice(0, 200)}`;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ a run

let setupCounter = 0;

/** Fresh credentials on every surface: the run may change or end the ones it was given. */
export async function setupCredentials(base: string, admin: { email: string; password: string; token: string }): Promise<Credentials> {
  const n = `${process.pid}x${++setupCounter}x${Date.now().toString(36)}`;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`fuzz set-up: ${path} answered ${res.status} ${text}`);
    return { res, body: text ? JSON.parse(text) : undefined };
  };
  const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().map((l) => l.split(';')[0]).find((p) => p.startsWith(`${name}=`))!;
  const bearer = { authorization: `Bearer ${admin.token}` };

  const signIn = await post('/api/auth/sign-in', { identifier: admin.email, password: admin.password });
  const adminCookie = `${cookieOf(signIn.res, '__Host-access')}; ${cookieOf(signIn.res, '__Host-refresh')}`;
  const csrfRes = await fetch(`${base}/api/auth/csrf`, { headers: { cookie: adminCookie } });
  const csrf = ((await csrfRes.json()) as { csrf_token: string }).csrf_token;

  const email = `fuzz.${n}@example.com`;
  const created = await post('/api/admin/users', { email, password: 'fuzz-password-1', username: `fuzz-${n}` }, bearer);
  const login = await post('/api/auth/login', { email, password: 'fuzz-password-1' });
  const unleash = await post('/auth/simple/login', { username: admin.email, password: admin.password });
  const tenant = await post('/api/admin/tenants', { name: `fuzz tenant ${n}` }, bearer);
  return {
    adminToken: admin.token,
    adminCookie,
    csrf,
    accountCookie: cookieOf(login.res, 'neptun-session'),
    accountUserId: created.body.item.id,
    unleashCookie: cookieOf(unleash.res, 'unleash-session'),
    tenantId: tenant.body.item.id,
  };
}

export interface RunReport {
  requests: number;
  bySurface: Record<string, number>;
  byStatus: Record<string, number>;
  failures: Array<{ method: string; path: string; headers: Record<string, string>; body?: string; problem: string }>;
}

/**
 * Sends `perOperation` generated requests to every fuzzable operation of the server's document, in rounds
 * (one request per operation per round, credentials renewed every `renewEvery` rounds), `concurrency` at once.
 */
export async function runFuzz(base: string, admin: { email: string; password: string; token: string }, opts: { seed: number; perOperation: number; concurrency?: number; renewEvery?: number; surfaces?: Surface[] }): Promise<RunReport> {
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  const ops = operationsOf(doc).filter(fuzzable).filter((o) => !opts.surfaces || opts.surfaces.includes(o.surface));
  const report: RunReport = { requests: 0, bySurface: {}, byStatus: {}, failures: [] };
  const renewEvery = opts.renewEvery ?? 10;
  const concurrency = opts.concurrency ?? 8;
  let creds = await setupCredentials(base, admin);
  for (let round = 0; round < opts.perOperation; round += renewEvery) {
    if (round > 0) creds = await setupCredentials(base, admin);
    const batch = Math.min(renewEvery, opts.perOperation - round);
    const requests: FuzzRequest[] = [];
    ops.forEach((op, i) => {
      requests.push(...fc.sample(requestArb(op, creds), { seed: opts.seed + round * 7919 + i, numRuns: batch }));
    });
    // Interleave operations so that a create and a delete of the same kind meet.
    requests.sort((a, b) => (a.path.length * 31 + a.method.length) % 17 - (b.path.length * 31 + b.method.length) % 17);
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++];
        const out = await check(base, r);
        report.requests++;
        report.bySurface[r.op.surface] = (report.bySurface[r.op.surface] ?? 0) + 1;
        const bucket = out.status === 0 ? 'network' : `${Math.floor(out.status / 100)}xx`;
        report.byStatus[bucket] = (report.byStatus[bucket] ?? 0) + 1;
        if (!out.ok) report.failures.push({ method: r.method, path: r.path, headers: r.headers, body: r.body?.slice(0, 500), problem: out.problem! });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  return report;
}
