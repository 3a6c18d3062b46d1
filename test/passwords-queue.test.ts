// The password hashing queue: at most N hashes at once however requests arrive (each argon2id hash holds
// 19 MiB and a core), the rest in arrival order. Tasks arriving exactly when a slot frees up are the case
// that once let more than N run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import os from 'node:os';
import { HASH_THREAD_NICENESS, PasswordHasher, Semaphore } from '../src/core/passwords/index.js';

describe('password hashing queue', () => {
  for (const size of [1, 2, 3]) {
    it(`never runs more than ${size} at once, with arrivals racing every release`, async () => {
      const queue = new Semaphore(size);
      let running = 0;
      let peak = 0;
      const order: number[] = [];
      const task = (n: number) => async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(n);
        await tick();
        running--;
        return n;
      };
      const all: Array<Promise<number>> = [];
      for (let i = 0; i < 40; i++) {
        all.push(queue.run(task(i)));
        // New work lands in the same turns in which earlier tasks finish and hand their slots on.
        if (i % 3 === 0) await tick();
      }
      assert.deepEqual(await Promise.all(all), Array.from({ length: 40 }, (_, i) => i));
      assert.equal(peak, size);
      assert.equal(queue.running, 0);
      assert.equal(queue.queued, 0);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'first come, first served');
    });
  }

  it('a task arriving in any microtask after a release waits for its turn', async () => {
    for (let delay = 0; delay < 8; delay++) {
      const queue = new Semaphore(1);
      let running = 0;
      let peak = 0;
      const controlled = () => {
        let finish!: () => void;
        const done = new Promise<void>((r) => (finish = r));
        const fn = async () => {
          running++;
          peak = Math.max(peak, running);
          await done;
          running--;
        };
        return { fn, finish };
      };
      const a = controlled();
      const b = controlled();
      const c = controlled();
      const ra = queue.run(a.fn);
      const rb = queue.run(b.fn);
      await tick();
      a.finish();
      for (let i = 0; i < delay; i++) await null;
      const rc = queue.run(c.fn);
      await tick();
      assert.equal(peak, 1, `an arrival ${delay} microtasks after the release ran beside the woken waiter`);
      b.finish();
      await tick();
      c.finish();
      await Promise.all([ra, rb, rc]);
      assert.equal(peak, 1);
    }
  });

  it('a failing task frees its slot', async () => {
    const queue = new Semaphore(1);
    await assert.rejects(queue.run(async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await queue.run(async () => 7), 7);
    assert.equal(queue.running, 0);
  });
});

describe('password hashing threads', () => {
  const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

  it('hash on threads below the server in priority, off the event loop, in argon2id PHC form', async () => {
    const hasher = new PasswordHasher(params, 2);
    try {
      if (process.platform === 'linux') {
        assert.equal(await hasher.threadNiceness(), Math.min(19, os.getPriority(0) + HASH_THREAD_NICENESS), 'the hashing thread runs at a higher nice value');
      }
      // Two hashes at once (the bound) while the event loop keeps turning: it is never held for a hash's time.
      let turns = 0;
      let longest = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
        turns++;
      }, 1);
      const [a, b] = await Promise.all([hasher.hash('first-password-1'), hasher.hash('second-password-2')]);
      clearInterval(ticker);
      assert.ok(turns > 3, `the event loop turned ${turns} times while two hashes ran`);
      assert.ok(longest < 200, `the event loop was held ${longest.toFixed(0)} ms`);
      for (const h of [a, b]) assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
      assert.notEqual(a, b);
      assert.deepEqual(await hasher.verify(a, 'first-password-1'), { ok: true });
      assert.deepEqual(await hasher.verify(a, 'second-password-2'), { ok: false });
      assert.deepEqual(await hasher.verify('$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtaGFzaA$bm90LWEtaGFzaA', 'x'), { ok: false }, 'a malformed hash is a failed check, not an error');
    } finally {
      await hasher.close();
    }
  });

  it('a hash of other parameters or another argon2 variant verifies and is re-hashed to the current ones', async () => {
    const hasher = new PasswordHasher(params, 1);
    const weaker = new PasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 }, 1);
    try {
      const old = await weaker.hash('rehash-me-please');
      const checked = await hasher.verify(old, 'rehash-me-please');
      assert.equal(checked.ok, true);
      assert.match(checked.rehash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.deepEqual(await hasher.verify(checked.rehash, 'rehash-me-please'), { ok: true }, 'the new hash is current: no re-hash again');
      assert.deepEqual(await hasher.verify('$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA', 'x'), { ok: false });
    } finally {
      await hasher.close();
      await weaker.close();
    }
  });
});
