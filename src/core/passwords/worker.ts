// The hashing thread's program (started by PasswordHasher in ./index.ts, one thread per slot of the hash
// queue): @node-rs/argon2's synchronous calls, so the work runs on this very thread, which first lowers its
// own scheduling priority below the threads serving requests. Only the messages below cross the boundary.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Algorithm, hashSync, verifySync } from '@node-rs/argon2';
import type { Argon2Params } from '../../platform/config.js';

/** What the thread is started with. */
export interface HashWorkerData {
  /** How much to add to the thread's nice value (Linux; lowering one's own priority needs no privilege). */
  niceness: number;
}

/** A job, as posted to the thread. */
export type HashJob = { op: 'hash'; password: string; params: Argon2Params } | { op: 'verify'; hash: string; password: string } | { op: 'niceness' };

/** The job's answer: the value (hash: the PHC string, verify: a boolean, niceness: the thread's nice value) or an error message. */
export type HashReply = { id: number; value: unknown; error?: undefined } | { id: number; error: string };

function run(job: HashJob): unknown {
  switch (job.op) {
    case 'hash':
      return hashSync(job.password, {
        algorithm: Algorithm.Argon2id,
        memoryCost: job.params.memoryCost,
        timeCost: job.params.timeCost,
        parallelism: job.params.parallelism,
      });
    case 'verify':
      return verifySync(job.hash, job.password);
    case 'niceness':
      return os.getPriority(0);
  }
}

if (parentPort) {
  const port = parentPort;
  const { niceness } = workerData as HashWorkerData;
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + niceness));
  } catch {
    // Where priorities cannot be changed the thread runs at the process's own.
  }
  port.on('message', (m: HashJob & { id: number }) => {
    let reply: HashReply;
    try {
      reply = { id: m.id, value: run(m) };
    } catch (err) {
      reply = { id: m.id, error: String((err as Error)?.message ?? err) };
    }
    port.postMessage(reply);
  });
}
