// `gatehouse export` and `gatehouse import` (docs/cli.md): JSON Lines out, the same and peer formats in.
import { accessSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Core } from '../core/index.js';
import { SYSTEM_PRINCIPAL } from '../core/context.js';
import { exportBatches, UserImporter, type ImportOutcome, type ImportRecord } from '../core/transfer/index.js';
import { FORMATS, MAPPERS, RowError, type Format } from './formats.js';
import { StringDecoder } from 'node:string_decoder';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import Assembler from 'stream-json/core/assembler.js';
import { none } from 'stream-chain/defs.js';

/** Rows per keyset read (export) and per transaction (import). */
export const EXPORT_BATCH = 1000;
export const IMPORT_BATCH = 500;
/** Batches written at once on PostgreSQL (each a transaction on its own connection of the pool). */
export const IMPORT_IN_FLIGHT = 3;
/** An import that wrote at least this many users refreshes the planner's statistics at its end (PostgreSQL). */
export const ANALYZE_AFTER = 10_000;

/** Writes with backpressure: waits for 'drain' when the stream's buffer is full, so memory stays flat. */
async function put(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function finish(out: Writable): Promise<void> {
  if (out === process.stdout) return;
  out.end();
  await once(out, 'finish');
}

export async function exportCommand(core: Core, opts: { out?: string }): Promise<number> {
  let out: Writable = process.stdout;
  if (opts.out && opts.out !== '-') {
    let fd: number;
    try {
      fd = openSync(opts.out, 'w', 0o600);
    } catch (err) {
      process.stderr.write(`export: cannot write ${opts.out}: ${(err as Error).message}\n`);
      return 2;
    }
    out = createWriteStream('', { fd });
  }
  let count = 0;
  for await (const batch of exportBatches(core.store, EXPORT_BATCH)) {
    // One write per batch: a line per user, password hashes included (the file is written owner-only).
    await put(out, batch.map((u) => JSON.stringify(u)).join('\n') + '\n');
    count += batch.length;
  }
  await finish(out);
  process.stderr.write(`exported ${count} users${opts.out && opts.out !== '-' ? ` to ${opts.out}` : ''}\n`);
  return 0;
}

/** The input's users, one at a time: JSON Lines, or (keycloak) a realm export document, streamed. */
async function* readInput(input: Readable, format: Format): AsyncGenerator<{ source: number; value?: unknown; error?: string }> {
  if (format === 'keycloak') {
    yield* keycloakUsers(input);
    return;
  }
  yield* parseLines(createInterface({ input, crlfDelay: Infinity }));
}

/**
 * The users of a Keycloak input, assembled one at a time from a streaming JSON parser (stream-json): a realm
 * export `{"realm": …, "users": [...]}` (each element of `users`; the realm's other keys are assembled and
 * dropped), a list of users, or users one after another (JSON Lines, a single user). Memory holds one user
 * and the realm's own settings, whatever the number of users. JSON that breaks off ends the input with an
 * `unreadable` row (a stream cannot be resumed past a syntax error).
 */
async function* keycloakUsers(input: Readable): AsyncGenerator<{ source: number; value?: unknown; error?: string }> {
  // The parser as a plain function (text in, tokens out), fed one chunk at a time: no object stream per token.
  const parse = jsonParser({ jsonStreaming: true, streamValues: false }) as unknown as (text: string | typeof none) => typeof none | { values: Token[] };
  const decoder = new StringDecoder('utf8');
  let n = 0;
  /** Assembles one value; `top` is the top-level value when it is not a realm export (a user, a list, a scalar). */
  let top: Assembler | null = null;
  let item: Assembler | null = null;
  /** Inside a top-level array or the realm's `users` array: each element is a user of its own. */
  let streaming = false;
  let realm = false;
  const found: unknown[] = [];
  const feed = (token: Token) => {
    if (item) {
      item.consume(token);
      if (item.done) {
        found.push(item.current);
        item = null;
      }
      return;
    }
    if (streaming) {
      if (token.name === 'endArray') {
        streaming = false;
        // The realm's `users` key is done: the rest of the realm document goes on into `top`, without them.
        if (top) top.consume({ name: 'nullValue', value: null });
        return;
      }
      item = new Assembler();
      item.consume(token);
      if (item.done) {
        found.push(item.current);
        item = null;
      }
      return;
    }
    if (!top) {
      if (token.name === 'startArray') {
        streaming = true;
        return;
      }
      top = new Assembler();
      realm = false;
    }
    // The realm export's `users` array, one level into the top-level object: each user assembled on its own.
    if (token.name === 'startArray' && top.depth === 1 && top.key === 'users') {
      streaming = true;
      realm = true;
      return;
    }
    top.consume(token);
    if (top.done) {
      if (!realm) found.push(top.current);
      top = null;
    }
  };
  const run = (text: string | typeof none) => {
    const out = parse(text);
    if (out !== none) for (const token of out.values) feed(token);
  };
  try {
    for await (const chunk of input) {
      run(decoder.write(chunk as Buffer));
      for (const value of found) yield { source: ++n, value };
      found.length = 0;
    }
    const rest = decoder.end();
    if (rest) run(rest);
    run(none);
    for (const value of found) yield { source: ++n, value };
    found.length = 0;
    if (top || item || streaming) throw new Error('the document ends before it is complete');
  } catch (err) {
    for (const value of found) yield { source: ++n, value };
    yield { source: n + 1, error: `not JSON: ${(err as Error).message}` };
  }
}

async function* parseLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<{ source: number; value?: unknown; error?: string }> {
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield { source: n, value: JSON.parse(line) };
    } catch (err) {
      yield { source: n, error: `not JSON: ${(err as Error).message}` };
    }
  }
}

