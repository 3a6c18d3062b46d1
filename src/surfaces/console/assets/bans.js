// Bans (list, create with per-type hints, revoke, "disable matching aliases" with its count) and aliases
// (list, create, activate/deactivate, delete).
import { api, cells, errorText, field, h, messageLine, table, when } from './api.js';

const BAN_HINTS = {
  email: 'One mailbox, e.g. spammer@example.com. Matches that address only.',
  domain: 'A domain, e.g. example.com (@example.com and *.example.com mean the same). Covers its subdomains.',
  ip: 'An address (203.0.113.7) or a CIDR range: 203.0.113.0/24 covers 203.0.113.0–255; 2001:db8::/32 for IPv6. Ranges wider than /8 (IPv4) or /16 (IPv6) are refused. Refuses every request from a covered address.',
  name: 'A username, e.g. spammer (case-insensitive). Refuses sign-up and renames to it.',
};

export async function bansPage(view, current) {
  const msg = messageLine();
  const results = h('div', { 'aria-live': 'polite' });
  const typeFilter = h('select', { name: 'type' }, h('option', { value: '' }, 'Any type'), Object.keys(BAN_HINTS).map((t) => h('option', { value: t }, t)));
  const activeFilter = h('select', { name: 'active' }, h('option', { value: '' }, 'Any state'), h('option', { value: 'true' }, 'Active'), h('option', { value: 'false' }, 'Revoked or expired'));
  let cursors = [null];
  const prev = h('button', { type: 'button' }, 'Previous page');
  const next = h('button', { type: 'button' }, 'Next page');

  async function load() {
    const params = new URLSearchParams({ limit: '25' });
    if (typeFilter.value) params.set('type', typeFilter.value);
    if (activeFilter.value) params.set('active', activeFilter.value);
    if (cursors[cursors.length - 1]) params.set('cursor', cursors[cursors.length - 1]);
    const res = await api('GET', `/api/admin/bans?${params}`);
    if (!current()) return;
    if (res.status !== 200) return msg.error(errorText(res));
    const rows = res.data.items.map((b) => cells(
      b.id, b.ban_type, h('a', { href: `#/bans/${b.id}` }, b.ban_value), b.reason,
      h('span', { class: b.active ? 'badge' : 'badge off' }, b.active ? 'active' : b.revoked_at ? 'revoked' : 'expired'),
      b.expires_at ? when(b.expires_at) : 'never',
      b.active ? h('button', { type: 'button', 'aria-label': `Revoke ban ${b.ban_type} ${b.ban_value}`, onclick: () => revoke(b) }, 'Revoke') : '',
    ));
    results.replaceChildren(rows.length ? table('Bans', ['ID', 'Type', 'Value', 'Reason', 'State', 'Expires', ''], rows) : h('p', {}, 'No bans.'));
    prev.disabled = cursors.length === 1;
    next.disabled = !res.data.next_cursor;
    next.onclick = () => { cursors.push(res.data.next_cursor); load(); };
  }
  prev.addEventListener('click', () => { cursors.pop(); load(); });
  for (const f of [typeFilter, activeFilter]) f.addEventListener('change', () => { cursors = [null]; load(); });

  async function revoke(b) {
    const res = await api('PATCH', `/api/admin/bans/${b.id}`, { revoked: true });
    if (res.status !== 200) return msg.error(errorText(res));
    msg.ok(`Revoked the ${b.ban_type} ban on ${b.ban_value}.`);
    load();
  }

  const type = h('select', { name: 'ban_type', 'aria-describedby': 'ban-hint' }, Object.keys(BAN_HINTS).map((t) => h('option', { value: t }, t)));
  const hint = h('p', { id: 'ban-hint', class: 'hint' }, BAN_HINTS.email);
  const aliasesBox = h('div', {},
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'disable_matching_aliases', 'aria-describedby': 'aliases-hint' }), 'Deactivate the aliases this ban matches'),
    h('small', { id: 'aliases-hint', class: 'hint' }, 'Aliases delivering to the banned address or domain, or whose address has the banned name before the @'));
  type.addEventListener('change', () => {
    hint.textContent = BAN_HINTS[type.value];
    aliasesBox.hidden = type.value === 'ip'; // aliases are addresses: an ip ban matches none
  });
  const createMsg = messageLine();
  const form = h('form', { class: 'card' },
    h('h3', {}, 'New ban'),
    field('Type', type), hint,
    field('Value', h('input', { name: 'ban_value', required: true, maxlength: '320', autocomplete: 'off', 'aria-describedby': 'ban-hint' })),
    field('Reason (optional)', h('input', { name: 'reason', maxlength: '255', autocomplete: 'off' })),
    field('Expires (optional)', h('input', { name: 'expires_at', type: 'datetime-local' }), 'Empty: never expires'),
    aliasesBox,
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'revoke_sessions' }), 'End the sessions of matching users'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create ban')),
    createMsg.el);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { ban_type: type.value, ban_value: form.ban_value.value.trim() };
    if (form.reason.value.trim()) body.reason = form.reason.value.trim();
    if (form.expires_at.value) body.expires_at = new Date(form.expires_at.value).toISOString();
    if (type.value !== 'ip' && form.disable_matching_aliases.checked) body.disable_matching_aliases = true;
    if (form.revoke_sessions.checked) body.revoke_sessions = true;
    const res = await api('POST', '/api/admin/bans', body);
    if (res.status !== 201) return createMsg.error(errorText(res));
    const effects = [];
    if (res.data.disabled_aliases !== undefined) effects.push(`${res.data.disabled_aliases} matching alias${res.data.disabled_aliases === 1 ? '' : 'es'} deactivated`);
    if (res.data.sessions_revoked !== undefined) effects.push(`${res.data.sessions_revoked} session${res.data.sessions_revoked === 1 ? '' : 's'} ended`);
    createMsg.ok(`Banned ${res.data.item.ban_type} ${res.data.item.ban_value}${effects.length ? `: ${effects.join(', ')}` : ''}.`);
    form.ban_value.value = '';
    form.reason.value = '';
    cursors = [null];
    load();
  });

  view.append(h('h2', {}, 'Bans'), form,
    h('div', { class: 'toolbar' }, field('Type', typeFilter), field('State', activeFilter)),
    msg.el, results, h('div', { class: 'pager' }, prev, next));
  await load();
}

