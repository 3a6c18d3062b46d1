// Gatehouse admin console: plain ES modules over the public admin API (no build step). app.js signs in
// and out and routes #/section/... to the page modules.
import { api, errorText, session } from './api.js';
import { userPage, usersPage } from './users.js';
import { aliasesPage, banPage, bansPage } from './bans.js';
import { auditPage } from './audit.js';
import { tenantPage, tenantsPage } from './tenants.js';
import { oauthPage, tokensPage } from './tokens.js';

const $ = (sel) => document.querySelector(sel);

// Served over plain HTTP to another host, the browser drops the Secure __Host- cookies: sign-in would
// "succeed" and bounce back. Say so up front (localhost and 127.0.0.0/8, ::1 are secure contexts).
const LOCAL = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const insecure = location.protocol === 'http:' && !LOCAL.test(location.hostname);
if (insecure) {
  $('#insecure-notice').hidden = false;
  $('#insecure-host').textContent = location.host;
  $('#insecure-tunnel-host').textContent = location.hostname;
}

function show(which) {
  $('#signin-view').hidden = which !== 'signin';
  $('#forbidden-view').hidden = which !== 'forbidden';
  $('#view').hidden = which !== 'app';
  $('#nav').hidden = which !== 'app';
}

function showSignIn() {
  session.csrf = null;
  session.me = null;
  $('#whoami').textContent = '';
  $('#view').replaceChildren();
  show('signin');
}
session.onSignedOut = showSignIn;

/** After a sign-in (or on load): who is this, and may they use the console? */
async function enter({ justSignedIn = false } = {}) {
  const res = await api('GET', '/api/auth/session');
  if (res.status !== 200) {
    showSignIn();
    if (justSignedIn) {
      // The sign-in answered 200 but the browser did not send the cookies back.
      $('#signin-error').textContent = insecure
        ? 'Signed in, but this browser does not keep the Secure session cookies over plain HTTP: open the console over HTTPS (see above).'
        : 'Signed in, but the browser did not keep the session cookies (are cookies blocked for this site?).';
    }
    return;
  }
  session.me = res.data.user;
  const csrf = await api('GET', '/api/auth/csrf');
  session.csrf = csrf.data.csrf_token ?? null;
  const who = session.me ? session.me.email || session.me.username : res.data.principal.label;
  if (session.me && !session.me.is_admin) {
    $('#forbidden-text').textContent = `You are signed in as ${who} (root role ${session.me.root_role}). The console is for administrators (root role Admin or Owner); ask one to change your role.`;
    show('forbidden');
    return;
  }
  $('#whoami').textContent = who;
  show('app');
  await route();
  // Focus was on the sign-in button, now hidden: move it to the page's content.
  if (justSignedIn) $('#main').focus();
}

let generation = 0;
/** Renders the page the hash names into #view; a newer navigation wins over a slower older one. */
async function route() {
  if (!session.me) return;
  const hash = location.hash || '#/users';
  const [, section = 'users', id] = /^#\/([a-z-]+)(?:\/(\d+))?/.exec(hash) ?? [];
  for (const a of document.querySelectorAll('#nav-links a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const mine = ++generation;
  const view = document.createElement('div');
  const current = () => mine === generation;
  const pages = {
    users: id ? (v) => userPage(v, Number(id), current) : (v) => usersPage(v, current),
    tenants: id ? (v) => tenantPage(v, Number(id), current) : (v) => tenantsPage(v, current),
    bans: id ? (v) => banPage(v, Number(id), current) : (v) => bansPage(v, current),
    aliases: aliasesPage, oauth: oauthPage, tokens: tokensPage, audit: auditPage,
  };
  const page = pages[section] ?? pages.users;
  await page(view, current);
  if (current()) $('#view').replaceChildren(view);
}
window.addEventListener('hashchange', route);

$('#signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  const res = await api('POST', '/api/auth/sign-in', { identifier: f.identifier.value, password: f.password.value });
  f.password.value = '';
  if (res.status !== 200) {
    $('#signin-error').textContent = errorText(res);
    return;
  }
  $('#signin-error').textContent = '';
  await enter({ justSignedIn: true });
});

async function signOut() {
  await api('POST', '/api/auth/sign-out');
  showSignIn();
  $('#signin').identifier.focus();
}
$('#signout').addEventListener('click', signOut);
$('#forbidden-signout').addEventListener('click', signOut);

enter();
