// Mail over SMTP through the outbox, received and parsed by a real SMTP server in-process: the user-admin
// invite (emailSent, the link in the mail), forgotten passwords on /auth/reset/* (the same answer whether
// or not the address exists), operator templates, the mail server down then up, a refused recipient
// dead-lettered without holding up other mail, and a server without SMTP behaving as before.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, engines, startServer, type TestServer } from './helpers/harness.js';
import { http } from './helpers/http.js';
import { uniqueEmail } from './helpers/admin.js';
import { SmtpReceiver, sleep, waitFor } from './helpers/delivery.js';
import { createUa, login, ua, STRONG } from './useradmin-helpers.js';
import { signIn, createUser } from './helpers/admin.js';
import { signUp } from './account-helpers.js';

const FAST = {
  GATEHOUSE_OUTBOX_POLL_MS: '50',
  GATEHOUSE_OUTBOX_BACKOFF_BASE_MS: '100',
  GATEHOUSE_OUTBOX_BACKOFF_MAX_MS: '400',
  GATEHOUSE_WEBHOOK_TIMEOUT_MS: '2000',
  GATEHOUSE_PUBLIC_URL: 'https://users.example.test/',
  GATEHOUSE_MAIL_FROM: 'Gatehouse <gatehouse@example.test>',
};

function tokenIn(text: string, pathPrefix: string): string {
  const m = new RegExp(`https://users\\.example\\.test${pathPrefix.replace(/[/?]/g, '\\$&')}\\?token=([A-Za-z0-9_%-]+)`).exec(text);
  assert.ok(m, `a ${pathPrefix} link in: ${text}`);
  return decodeURIComponent(m[1]);
}

