// Password hashing: argon2id (OWASP parameters or stronger), computed on libuv's thread pool, never on the
// event loop, and bounded by a queue so a burst of hashes cannot starve every other request.
// Imported bcrypt hashes verify too and are upgraded to argon2id on the next successful sign-in.
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import type { Argon2Params } from '../../platform/config.js';
import { invalid } from '../errors.js';

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
 * At most `size` tasks at once, the rest wait in arrival order. A finishing task hands its slot straight to
 * the next waiter: were the slot freed and the waiter woken, a task arriving in between would take the slot
 * and the woken waiter would run as well. Under a flood of password changes that let more hashes run at once
 * than the bound (each with its 19 MiB), which is what the bench's 64-connection case showed.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
  get queued(): number {
    return this.waiting.length;
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

export class PasswordHasher {
  private readonly queue: Semaphore;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params, concurrency: number) {
    this.queue = new Semaphore(concurrency);
  }

  get queued(): number {
    return this.queue.queued;
  }

  hash(password: string): Promise<string> {
    return this.queue.run(() =>
      argon2.hash(password, {
        type: argon2.argon2id,
        memoryCost: this.params.memoryCost,
        timeCost: this.params.timeCost,
        parallelism: this.params.parallelism,
      }),
    );
  }

  /**
   * Verifies `password` against `hash`. With no hash (unknown user, no password set) it verifies against
   * a dummy hash of the same cost, so the answer takes the same time either way.
   */
  async verify(hash: string | null | undefined, password: string): Promise<VerifyResult> {
    if (!hash) {
      this.dummyHash ??= this.hash('gatehouse-dummy-password');
      const dummy = await this.dummyHash;
      await this.queue.run(() => argon2.verify(dummy, password).catch(() => false));
      return { ok: false };
    }
    if (hash.startsWith('$2a$') || hash.startsWith('$2b$') || hash.startsWith('$2y$')) {
      // bcryptjs runs on this thread in short slices (it yields between rounds): behind the same queue as
      // argon2, so a burst of imported accounts signing in cannot take more than the queue's share.
      const ok = await this.queue.run(() => bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$')));
      return ok ? { ok, rehash: await this.hash(password) } : { ok };
    }
    if (!hash.startsWith('$argon2')) return { ok: false };
    const ok = await this.queue.run(() => argon2.verify(hash, password).catch(() => false));
    if (!ok) return { ok };
    // All three parameters: argon2's own default parallelism (4) differs from ours (1), and without it
    // every login would re-hash and rewrite a hash that is already current.
    const weaker = argon2.needsRehash(hash, {
      memoryCost: this.params.memoryCost,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
    return weaker ? { ok, rehash: await this.hash(password) } : { ok };
  }
}
