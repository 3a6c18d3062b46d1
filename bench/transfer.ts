// The `transfer` bench case (bench/README.md): `gatehouse import` of N generated users into an empty store,
// `gatehouse export` of them, and the round trip (that export imported into a second empty store and exported
// again: the same users with the same hashes). Each command runs as its own process, the compiled CLI with the
// node flags of `npm start`; its wall time, its own CPU time (getrusage, bench/rusage.ts), the CPU time of every
// PostgreSQL process meanwhile, and its peak RSS are measured.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { seededIdentity, sharedHash } from './seed.js';

type Engine = 'postgres' | 'sqlite';

export interface TransferStep {
  step: 'import' | 'export' | 'reimport' | 'reexport';
  users: number;
  seconds: number;
  usersPerSecond: number;
  /** CPU time of the CLI process (user + system), seconds. */
  cpuSeconds: number;
  /** CPU time of the PostgreSQL backends of the step's database (sampled every 250 ms), seconds; 0 on SQLite. */
  dbCpuSeconds: number;
  rssPeakMiB: number;
  exitCode: number;
  summary: unknown;
}

export interface TransferResult {
  engine: Engine;
  users: number;
  fileMiB: number;
  generateSeconds: number;
  steps: TransferStep[];
  /** The second export equals the first, line for line, but for the ids (sha256 of the id-less lines). */
  roundTrip: { same: boolean; lines: number; digestA: string; digestB: string };
}

export interface TransferDeps {
  root: string;
  pgUrl: string;
  createPgDatabase(pgUrl: string): Promise<{ url: string; name: string; drop: () => Promise<void> }>;
  startCommand(): { env: Record<string, string>; flags: string[] };
  cleanups: Array<() => Promise<void>>;
}

const TENANTS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne'];
const ROLES = ['Billing', 'Support', 'Developer'];

/** Writes `count` users in the gatehouse format: the seed's identities, one shared argon2id hash, 10% with a membership. */
export async function generateUsers(file: string, count: number): Promise<void> {
  const hash = await sharedHash();
  const out = fs.createWriteStream(file);
  const day = 86_400_000;
  const now = Date.UTC(2026, 11, 1);
  let buf: string[] = [];
  for (let n = 1; n <= count; n++) {
    const id = seededIdentity(n);
    const user = {
      id: n,
      email: id.email,
      username: id.username,
      name: id.name,
      avatar_url: null,
      phone: n % 7 === 0 ? `+1555${String(n).padStart(7, '0')}` : null,
      title: null,
      emergency_contact_name: null,
      emergency_contact_surname: null,
      emergency_contact_phone_number: null,
      blood_group: null,
      bio: null,
      languages: n % 11 === 0 ? ['English'] : null,
      root_role: n % 100 < 3 ? 'Editor' : n % 100 < 10 ? 'Viewer' : 'Member',
      is_active: n % 20 !== 0,
      email_verified_at: n % 10 === 0 ? null : new Date(now - (n % 900) * day).toISOString(),
      created_at: new Date(now - (n % 1000) * day).toISOString(),
      password_hash: hash,
      memberships: n % 10 === 3 ? [{ tenant: TENANTS[n % TENANTS.length], roles: [ROLES[n % ROLES.length]] }] : [],
    };
    buf.push(JSON.stringify(user));
    if (buf.length === 1000) {
      if (!out.write(buf.join('\n') + '\n')) await once(out, 'drain');
      buf = [];
    }
  }
  if (buf.length) out.write(buf.join('\n') + '\n');
  out.end();
  await once(out, 'finish');
}

