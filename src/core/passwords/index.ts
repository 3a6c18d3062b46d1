// Password hashing: argon2id (OWASP parameters or stronger), never on the event loop: on worker threads of
// their own, at a lower scheduling priority than the threads serving requests, and bounded by a queue, so a
// burst of hashes cannot starve every other request. Imported bcrypt hashes verify too and are upgraded to
// argon2id on the next successful sign-in, and so do imported PBKDF2 (Keycloak), scrypt and argon2i/argon2id
// hashes of other parameters (docs/cli.md, "Password hash formats").
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { Argon2Params } from '../../platform/config.js';
import { invalid } from '../errors.js';
import type { HashJob, HashReply, HashWorkerData } from './worker.js';

export interface PasswordPolicy {
  min: number;
  max: number;
}

/** The shared rule; surfaces may add their own documented limits on top. */
export const BASE_POLICY: PasswordPolicy = { min: 8, max: 1024 };

export function checkPassword(field: string, password: string, policy: PasswordPolicy = BASE_POLICY): void {
  const length = Array.from(password).length;
  if (length < policy.min) {
    throw invalid(field, 'too_short', `Password must be at least ${policy.min} characters`, {
      hint: `Use at least ${policy.min} characters`,
      constraints: { minLength: policy.min, maxLength: policy.max },
    });
  }
  if (length > policy.max) {
    throw invalid(field, 'too_long', `Password must be at most ${policy.max} characters`, {
      constraints: { minLength: policy.min, maxLength: policy.max },
    });
  }
  if (password.includes('\u0000')) {
    throw invalid(field, 'invalid_characters', 'Password must not contain NUL characters');
  }
}

/**
 * How urgent a hashing job is. 'signin': a password check someone is waiting on to sign in (and the
 * re-hash that completes it); 'other': hashing a new password (sign-up, password change, create). Under a
 * flood of the second kind (an open sign-up hammered from many addresses), sign-ins go first.
 */
export type HashPriority = 'signin' | 'other';

/**
 * At most `size` tasks at once, the rest wait: 'signin' waiters before 'other' ones, each kind in arrival
 * order. A finishing task hands its slot straight to the next waiter: were the slot freed and the waiter
 * woken, a task arriving in between would take the slot and the woken waiter would run as well. Under a
 * flood of password changes that let more hashes run at once than the bound (each with its 19 MiB), which
 * is what the bench's 64-connection case showed. A running task is never interrupted; a sign-in waits at
 * most for the tasks already running (and other sign-ins ahead of it).
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Record<HashPriority, Array<() => void>> = { signin: [], other: [] };
  constructor(private readonly size: number) {}
  async run<T>(fn: () => Promise<T>, priority: HashPriority = 'other'): Promise<T> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.signin.shift() ?? this.waiting.other.shift();
      if (next) next();
      else this.active--;
    }
  }
  get queued(): number {
    return this.waiting.signin.length + this.waiting.other.length;
  }
  get running(): number {
    return this.active;
  }
}

export interface VerifyResult {
  ok: boolean;
  /** Set when the stored hash should be replaced (bcrypt import, weaker parameters). */
  rehash?: string;
}

/**
 * How much lower than the server's threads the hashing threads run (Linux nice value, added to the
 * process's own). The hashes still get every cycle the requests leave; when both want the cores, the
 * requests come first. Lowering one's own priority needs no privilege.
 */
export const HASH_THREAD_NICENESS = 10;

/**
 * The hashing thread's program, a module of its own (./worker.js, type-checked JavaScript), started by URL:
 * the same file from the sources (tsx) and compiled (dist/).
 */
const HASH_WORKER_URL = new URL('./worker.js', import.meta.url);

