// npm run bench: starts Gatehouse as its own process on PostgreSQL (a fresh gatehouse_bench_* database,
// dropped afterwards) and on embedded SQLite (a temp DATA_DIR), seeds users through the store, and measures
// the admin surface with autocannon at 1, 16 and 64 connections after a warm-up. The same run measures the
// ceiling (bench/ceiling.ts: a bare Fastify route doing the same single UPDATE … RETURNING through pg) so every
// figure is also a ratio to it. Prints a table; writes bench/results/<time>.json. See bench/README.md.
//
// Loopback only; every load loop is bounded in time (duration, plus a hard stop) and in count (maxOverallRequests).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http, { get as httpGet } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import SqliteDatabase from 'better-sqlite3';
import { openStore, type Store } from '../src/store/db.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { Database } from '../src/store/schema.js';
import { listUserRows } from '../src/core/users/store.js';
import { FIRST_NAMES, LAST_NAMES, parseCount, seedUsers, seededIdentity } from './seed.js';
import { printTransferStep, runTransfer, type TransferResult } from './transfer.js';

type Engine = 'postgres' | 'sqlite';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// ---------------------------------------------------------------------------------------------- options

/**
 * Sign-in cases: sequences of single sign-ins timed one by one, not autocannon load. signin_flood: a sign-in's
 * latency quiet and under a 48-way sign-up flood (the hash queue puts sign-in checks first); signin_timing:
 * the median of a wrong password for a known user against an unknown user (equal work on both paths).
 */
const SIGN_IN_CASES = ['signin_flood', 'signin_timing'] as const;
const ALL_CASES = ['patch_cookie', 'patch_token', 'patch_webhook', 'put_useradmin', 'get_user', 'list_page', 'search_email', 'password_change', 'full_list', ...SIGN_IN_CASES] as const;
const isSignInCase = (name: string): name is (typeof SIGN_IN_CASES)[number] => (SIGN_IN_CASES as readonly string[]).includes(name);
/** Cases run only when named (--cases): `transfer` (import and export through the CLI, bench/transfer.ts). */
const EXTRA_CASES = ['transfer'] as const;
const KNOWN_CASES = [...ALL_CASES, ...EXTRA_CASES] as const;

const USAGE = `npm run bench -- [options]

  --quick                 small and short: 20k users, 1 s warm-up, 2 s per case
  --users N               users seeded on each engine (default 1m; 100k, 1m, 1000000 all work)
  --pg-users N            … on PostgreSQL only        --sqlite-users N   … on SQLite only
  --engines LIST          postgres,sqlite (default both)
  --connections LIST      default 1,16,64
  --cases LIST            default all: ${ALL_CASES.join(',')}
                          (transfer only when named: import/export of --users users through the CLI)
  --duration S            seconds measured per case (default 5)
  --warmup S              seconds of warm-up per case, not measured (default 2)
  --no-interference       skip the "password changes flat out" interference run
  --plans-only            seed and print the EXPLAIN ANALYZE of the list/search SQL, measure nothing
  --profile               run the server under node --cpu-prof (profiles in bench/results/profiles/)
  --out FILE              results JSON (default bench/results/<time>.json)
  --pg-url URL            PostgreSQL server to create the bench database on
                          (default $BENCH_PG_URL or postgresql://postgres@127.0.0.1:5432/test)
`;

type CaseName = Exclude<(typeof ALL_CASES)[number], 'full_list'> | 'ceiling_update' | 'ceiling_list';
type AnyCase = CaseName | 'full_list' | 'transfer';

interface Options {
  engines: Engine[];
  users: Record<Engine, number>;
  connections: number[];
  cases: AnyCase[];
  duration: number;
  warmup: number;
  interference: boolean;
  profile: boolean;
  plansOnly: boolean;
  out: string;
  pgUrl: string;
  quick: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      users: { type: 'string' },
      'pg-users': { type: 'string' },
      'sqlite-users': { type: 'string' },
      engines: { type: 'string' },
      connections: { type: 'string' },
      cases: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'no-interference': { type: 'boolean' },
      profile: { type: 'boolean' },
      'plans-only': { type: 'boolean' },
      out: { type: 'string' },
      'pg-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const env = process.env;
  const quick = values.quick ?? /^(1|true)$/i.test(env.BENCH_QUICK ?? '');
  const baseUsers = parseCount(values.users ?? env.BENCH_USERS ?? (quick ? '20k' : '1m'));
  const list = (raw: string | undefined) => raw?.split(',').map((s) => s.trim()).filter(Boolean);
  const engines = (list(values.engines ?? env.BENCH_ENGINES) ?? ['postgres', 'sqlite']) as Engine[];
  for (const e of engines) if (e !== 'postgres' && e !== 'sqlite') throw new Error(`unknown engine "${e}"`);
  const cases = (list(values.cases ?? env.BENCH_CASES) ?? [...ALL_CASES]) as AnyCase[];
  for (const c of cases) if (!(KNOWN_CASES as readonly string[]).includes(c)) throw new Error(`unknown case "${c}" (known: ${KNOWN_CASES.join(', ')})`);
  const connections = (list(values.connections ?? env.BENCH_CONNECTIONS) ?? ['1', '16', '64']).map(Number);
  for (const c of connections) if (!Number.isInteger(c) || c < 1 || c > 1024) throw new Error(`bad connection count ${c}`);
  const num = (raw: string | undefined, fallback: number, max: number) => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!(n > 0 && n <= max)) throw new Error(`bad number "${raw}"`);
    return n;
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    engines,
    users: {
      postgres: values['pg-users'] ? parseCount(values['pg-users']) : baseUsers,
      sqlite: values['sqlite-users'] ? parseCount(values['sqlite-users']) : baseUsers,
    },
    connections,
    cases,
    duration: num(values.duration ?? env.BENCH_DURATION, quick ? 2 : 5, 600),
    warmup: num(values.warmup ?? env.BENCH_WARMUP, quick ? 1 : 2, 600),
    interference: !(values['no-interference'] ?? false),
    profile: values.profile ?? /^(1|true)$/i.test(env.BENCH_PROFILE ?? ''),
    plansOnly: values['plans-only'] ?? false,
    out: path.resolve(values.out ?? path.join(root, 'bench', 'results', `${stamp}${quick ? '-quick' : ''}.json`)),
    pgUrl: values['pg-url'] ?? env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
    quick,
  };
}

