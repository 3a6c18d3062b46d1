// Gatehouse admin console (Preact, bundled by esbuild into /console/console.js): signs in and out and
// routes #/section/ID to the pages.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, session } from './api.js';
import { UserPage, UsersPage } from './users.js';
import { AliasesPage, BanPage, BansPage } from './bans.js';
import { AuditPage } from './audit.js';
import { TenantPage, TenantsPage } from './tenants.js';
import { OAuthPage, TokensPage } from './tokens.js';
import { OutboxPage, WebhookPage, WebhooksPage } from './webhooks.js';

// Served over plain HTTP to another host, the browser drops the Secure __Host- cookies: sign-in would
// "succeed" and bounce back. Say so up front (localhost and 127.0.0.0/8, ::1 are secure contexts).
const LOCAL = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const insecure = location.protocol === 'http:' && !LOCAL.test(location.hostname);

const SECTIONS: [string, string][] = [
  ['users', 'Users'], ['bans', 'Bans'], ['aliases', 'Aliases'], ['tenants', 'Tenants'], ['oauth', 'OAuth'],
  ['tokens', 'API tokens'], ['webhooks', 'Webhooks'], ['outbox', 'Outbox'], ['audit', 'Audit log'],
];

type View = 'loading' | 'signin' | 'forbidden' | 'app';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  const [, section = 'users', raw] = /^#\/([a-z-]+)(?:\/(\d+))?/.exec(hash || '#/users') ?? [];
  const id = raw ? Number(raw) : null;
  switch (section) {
    case 'bans': return id ? <BanPage id={id} /> : <BansPage />;
    case 'aliases': return <AliasesPage />;
    case 'tenants': return id ? <TenantPage id={id} /> : <TenantsPage />;
    case 'oauth': return <OAuthPage />;
    case 'tokens': return <TokensPage />;
    case 'webhooks': return id ? <WebhookPage id={id} /> : <WebhooksPage />;
    case 'outbox': return <OutboxPage />;
    case 'audit': return <AuditPage />;
    default: return id ? <UserPage id={id} /> : <UsersPage />;
  }
}

function App() {
  const [view, setView] = useState<View>('loading');
  const [who, setWho] = useState('');
  const [forbidden, setForbidden] = useState('');
  const [signinError, setSigninError] = useState('');
  const hash = useHash();
  const main = useRef<HTMLElement>(null);
  const identifier = useRef<HTMLInputElement>(null);
  const focusAfter = useRef<'main' | 'identifier' | null>(null);

  function showSignIn() {
    session.csrf = null;
    session.me = null;
    setWho('');
    setView('signin');
  }
  session.onSignedOut = showSignIn;

  /** After a sign-in (or on load): who is this, and may they use the console? */
  async function enter(justSignedIn: boolean) {
    const res = await api('GET', '/api/auth/session');
    if (res.status !== 200) {
      showSignIn();
      if (justSignedIn) {
        // The sign-in answered 200 but the browser did not send the cookies back.
        setSigninError(insecure
          ? 'Signed in, but this browser does not keep the Secure session cookies over plain HTTP: open the console over HTTPS (see above).'
          : 'Signed in, but the browser did not keep the session cookies (are cookies blocked for this site?).');
      }
      return;
    }
    session.me = res.data.user;
    const csrf = await api('GET', '/api/auth/csrf');
    session.csrf = csrf.data.csrf_token ?? null;
    const me = session.me;
    const name = me ? me.email || me.username || '' : res.data.principal.label;
    if (me && !me.is_admin) {
      setForbidden(`You are signed in as ${name} (root role ${me.root_role}). The console is for administrators (root role Admin or Owner); ask one to change your role.`);
      setView('forbidden');
      return;
    }
    setWho(name);
    // Focus was on the sign-in button, now gone: it moves to the page's content.
    if (justSignedIn) focusAfter.current = 'main';
    setView('app');
  }

  useEffect(() => { enter(false); }, []);
  useEffect(() => {
    if (focusAfter.current === 'main') main.current?.focus();
    if (focusAfter.current === 'identifier') identifier.current?.focus();
    focusAfter.current = null;
  }, [view]);

  async function signIn(event: Event) {
    event.preventDefault();
    const f = event.currentTarget as HTMLFormElement;
    const password = f.elements.namedItem('password') as HTMLInputElement;
    const res = await api('POST', '/api/auth/sign-in', { identifier: (f.elements.namedItem('identifier') as HTMLInputElement).value, password: password.value });
    password.value = '';
    if (res.status !== 200) {
      setSigninError(errorText(res));
      return;
    }
    setSigninError('');
    await enter(true);
  }

  async function signOut() {
    await api('POST', '/api/auth/sign-out');
    focusAfter.current = 'identifier';
    showSignIn();
  }

  const [, current = 'users'] = /^#\/([a-z-]+)/.exec(hash) ?? [];
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <h1>Gatehouse</h1>
        <nav id="nav" aria-label="Console" hidden={view !== 'app'}>
          <ul id="nav-links">
            {SECTIONS.map(([section, label]) => (
              <li><a href={`#/${section}`} data-section={section} aria-current={section === current ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
          <span id="whoami">{who}</span>
          <button type="button" id="signout" onClick={signOut}>Sign out</button>
        </nav>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        <section id="signin-view" hidden={view !== 'signin'}>
          {insecure ? (
            <div id="insecure-notice" class="notice" role="note">
              <h2>Sign-in needs HTTPS here</h2>
              <p>This page was served over plain HTTP to <strong>{location.host}</strong>. The console signs in with
                Secure cookies, which browsers keep only over HTTPS (or on localhost): the sign-in would seem to work and
                the page would come straight back to this form.</p>
              <p>Open the console over HTTPS (start Gatehouse with its built-in HTTPS, <code>GATEHOUSE_TLS_CERT</code> and{' '}
                <code>GATEHOUSE_TLS_KEY</code>, or put it behind a reverse proxy with a certificate, such as Caddy or
                nginx), or reach this server through an SSH tunnel and use localhost:{' '}
                <code>ssh -L 8080:127.0.0.1:8080 {location.hostname}</code>, then open{' '}
                <code>http://localhost:8080/console</code>.</p>
            </div>
          ) : null}
          <form id="signin" onSubmit={signIn}>
            <h2>Sign in</h2>
            <label>Email or username <input name="identifier" autocomplete="username" required ref={identifier} /></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
            <button type="submit" class="primary">Sign in</button>
            <p class="error" id="signin-error" role="alert">{signinError}</p>
          </form>
        </section>
        {view === 'forbidden' ? (
          <section id="forbidden-view">
            <div class="notice">
              <h2>Not an administrator</h2>
              <p id="forbidden-text">{forbidden}</p>
              <button type="button" id="forbidden-signout" onClick={signOut}>Sign out</button>
            </div>
          </section>
        ) : null}
        {view === 'app' ? <section id="view"><Page hash={hash} key={hash} /></section> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById('root')!);