/** One hashing thread; a job at a time (the queue in front of the threads sees to that). */
class HashThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 0;
  dead = false;

  constructor() {
    const workerData: HashWorkerData = { niceness: HASH_THREAD_NICENESS };
    // No execArgv of the process's: the program is plain JavaScript, and a --import tsx inherited from a
    // source run would load tsx into every hashing thread (about a second and 10 MiB each, for nothing).
    this.worker = new Worker(HASH_WORKER_URL, { workerData, execArgv: [] });
    this.worker.on('message', (m: HashReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.value);
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`hashing thread exited (${code})`)));
    // An idle hashing thread does not keep the process alive; one with a job does (run). After the
    // listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  run<T>(job: HashJob): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ id, ...job });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The argon2id parameters of a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash), or undefined. */
function phcParams(hash: string): { type: string; version: number; m: number; t: number; p: number } | undefined {
  const parts = hash.split('$');
  if (parts.length < 5 || !parts[1].startsWith('argon2')) return undefined;
  const version = parts[2].startsWith('v=') ? Number(parts[2].slice(2)) : 16;
  const params = Object.fromEntries((parts[2].startsWith('v=') ? parts[3] : parts[2]).split(',').map((kv) => kv.split('=')));
  return { type: parts[1], version, m: Number(params.m), t: Number(params.t), p: Number(params.p) };
}

export class PasswordHasher {
  private readonly queue: Semaphore;
  private readonly idle: HashThread[] = [];
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params, concurrency: number) {
    this.queue = new Semaphore(concurrency);
  }

  get queued(): number {
    return this.queue.queued;
  }

  /** The nice value a hashing thread runs at, as that thread reads it. */
  threadNiceness(): Promise<number> {
    return this.onThread<number>({ op: 'niceness' });
  }

  /** Stops the hashing threads (they would not keep the process alive anyway). */
  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((t) => t.terminate()));
  }

  /** A job on an idle hashing thread (the queue's bound means one is free), started when none is. */
  private onThread<T>(job: HashJob, priority: HashPriority = 'other'): Promise<T> {
    return this.queue.run(async () => {
      let thread = this.idle.pop();
      while (thread?.dead) thread = this.idle.pop();
      thread ??= new HashThread();
      try {
        return await thread.run<T>(job);
      } finally {
        if (!thread.dead) this.idle.push(thread);
      }
    }, priority);
  }

  /** A new password's hash (sign-up, change, create): behind any sign-in waiting for its check. */
  hash(password: string, priority: HashPriority = 'other'): Promise<string> {
    return this.onThread<string>({ op: 'hash', password, params: this.params }, priority);
  }

  /**
   * Verifies `password` against `hash`. With no hash (unknown user, no password set) it verifies against
   * a dummy hash of the same cost, so the answer takes the same time either way. Sign-in work: it goes
   * ahead of every other hashing job waiting in the queue.
   */
  async verify(hash: string | null | undefined, password: string): Promise<VerifyResult> {
    if (!hash) {
      this.dummyHash ??= this.hash('gatehouse-dummy-password', 'signin');
      const dummy = await this.dummyHash;
      await this.onThread<boolean>({ op: 'verify', hash: dummy, password }, 'signin').catch(() => false);
      return { ok: false };
    }
    if (hash.startsWith('$2a$') || hash.startsWith('$2b$') || hash.startsWith('$2y$')) {
      // bcryptjs runs on this thread in short slices (it yields between rounds): behind the same queue as
      // argon2, so a burst of imported accounts signing in cannot take more than the queue's share.
      const ok = await this.queue.run(() => bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$')), 'signin');
      return ok ? { ok, rehash: await this.hash(password, 'signin') } : { ok };
    }
    const foreign = parseForeignHash(hash);
    if (foreign) {
      // node:crypto's callback forms run on libuv's thread pool: the event loop only waits for the answer.
      const ok = await this.queue.run(() => verifyForeign(foreign, password), 'signin');
      return ok ? { ok, rehash: await this.hash(password, 'signin') } : { ok };
    }
    const stored = phcParams(hash);
    if (!stored) return { ok: false };
    const ok = await this.onThread<boolean>({ op: 'verify', hash, password }, 'signin').catch(() => false);
    if (!ok) return { ok };
    // Re-hashed when any parameter differs from ours (all three: a hash with another parallelism is not
    // current either), or when it is an older variant or version of argon2.
    const current = stored.type === 'argon2id' && stored.version === 19 && stored.m === this.params.memoryCost &&
      stored.t === this.params.timeCost && stored.p === this.params.parallelism;
    return current ? { ok } : { ok, rehash: await this.hash(password, 'signin') };
  }
}

