// The admin console: a static page over the admin API, served at /console (no build step, no framework).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
// Everything the page loads comes from this origin; no inline script, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const contents = new Map(Object.keys(FILES).map((name) => [name, fs.readFileSync(path.join(ASSETS, name))]));
  const serve = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .type(FILES[name])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-cache')
      .send(contents.get(name));
  app.get('/console', { schema: { hide: true } }, serve('index.html'));
  app.get('/console/app.js', { schema: { hide: true } }, serve('app.js'));
  app.get('/console/app.css', { schema: { hide: true } }, serve('app.css'));
}
