// Child processes for tests: run the gatehouse CLI (or curl, python3) and collect its output; find a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a child gets: PATH and HOME from ours, nothing else inherited unless asked. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, ...extra };
}

/** Runs a command to completion (killed after timeoutMs), feeding `input` on stdin. */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string; uid?: number; gid?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? baseEnv(), stdio: ['pipe', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A child that exits without reading its input (sh -c, --help) must not fail the run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `node --import tsx src/main.ts ...args`, the gatehouse command as README runs it. */
export function runGatehouse(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; uid?: number; gid?: number } = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], opts);
}

/** Starts `gatehouse serve` as a child; output is collected in `out`. */
export function spawnGatehouse(args: string[], env: Record<string, string>): { child: ChildProcess; out: { text: string }; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout!.on('data', (d) => (out.text += d));
  child.stderr!.on('data', (d) => (out.text += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, out, exited };
}

/** A TCP port that was free a moment ago (listen on 0, read the port, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 or the deadline passes. */
export async function waitForOk(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Which of the given executables exist on PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    const r = await run('sh', ['-c', `command -v ${name}`], { env: baseEnv() });
    return r.code === 0 && r.stdout.trim() !== '';
  } catch {
    return false;
  }
}
