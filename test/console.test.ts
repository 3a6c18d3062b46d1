// The admin console is served with a strict CSP and talks only to the admin API; the pages behind the
// links the server sends are served the same way; root_role on the admin surface (the console's role select).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { createUser, uniqueEmail } from './helpers/admin.js';

for (const { engine, skip } of engines()) {
  describe(`admin console [${engine}]`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(async () => s?.close());

    if (engine === 'sqlite') {
      it('serves the page, its bundle and styles with a same-origin CSP and no inline script', async () => {
        const page = await http(s.url, '/console');
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type') ?? '', /text\/html/);
        assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
        assert.equal(page.headers.get('x-frame-options'), 'DENY');
        assert.ok(!/<script(?![^>]*\bsrc=)/.test(page.text), 'no inline script');
        assert.ok(!/\son[a-z]+=/.test(page.text), 'no inline event handler');
        assert.ok(!/<style|\sstyle=/.test(page.text), 'no inline style');
        assert.match(page.text, /src="\/console\/console\.js"/);
        const res = await http(s.url, '/console/console.js');
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /javascript/);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
        // One self-contained bundle: it imports nothing, and names no other origin (the XML namespace names
        // Preact uses for SVG and MathML, the localhost address the sign-in notice tells about and the bare
        // schemes the webhook form names are text).
        assert.ok(!/\bimport\s*\(|\bimport\s*["'{*]|importScripts/.test(res.text), 'no import at run time');
        for (const m of res.text.matchAll(/https?:\/\/[^\s"'`<)]*/g)) {
          assert.match(m[0], /^http:\/\/www\.w3\.org\/|^http:\/\/localhost:8080\/console$|^https?:\/\/$/, `absolute URL ${m[0]}`);
        }
        // The console's own code never writes user data as HTML (Preact sets text; no dangerouslySetInnerHTML).
        const ui = new URL('../src/surfaces/console/ui/', import.meta.url);
        for (const name of fs.readdirSync(ui)) {
          const src = fs.readFileSync(new URL(name, ui), 'utf8');
          assert.ok(!/dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(src), `${name}: user data is never written as HTML`);
        }
        // The console only uses documented admin routes.
        for (const route of ['/api/auth/sign-in', '/api/auth/csrf', '/api/admin/users', '/api/admin/audit-events', '/api/admin/bans', '/api/admin/aliases', '/api/admin/tenants', '/api/admin/api-tokens', '/api/admin/oauth-clients', '/api/admin/oauth-keys', '/api/admin/webhooks', '/api/admin/outbox']) {
          assert.ok(res.text.includes(route), route);
        }
        assert.equal((await http(s.url, '/console/app.css')).status, 200);
        assert.equal((await http(s.url, '/console/index.html')).status, 404, 'pages are served at their own paths only');
        assert.equal((await http(s.url, '/console/..%2Fpackage.json')).status, 404);
        assert.equal((await http(s.url, '/console/build.js')).status, 404, 'only the bundles and assets are served');
      });

      it('the whole console (every file its pages load, as served) is under 150 KB gzipped', async () => {
        const loaded = new Set<string>();
        for (const path of ['/console', '/new-user?token=x']) {
          const page = await http(s.url, path);
          loaded.add(path);
          for (const m of page.text.matchAll(/(?:src|href)="([^"]+)"/g)) {
            assert.match(m[1], /^\/console\/[a-z]+\.(js|css)$/, `${path} loads ${m[1]} from this origin`);
            loaded.add(m[1]);
          }
        }
        const sizes: string[] = [];
        let gzipped = 0;
        for (const path of loaded) {
          const res = await http(s.url, path);
          assert.equal(res.status, 200, path);
          const n = gzipSync(Buffer.from(res.text), { level: 9 }).length;
          sizes.push(`${path} ${n}`);
          gzipped += n;
        }
        assert.ok(loaded.has('/console/console.js') && loaded.has('/console/password.js') && loaded.has('/console/app.css'), [...loaded].join(', '));
        assert.ok(gzipped < 150 * 1024, `${gzipped} bytes gzipped (${sizes.join(', ')})`);
        console.log(`# console, gzipped: ${gzipped} bytes (${sizes.join(', ')})`);
      });

      it('serves the invite and password-reset pages behind the links the server sends', async () => {
        for (const path of ['/new-user?token=abc', '/reset-password?token=abc']) {
          const res = await http(s.url, path);
          assert.equal(res.status, 200, path);
          assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
          assert.equal(res.headers.get('referrer-policy'), 'no-referrer', 'the token in the address never leaks as a referrer');
          assert.match(res.text, /src="\/console\/password\.js"/);
        }
        const js = await http(s.url, '/console/password.js');
        assert.ok(js.text.includes('/auth/reset/validate') && js.text.includes('/auth/reset/password'));
      });
    }

    it('admin PATCH and POST take root_role (one of the five root roles), not together with is_admin', async () => {
      const u = await createUser(s.url);
      const patch = (body: unknown) => http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN, method: 'PATCH', body });
      let res = await patch({ root_role: 'Editor' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.item.root_role, 'Editor');
      assert.equal(res.body.item.is_admin, false);
      res = await patch({ root_role: 'Owner' });
      assert.equal(res.body.item.root_role, 'Owner');
      assert.equal(res.body.item.is_admin, true);
      res = await patch({ root_role: 'Superuser' });
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'root_role');
      res = await patch({ root_role: 'Viewer', is_admin: false });
      assert.equal(res.status, 400);
      assert.equal(res.body.reason, 'conflicting_fields');
      assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN })).body.item.root_role, 'Owner', 'nothing written');
      const created = await http(s.url, '/api/admin/users', { token: ADMIN_TOKEN, body: { email: uniqueEmail('viewer'), password: 'password-123', root_role: 'Viewer' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.item.root_role, 'Viewer');
    });
  });
}
