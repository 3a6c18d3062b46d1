// The pages behind the links the server sends: /new-user?token=… (accept an invite) and
// /reset-password?token=… (reset a password). Both spend a one-time token through the user-admin
// surface's public routes: GET /auth/reset/validate?token= names the user, POST /auth/reset/password sets
// the password. The token never leaves this page except to those two routes.
const $ = (sel) => document.querySelector(sel);
const invite = location.pathname === '/new-user';
const token = new URLSearchParams(location.search).get('token') ?? '';

$('#password-title').textContent = invite ? 'Accept your invitation' : 'Reset your password';
document.title = `Gatehouse: ${invite ? 'accept your invitation' : 'reset your password'}`;

/** The message of a user-admin error body (Unleash's shape: message, details[].message). */
function messageOf(data, fallback) {
  if (data && Array.isArray(data.details) && data.details[0]?.message) return data.details[0].message;
  return (data && data.message) || fallback;
}

async function start() {
  if (!token) {
    $('#password-status').textContent = 'This link has no token. Open the whole link from your message, or ask an administrator for a new one.';
    return;
  }
  const res = await fetch(`/auth/reset/validate?token=${encodeURIComponent(token)}`, { credentials: 'omit' });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    $('#password-status').textContent = res.status === 401
      ? 'This link is not valid: it is unknown, already used or expired. Ask an administrator for a new one.'
      : messageOf(data, `The link could not be checked (HTTP ${res.status}).`);
    return;
  }
  const who = data.email || data.username || data.name || `user #${data.id}`;
  $('#password-status').textContent = '';
  $('#password-who').textContent = invite
    ? `Welcome, ${who}. Choose the password you will sign in with.`
    : `Choose a new password for ${who}.`;
  $('#password-form').hidden = false;
  $('#password-form').password.focus();
}

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  if (f.password.value !== f.repeat.value) {
    $('#password-error').textContent = 'The two passwords differ.';
    return;
  }
  const res = await fetch('/auth/reset/password', {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: f.password.value }),
  });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    $('#password-error').textContent = res.status === 401
      ? 'This link is no longer valid (already used or expired). Ask an administrator for a new one.'
      : messageOf(data, `The password was not set (HTTP ${res.status}).`);
    return;
  }
  f.hidden = true;
  $('#password-done').hidden = false;
});

start();
