// The admin console: static pages over the public admin API, served at /console (plain ES modules, no
// build step, no framework), and the public pages behind the links the server sends: accept an invite
// (/new-user?token=…, the user-admin surface's inviteLink) and reset a password (/reset-password?token=…).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
// Everything the page loads comes from this origin; no inline script, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  // Every asset is read once at start; only the files in the folder are served (no path from the request).
  const names = fs.readdirSync(ASSETS).filter((n) => TYPES[path.extname(n)]);
  const contents = new Map(names.map((name) => [name, fs.readFileSync(path.join(ASSETS, name))]));
  const serve = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .type(TYPES[path.extname(name)])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(contents.get(name));
  app.get('/console', { schema: { hide: true } }, serve('index.html'));
  for (const name of names) {
    if (name.endsWith('.html')) continue;
    app.get(`/console/${name}`, { schema: { hide: true } }, serve(name));
  }
  // The token is in the query: no-referrer (above) keeps it from leaking to another site.
  app.get('/new-user', { schema: { hide: true } }, serve('password.html'));
  app.get('/reset-password', { schema: { hide: true } }, serve('password.html'));
}
