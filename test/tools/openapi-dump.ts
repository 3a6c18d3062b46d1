// Writes the server's OpenAPI document (as GET /openapi.json serves it, from a fresh embedded store) to the
// path given, for the typed client's generator (scripts/generate-client.sh).
import fs from 'node:fs';
import { startServer } from '../helpers/harness.js';

const out = process.argv[2];
if (!out) throw new Error('usage: node --import tsx test/tools/openapi-dump.ts <file>');
const s = await startServer('sqlite');
try {
  const doc = await (await fetch(`${s.url}/openapi.json`)).json();
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
} finally {
  await s.close();
}
