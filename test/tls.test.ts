// Built-in HTTPS (GATEHOUSE_TLS_CERT, GATEHOUSE_TLS_KEY), issue 20: a self-signed certificate made here with
// openssl; the server signs in over HTTPS with the __Host- cookies on each engine; bad certificate
// configuration stops `gatehouse serve` with one line naming the variable.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, engines, startServer, type TestServer } from './helpers/harness.js';
import { baseEnv, freePort, runGatehouse } from './helpers/process.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tls-'));
const CERT = path.join(dir, 'cert.pem');
const KEY = path.join(dir, 'key.pem');
const OTHER_KEY = path.join(dir, 'other-key.pem');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

// A P-256 self-signed certificate for 127.0.0.1 and localhost, valid one day; and a key that is not its.
openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', KEY, '-out', CERT,
  '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', OTHER_KEY]);
const ca = fs.readFileSync(CERT);

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: any; setCookies: string[] }

/** One HTTPS request that trusts only the test certificate. */
function request(url: string, opts: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (opts.cookie) headers.cookie = opts.cookie;
    const req = https.request(url, { method: opts.method ?? (payload ? 'POST' : 'GET'), headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: unknown;
        try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, setCookies: (res.headers['set-cookie'] as string[] | undefined) ?? [] });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function cookiePairs(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ');
}

after(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const { engine, skip } of engines()) {
  describe(`built-in HTTPS [${engine}]`, { skip }, () => {
    let s: TestServer;
    let base: string;
    before(async () => {
      s = await startServer(engine, { env: { GATEHOUSE_TLS_CERT: CERT, GATEHOUSE_TLS_KEY: KEY } });
      base = s.url.replace(/^http:/, 'https:');
    });
    after(async () => s?.close());

    it('signs in over HTTPS: Secure __Host- cookies, then /api/auth/session and a cookie write from the https origin', async () => {
      const signIn = await request(`${base}/api/auth/sign-in`, { body: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
      assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
      const names = signIn.setCookies.map((c) => c.split('=')[0]);
      assert.deepEqual(names.sort(), ['__Host-access', '__Host-refresh']);
      for (const c of signIn.setCookies) {
        assert.match(c, /;\s*Secure/i);
        assert.match(c, /;\s*HttpOnly/i);
        assert.match(c, /;\s*Path=\//i);
        assert.doesNotMatch(c, /;\s*Domain=/i);
      }
      const cookie = cookiePairs(signIn.setCookies);
      const session = await request(`${base}/api/auth/session`, { cookie });
      assert.equal(session.status, 200, JSON.stringify(session.body));
      assert.equal(session.body.authenticated, true);
      assert.equal(session.body.user.email, ADMIN_EMAIL);
      // A cookie write from the server's own https origin (the default public URL is https:// now).
      const csrf = await request(`${base}/api/auth/csrf`, { cookie });
      const origin = new URL(base).origin;
      const created = await request(`${base}/api/admin/users`, {
        cookie, headers: { 'x-csrf-token': csrf.body.csrf_token, origin }, body: { email: `tls.${process.pid}@example.com`, password: 'password-123' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      // The same write from another origin is refused.
      const cross = await request(`${base}/api/admin/users`, {
        cookie, headers: { 'x-csrf-token': csrf.body.csrf_token, origin: 'https://evil.example' }, body: { email: `tls2.${process.pid}@example.com`, password: 'password-123' },
      });
      assert.equal(cross.status, 403);
    });

    it('links the server builds default to https:// (no GATEHOUSE_PUBLIC_URL): the invite link', async () => {
      const r = await request(`${base}/api/admin/invites`, { headers: { authorization: 'Bearer gha_test_admin_token_0123456789abcdef' }, body: { email: `tls.invite.${process.pid}@example.com` } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(r.body.invite.link.startsWith(`${new URL(base).origin}/new-user?token=`), r.body.invite.link);
    });

    it('plain HTTP on the HTTPS port gets no answer from the API', async () => {
      const plain = await fetch(`${s.url}/healthz`).then((r) => r.status, () => 'refused');
      assert.notEqual(plain, 200);
    });
  });
}

describe('TLS configuration errors stop the start with one line naming the variable', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['only the certificate', { GATEHOUSE_TLS_CERT: CERT }, /^configuration error: GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY must be set together \(GATEHOUSE_TLS_KEY is unset\)$/],
    ['only the key', { GATEHOUSE_TLS_KEY: KEY }, /^configuration error: GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY must be set together \(GATEHOUSE_TLS_CERT is unset\)$/],
    ['an unreadable certificate', { GATEHOUSE_TLS_CERT: path.join(dir, 'missing.pem'), GATEHOUSE_TLS_KEY: KEY }, /^configuration error: GATEHOUSE_TLS_CERT: cannot read .*missing\.pem \(ENOENT\)$/],
    ['a certificate file that is the key', { GATEHOUSE_TLS_CERT: KEY, GATEHOUSE_TLS_KEY: KEY }, /^configuration error: GATEHOUSE_TLS_CERT: .* holds no PEM certificate$/],
    ['a key file that is the certificate', { GATEHOUSE_TLS_CERT: CERT, GATEHOUSE_TLS_KEY: CERT }, /^configuration error: GATEHOUSE_TLS_KEY: .* holds no unencrypted PEM private key$/],
    ['a key that is not the certificate\'s', { GATEHOUSE_TLS_CERT: CERT, GATEHOUSE_TLS_KEY: OTHER_KEY }, /^configuration error: GATEHOUSE_TLS_KEY: the private key does not match the certificate in GATEHOUSE_TLS_CERT$/],
  ];
  for (const [what, env, expected] of cases) {
    it(what, async () => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tls-data-'));
      try {
        const r = await runGatehouse(['serve'], { env: baseEnv({ ...env, DATA_DIR: data, PORT: String(await freePort()) }) });
        assert.equal(r.code, 1);
        const lines = r.stderr.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], expected);
        assert.ok(!r.stderr.includes('PRIVATE KEY'), 'no key material in the message');
      } finally {
        fs.rmSync(data, { recursive: true, force: true });
      }
    });
  }
});