/**
 * Imported hashes other than bcrypt and argon2, as PHC-like strings (docs/cli.md):
 *   $pbkdf2-sha256$i=<iterations>$<salt>$<hash>   (also pbkdf2-sha512, pbkdf2-sha1)
 *   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
 * Salt and hash are base64, standard or URL-safe, padded or not; passlib's "adapted" base64 ('.' for '+')
 * reads too. The derived key's length is the stored hash's length.
 */
export type ForeignHash =
  | { kind: 'pbkdf2'; digest: 'sha1' | 'sha256' | 'sha512'; iterations: number; salt: Buffer; hash: Buffer }
  | { kind: 'scrypt'; N: number; r: number; p: number; salt: Buffer; hash: Buffer };

/** Bounds that keep a hostile import from pinning a thread for minutes or allocating gigabytes. */
const PBKDF2_MAX_ITERATIONS = 10_000_000;
const SCRYPT_MAX_LN = 20;

function b64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/._-]*={0,2}$/.test(text) || text === '') return undefined;
  return Buffer.from(text.replace(/\./g, '+').replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function kvParams(text: string): Record<string, number> {
  return Object.fromEntries(text.split(',').map((kv) => { const [k, v] = kv.split('='); return [k, /^\d+$/.test(v ?? '') ? Number(v) : NaN]; }));
}

/** The parts of a PBKDF2 or scrypt hash in the formats above, or undefined for anything else. */
export function parseForeignHash(hash: string): ForeignHash | undefined {
  const parts = hash.split('$');
  if (parts.length !== 5 || parts[0] !== '') return undefined;
  const salt = b64(parts[3]);
  const out = b64(parts[4]);
  if (!salt || !out || out.length < 16 || out.length > 128) return undefined;
  const m = /^pbkdf2-(sha1|sha256|sha512)$/.exec(parts[1]);
  if (m) {
    const { i } = kvParams(parts[2]);
    if (!Number.isInteger(i) || i < 1 || i > PBKDF2_MAX_ITERATIONS) return undefined;
    return { kind: 'pbkdf2', digest: m[1] as 'sha1' | 'sha256' | 'sha512', iterations: i, salt, hash: out };
  }
  if (parts[1] === 'scrypt') {
    const { ln, r, p } = kvParams(parts[2]);
    if (![ln, r, p].every((n) => Number.isInteger(n) && n >= 1) || ln > SCRYPT_MAX_LN || r > 32 || p > 16) return undefined;
    return { kind: 'scrypt', N: 2 ** ln, r, p, salt, hash: out };
  }
  return undefined;
}

function verifyForeign(h: ForeignHash, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (err: Error | null, key: Buffer) => resolve(!err && key.length === h.hash.length && timingSafeEqual(key, h.hash));
    if (h.kind === 'pbkdf2') pbkdf2(password, h.salt, h.iterations, h.hash.length, h.digest, done);
    else scrypt(password, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 }, done);
  });
}

/** True when `hash` is a stored form sign-in can verify (argon2 PHC, bcrypt, PBKDF2 or scrypt as above). */
export function isVerifiableHash(hash: string): boolean {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return true;
  if (parseForeignHash(hash)) return true;
  const p = phcParams(hash);
  return p !== undefined && ['argon2id', 'argon2i', 'argon2d'].includes(p.type) && [p.m, p.t, p.p].every((n) => Number.isInteger(n) && n > 0);
}
