// npm test: runs every test file once; each file runs its cases on embedded SQLite and, when a
// PostgreSQL server is reachable, on PostgreSQL too (each file in a fresh database of its own).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pgUrl = process.env.DATABASE_URL || process.env.GATEHOUSE_TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const requirePg = /^(1|true)$/i.test(process.env.GATEHOUSE_TEST_REQUIRE_PG ?? '');

async function pgReachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

const reach = await pgReachable(pgUrl);
const env = { ...process.env };
delete env.DATABASE_URL; // the tests choose their store per case
if (reach === true) {
  env.GATEHOUSE_TEST_PG_URL = pgUrl;
  console.log(`# engines: sqlite (embedded) and postgres (${redact(pgUrl)})`);
} else {
  delete env.GATEHOUSE_TEST_PG_URL;
  const msg = `# PostgreSQL is not reachable at ${redact(pgUrl)} (${reach}).\n` +
    '# The PostgreSQL half of the suite needs a server: set DATABASE_URL (or GATEHOUSE_TEST_PG_URL) to one whose\n' +
    '# user may CREATE DATABASE, e.g. postgresql://postgres@127.0.0.1:5432/test. Running on SQLite only.';
  if (requirePg) {
    console.error(msg.replace('Running on SQLite only.', 'GATEHOUSE_TEST_REQUIRE_PG is set: failing.'));
    process.exit(1);
  }
  console.log(msg);
}

// The console's browser tests (test/console-browser.test.ts) need Debian's Chromium; they skip without it,
// and fail under GATEHOUSE_TEST_REQUIRE_BROWSER (CI).
if (!fs.existsSync('/usr/bin/chromium')) {
  console.log('# Chromium not found at /usr/bin/chromium: the console\'s browser tests will skip (apt-get install -y chromium).');
}

const only = process.argv.slice(2);
const files = fs
  .readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => path.join('test', f));

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
