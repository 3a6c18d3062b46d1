// @ts-check
// The hashing thread's program (started by URL by PasswordHasher in ./index.ts, one thread per slot of the
// hash queue): @node-rs/argon2's synchronous calls, so the work runs on this very thread, which first
// lowers its own scheduling priority below the threads serving requests. Only the messages below cross the
// boundary.
//
// Plain JavaScript, type-checked by tsc (`@ts-check`, JSDoc types; tsconfig.json lists this file): the same
// file runs from the sources (tsx) and compiled (dist/). A thread of a Node.js 20 process does not get the
// process's `--import tsx` loader, and registering tsx in each thread cost about a second of start-up and
// 18-25 MiB per thread (measured), so the program is not TypeScript.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Algorithm, hashSync, verifySync } from '@node-rs/argon2';

/**
 * What the thread is started with: how much to add to its nice value (Linux; lowering one's own priority
 * needs no privilege).
 * @typedef {{ niceness: number }} HashWorkerData
 */

/**
 * A job, as posted to the thread.
 * @typedef {{ op: 'hash'; password: string; params: import('../../platform/config.js').Argon2Params }
 *   | { op: 'verify'; hash: string; password: string }
 *   | { op: 'niceness' }} HashJob
 */

/**
 * The job's answer: the value (hash: the PHC string, verify: a boolean, niceness: the thread's nice value)
 * or an error message.
 * @typedef {{ id: number; value: unknown; error?: undefined } | { id: number; error: string }} HashReply
 */

/**
 * @param {HashJob} job
 * @returns {unknown}
 */
function run(job) {
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
  const { niceness } = /** @type {HashWorkerData} */ (workerData);
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + niceness));
  } catch {
    // Where priorities cannot be changed the thread runs at the process's own.
  }
  port.on('message', (/** @type {HashJob & { id: number }} */ m) => {
    /** @type {HashReply} */
    let reply;
    try {
      reply = { id: m.id, value: run(m) };
    } catch (err) {
      reply = { id: m.id, error: String(/** @type {Error} */ (err)?.message ?? err) };
    }
    port.postMessage(reply);
  });
}