// ---------------------------------------------------------------------------------------------- processes

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  pid: number;
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

async function startProcess(args: string[], env: Record<string, string>, readyPath: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => { err = (err + d).slice(-20_000); });
  child.stdout!.on('data', (d) => { err = (err + d).slice(-20_000); });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before it was ready:\n${err}`);
    try {
      const r = await fetch(url + readyPath);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`process not ready after 60 s:\n${err}`);
    }
    await sleep(100);
  }
  return {
    child,
    pid: child.pid!,
    url,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples the server's resident memory from /proc every 100 ms; `peak` is the highest VmRSS seen since reset. */
class RssSampler {
  peakKiB = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }
  private read(): { rss: number; hwm: number } {
    try {
      const s = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
      return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
    } catch {
      return { rss: 0, hwm: 0 };
    }
  }
  sample(): void {
    const { rss } = this.read();
    if (rss > this.peakKiB) this.peakKiB = rss;
  }
  reset(): void {
    this.peakKiB = 0;
    this.sample();
  }
  /** CPU time (user + system, all threads) the process has used so far, in ms. */
  cpuMs(): number {
    try {
      const f = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
    } catch {
      return 0;
    }
  }
  /** The kernel's high-water mark for the whole life of the process. */
  hwmMiB(): number {
    return this.read().hwm / 1024;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * CPU time (ms) each PostgreSQL process on this machine has used so far (backends, WAL writer,
 * checkpointer…), by pid: with the server's and the load generator's, where the machine's cores went.
 * Empty when PostgreSQL runs elsewhere (its processes are not visible here).
 */
function postgresCpuByPid(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(pid, ((Number(rest[11]) + Number(rest[12])) * 1000) / 100);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

/** CPU the PostgreSQL processes used between two readings (a process that ended in between is left out). */
function postgresCpuSince(before: Map<string, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpuByPid()) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** CPU time (ms) this process (the load generator) has used so far. */
function loaderCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---------------------------------------------------------------------------------------------- load

interface LoadSpec {
  method: 'GET' | 'PATCH' | 'PUT';
  headers: Record<string, string>;
  /** Builds each request's path and body. */
  next: () => { path: string; body?: string };
}

interface Measured {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

const MAX_REQUESTS_PER_RUN = 5_000_000;

/** Response times in ms, as many as are recorded; percentiles by nearest rank. */
class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = ms;
  }

  /** { p50, p90, p99, max } in ms; 0 for each when nothing was recorded. */
  percentiles(): { p50: number; p90: number; p99: number; max: number } {
    const sorted = this.values.slice(0, this.n).sort();
    const at = (p: number) => (this.n === 0 ? 0 : sorted[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)]);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: this.n === 0 ? 0 : sorted[this.n - 1] };
  }
}

function load(url: string, spec: LoadSpec, connections: number, seconds: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    // autocannon's histogram keeps whole milliseconds (a p99 of 4 is anything from 4 to 4.99 ms), too coarse
    // for the quiet reads and the interference ratios: each 2xx response's own time is kept here instead.
    const latencies = new Latencies();
    const instance = autocannon(
      {
        url,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        maxOverallRequests: Math.max(connections, MAX_REQUESTS_PER_RUN),
        requests: [
          {
            method: spec.method,
            headers: spec.headers,
            setupRequest: (req: Record<string, unknown>) => {
              const n = spec.next();
              return { ...req, path: n.path, body: n.body };
            },
          },
        ],
      } as unknown as autocannon.Options,
      (err, r) => {
        clearTimeout(hard);
        if (err) return reject(err);
        const codes: Record<string, number> = {};
        for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) codes[code] = Number((v as { count: number | string }).count);
        resolve({
          requests: r.requests.total,
          rps: r.requests.total / Math.max(0.001, r.duration),
          ...latencies.percentiles(),
          errors: r.errors + r.timeouts + r.non2xx,
          non2xx: r.non2xx,
          statusCodes: codes,
          seconds: r.duration,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTime);
    });
    // A hard stop in case the server stalls: the run is bounded in time whatever happens.
    const hard = setTimeout(() => instance.stop(), (seconds + 15) * 1000);
  });
}

// ---------------------------------------------------------------------------------------------- the cases

const ADMIN_EMAIL = 'bench-admin@example.com';
const ADMIN_PASSWORD = 'bench-admin-password-1';
const ADMIN_TOKEN = `gha_bench_${randomBytes(16).toString('hex')}`;

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(url: string): Promise<Session> {
  const r = await fetch(`${url}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (!r.ok) throw new Error(`sign-in failed: ${r.status} ${await r.text()}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const c = await fetch(`${url}/api/auth/csrf`, { headers: { cookie } });
  if (!c.ok) throw new Error(`csrf failed: ${c.status} ${await c.text()}`);
  const { csrf_token } = (await c.json()) as { csrf_token: string };
  return { cookie, csrf: csrf_token };
}

function cursorOf(id: number): string {
  return Buffer.from(`u:${id}`).toString('base64url');
}

/** Search prefixes an admin would type: a first name, first name + initial, or a full first.last. */
function searchPrefix(rand: () => number): string {
  const f = FIRST_NAMES[Math.floor(rand() * FIRST_NAMES.length)];
  const l = LAST_NAMES[Math.floor(rand() * LAST_NAMES.length)];
  switch (Math.floor(rand() * 3)) {
    case 0: return f;
    case 1: return `${f}.${l[0]}`;
    default: return `${f}.${l}`;
  }
}

// A small deterministic PRNG so runs are comparable.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function caseSpec(name: CaseName, ids: { lo: number; hi: number }, session: Session, seed = 1): LoadSpec {
  const rand = prng(seed);
  const randomId = () => ids.lo + Math.floor(rand() * (ids.hi - ids.lo + 1));
  let counter = 0;
  const json = { 'content-type': 'application/json' };
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
  switch (name) {
    case 'patch_cookie':
      return {
        method: 'PATCH',
        headers: { ...json, cookie: session.cookie, 'x-csrf-token': session.csrf },
        next: () => ({ path: `/api/admin/users/${randomId()}`, body: JSON.stringify({ name: `Bench Cookie ${++counter}` }) }),
      };
    case 'patch_token':
      return {
        method: 'PATCH',
        headers: { ...json, ...bearer },
        next: () => ({ path: `/api/admin/users/${randomId()}`, body: JSON.stringify({ name: `Bench Token ${++counter}` }) }),
      };
    case 'patch_webhook':
      // patch_token with one active webhook subscription to user.updated (set up by withWebhook): every PATCH
      // also writes a delivery in its statement, and the dispatcher sends them to a local receiver meanwhile.
      return {
        method: 'PATCH',
        headers: { ...json, ...bearer },
        next: () => ({ path: `/api/admin/users/${randomId()}`, body: JSON.stringify({ name: `Bench Hooked ${++counter}` }) }),
      };
    case 'put_useradmin':
      // The peer's own route (Unleash's PUT /api/admin/user-admin/{id}), with the raw token Unleash clients send.
      return {
        method: 'PUT',
        headers: { ...json, authorization: ADMIN_TOKEN },
        next: () => ({ path: `/api/admin/user-admin/${randomId()}`, body: JSON.stringify({ name: `Bench Unleash ${++counter}` }) }),
      };
    case 'get_user':
      return { method: 'GET', headers: bearer, next: () => ({ path: `/api/admin/users/${randomId()}` }) };
    case 'list_page':
      return { method: 'GET', headers: bearer, next: () => ({ path: `/api/admin/users?limit=50&cursor=${cursorOf(randomId())}` }) };
    case 'search_email':
      return { method: 'GET', headers: bearer, next: () => ({ path: `/api/admin/users?limit=50&q=${encodeURIComponent(searchPrefix(rand))}` }) };
    case 'password_change':
      // An admin setting another user's password: validation, one argon2id hash (off the event loop, queued),
      // the update, revocation of that user's sessions and the audit event.
      return {
        method: 'PATCH',
        headers: { ...json, ...bearer },
        next: () => ({ path: `/api/admin/users/${randomId()}`, body: JSON.stringify({ password: `bench-new-password-${++counter}` }) }),
      };
    case 'ceiling_list':
      // The read ceiling: the list page's SELECT on a bare route (bench/ceiling.ts), the same cursors.
      return { method: 'GET', headers: {}, next: () => ({ path: `/ceiling/users?after=${randomId() - 1}` }) };
    case 'ceiling_update':
      return {
        method: 'PATCH',
        headers: json,
        next: () => ({ path: `/ceiling/users/${randomId()}`, body: JSON.stringify({ name: `Bench Ceiling ${++counter}` }) }),
      };
    case 'signin_flood':
    case 'signin_timing':
      throw new Error(`${name} is not a load case (runSignInCase)`);
  }
}

// ---------------------------------------------------------------------------------------------- sign-in cases

interface SignInResult {
  engine: Engine;
  case: (typeof SIGN_IN_CASES)[number];
  /** signin_flood: quiet and flooded; signin_timing: known user (wrong password) and unknown user. */
  a: { label: string; p50: number; p90: number; n: number };
  b: { label: string; p50: number; p90: number; n: number };
  /** signin_flood: b.p50 ÷ a.p50 (the goal is under 2); signin_timing: a.p50 − b.p50 in ms (the goal is within 1). */
  figure: number;
  note: string;
}

async function timedSignIn(url: string, identifier: string, password: string, expect: number): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${url}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identifier, password }) });
  await r.arrayBuffer();
  const ms = performance.now() - t0;
  if (r.status !== expect) throw new Error(`sign-in answered ${r.status}, expected ${expect}`);
  return ms;
}

function spread(label: string, xs: number[]): SignInResult['a'] {
  const s = [...xs].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { label, p50: at(0.5), p90: at(0.9), n: s.length };
}

async function runSignInCase(engine: Engine, url: string, name: (typeof SIGN_IN_CASES)[number], opts: Options, rss: RssSampler): Promise<SignInResult> {
  const n = opts.quick ? 20 : 60;
  await settle(rss);
  if (name === 'signin_flood') {
    const series = async () => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await timedSignIn(url, ADMIN_EMAIL, ADMIN_PASSWORD, 200));
      return out;
    };
    for (let i = 0; i < 5; i++) await timedSignIn(url, ADMIN_EMAIL, ADMIN_PASSWORD, 200); // warm-up
    const quiet = await series();
    // 48 clients signing up back to back (each a new account: one argon2id hash, the insert, a session).
    let stop = false;
    let signUps = 0;
    let signUpErrors = 0;
    const tag = randomBytes(4).toString('hex');
    const flood = Array.from({ length: 48 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const r = await fetch(`${url}/api/auth/sign-up`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `flood-${tag}-${w}-${i}@example.com`, password: 'flood-password-1' }),
        }).catch(() => undefined);
        await r?.arrayBuffer();
        if (r?.status === 200) signUps++;
        else signUpErrors++;
      }
    });
    await sleep(1000); // the hash queue fills first
    const t0 = performance.now();
    const flooded = await series();
    const seconds = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(flood);
    const a = spread('quiet', quiet);
    const b = spread('48 sign-ups at once', flooded);
    return { engine, case: name, a, b, figure: b.p50 / a.p50, note: `${fmt(signUps / (seconds + 1))} sign-ups/s, ${signUpErrors} sign-up errors` };
  }
  // signin_timing: known user with a wrong password against an unknown user, interleaved (the order
  // alternates) so drift hits both alike.
  const known: number[] = [];
  const unknown: number[] = [];
  const tag = randomBytes(4).toString('hex');
  for (let i = 0; i < 5; i++) {
    await timedSignIn(url, ADMIN_EMAIL, `wrong-password-${i}`, 401);
    await timedSignIn(url, `nobody-${tag}-w${i}@example.com`, `wrong-password-${i}`, 401);
  }
  for (let i = 0; i < n * 2; i++) {
    const k = () => timedSignIn(url, ADMIN_EMAIL, `wrong-password-${i}`, 401).then((ms) => known.push(ms));
    const u = () => timedSignIn(url, `nobody-${tag}-${i}@example.com`, `wrong-password-${i}`, 401).then((ms) => unknown.push(ms));
    if (i % 2) await k().then(u);
    else await u().then(k);
  }
  const a = spread('known user, wrong password', known);
  const b = spread('unknown user', unknown);
  return { engine, case: name, a, b, figure: a.p50 - b.p50, note: '' };
}

function printSignIn(r: SignInResult): void {
  const figure = r.case === 'signin_flood' ? `×${fmt(r.figure, 2)}` : `${r.figure >= 0 ? '+' : ''}${fmt(r.figure, 2)} ms`;
  process.stdout.write(
    `  ${r.engine.padEnd(8)} ${r.case.padEnd(16)}   1  p50 ${r.a.label} ${fmt(r.a.p50, 1)} ms (p90 ${fmt(r.a.p90, 1)}) vs ${r.b.label} ${fmt(r.b.p50, 1)} ms (p90 ${fmt(r.b.p90, 1)}): ${figure}${r.note ? `; ${r.note}` : ''}\n`,
  );
}

/**
 * Runs a case with one active webhook subscription (user.updated) to a receiver in this process answering
 * 204, removed afterwards; prints how fast the server's dispatcher delivered (the backlog drained first).
 */
async function withWebhook<T>(url: string, run: () => Promise<T>): Promise<T> {
  let delivered = 0;
  let first = 0;
  let last = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered++;
      last = Date.now();
      first ||= last;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const port = (receiver.address() as net.AddressInfo).port;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/api/admin/webhooks`, {
    method: 'POST', headers: auth, body: JSON.stringify({ url: `http://127.0.0.1:${port}/bench`, events: ['user.updated'], description: 'bench' }),
  });
  if (created.status !== 201) throw new Error(`creating the bench webhook: ${created.status} ${await created.text()}`);
  const id = ((await created.json()) as { item: { id: number } }).item.id;
  try {
    const result = await run();
    // The dispatcher keeps sending after the load stops: wait until nothing arrived for a second (at most 60 s).
    const until = Date.now() + 60_000;
    while (Date.now() < until && Date.now() - last < 1000) await sleep(200);
    const seconds = Math.max(0.001, (last - first) / 1000);
    process.stdout.write(`  webhook dispatch: ${delivered} deliveries in ${fmt(seconds, 1)} s = ${fmt(delivered / seconds)} deliveries/s to a local receiver\n`);
    return result;
  } finally {
    await fetch(`${url}/api/admin/webhooks/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

/** One request of the case, checked: the suite never silently measures a stream of errors. */
async function probe(url: string, spec: LoadSpec, name: string): Promise<void> {
  const n = spec.next();
  const r = await fetch(url + n.path, { method: spec.method, headers: spec.headers, body: n.body });
  const text = await r.text();
  if (!r.ok) throw new Error(`${name}: probe got ${r.status}: ${text.slice(0, 500)}`);
}

// ---------------------------------------------------------------------------------------------- plans

interface Plan {
  query: string;
  sql: string;
  params: unknown[];
  plan: string;
}

/** Runs the real store function with a logging Kysely to capture its SQL, then explains that SQL. */
async function capturePlans(engine: Engine, connection: { url?: string; file?: string }, ids: { lo: number; hi: number }): Promise<Plan[]> {
  const captured: CompiledQuery[] = [];
  const pool = engine === 'postgres' ? new pg.Pool({ connectionString: connection.url, max: 1 }) : undefined;
  const sqlite = engine === 'sqlite' ? new SqliteDatabase(connection.file!, { readonly: true }) : undefined;
  const db = new Kysely<Database>({
    dialect: pool ? new PostgresDialect({ pool }) : new SqliteDialect({ database: sqlite! }),
    log: (e) => { if (e.level === 'query') captured.push(e.query); },
  });
  const mid = Math.floor((ids.lo + ids.hi) / 2);
  const queries: Array<[string, Parameters<typeof listUserRows>[2]]> = [
    ['list: page of 50 after a cursor in the middle', { limit: 51, afterId: mid }],
    ['search: first name ("mary")', { limit: 51, q: 'mary' }],
    ['search: first name and last initial ("mary.s")', { limit: 51, q: 'mary.s' }],
    ['search: first name and last initial ("lisa.k")', { limit: 51, q: 'lisa.k' }],
    ['search: first.last ("mary.smith")', { limit: 51, q: 'mary.smith' }],
    ['search: full email ("' + seededIdentity(mid).email + '")', { limit: 51, q: seededIdentity(mid).email }],
    ['search: no match ("zzz")', { limit: 51, q: 'zzz' }],
  ];
  const out: Plan[] = [];
  try {
    for (const [label, q] of queries) {
      captured.length = 0;
      await listUserRows(db, engine, q);
      // A search may take more than one statement: explain each of them.
      for (const [i, c] of captured.entries()) {
        const label2 = captured.length > 1 ? `${label}, statement ${i + 1} of ${captured.length}` : label;
        let plan: string;
        if (pool) {
          const r = await pool.query(`explain (analyze, buffers) ${c.sql}`, c.parameters as unknown[]);
          plan = r.rows.map((row) => row['QUERY PLAN']).join('\n');
        } else {
          const rows = sqlite!.prepare(`explain query plan ${c.sql}`).all(...(c.parameters as unknown[])) as Array<{ detail: string }>;
          const t0 = process.hrtime.bigint();
          sqlite!.prepare(c.sql).all(...(c.parameters as unknown[]));
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          plan = rows.map((r) => r.detail).join('\n') + `\n(executed in ${ms.toFixed(2)} ms)`;
        }
        out.push({ query: label2, sql: c.sql, params: [...c.parameters], plan });
      }
    }
  } finally {
    await db.destroy();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- the run

interface CaseResult extends Measured {
  engine: Engine | 'ceiling';
  /** Server CPU time per request (ms): steadier than req/s when other work shares the machine. */
  cpuMsPerRequest: number;
  /** CPU time of all PostgreSQL processes per request (ms; 0 on SQLite or a remote server). */
  dbCpuMsPerRequest: number;
  /** CPU time of the load generator (autocannon, this process) per request (ms). */
  loaderCpuMsPerRequest: number;
  case: CaseName | 'ceiling_after' | 'ceiling_list_after';
  connections: number;
  rssPeakMiB: number;
  ratioToCeiling: number | null;
  /** list_page and search_email: req/s ÷ the read ceiling's (the list SELECT on a bare route), same run. */
  ratioToReadCeiling?: number | null;
}

interface InterferenceResult {
  engine: Engine;
  case: CaseName;
  connections: number;
  quietP99: number;
  loadedP99: number;
  ratio: number;
  quietRps: number;
  loadedRps: number;
  passwordChangesPerSecond: number;
  passwordErrors: number;
  rssPeakMiB: number;
}

interface EngineReport {
  engine: Engine;
  users: number;
  seedSeconds: number;
  ids: { lo: number; hi: number };
  plans: Plan[];
  cases: CaseResult[];
  interference: InterferenceResult[];
  signIn: SignInResult[];
  fullList: FullListResult[];
  transfer?: TransferResult;
  rssHwmMiB: number;
  profile: string | null;
}

const fmt = (n: number, d = 0) => n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });

function printRow(r: CaseResult): void {
  const ratio = (r.ratioToCeiling === null ? '' : `${fmt(r.ratioToCeiling * 100)}%`)
    + (r.ratioToReadCeiling ? ` read ${fmt(r.ratioToReadCeiling * 100)}%` : '');
  process.stdout.write(
    `  ${r.engine.padEnd(8)} ${r.case.padEnd(16)} ${String(r.connections).padStart(3)}  ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(7)} ms  errors ${String(r.errors).padStart(5)}  cpu ${fmt(r.cpuMsPerRequest, 2).padStart(5)}+${fmt(r.dbCpuMsPerRequest, 2).padStart(4)}+${fmt(r.loaderCpuMsPerRequest, 2).padStart(4)} ms/req  rss ${fmt(r.rssPeakMiB).padStart(4)} MiB  ${ratio.padStart(5)}\n`,
  );
}

async function measureCase(
  engine: Engine | 'ceiling', url: string, name: CaseName, conns: number, ids: { lo: number; hi: number }, session: Session,
  opts: Options, rss: RssSampler, ceiling: Map<number, number>,
): Promise<CaseResult> {
  const spec = caseSpec(name, ids, session, conns * 7919 + name.length);
  await probe(url, spec, name);
  await load(url, spec, conns, opts.warmup);
  await settle(rss);
  rss.reset();
  const cpu0 = rss.cpuMs();
  const db0 = postgresCpuByPid();
  const loader0 = loaderCpuMs();
  const m = await load(url, spec, conns, opts.duration);
  const n = Math.max(1, m.requests);
  const cpuMsPerRequest = (rss.cpuMs() - cpu0) / n;
  const dbCpuMsPerRequest = postgresCpuSince(db0) / n;
  const loaderCpuMsPerRequest = (loaderCpuMs() - loader0) / n;
  rss.sample();
  const c = ceiling.get(conns);
  const r: CaseResult = {
    engine, case: name, connections: conns, ...m, cpuMsPerRequest, dbCpuMsPerRequest, loaderCpuMsPerRequest, rssPeakMiB: rss.peakKiB / 1024,
    ratioToCeiling: engine === 'ceiling' ? 1 : c ? m.rps / c : null,
  };
  printRow(r);
  return r;
}

// ---------------------------------------------------------------------------------------------- full_list

interface FullListResult {
  engine: Engine;
  case: 'full_list';
  /** Lists read at once. */
  connections: number;
  /** Users in each list (every seeded user and the admin). */
  users: number;
  /** Time to the first byte of each list's body, ms: median and worst. */
  firstByteMsP50: number;
  firstByteMsMax: number;
  /** Wall time until the last list ended, s. */
  seconds: number;
  /** Users sent per second, all lists together. */
  usersPerSecond: number;
  /** Server CPU per user, µs. */
  cpuUsPerUser: number;
  /** The highest VmRSS sampled while the lists ran. */
  rssPeakMiB: number;
  errors: number;
}

/**
 * GET /api/admin/user-admin (Unleash's "list users", every user in one JSON document, streamed) `conns` times
 * at once, each read as it arrives and never held: time to first byte, users per second, peak RSS. Every
 * list must be complete (`expectUsers` entries, the document's closing bytes) and the same length.
 */
async function measureFullList(engine: Engine, url: string, conns: number, expectUsers: number, rss: RssSampler): Promise<FullListResult> {
  rss.reset();
  const cpu0 = rss.cpuMs();
  const t0 = performance.now();
  const one = () => new Promise<{ firstByteMs: number; bytes: number; users: number; error?: string }>((resolve) => {
    const started = performance.now();
    let firstByteMs = 0;
    let bytes = 0;
    let users = 0;
    let carry = '';
    let tail = '';
    const req = httpGet(`${url}/api/admin/user-admin`, { headers: { authorization: ADMIN_TOKEN }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve({ firstByteMs: 0, bytes: 0, users: 0, error: `status ${res.statusCode}` });
        return;
      }
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        if (!firstByteMs) firstByteMs = performance.now() - started;
        bytes += chunk.length;
        // Each user starts with {"id": (a chunk may split one: keep the last few characters).
        const text = carry + chunk;
        let at = text.indexOf('{"id":');
        while (at >= 0) {
          users++;
          at = text.indexOf('{"id":', at + 6);
        }
        carry = text.slice(-5);
        tail = (tail + chunk).slice(-2000);
      });
      res.on('end', () => {
        // The root roles' ids look like users too: five of them, in the tail.
        const roles = tail.slice(tail.lastIndexOf('"rootRoles":')).split('{"id":').length - 1;
        resolve({ firstByteMs, bytes, users: users - roles, error: tail.endsWith(']}') ? undefined : 'truncated' });
      });
      res.on('error', (err) => resolve({ firstByteMs, bytes, users, error: err.message }));
    });
    req.on('error', (err) => resolve({ firstByteMs, bytes, users, error: err.message }));
  });
  const lists = await Promise.all(Array.from({ length: conns }, one));
  const seconds = (performance.now() - t0) / 1000;
  rss.sample();
  const errors = lists.filter((l) => l.error || l.users !== expectUsers || l.bytes !== lists[0].bytes).length;
  for (const l of lists) if (l.error || l.users !== expectUsers) process.stderr.write(`  full_list: ${l.error ?? `${l.users} users, expected ${expectUsers}`}\n`);
  const firsts = lists.map((l) => l.firstByteMs).sort((a, b) => a - b);
  const r: FullListResult = {
    engine, case: 'full_list', connections: conns, users: expectUsers,
    firstByteMsP50: firsts[Math.floor((firsts.length - 1) / 2)], firstByteMsMax: firsts[firsts.length - 1],
    seconds, usersPerSecond: (expectUsers * conns) / seconds, cpuUsPerUser: ((rss.cpuMs() - cpu0) * 1000) / (expectUsers * conns),
    rssPeakMiB: rss.peakKiB / 1024, errors,
  };
  printFullList(r);
  return r;
}

function printFullList(r: FullListResult): void {
  process.stdout.write(
    `  ${r.engine.padEnd(8)} ${r.case.padEnd(16)} ${String(r.connections).padStart(3)}  ${fmt(r.users)} users each in ${fmt(r.seconds, 1)} s: ${fmt(r.usersPerSecond)} users/s  first byte p50 ${fmt(r.firstByteMsP50, 1)} ms max ${fmt(r.firstByteMsMax, 1)} ms  errors ${r.errors}  cpu ${fmt(r.cpuUsPerUser, 2)} µs/user  rss ${fmt(r.rssPeakMiB)} MiB\n`,
  );
}

/**
 * How package.json's `start` script runs the server (`[VAR=value …] node <flags> dist/src/main.js serve`):
 * the bench starts it the same way.
 */
function startCommand(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const m = /((?:\b[A-Z_]+=\S+\s+)*)\bnode((?:\s+--\S+)*)\s+dist\/src\/main\.js\s+serve\b/.exec(pkg.scripts.start);
  if (!m) throw new Error(`package.json "start" does not run [VAR=value …] node … dist/src/main.js serve: ${pkg.scripts.start}`);
  const env = Object.fromEntries(m[1].trim().split(/\s+/).filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  return { env, flags: m[2].trim().split(/\s+/).filter(Boolean) };
}

/**
 * Waits until the server has finished the work the warm-up left behind: requests the load generator
 * stopped waiting for still run (64 queued password changes are 1.6 s of hashing), and measuring on top
 * of them charged their CPU and their queueing to the measured requests. Done when the server uses less
 * than a tenth of a core over 200 ms (at most 15 s).
 */
async function settle(rss: RssSampler): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const c0 = rss.cpuMs();
    await sleep(200);
    if (rss.cpuMs() - c0 < 20) return;
  }
}

/** The main thread's profile is the largest one in the directory. */
function largestFile(dir: string): string | null {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  return files[0] ? path.relative(root, files[0]) : null;
}

async function createPgDatabase(pgUrl: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `gatehouse_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(pgUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await fn().catch((e) => process.stderr.write(`cleanup: ${e}\n`));
  }
}

