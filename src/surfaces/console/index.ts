// The admin console: a Preact app over the public admin API, served at /console (its bundle built by
// esbuild from ui/*.tsx: see build.ts), and the public pages behind the links the server sends: accept an
// invite (/new-user?token=…, the user-admin surface's inviteLink) and reset a password (/reset-password?token=…).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ASSETS = path.join(HERE, 'assets');
const BUNDLE = path.join(HERE, 'bundle');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
// Everything the page loads comes from this origin; no inline script, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let building: Promise<unknown> | null = null;
/**
 * Run from source (tsx: `npm run gatehouse`, the tests), the bundles are built here when missing or stale,
 * once per process; the compiled server (`npm start`, the image) serves those `npm run build` wrote.
 */
async function ensureBundle(): Promise<void> {
  if (!import.meta.url.endsWith('.ts')) return;
  building ??= import('./build.js').then((b) => (b.bundleStale(BUNDLE) ? b.buildConsole(BUNDLE) : null));
  await building;
}

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await ensureBundle();
  // Every file is read once at start; only the files in the two folders are served (no path from the request).
  const files = new Map<string, Buffer>();
  for (const dir of [ASSETS, BUNDLE]) {
    if (!fs.existsSync(dir)) throw new Error(`the console's files are missing at ${dir}: run npm run build`);
    for (const name of fs.readdirSync(dir)) if (TYPES[path.extname(name)]) files.set(name, fs.readFileSync(path.join(dir, name)));
  }
  const serve = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .type(TYPES[path.extname(name)])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(files.get(name));
  app.get('/console', { schema: { hide: true } }, serve('index.html'));
  for (const name of files.keys()) {
    if (name.endsWith('.html')) continue;
    app.get(`/console/${name}`, { schema: { hide: true } }, serve(name));
  }
  // The token is in the query: no-referrer (above) keeps it from leaking to another site.
  app.get('/new-user', { schema: { hide: true } }, serve('password.html'));
  app.get('/reset-password', { schema: { hide: true } }, serve('password.html'));
}