/** CPU time (user + system, ms) of a process so far, from /proc; undefined once it is gone. */
function procCpuMs(pid: number): number | undefined {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Runs one CLI command to its end, measured. */
async function runStep(deps: TransferDeps, step: TransferStep['step'], args: string[], storeEnv: Record<string, string>, users: number): Promise<TransferStep> {
  const usageFile = path.join(os.tmpdir(), `gatehouse-bench-rusage-${process.pid}-${Date.now()}.json`);
  const start = deps.startCommand();
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...start.flags, '--import', pathToFileURL(path.join(deps.root, 'dist', 'bench', 'rusage.js')).href, 'dist/src/main.js', ...args], {
    cwd: deps.root,
    env: { ...process.env, ...Object.fromEntries(Object.entries(start.env).filter(([k]) => process.env[k] === undefined)), ...storeEnv, BENCH_RUSAGE_FILE: usageFile, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // PostgreSQL CPU of this database's backends only (other work on the same server is not counted), sampled
  // from /proc while the command runs: its backends end with it, before a reading after it could see them.
  // Background processes (WAL writer, checkpointer) are left out: they serve every database of the server.
  const pgSeen = new Map<string, number>();
  let watcher: pg.Client | undefined;
  if (storeEnv.DATABASE_URL) {
    watcher = new pg.Client({ connectionString: storeEnv.DATABASE_URL });
    await watcher.connect();
  }
  const pgSample = async () => {
    if (!watcher) return;
    const { rows } = await watcher.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    for (const { pid } of rows) {
      const ms = procCpuMs(pid);
      if (ms !== undefined) pgSeen.set(String(pid), ms);
    }
  };
  let sampling = false;
  const sampler = watcher ? setInterval(() => {
    if (sampling) return;
    sampling = true;
    pgSample().catch(() => {}).finally(() => { sampling = false; });
  }, 250) : undefined;
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout = (stdout + d).slice(-200_000); });
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-20_000); });
  const exitCode: number = await new Promise((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sampler) clearInterval(sampler);
  await watcher?.end();
  let dbCpuMs = 0;
  for (const ms of pgSeen.values()) dbCpuMs += ms;
  const dbCpuSeconds = dbCpuMs / 1000;
  let usage = { userMs: 0, systemMs: 0, maxRssKiB: 0 };
  try {
    usage = JSON.parse(fs.readFileSync(usageFile, 'utf8'));
    fs.rmSync(usageFile, { force: true });
  } catch { /* the process died before its exit handler ran */ }
  if (exitCode !== 0) process.stderr.write(`[transfer] ${step} exited ${exitCode}:\n${stderr.slice(-4000)}\n${stdout.slice(-4000)}\n`);
  const summaryLine = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{"summary"'));
  return {
    step, users, seconds, usersPerSecond: users / seconds, cpuSeconds: (usage.userMs + usage.systemMs) / 1000, dbCpuSeconds,
    rssPeakMiB: usage.maxRssKiB / 1024, exitCode, summary: summaryLine ? JSON.parse(summaryLine).summary : stderr.trim().split('\n').pop() ?? null,
  };
}

/** sha256 over the export's lines without their `id` (ids are the store's own), and the line count. */
async function digestWithoutIds(file: string): Promise<{ digest: string; lines: number }> {
  const h = createHash('sha256');
  let lines = 0;
  for await (const line of createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    h.update(line.replace(/^\{"id":\d+,/, '{') + '\n');
    lines++;
  }
  return { digest: h.digest('hex'), lines };
}

export function printTransferStep(engine: Engine, s: TransferStep): void {
  const f = (n: number, d = 0) => n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
  process.stdout.write(
    `  ${engine.padEnd(8)} ${('transfer ' + s.step).padEnd(18)} ${f(s.users)} users in ${f(s.seconds, 1)} s: ${f(s.usersPerSecond)} users/s  cpu ${f(s.cpuSeconds, 1)}+${f(s.dbCpuSeconds, 1)} s (CLI + PostgreSQL)  peak rss ${f(s.rssPeakMiB)} MiB  exit ${s.exitCode}\n`,
  );
}

/** The whole case on one engine: generate, import, export, re-import into a second empty store, export again. */
export async function runTransfer(engine: Engine, users: number, deps: TransferDeps): Promise<TransferResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-transfer-'));
  deps.cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const input = path.join(dir, 'users.jsonl');
  const t0 = Date.now();
  process.stdout.write(`[${engine}] transfer: generating ${users.toLocaleString('en')} users…`);
  await generateUsers(input, users);
  const generateSeconds = (Date.now() - t0) / 1000;
  const fileMiB = fs.statSync(input).size / 2 ** 20;
  process.stdout.write(` ${generateSeconds.toFixed(1)} s, ${fileMiB.toFixed(0)} MiB\n`);

  const store = async (label: string): Promise<Record<string, string>> => {
    if (engine === 'postgres') {
      const db = await deps.createPgDatabase(deps.pgUrl);
      deps.cleanups.push(db.drop);
      return { DATABASE_URL: db.url };
    }
    const d = path.join(dir, label);
    fs.mkdirSync(d);
    return { DATA_DIR: d };
  };
  const steps: TransferStep[] = [];
  const step = async (name: TransferStep['step'], args: string[], env: Record<string, string>) => {
    const s = await runStep(deps, name, args, env, users);
    printTransferStep(engine, s);
    steps.push(s);
    if (s.exitCode !== 0) throw new Error(`transfer ${name} failed (exit ${s.exitCode})`);
  };
  // Migrations first, so the import's time is the import's.
  const a = await store('a');
  await runStep(deps, 'import', ['migrate'], a, 0);
  await step('import', ['import', '--file', input, '--quiet'], a);
  const exportA = path.join(dir, 'export-a.jsonl');
  await step('export', ['export', '--out', exportA], a);
  const b = await store('b');
  await runStep(deps, 'import', ['migrate'], b, 0);
  await step('reimport', ['import', '--file', exportA, '--quiet'], b);
  const exportB = path.join(dir, 'export-b.jsonl');
  await step('reexport', ['export', '--out', exportB], b);
  const da = await digestWithoutIds(exportA);
  const db = await digestWithoutIds(exportB);
  const roundTrip = { same: da.digest === db.digest && da.lines === db.lines && da.lines === users, lines: da.lines, digestA: da.digest, digestB: db.digest };
  process.stdout.write(`  ${engine.padEnd(8)} transfer round trip: ${roundTrip.same ? 'same' : 'DIFFERENT'} (${da.lines.toLocaleString('en')} / ${db.lines.toLocaleString('en')} lines, sha256 without ids ${da.digest.slice(0, 12)} / ${db.digest.slice(0, 12)})\n`);
  return { engine, users, fileMiB, generateSeconds, steps, roundTrip };
}