async function runEngine(engine: Engine, opts: Options, ceilingRps: Map<number, number>, allCases: CaseResult[]): Promise<EngineReport> {
  const t0 = Date.now();
  let storeEnv: Record<string, string>;
  let sqliteFile: string | undefined;
  let pgDb: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  if (engine === 'postgres') {
    pgDb = await createPgDatabase(opts.pgUrl);
    cleanups.push(pgDb.drop);
    storeEnv = { DATABASE_URL: pgDb.url };
    process.stdout.write(`\n[postgres] database ${pgDb.name}\n`);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    storeEnv = { DATA_DIR: dir };
    sqliteFile = path.join(dir, 'gatehouse.db');
    process.stdout.write(`\n[sqlite] data dir ${dir}\n`);
  }
  // Seed through the store (migrations first), before the server starts: a long SQLite write must not starve the server's writers, then the plans at that size.
  const store: Store = await openStore({ databaseUrl: storeEnv.DATABASE_URL, dataDir: storeEnv.DATA_DIR ?? '', sqliteSynchronous: 'NORMAL' });
  await migrateToLatest(store);
  process.stdout.write(`[${engine}] seeding ${fmt(opts.users[engine])} users…`);
  const seeded = await seedUsers(store, opts.users[engine]);
  if (engine === 'postgres') {
    // The seed's writes (~500 MB of WAL at 1M users) go to disk now, not under the cases: otherwise the
    // checkpointer spreads them over the first minute or two of measuring (checkpoint_completion_target),
    // and the first cases measure its disk writes too.
    await sql`checkpoint`.execute(store.db).catch((err: Error) => process.stdout.write(` (no CHECKPOINT: ${err.message})`));
  }
  await store.close();
  process.stdout.write(` ${(seeded.ms / 1000).toFixed(1)} s (ids ${seeded.firstId}..${seeded.lastId})\n`);
  const ids = { lo: seeded.firstId, hi: seeded.lastId };
  const plans = await capturePlans(engine, { url: pgDb?.url, file: sqliteFile }, ids);
  if (opts.plansOnly) {
    for (const p of plans) process.stdout.write(`\n#### ${p.query}\n\n${p.sql}\n-- ${JSON.stringify(p.params)}\n\n${p.plan}\n`);
    return { engine, users: opts.users[engine], seedSeconds: seeded.ms / 1000, ids, plans, cases: [], interference: [], signIn: [], fullList: [], rssHwmMiB: 0, profile: null };
  }

  // One directory per server: node writes one profile per thread (main thread and tsx's loader thread).
  const profileDir = path.join(root, 'bench', 'results', 'profiles', `${engine}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (opts.profile) fs.mkdirSync(profileDir, { recursive: true });
  const server = await startProcess(
    // The compiled server, as `npm start` runs it, with its node flags (npm run bench builds first); tsx
    // would add its loader.
    [...startCommand().flags, ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'dist/src/main.js', 'serve'],
    {
      // The start script's environment (MALLOC_ARENA_MAX…), unless the calling shell sets its own value.
      ...Object.fromEntries(Object.entries(startCommand().env).filter(([k]) => process.env[k] === undefined)),
      ...storeEnv,
      GATEHOUSE_INIT_API_TOKEN: ADMIN_TOKEN,
      GATEHOUSE_ADMIN_EMAIL: ADMIN_EMAIL,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // The suite outlives the default 10-minute access cookie.
      GATEHOUSE_ACCESS_TTL: '86400',
      // The sign-in cases sign in, fail and sign up from one address far past the production limits.
      GATEHOUSE_LOGIN_MAX_FAILURES: '1000000',
      GATEHOUSE_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
      GATEHOUSE_SIGNUP_MAX_PER_ADDRESS: '1000000',
      // patch_webhook's receiver listens on 127.0.0.1.
      GATEHOUSE_WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
    },
    '/readyz',
  );
  cleanups.push(() => server.stop());
  const rss = new RssSampler(server.pid);

  try {
    return await measureEngine(engine, opts, ceilingRps, allCases, server, rss, ids, { ms: seeded.ms, users: opts.users[engine] }, plans, pgDb?.url, t0, profileDir);
  } catch (err) {
    process.stderr.write(`[${engine}] server output:\n${server.stderr().slice(-4000)}\n`);
    throw err;
  }
}

async function measureEngine(
  engine: Engine, opts: Options, ceilingRps: Map<number, number>, allCases: CaseResult[], server: Proc, rss: RssSampler,
  ids: { lo: number; hi: number }, seeded: { ms: number; users: number }, plans: Plan[], pgUrl: string | undefined, t0: number, profileDir: string,
): Promise<EngineReport> {
  const session = await signIn(server.url);
  const results: CaseResult[] = [];

  // The ceiling is measured before the cases and again after them: this machine's speed drifts over minutes
  // (the same ceiling measured 2,200-3,800 req/s in one afternoon), so every ratio divides by the mean of the
  // two, and both are printed.
  // The reads have a ceiling of their own (ceiling_list: the list page's SELECT on the same bare route
  // server), measured the same way when list or search pages are; they are also divided by it, because a
  // read's latency at 16 connections is bounded by what the machine does for the bare read.
  // Only the autocannon cases are compared with it (full_list and the sign-in cases alone do not start it).
  const ceiling = engine === 'postgres' && opts.cases.some((c) => c !== 'full_list' && c !== 'transfer' && !isSignInCase(c)) ? await startProcess(['dist/bench/ceiling.js'], { DATABASE_URL: pgUrl! }, '/healthz') : undefined;
  const crss = ceiling ? new RssSampler(ceiling.pid) : undefined;
  const readCeilingRps = new Map<number, number>();
  const measuresReads = opts.cases.some((c) => c === 'list_page' || c === 'search_email');
  const measureCeilings = async (after: boolean) => {
    for (const conns of opts.connections) {
      const r = await measureCase('ceiling', ceiling!.url, 'ceiling_update', conns, ids, session, opts, crss!, ceilingRps);
      if (after) r.case = 'ceiling_after';
      ceilingRps.set(conns, after ? (ceilingRps.get(conns)! + r.rps) / 2 : r.rps);
      results.push(r);
      if (!measuresReads) continue;
      const read = await measureCase('ceiling', ceiling!.url, 'ceiling_list', conns, ids, session, opts, crss!, ceilingRps);
      if (after) read.case = 'ceiling_list_after';
      readCeilingRps.set(conns, after ? (readCeilingRps.get(conns)! + read.rps) / 2 : read.rps);
      results.push(read);
    }
  };
  if (ceiling) {
    cleanups.push(() => ceiling.stop());
    await measureCeilings(false);
  }

  const signInResults: SignInResult[] = [];
  const fullList: FullListResult[] = [];
  for (const name of opts.cases) {
    if (name === 'transfer') continue; // runTransfer, before the server
    if (isSignInCase(name)) {
      const r = await runSignInCase(engine, server.url, name, opts, rss);
      printSignIn(r);
      signInResults.push(r);
      continue;
    }
    if (name === 'full_list') {
      // Each list is every user: 16 at once is the issue's figure; more would only queue behind them.
      for (const conns of [...new Set(opts.connections.map((c) => Math.min(c, 16)))]) {
        await settle(rss);
        fullList.push(await measureFullList(engine, server.url, conns, seeded.users + 1, rss));
      }
      continue;
    }
    for (const conns of opts.connections) {
      const run = () => measureCase(engine, server.url, name as CaseName, conns, ids, session, opts, rss, ceilingRps);
      results.push(name === 'patch_webhook' ? await withWebhook(server.url, run) : await run());
      if (name === 'patch_webhook') {
        const base = results.find((r) => r.engine === engine && r.case === 'patch_token' && r.connections === conns);
        if (base) process.stdout.write(`  patch_webhook / patch_token at ${conns}: ${fmt((results[results.length - 1].rps / base.rps) * 100)} % (target: at least 90 %)\n`);
      }
    }
  }

  if (ceiling) {
    await measureCeilings(true);
    for (const r of results) {
      const c = ceilingRps.get(r.connections);
      r.ratioToCeiling = c ? r.rps / c : null;
      const read = readCeilingRps.get(r.connections);
      if (r.engine !== 'ceiling' && (r.case === 'list_page' || r.case === 'search_email')) r.ratioToReadCeiling = read ? r.rps / read : null;
    }
    process.stdout.write(`  ceiling (mean of before and after) per connection count: ${[...ceilingRps].map(([k, v]) => `${k}: ${fmt(v)}`).join(', ')} req/s\n`);
    if (readCeilingRps.size) process.stdout.write(`  read ceiling (mean of before and after): ${[...readCeilingRps].map(([k, v]) => `${k}: ${fmt(v)}`).join(', ')} req/s\n`);
    crss!.stop();
    await ceiling.stop();
  }

  // Password changes flat out (as many as the hash queue takes) beside GET and PATCH at 16 connections.
  const interference: InterferenceResult[] = [];
  if (opts.interference) {
    const conns = opts.connections.includes(16) ? 16 : opts.connections[opts.connections.length - 1];
    for (const name of ['get_user', 'patch_token'] as CaseName[]) {
      const spec = caseSpec(name, ids, session, 4242);
      await settle(rss);
      await load(server.url, spec, conns, opts.warmup);
      const quiet = await load(server.url, spec, conns, opts.duration);
      rss.reset();
      const hashing = load(server.url, caseSpec('password_change', ids, session, 99), conns, opts.duration + 2);
      await sleep(1000); // let the hash queue fill first
      const loaded = await load(server.url, spec, conns, opts.duration);
      const pw = await hashing;
      rss.sample();
      const r: InterferenceResult = {
        engine, case: name, connections: conns,
        quietP99: quiet.p99, loadedP99: loaded.p99, ratio: loaded.p99 / Math.max(quiet.p99, 0.001),
        quietRps: quiet.rps, loadedRps: loaded.rps,
        passwordChangesPerSecond: pw.rps, passwordErrors: pw.errors, rssPeakMiB: rss.peakKiB / 1024,
      };
      interference.push(r);
      process.stdout.write(
        `  ${engine.padEnd(8)} ${(name + '+pw').padEnd(16)} ${String(conns).padStart(3)}  p99 quiet ${fmt(quiet.p99, 1)} ms → with password changes flat out ${fmt(loaded.p99, 1)} ms (×${fmt(r.ratio, 2)}; ${fmt(quiet.rps)} → ${fmt(loaded.rps)} req/s; ${fmt(pw.rps)} password changes/s, ${pw.errors} errors)\n`,
      );
    }
  }

  const hwm = rss.hwmMiB();
  rss.stop();
  await server.stop();
  if (server.child.exitCode !== 0 && server.child.exitCode !== null) process.stderr.write(`server exited ${server.child.exitCode}:\n${server.stderr()}\n`);
  const errs = server.stderr().trim();
  if (errs) process.stderr.write(`[${engine}] server output (warn and above):\n${errs.slice(-4000)}\n`);
  allCases.push(...results);
  process.stdout.write(`[${engine}] server peak RSS (VmHWM) ${fmt(hwm)} MiB; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return {
    engine, users: opts.users[engine], seedSeconds: seeded.ms / 1000, ids, plans, cases: results, interference, signIn: signInResults, fullList,
    rssHwmMiB: hwm, profile: opts.profile ? largestFile(profileDir) : null,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  process.stdout.write(
    `gatehouse bench: engines ${opts.engines.join(', ')}; users ${opts.engines.map((e) => `${e} ${fmt(opts.users[e])}`).join(', ')}; connections ${opts.connections.join(', ')}; warm-up ${opts.warmup} s, ${opts.duration} s per case\n`,
  );
  process.stdout.write('  engine   case             conn    req/s         p50             p99          errors   server CPU      peak RSS  ÷ceiling\n');
  const ceilingRps = new Map<number, number>();
  const all: CaseResult[] = [];
  const reports: EngineReport[] = [];
  // PostgreSQL first: its run measures the ceiling the SQLite figures are also compared with.
  const order = [...opts.engines].sort((a, b) => (a === 'postgres' ? -1 : b === 'postgres' ? 1 : 0));
  try {
    for (const engine of order) {
      // transfer: its own empty stores, no server; then the other cases, if any, on a seeded store.
      const transfer = opts.cases.includes('transfer')
        ? await runTransfer(engine, opts.users[engine], { root, pgUrl: opts.pgUrl, createPgDatabase, startCommand, cleanups })
        : undefined;
      await runCleanups();
      if (opts.cases.some((c) => c !== 'transfer')) {
        reports.push({ ...(await runEngine(engine, opts, ceilingRps, all)), transfer });
        await runCleanups();
      } else if (transfer) {
        reports.push({ engine, users: opts.users[engine], seedSeconds: 0, ids: { lo: 0, hi: 0 }, plans: [], cases: [], interference: [], signIn: [], fullList: [], transfer, rssHwmMiB: 0, profile: null });
      }
    }
  } finally {
    await runCleanups();
  }
  let pgVersion: string | null = null;
  if (opts.engines.includes('postgres')) {
    const c = new pg.Client({ connectionString: opts.pgUrl });
    await c.connect();
    pgVersion = (await c.query('show server_version')).rows[0].server_version;
    await c.end();
  }
  const report = {
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version, postgres: pgVersion },
    options: { ...opts, out: path.relative(root, opts.out) },
    ceiling: Object.fromEntries(ceilingRps),
    // The read ceiling per connection count: the mean of its runs before and after the cases.
    readCeiling: Object.fromEntries(opts.connections.map((n) => {
      const runs = all.filter((c) => c.connections === n && (c.case === 'ceiling_list' || c.case === 'ceiling_list_after'));
      return [n, runs.length ? runs.reduce((a, c) => a + c.rps, 0) / runs.length : null];
    })),
    engines: reports,
  };
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n');

  process.stdout.write('\nsummary (requests/s; p99 ms; ratio to the same-run single-UPDATE ceiling)\n');
  for (const r of reports) {
    process.stdout.write(`  [${r.engine}, ${fmt(r.users)} users, seeded in ${r.seedSeconds.toFixed(1)} s, peak RSS ${fmt(r.rssHwmMiB)} MiB]\n`);
    for (const c of r.cases) printRow(c);
    for (const c of r.signIn) printSignIn(c);
    for (const f of r.fullList) printFullList(f);
    for (const t of r.transfer?.steps ?? []) printTransferStep(r.engine, t);
    if (r.transfer) process.stdout.write(`  ${r.engine.padEnd(8)} transfer round trip: ${r.transfer.roundTrip.same ? 'same users, same hashes' : 'DIFFERENT'}\n`);
    for (const i of r.interference) {
      process.stdout.write(`  ${r.engine.padEnd(8)} ${(i.case + '+pw').padEnd(16)} ${String(i.connections).padStart(3)}  p99 ×${fmt(i.ratio, 2)} with password changes flat out (${fmt(i.quietP99, 1)} → ${fmt(i.loadedP99, 1)} ms)\n`);
    }
  }
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), opts.out)} (${report.seconds.toFixed(0)} s)\n`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main().catch(async (err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  await runCleanups();
  process.exit(1);
});