async function outbox(s: TestServer, query: string) {
  const r = await http(s.url, `/api/admin/outbox?kind=mail${query}`, { token: ADMIN_TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.body.items as Array<{ id: string; status: string; attempts: number; last_status: number | null; last_error: string | null; mail: { to: string; template: string } }>;
}

for (const { engine, skip } of engines()) {
  describe(`mail [${engine}]`, { skip }, () => {
    let s: TestServer;
    const smtp = new SmtpReceiver();
    const templates = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-templates-'));
    before(async () => {
      await smtp.start();
      fs.writeFileSync(path.join(templates, 'password_reset.subject.txt'), 'ACME: reset your password');
      s = await startServer(engine, { dispatch: true, env: { ...FAST, GATEHOUSE_SMTP_URL: smtp.url, GATEHOUSE_MAIL_TEMPLATES: templates } });
    });
    after(async () => {
      await s?.close();
      await smtp.stop();
      fs.rmSync(templates, { recursive: true, force: true });
    });

    it('user-admin invite: emailSent is true and the mail (text and HTML) carries a link that sets the first password', async () => {
      const email = uniqueEmail('invitee');
      const created = await ua(s.url, '/api/admin/user-admin', { body: { email, name: 'Ivy Invitee', rootRole: 'Editor', sendEmail: true } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.emailSent, true);
      const mail = await waitFor('the invite mail', () => smtp.to(email)[0]);
      assert.equal(mail.from?.value[0].address, 'gatehouse@example.test');
      assert.match(mail.subject ?? '', /invited/);
      assert.match(mail.text ?? '', /Ivy Invitee/);
      const token = tokenIn(mail.text ?? '', '/new-user');
      assert.equal(tokenIn(String(mail.html), '/new-user'), token);
      // The mail's link is the response's inviteLink token, and it works on /auth/reset/*.
      assert.ok(created.body.inviteLink.endsWith(`token=${encodeURIComponent(token)}`));
      assert.match(mail.messageId ?? '', /^<msg_[A-Za-z0-9_-]+@gatehouse>$/);
      const valid = await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`);
      assert.equal(valid.status, 200, valid.text);
      assert.equal(valid.body.email, email);
      assert.equal((await http(s.url, '/auth/reset/password', { body: { token, password: STRONG } })).status, 200);
      await login(s.url, email, STRONG);
      // Delivered: the outbox keeps the recipient and template, not the content (the link is gone).
      const sent = (await outbox(s, '&status=delivered')).find((m) => m.mail.to === email)!;
      assert.equal(sent.mail.template, 'invite');
      assert.equal(sent.last_status, 250);
      const raw = await http(s.url, '/api/admin/outbox?kind=mail', { token: ADMIN_TOKEN });
      assert.equal(raw.text.includes(token), false);

      // sendEmail false, or a user with a password: no mail, emailSent false.
      const quiet = uniqueEmail('quiet');
      assert.equal((await createUa(s.url, { email: quiet, sendEmail: false })).emailSent, false);
      const withPw = uniqueEmail('haspw');
      assert.equal((await createUa(s.url, { email: withPw, password: STRONG })).emailSent, false);
      await sleep(400);
      assert.equal(smtp.to(quiet).length + smtp.to(withPw).length, 0);
    });

    it('forgot password: one answer whether or not the address exists; the mailed link resets the password once', async () => {
      const email = uniqueEmail('forgetful');
      await createUa(s.url, { email, password: STRONG });
      const known = await http(s.url, '/auth/reset/password-email', { body: { email: email.toUpperCase() } });
      const unknown = await http(s.url, '/auth/reset/password-email', { body: { email: 'nobody@example.test' } });
      assert.deepEqual([known.status, known.text], [200, '']);
      assert.deepEqual([unknown.status, unknown.text], [200, '']);
      const mail = await waitFor('the reset mail', () => smtp.to(email)[0]);
      assert.equal(mail.subject, 'ACME: reset your password', 'the operator\'s subject template');
      const token = tokenIn(mail.text ?? '', '/reset-password');
      // Asked again at once: no second mail (one per minute per user).
      assert.equal((await http(s.url, '/auth/reset/password-email', { body: { email } })).status, 200);
      await sleep(500);
      assert.equal(smtp.to(email).length, 1);
      assert.equal(smtp.to('nobody@example.test').length, 0);

      const valid = await http(s.url, `/auth/reset/validate?token=${encodeURIComponent(token)}`);
      assert.equal(valid.status, 200);
      const newPassword = 'N3w-pass!word-x';
      assert.equal((await http(s.url, '/auth/reset/password', { body: { token, password: newPassword } })).status, 200);
      await login(s.url, email, newPassword);
      const reused = await http(s.url, '/auth/reset/password', { body: { token, password: 'An0ther-pass!word' } });
      assert.equal(reused.status, 401);
      assert.equal(reused.body.name, 'InvalidTokenError');
      for (const body of [{}, { email: 5 }, { email: 'x'.repeat(400) }]) {
        const r = await http(s.url, '/auth/reset/password-email', { body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(typeof r.body.name, 'string');
      }
      const audit = await http(s.url, '/api/admin/audit-events?action=user.password_reset_requested', { token: ADMIN_TOKEN });
      assert.equal(audit.body.items.length, 1);
      assert.equal(audit.text.includes(token), false);
    });

    it('admin surface: forgot password (same answer for any address), the mailed link sets a new password once and ends the sessions', async () => {
      const email = uniqueEmail('admin-forgot');
      const u = await createUser(s.url, { email, password: 'old-password-1' });
      const session = await signIn(s.url, email, 'old-password-1');
      const known = await http(s.url, '/api/auth/password-reset', { body: { email } });
      const unknown = await http(s.url, '/api/auth/password-reset', { body: { email: 'ghost@example.test' } });
      assert.deepEqual([known.status, known.body], [200, { ok: true, action: 'password_reset_requested' }]);
      assert.deepEqual([unknown.status, unknown.body], [200, known.body]);
      const mail = await waitFor('the reset mail', () => smtp.to(email)[0]);
      const token = tokenIn(mail.text ?? '', '/reset-password');
      const short = await http(s.url, '/api/auth/password-reset/confirm', { body: { token, password: 'short' } });
      assert.equal(short.status, 400);
      assert.equal(short.body.error, 'invalid_params');
      const done = await http(s.url, '/api/auth/password-reset/confirm', { body: { token, password: 'new-password-1' } });
      assert.deepEqual([done.status, done.body], [200, { ok: true, action: 'password_reset' }]);
      await signIn(s.url, email, 'new-password-1');
      assert.equal((await http(s.url, '/api/auth/sign-in', { body: { identifier: email, password: 'old-password-1' } })).status, 401);
      assert.equal((await http(s.url, '/api/auth/session', { cookie: session.cookie })).status, 401, 'the old session ended');
      const again = await http(s.url, '/api/auth/password-reset/confirm', { body: { token, password: 'third-password-1' } });
      assert.equal(again.status, 400);
      assert.equal(again.body.reason, 'invalid_token');
      assert.equal((await http(s.url, '/api/auth/password-reset/confirm', { body: { token: 'x'.repeat(40), password: 'third-password-1' } })).body.reason, 'invalid_token');
      assert.equal((await http(s.url, '/api/auth/password-reset', { body: {} })).status, 400);
      assert.equal(u.email, email);
    });

    it('email verification: the signed-in user asks for a link; it sets email_verified_at once', async () => {
      const email = uniqueEmail('verify');
      // Signed up on the account surface: unverified (users an admin creates start verified).
      const u = await signUp(s.url, email, 'verify-password-1');
      assert.equal((await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN })).body.item.email_verified_at, null);
      const session = await signIn(s.url, email, 'verify-password-1');
      const asked = await http(s.url, '/api/auth/verify-email/request', { method: 'POST', cookie: session.cookie });
      assert.equal(asked.status, 200, asked.text);
      assert.equal(asked.body.result, 'sent');
      assert.equal((await http(s.url, '/api/auth/verify-email/request', { method: 'POST', cookie: session.cookie })).body.result, 'recently_sent');
      assert.equal((await http(s.url, '/api/auth/verify-email/request', { method: 'POST' })).status, 401);
      const mail = await waitFor('the verification mail', () => smtp.to(email)[0]);
      const token = tokenIn(mail.text ?? '', '/verify-email');
      const ok = await http(s.url, '/api/auth/verify-email', { body: { token } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.email, email);
      const after = await http(s.url, `/api/admin/users/${u.id}`, { token: ADMIN_TOKEN });
      assert.equal(after.body.item.email_verified_at, ok.body.email_verified_at);
      assert.equal((await http(s.url, '/api/auth/verify-email', { body: { token } })).body.reason, 'invalid_token');
      assert.equal((await http(s.url, '/api/auth/verify-email/request', { method: 'POST', cookie: session.cookie })).body.result, 'already_verified');
      const audit = await http(s.url, `/api/admin/audit-events?action=user.email_verified&target_id=${u.id}`, { token: ADMIN_TOKEN });
      assert.equal(audit.body.items.length, 1);
    });

    it('email change: the old address is told, the new one gets a verification link (account surface self-service)', async () => {
      const oldEmail = uniqueEmail('mover');
      const newEmail = uniqueEmail('moved');
      const me = await signUp(s.url, oldEmail);
      const changed = await http(s.url, `/api/users/${me.id}`, { method: 'PATCH', cookie: me.cookie, body: { email: newEmail } });
      assert.equal(changed.status, 200, changed.text);
      const notice = await waitFor('the notice to the old address', () => smtp.to(oldEmail).find((m) => /changed/.test(m.subject ?? '')));
      assert.match(notice.text ?? '', new RegExp(newEmail.replace(/[.+]/g, '\\$&')));
      assert.equal(/token=/.test(notice.text ?? ''), false, 'the notice carries no link');
      const verify = await waitFor('the verification link to the new address', () => smtp.to(newEmail)[0]);
      const token = tokenIn(verify.text ?? '', '/verify-email');
      assert.equal((await http(s.url, '/api/auth/verify-email', { body: { token } })).status, 200);
      const user = await http(s.url, `/api/admin/users/${me.id}`, { token: ADMIN_TOKEN });
      assert.equal(user.body.item.email, newEmail);
      assert.ok(user.body.item.email_verified_at);

      // An admin changing the address: the old one is told; the address keeps its verified state, no link.
      const third = uniqueEmail('third');
      const byAdmin = await http(s.url, `/api/admin/users/${me.id}`, { method: 'PATCH', token: ADMIN_TOKEN, body: { email: third } });
      assert.equal(byAdmin.status, 200, byAdmin.text);
      await waitFor('the notice after the admin change', () => smtp.to(newEmail).find((m) => /changed/.test(m.subject ?? '')));
      await sleep(300);
      assert.equal(smtp.to(third).length, 0);
    });

    it('the mail server down, then temporarily failing: mail is retried until it is accepted; a refused recipient is dead at once, others unaffected', async () => {
      await smtp.stop();
      const down = uniqueEmail('down');
      assert.equal((await createUa(s.url, { email: down })).emailSent, true);
      await waitFor('failed attempts while down', async () => (await outbox(s, '')).find((m) => m.mail.to === down && m.attempts >= 2));
      await smtp.start();
      smtp.tempFail = true;
      await waitFor('a 451 answer', async () => (await outbox(s, '')).find((m) => m.mail.to === down && m.last_status === 451));
      smtp.tempFail = false;
      await waitFor('the mail after the outage', () => smtp.to(down)[0]);

      const refused = uniqueEmail('refused');
      smtp.refuse.add(refused);
      const fine = uniqueEmail('fine');
      await createUa(s.url, { email: refused });
      await createUa(s.url, { email: fine });
      await waitFor('the other mail', () => smtp.to(fine)[0]);
      const dead = await waitFor('the refused mail dead-lettered', async () => (await outbox(s, '&status=dead')).find((m) => m.mail.to === refused));
      assert.equal(dead.attempts, 1, 'a 5xx refusal is final');
      assert.equal(dead.last_status, 550);
      // Replayed once the mailbox exists, with the same id.
      smtp.refuse.delete(refused);
      assert.equal((await http(s.url, `/api/admin/outbox/${dead.id}/replay`, { method: 'POST', token: ADMIN_TOKEN })).status, 200);
      const mail = await waitFor('the replayed mail', () => smtp.to(refused)[0]);
      assert.equal(mail.messageId, `<${dead.id}@gatehouse>`);
    });
  });

  describe(`without SMTP [${engine}]`, { skip }, () => {
    it('invites answer emailSent:false with the link, reset requests answer 200, nothing is queued', async () => {
      const s = await startServer(engine, { dispatch: true });
      try {
        const u = await createUa(s.url, { email: uniqueEmail('nosmtp') });
        assert.equal(u.emailSent, false);
        assert.match(u.inviteLink, /token=/);
        const r = await http(s.url, '/auth/reset/password-email', { body: { email: u.email } });
        assert.equal(r.status, 200);
        const queued = await http(s.url, '/api/admin/outbox', { token: ADMIN_TOKEN });
        assert.deepEqual(queued.body.items, []);
      } finally {
        await s.close();
      }
    });
  });
}
