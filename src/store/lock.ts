// One writer per DATA_DIR: the embedded store is one process's. Two servers on one SQLite file each keep
// their own caches (the ip-ban cache, the server secret, prepared statements) and race each other's write
// transactions (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT), so a second process refuses to start instead.
//
// The lock is the operating system's: an exclusive lock on DATA_DIR/gatehouse.lock, taken through SQLite
// (POSIX advisory locks on Unix, LockFileEx on Windows), held for the life of the process. The kernel drops
// it when the process ends however it ends (kill -9, a crash, power loss), so there is never a stale lock
// to clean up. Beside it, DATA_DIR/gatehouse.pid names the holder (pid, host, start time) for the message
// a second process prints; a pid file left by a dead process names nobody, as the lock is free.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { prepareDataDir } from './db.js';

export class DataDirLockedError extends Error {}

export interface DataDirLock {
  release(): void;
}

function describeHolder(pidFile: string): string {
  try {
    const info = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { pid?: number; host?: string; startedAt?: string };
    if (typeof info.pid === 'number') {
      return `process ${info.pid}${info.host ? ` on ${info.host}` : ''}${info.startedAt ? `, started ${info.startedAt}` : ''}`;
    }
  } catch {
    // Not written yet (the holder is starting), or unreadable.
  }
  return 'another process';
}

/** Takes DATA_DIR's writer lock, or throws DataDirLockedError naming the process that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  // A path that cannot hold the store is named first, in the store's own one-line message.
  prepareDataDir(dataDir);
  const lockFile = path.join(dataDir, 'gatehouse.lock');
  const pidFile = path.join(dataDir, 'gatehouse.pid');
  const db = new SqliteDatabase(lockFile, { timeout: 0 });
  try {
    // EXCLUSIVE locking mode keeps the lock a write transaction takes until the connection closes.
    // A write in that mode takes the exclusive lock and keeps it: the lock file's one table is rewritten.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT');
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new DataDirLockedError(
        `DATA_DIR ${dataDir} is in use by ${describeHolder(pidFile)}: one server per embedded store. ` +
        'Stop that process first, give this one another DATA_DIR, or use PostgreSQL (DATABASE_URL) to run several nodes.',
      );
    }
    throw err;
  }
  fs.writeFileSync(pidFile, `${JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        fs.rmSync(pidFile, { force: true });
      } finally {
        db.close();
      }
    },
  };
}
