// npm run fuzz [-- --per-surface N] [--seed S] [--engines sqlite,postgres]: the fuzz property of
// test/helpers/fuzz.ts at volume (default 10,000 requests per surface), against a fresh server per engine.
// Prints the counts per surface and status class and the failures; exits 1 on any failure.
import { parseArgs } from 'node:util';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer } from '../helpers/harness.js';
import { FUZZ_ENV, operationsOf, fuzzable, runFuzz, type Surface } from '../helpers/fuzz.js';

const { values } = parseArgs({
  options: {
    'per-surface': { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const wanted = values.engines!.split(',');
const perSurface = Number(values['per-surface']);
const seed = Number(values.seed);
const admin = { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token: ADMIN_TOKEN };
let failed = false;
for (const { engine, skip } of engines()) {
  if (!wanted.includes(engine)) continue;
  if (skip) {
    console.log(`# ${engine}: skipped (${skip})`);
    continue;
  }
  const s = await startServer(engine, { env: FUZZ_ENV });
  try {
    const doc = await (await fetch(`${s.url}/openapi.json`)).json();
    const ops = operationsOf(doc).filter(fuzzable);
    for (const surface of ['admin', 'account', 'directory', 'useradmin'] as Surface[]) {
      const count = ops.filter((o) => o.surface === surface).length;
      const started = Date.now();
      const report = await runFuzz(s.url, admin, { seed, perOperation: Math.ceil(perSurface / count), renewEvery: 25, surfaces: [surface] });
      console.log(`# ${engine} ${surface}: seed ${seed}, ${count} operations, ${report.requests} requests in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
        `by status ${JSON.stringify(report.byStatus)}; failures ${report.failures.length}`);
      for (const f of report.failures.slice(0, 20)) console.log(JSON.stringify(f));
      if (report.failures.length > 0) failed = true;
    }
  } finally {
    await s.close();
  }
}
process.exit(failed ? 1 : 0);