export async function aliasesPage(view, current) {
  const msg = messageLine();
  const results = h('div', { 'aria-live': 'polite' });
  const search = h('input', { type: 'search', name: 'q', placeholder: 'Prefix of the address' });
  let cursors = [null];
  const prev = h('button', { type: 'button' }, 'Previous page');
  const next = h('button', { type: 'button' }, 'Next page');

  async function load() {
    const params = new URLSearchParams({ limit: '25' });
    if (search.value.trim()) params.set('q', search.value.trim());
    if (cursors[cursors.length - 1]) params.set('cursor', cursors[cursors.length - 1]);
    const res = await api('GET', `/api/admin/aliases?${params}`);
    if (!current()) return;
    if (res.status !== 200) return msg.error(errorText(res));
    const rows = res.data.items.map((a) => cells(
      a.id, a.address, a.goto,
      h('span', { class: a.active ? 'badge' : 'badge off' }, a.active ? 'active' : 'inactive'),
      h('span', { class: 'row-actions' },
        // DELETE deactivates and keeps the address taken (as the product's alias delete does), so the
        // console offers deactivation and activation only.
        h('button', { type: 'button', 'aria-label': `${a.active ? 'Deactivate' : 'Activate'} ${a.address}`, onclick: () => change(a, 'PATCH', { active: !a.active }) }, a.active ? 'Deactivate' : 'Activate')),
    ));
    results.replaceChildren(rows.length ? table('Aliases', ['ID', 'Address', 'Delivers to', 'State', ''], rows) : h('p', {}, 'No aliases.'));
    prev.disabled = cursors.length === 1;
    next.disabled = !res.data.next_cursor;
    next.onclick = () => { cursors.push(res.data.next_cursor); load(); };
  }
  prev.addEventListener('click', () => { cursors.pop(); load(); });
  let timer;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { cursors = [null]; load(); }, 250); });

  async function change(a, method, body) {
    const res = await api(method, `/api/admin/aliases/${a.id}`, body);
    if (res.status !== 200) return msg.error(errorText(res));
    msg.ok(`${body.active ? 'Activated' : 'Deactivated'} ${a.address}.`);
    load();
  }

  const createMsg = messageLine();
  const form = h('form', { class: 'card' },
    h('h3', {}, 'New alias'),
    field('Address', h('input', { name: 'address', type: 'email', required: true, autocomplete: 'off' }), 'The forwarding address, e.g. sales@example.com'),
    field('Delivers to', h('input', { name: 'goto', type: 'email', required: true, autocomplete: 'off' }), 'The destination mailbox'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create alias')),
    createMsg.el);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await api('POST', '/api/admin/aliases', { address: form.address.value.trim(), goto: form.goto.value.trim() });
    if (res.status !== 201) return createMsg.error(errorText(res));
    createMsg.ok(`Created ${res.data.item.address}.`);
    form.reset();
    cursors = [null];
    load();
  });

  view.append(h('h2', {}, 'Aliases'), form, h('div', { class: 'toolbar', role: 'search' }, field('Search', search)), msg.el, results, h('div', { class: 'pager' }, prev, next));
  await load();
}

