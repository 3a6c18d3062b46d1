// The admin console is served with a strict CSP and talks only to the admin API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';

const { engine } = engines()[0];
describe(`admin console [${engine}]`, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(engine);
  });
  after(async () => s?.close());

  it('serves the page, its script and styles with a same-origin CSP and no inline script', async () => {
    const page = await http(s.url, '/console');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.ok(!/<script>(?!<)/.test(page.text), 'no inline script');
    assert.match(page.text, /src="\/console\/app\.js"/);
    const js = await http(s.url, '/console/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    // The console only uses documented admin routes.
    for (const route of ['/api/auth/sign-in', '/api/auth/csrf', '/api/admin/users', '/api/admin/audit-events']) {
      assert.ok(js.text.includes(route), route);
    }
    assert.ok(!/innerHTML/.test(js.text), 'user data is never written as HTML');
    assert.equal((await http(s.url, '/console/app.css')).status, 200);
  });
});
