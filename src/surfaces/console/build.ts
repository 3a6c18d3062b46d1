// Builds the console's browser code (ui/*.tsx, Preact) with esbuild into two bundles: console.js (the
// admin console at /console) and password.js (the pages behind invite and reset links). `npm run build`
// writes them next to the compiled server (dist/…/console/bundle); a server started from source (tsx:
// `npm run gatehouse`, the tests) builds them into src/surfaces/console/bundle when they are missing or
// older than a source file. esbuild is a build-time dependency only: a production server never imports this.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The sources, beside this file whether it runs from src/ (tsx) or dist/ (compiled): always src/. */
const UI = path.join(HERE.replace(`${path.sep}dist${path.sep}src${path.sep}`, `${path.sep}src${path.sep}`), 'ui');
export const ENTRIES = { console: 'app.tsx', password: 'password.tsx' } as const;

/** Builds both bundles into outdir (written to a temporary name, then renamed: readers never see half a file). */
export async function buildConsole(outdir: string): Promise<{ bytes: Record<string, number>; ms: number }> {
  const started = performance.now();
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(UI, file)])),
    bundle: true,
    write: false,
    outdir,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(UI, 'tsconfig.json'),
    logLevel: 'silent',
  });
  fs.mkdirSync(outdir, { recursive: true });
  const bytes: Record<string, number> = {};
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
    bytes[path.basename(file.path)] = file.contents.byteLength;
  }
  return { bytes, ms: Math.round(performance.now() - started) };
}

/** True when a bundle is missing or older than a source file (ui/*, this file, the lockfile: a new Preact). */
export function bundleStale(outdir: string): boolean {
  const sources = fs.readdirSync(UI).map((n) => path.join(UI, n));
  const lockfile = path.join(UI, '..', '..', '..', '..', 'package-lock.json');
  if (fs.existsSync(lockfile)) sources.push(lockfile);
  const newest = Math.max(...[...sources, fileURLToPath(import.meta.url)].map((f) => fs.statSync(f).mtimeMs));
  return Object.keys(ENTRIES).some((name) => {
    const out = path.join(outdir, `${name}.js`);
    return !fs.existsSync(out) || fs.statSync(out).mtimeMs < newest;
  });
}

// `node dist/src/surfaces/console/build.js OUTDIR` (npm run build).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = path.resolve(process.argv[2] ?? path.join(HERE, 'bundle'));
  const { bytes, ms } = await buildConsole(outdir);
  console.log(`console bundles in ${path.relative(process.cwd(), outdir)} (${ms} ms): ${Object.entries(bytes).map(([n, b]) => `${n} ${(b / 1024).toFixed(1)} KiB`).join(', ')}`);
}