/** A datetime-local value (the browser's local time) for an ISO instant; '' for none. */
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One ban: edit its reason and expiry (If-Match), revoke or reinstate it, and its history. */
export async function banPage(view, id, current) {
  const res = await api('GET', `/api/admin/bans/${id}`);
  if (!current()) return;
  view.append(h('p', {}, h('a', { href: '#/bans' }, '← All bans')));
  if (res.status !== 200) {
    view.append(h('h2', {}, `Ban #${id}`), h('p', { class: 'message error', role: 'alert' }, errorText(res)));
    return;
  }
  let ban = res.data.item;
  let etag = res.etag;
  const title = h('h2', {});
  const state = h('p', {});
  const msg = messageLine();
  const form = h('form', { class: 'card' },
    h('h3', {}, 'Edit'),
    field('Reason', h('input', { name: 'reason', maxlength: '255', autocomplete: 'off' })),
    field('Expires', h('input', { name: 'expires_at', type: 'datetime-local' }), 'Empty: never expires'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save ban')),
    msg.el);
  const revokeButton = h('button', { type: 'button' });
  const historyBody = h('div', {});

  function fill() {
    title.textContent = `Ban #${ban.id}: ${ban.ban_type} ${ban.ban_value}`;
    state.replaceChildren(h('span', { class: ban.active ? 'badge' : 'badge off' }, ban.active ? 'active' : ban.revoked_at ? 'revoked' : 'expired'), ' ',
      `Created ${when(ban.created_at)}${ban.revoked_at ? ` · revoked ${when(ban.revoked_at)}` : ''}`);
    form.reason.value = ban.reason ?? '';
    form.expires_at.value = localInput(ban.expires_at);
    revokeButton.textContent = ban.revoked_at ? 'Reinstate ban' : 'Revoke ban';
  }
  async function patch(body, done) {
    const r = await api('PATCH', `/api/admin/bans/${id}`, body, etag ? { 'if-match': etag } : {});
    if (r.status === 412) {
      const latest = await api('GET', `/api/admin/bans/${id}`);
      if (latest.status === 200) { ban = latest.data.item; etag = latest.etag; fill(); }
      return msg.error('Not saved: someone else changed this ban after you opened it. The form now shows the current version; make your change again.');
    }
    if (r.status !== 200) return msg.error(errorText(r));
    ban = r.data.item;
    etag = r.etag;
    fill();
    msg.ok(done);
    loadHistory();
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {};
    if (form.reason.value.trim() !== (ban.reason ?? '')) body.reason = form.reason.value.trim() || null;
    const expires = form.expires_at.value ? new Date(form.expires_at.value).toISOString() : null;
    if (form.expires_at.value !== localInput(ban.expires_at)) body.expires_at = expires;
    if (Object.keys(body).length === 0) return msg.ok('Nothing changed.');
    patch(body, 'Saved.');
  });
  revokeButton.addEventListener('click', () => patch({ revoked: !ban.revoked_at }, ban.revoked_at ? 'Reinstated.' : 'Revoked.'));

  async function loadHistory() {
    const r = await api('GET', `/api/admin/bans/${id}/history?limit=50`);
    if (r.status !== 200) return historyBody.replaceChildren(h('p', { class: 'message error' }, errorText(r)));
    const rows = r.data.items.map((e) => cells(when(e.occurred_at), e.actor.label || e.actor.type, e.action, changesOf(e)));
    historyBody.replaceChildren(rows.length ? table('History of this ban', ['When', 'By', 'Action', 'Changes'], rows) : h('p', {}, 'No events.'));
  }
  fill();
  view.append(title, state, form, h('div', { class: 'actions' }, revokeButton),
    h('section', { 'aria-labelledby': 'ban-history' }, h('h3', { id: 'ban-history' }, 'History'), historyBody));
  await loadHistory();
}

/** The fields an event changed (keys whose value differs between before and after). */
function changesOf(e) {
  if (!e.before || !e.after) return '';
  const keys = Object.keys(e.after).filter((k) => k !== 'version' && k !== 'updated_at' && JSON.stringify(e.before[k]) !== JSON.stringify(e.after[k]));
  return keys.map((k) => `${k}: ${JSON.stringify(e.before[k] ?? null)} → ${JSON.stringify(e.after[k] ?? null)}`).join('; ');
}
