// The console's only way to the server: the public admin API with the session cookies
// (__Host-access / __Host-refresh, set by POST /api/auth/sign-in) and X-CSRF-Token on every write.
export const session = { csrf: null, me: null, onSignedOut: () => {} };

/**
 * One request. Answers {status, data, etag}; never throws on an HTTP error (callers show it). A 401 is
 * retried once after POST /api/auth/refresh (the access cookie lives minutes); when that fails the
 * session is over and onSignedOut() shows the sign-in form.
 */
export async function api(method, path, body, headers = {}) {
  const res = await send(method, path, body, headers);
  if (res.status === 401 && path !== '/api/auth/sign-in' && path !== '/api/auth/refresh' && path !== '/api/auth/sign-out') {
    // Refresh needs the family's CSRF token (after a page reload it is learned from the refresh cookie alone).
    if (!session.csrf) {
      const t = await fetch('/api/auth/csrf', { credentials: 'same-origin' });
      if (t.ok) session.csrf = (await t.json()).csrf_token;
    }
    const refreshed = await fetch('/api/auth/refresh', {
      method: 'POST', credentials: 'same-origin', headers: session.csrf ? { 'x-csrf-token': session.csrf } : {},
    });
    if (refreshed.ok) return send(method, path, body, headers);
    session.onSignedOut();
  }
  return res;
}

async function send(method, path, body, extra) {
  const headers = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['x-csrf-token'] = session.csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    return { status: 0, data: { message: 'The server could not be reached.' }, etag: null };
  }
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data, etag: res.headers.get('etag') };
}

/** A readable message for an admin-surface error body. */
export function errorText(res) {
  const data = res.data || {};
  if (res.status === 403 && data.reason === 'admin_required') return 'You are not an administrator: this needs the Admin or Owner root role.';
  if (data.error === 'invalid_params' && data.field) {
    const hint = data.hint && data.hint !== data.message ? ` (${data.hint})` : '';
    return `${data.field}: ${data.message || data.reason}${hint}`;
  }
  if (data.error === 'banned' && data.ban) return `Refused: an active ${data.ban.ban_type} ban matches (${data.ban.ban_value}).`;
  return data.message || data.error || `Request failed (HTTP ${res.status})`;
}

/**
 * Builds an element: h('a', {href: '#/x', class: 'c'}, 'text', child). Text goes in as text nodes, never as
 * HTML; `on*` attributes given as functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** A labelled field: <label>Text <input …></label>. */
export function field(label, input, hint) {
  return h('label', {}, label, input, hint ? h('small', { class: 'hint' }, hint) : null);
}

/** A status line under a form: role=alert for errors, role=status for outcomes. */
export function messageLine() {
  const el = h('p', { class: 'message', role: 'status' });
  return {
    el,
    ok(text) { el.className = 'message ok'; el.setAttribute('role', 'status'); el.textContent = text; },
    error(text) { el.className = 'message error'; el.setAttribute('role', 'alert'); el.textContent = text; },
    clear() { el.className = 'message'; el.textContent = ''; },
  };
}

/** A table in a horizontally scrolling frame (the page itself never scrolls sideways). */
export function table(caption, headers, rows) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t || h('span', { class: 'sr-only' }, 'Actions'))))),
      h('tbody', {}, rows)));
}

export function cells(...values) {
  return h('tr', {}, values.map((v) => h('td', {}, v ?? '')));
}