export interface ImportOptions {
  file?: string;
  format: string;
  dryRun: boolean;
  /** Print only rows that were not created (and the summary). */
  quiet: boolean;
  /** What a row whose identity is taken does: skipped (default) or updates that user. */
  existing: 'skip' | 'update';
}

export async function importCommand(core: Core, opts: ImportOptions): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(opts.format)) {
    process.stderr.write(`import: unknown --format "${opts.format}" (one of ${FORMATS.join(', ')})\n`);
    return 2;
  }
  const format = opts.format as Format;
  const mapper = MAPPERS[format];
  if (opts.file && opts.file !== '-') {
    try {
      accessSync(opts.file, constants.R_OK);
    } catch (err) {
      process.stderr.write(`import: cannot read ${opts.file}: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const input: Readable = opts.file && opts.file !== '-' ? createReadStream(opts.file) : process.stdin;
  const importer = new UserImporter(core.store, core.users, SYSTEM_PRINCIPAL, { ip: '127.0.0.1', userAgent: null, requestId: 'cli-import', surface: 'system' }, { dryRun: opts.dryRun, existing: opts.existing });
  const counts = { created: 0, updated: 0, skipped: 0, error: 0 };
  const started = Date.now();
  // In source order: an entry is a record still to import or an outcome already decided (unreadable, skipped).
  let pending: Array<ImportRecord | ImportOutcome> = [];
  let records = 0;
  const report = async (o: ImportOutcome) => {
    counts[o.status]++;
    if (!opts.quiet || o.status !== 'created') await put(process.stdout, JSON.stringify(o) + '\n');
  };
  // While batches are written, the next one is read and checked (CPU work that needs no database). On
  // PostgreSQL up to IMPORT_IN_FLIGHT batches are written at once, each in its own transaction on its own
  // connection (SQLite has one connection: one at a time); results are printed in source order. A batch that
  // may create a tenant or tenant role is written alone.
  const slots = core.store.engine === 'postgres' ? IMPORT_IN_FLIGHT : 1;
  const inflight = new Set<Promise<unknown>>();
  /** Each batch's report, in order; at most slots + 1 waiting, so a slow reader holds back the import. */
  const reports: Array<Promise<void>> = [];
  let lastReport: Promise<void> = Promise.resolve();
  const flush = async () => {
    const entries = pending;
    const batch = entries.filter((e): e is ImportRecord => !('status' in e));
    pending = [];
    records = 0;
    const prepared = await importer.prepareBatch(batch);
    const alone = batch.length > 0 && importer.createsTenants(prepared);
    if (alone) await Promise.all(inflight);
    while (inflight.size >= slots) await Promise.race(inflight);
    while (reports.length > slots) await reports.shift();
    const written = batch.length ? importer.writeBatch(prepared) : Promise.resolve([]);
    const settled = written.then(() => undefined, () => undefined);
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
    const previous = lastReport;
    lastReport = (async () => {
      const results = await written;
      await previous;
      const byRecord = new Map(batch.map((r, i) => [r, results[i]]));
      for (const e of entries) await report('status' in e ? e : byRecord.get(e)!);
    })();
    // A batch that failed outright ends the import (its error is thrown by the wait below).
    lastReport.catch(() => undefined);
    reports.push(lastReport);
    if (alone) await settled;
  };
  for await (const item of readInput(input, format)) {
    if (item.error !== undefined) {
      pending.push({ source: item.source, status: 'error', reason: 'unreadable', message: item.error });
      continue;
    }
    try {
      if (!item.value || typeof item.value !== 'object' || Array.isArray(item.value)) throw new RowError('a user must be a JSON object');
      const mapped = mapper(item.value as Record<string, unknown>, item.source);
      if ('skip' in mapped) pending.push({ source: item.source, source_id: mapped.sourceId, status: 'skipped', reason: mapped.skip });
      else {
        pending.push(mapped);
        records++;
      }
    } catch (err) {
      const e = err as RowError;
      pending.push({ source: item.source, status: 'error', reason: e.reason ?? 'invalid', field: e.field, message: e.message });
    }
    if (records >= IMPORT_BATCH || pending.length >= IMPORT_BATCH * 4) await flush();
  }
  await flush();
  await Promise.all(reports);
  if (counts.created + counts.updated >= ANALYZE_AFTER) await importer.analyze();
  const seconds = (Date.now() - started) / 1000;
  await put(process.stdout, JSON.stringify({ summary: { ...counts, dry_run: opts.dryRun, format, seconds } }) + '\n');
  return counts.error > 0 ? 1 : 0;
}
