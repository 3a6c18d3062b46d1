// The pages behind the links the server sends: /new-user?token=… (accept an invite) and
// /reset-password?token=… (reset a password). Both spend a one-time token through the user-admin
// surface's public routes: GET /auth/reset/validate?token= names the user, POST /auth/reset/password sets
// the password. The token never leaves this page except to those two routes.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const invite = location.pathname === '/new-user';
const token = new URLSearchParams(location.search).get('token') ?? '';
document.title = `Gatehouse: ${invite ? 'accept your invitation' : 'reset your password'}`;

/** The message of a user-admin error body (Unleash's shape: message, details[].message). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function messageOf(data: any, fallback: string): string {
  if (data && Array.isArray(data.details) && data.details[0]?.message) return data.details[0].message;
  return (data && data.message) || fallback;
}

function PasswordPage() {
  const [status, setStatus] = useState('Checking your link…');
  const [who, setWho] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const password = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (async () => {
      if (!token) return setStatus('This link has no token. Open the whole link from your message, or ask an administrator for a new one.');
      const res = await fetch(`/auth/reset/validate?token=${encodeURIComponent(token)}`, { credentials: 'omit' });
      const data = await res.json().catch(() => null);
      if (!res.ok) {
        return setStatus(res.status === 401
          ? 'This link is not valid: it is unknown, already used or expired. Ask an administrator for a new one.'
          : messageOf(data, `The link could not be checked (HTTP ${res.status}).`));
      }
      setStatus('');
      setWho(data.email || data.username || data.name || `user #${data.id}`);
    })();
  }, []);
  useEffect(() => { if (who) password.current?.focus(); }, [who]);

  async function submit(event: Event) {
    event.preventDefault();
    const f = event.currentTarget as HTMLFormElement;
    const field = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value;
    if (field('password') !== field('repeat')) return setError('The two passwords differ.');
    const res = await fetch('/auth/reset/password', {
      method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: field('password') }),
    });
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      return setError(res.status === 401
        ? 'This link is no longer valid (already used or expired). Ask an administrator for a new one.'
        : messageOf(data, `The password was not set (HTTP ${res.status}).`));
    }
    setDone(true);
  }

  return (
    <>
      <header><h1>Gatehouse</h1></header>
      <main id="main">
        <section class="card narrow">
          <h2 id="password-title">{invite ? 'Accept your invitation' : 'Reset your password'}</h2>
          <p id="password-status" role="status">{status}</p>
          <form id="password-form" hidden={!who || done} onSubmit={submit}>
            <p id="password-who">{who ? (invite ? `Welcome, ${who}. Choose the password you will sign in with.` : `Choose a new password for ${who}.`) : ''}</p>
            <label>New password <input name="password" type="password" autocomplete="new-password" required ref={password} /></label>
            <label>Repeat the password <input name="repeat" type="password" autocomplete="new-password" required /></label>
            <button type="submit" class="primary">Set password</button>
            <p class="error" id="password-error" role="alert">{error}</p>
          </form>
          <p id="password-done" hidden={!done}>Your password is set. <a href="/console">Go to the sign-in page</a>.</p>
        </section>
      </main>
    </>
  );
}

render(<PasswordPage />, document.getElementById('root')!);
