// `gatehouse export` and `gatehouse import` (docs/cli.md): JSON Lines out, the same and peer formats in.
import { accessSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Core } from '../core/index.js';
import { SYSTEM_PRINCIPAL } from '../core/context.js';
import { exportBatches, UserImporter, type ImportOutcome, type ImportRecord } from '../core/transfer/index.js';
import { FORMATS, MAPPERS, RowError, type Format } from './formats.js';

/** Rows per keyset read (export) and per transaction (import). */
export const EXPORT_BATCH = 1000;
export const IMPORT_BATCH = 500;

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

/** The input's users, one at a time: JSON Lines, or (keycloak) a realm export document. */
async function* readInput(input: Readable, format: Format): AsyncGenerator<{ source: number; value?: unknown; error?: string }> {
  if (format === 'keycloak') {
    // A realm export is one JSON document (Keycloak writes users in files of its own size, 50 by default).
    const chunks: Buffer[] = [];
    for await (const c of input) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (doc !== undefined) {
      const users = Array.isArray(doc) ? doc : Array.isArray((doc as { users?: unknown }).users) ? (doc as { users: unknown[] }).users : [doc];
      for (let i = 0; i < users.length; i++) yield { source: i + 1, value: users[i] };
      return;
    }
    yield* parseLines(text.split('\n'));
    return;
  }
  yield* parseLines(createInterface({ input, crlfDelay: Infinity }));
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
  // While a batch is written, the next one is read and checked (CPU work that needs no database): one
  // write at a time, results printed in source order.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const entries = pending;
    const batch = entries.filter((e): e is ImportRecord => !('status' in e));
    pending = [];
    records = 0;
    const prepared = await importer.prepareBatch(batch);
    await writing;
    writing = (async () => {
      const results = batch.length ? await importer.writeBatch(prepared) : [];
      const byRecord = new Map(batch.map((r, i) => [r, results[i]]));
      for (const e of entries) await report('status' in e ? e : byRecord.get(e)!);
    })();
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
  await writing;
  const seconds = (Date.now() - started) / 1000;
  await put(process.stdout, JSON.stringify({ summary: { ...counts, dry_run: opts.dryRun, format, seconds } }) + '\n');
  return counts.error > 0 ? 1 : 0;
}
