// The password hashing queue: at most N hashes at once however requests arrive (each argon2id hash holds
// 19 MiB and a core), the rest in arrival order. Tasks arriving exactly when a slot frees up are the case
// that once let more than N run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Semaphore } from '../src/core/passwords/index.js';

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
