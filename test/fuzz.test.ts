// A fixed-seed sample of the fuzz suite (test/helpers/fuzz.ts): requests generated from the OpenAPI document
// for every operation of every surface, with wrong types, missing and extra fields, odd strings and
// headers, bad ids and content types. Never a 5xx; every error in its surface's documented shape.
// `npm run fuzz` runs the same property with thousands of requests per surface.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { FUZZ_ENV, runFuzz } from './helpers/fuzz.js';

for (const { engine, skip } of engines()) {
  describe(`fuzz sample [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine, { env: FUZZ_ENV });
    });
    after(async () => s?.close());

    it('10 generated requests per operation (seed 20261204): no 5xx, every error in its surface\'s shape', async () => {
      const report = await runFuzz(s.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token: ADMIN_TOKEN }, { seed: 20261204, perOperation: 10, renewEvery: 5 });
      assert.ok(report.requests >= 10 * 70, `requests sent: ${report.requests}`);
      for (const surface of ['admin', 'account', 'directory', 'useradmin']) assert.ok((report.bySurface[surface] ?? 0) > 0, `${surface} was exercised`);
      assert.ok((report.byStatus['2xx'] ?? 0) > 0 && (report.byStatus['4xx'] ?? 0) > 0, JSON.stringify(report.byStatus));
      assert.deepEqual(report.failures.slice(0, 10), [], `${report.failures.length} failures`);
    });
  });
}
