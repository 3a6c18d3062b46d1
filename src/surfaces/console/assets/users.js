// Users: the list (search, filters, previous/next) and one user's page (profile and root role saved with
// If-Match, a 412 shown as a conflict; password, deactivation, deletion; the user's audit history).
import { api, cells, errorText, field, h, messageLine, session, table, when } from './api.js';

export const ROOT_ROLES = ['Owner', 'Admin', 'Editor', 'Viewer', 'Member'];
const PAGE_SIZE = 25;

// The list's state survives a visit to a user page (back to the same page of the same search).
const list = { q: '', active: '', admin: '', cursors: [null] };

function roleSelect(name, value) {
  return h('select', { name }, ROOT_ROLES.map((r) => h('option', { value: r, selected: r === value }, r)));
}

export async function usersPage(view, current) {
  const search = h('input', { type: 'search', name: 'q', value: list.q, placeholder: 'Prefix of email, username or name' });
  const active = h('select', { name: 'active' },
    h('option', { value: '' }, 'Any status'), h('option', { value: 'true' }, 'Active'), h('option', { value: 'false' }, 'Deactivated'));
  active.value = list.active;
  const admin = h('select', { name: 'admin' },
    h('option', { value: '' }, 'Any role'), h('option', { value: 'true' }, 'Administrators (Owner, Admin)'), h('option', { value: 'false' }, 'Others (Editor, Viewer, Member)'));
  admin.value = list.admin;
  const results = h('div', { 'aria-live': 'polite' });
  const prev = h('button', { type: 'button' }, 'Previous page');
  const next = h('button', { type: 'button' }, 'Next page');
  const pageLabel = h('span', { class: 'page-label' });
  const msg = messageLine();
  const creator = createUserForm(() => load());
  let timer;

  let latest = 0;
  async function load() {
    clearTimeout(timer);
    const mine = ++latest; // a slower earlier page never overwrites a later one
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (list.q) params.set('q', list.q);
    if (list.active) params.set('is_active', list.active);
    if (list.admin) params.set('is_admin', list.admin);
    const cursor = list.cursors[list.cursors.length - 1];
    if (cursor) params.set('cursor', cursor);
    const res = await api('GET', `/api/admin/users?${params}`);
    if (!current() || mine !== latest) return;
    if (res.status !== 200) {
      msg.error(errorText(res));
      results.replaceChildren();
      return;
    }
    msg.clear();
    const rows = res.data.items.map((u) => cells(
      u.id,
      h('a', { href: `#/users/${u.id}` }, u.email || u.username || `user #${u.id}`),
      u.username, u.name, u.root_role,
      h('span', { class: u.is_active ? 'badge' : 'badge off' }, u.is_active ? 'active' : 'deactivated'),
      when(u.last_login_at),
    ));
    results.replaceChildren(rows.length
      ? table('Users', ['ID', 'Email', 'Username', 'Name', 'Root role', 'Status', 'Last sign-in'], rows)
      : h('p', {}, list.q || list.active || list.admin ? 'No user matches.' : 'No users yet.'));
    pageLabel.textContent = `Page ${list.cursors.length}${res.data.items.length ? ` · users ${(list.cursors.length - 1) * PAGE_SIZE + 1}–${(list.cursors.length - 1) * PAGE_SIZE + res.data.items.length}` : ''}`;
    prev.disabled = list.cursors.length === 1;
    next.disabled = !res.data.next_cursor;
    next.onclick = () => { list.cursors.push(res.data.next_cursor); load(); };
  }
  prev.addEventListener('click', () => { if (list.cursors.length > 1) { list.cursors.pop(); load(); } });
  const restart = () => { list.cursors = [null]; load(); };
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { list.q = search.value.trim(); restart(); }, 250); });
  active.addEventListener('change', () => { list.active = active.value; restart(); });
  admin.addEventListener('change', () => { list.admin = admin.value; restart(); });

  view.append(
    h('div', { class: 'page-head' }, h('h2', {}, 'Users'), creator.toggle),
    creator.el,
    h('div', { class: 'toolbar', role: 'search' }, field('Search', search), field('Status', active), field('Role', admin)),
    msg.el,
    results,
    h('div', { class: 'pager' }, prev, pageLabel, next),
  );
  await load();
}

function createUserForm(onCreated) {
  const msg = messageLine();
  const form = h('form', { class: 'card', hidden: true },
    h('h3', {}, 'New user'),
    field('Email', h('input', { name: 'email', type: 'email', required: true, autocomplete: 'off' })),
    field('Username (optional)', h('input', { name: 'username', maxlength: '64', autocomplete: 'off' })),
    field('Name (optional)', h('input', { name: 'name', maxlength: '255', autocomplete: 'off' })),
    field('Password', h('input', { name: 'password', type: 'password', minlength: '8', maxlength: '128', required: true, autocomplete: 'new-password' }), '8 to 128 characters'),
    field('Root role', roleSelect('root_role', 'Member')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create user'), h('button', { type: 'button', onclick: () => { form.hidden = true; toggle.focus(); } }, 'Cancel')),
    msg.el);
  const toggle = h('button', { type: 'button', class: 'primary', onclick: () => { form.hidden = false; form.email.focus(); } }, 'New user');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { email: form.email.value.trim(), password: form.password.value, root_role: form.root_role.value };
    if (form.username.value.trim()) body.username = form.username.value.trim();
    if (form.name.value.trim()) body.name = form.name.value.trim();
    const res = await api('POST', '/api/admin/users', body);
    if (res.status !== 201) return msg.error(errorText(res));
    location.hash = `#/users/${res.data.item.id}`;
    onCreated(res.data.item);
  });
  return { el: form, toggle };
}

const PROFILE_FIELDS = [
  ['username', 'Username'],
  ['name', 'Name'],
  ['email', 'Email'],
  ['root_role', 'Root role'],
];

/** The fields of the profile form that differ from the user as read. */
function editsOf(form, user) {
  const body = {};
  for (const [key] of PROFILE_FIELDS) {
    const value = form[key].value.trim();
    const was = user[key] ?? '';
    if (value === was) continue;
    body[key] = value === '' && key !== 'email' ? null : value;
  }
  if (body.username === null) delete body.username; // the admin surface cannot clear a username
  return body;
}

export async function userPage(view, id, current) {
  const res = await api('GET', `/api/admin/users/${id}`);
  if (!current()) return;
  view.append(h('p', {}, h('a', { href: '#/users' }, '← All users')));
  if (res.status !== 200) {
    view.append(h('h2', {}, `User #${id}`), h('p', { class: 'message error', role: 'alert' }, errorText(res)));
    return;
  }
  // The user as last read and its ETag: every write sends If-Match with it.
  let user = res.data.item;
  let etag = res.etag;
  const self = session.me && session.me.id === id;

  const title = h('h2', {});
  const status = h('p', {});
  const profileMsg = messageLine();
  const conflict = h('div', { class: 'conflict', hidden: true, role: 'alert' });
  const profile = h('form', { class: 'card', 'aria-labelledby': 'profile-title' },
    h('h3', { id: 'profile-title' }, 'Profile and role'),
    field('Username', h('input', { name: 'username', maxlength: '64', autocomplete: 'off' })),
    field('Name', h('input', { name: 'name', maxlength: '255', autocomplete: 'off' })),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'off' })),
    field('Root role', roleSelect('root_role', user.root_role), 'Owner and Admin may use this console and the admin API'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save changes')),
    profileMsg.el);

  function fill() {
    title.textContent = `User #${user.id}: ${user.email || user.username || ''}`;
    status.replaceChildren(
      h('span', { class: user.is_active ? 'badge' : 'badge off' }, user.is_active ? 'active' : 'deactivated'), ' ',
      `Created ${when(user.created_at)} · last sign-in ${when(user.last_login_at)} · email ${user.email_verified_at ? 'verified' : 'not verified'}`);
    for (const [key] of PROFILE_FIELDS) profile[key].value = user[key] ?? '';
    activeButton.textContent = user.is_active ? 'Deactivate user' : 'Reactivate user';
  }

  /** PATCH with If-Match; a 412 opens the conflict panel with both versions. */
  async function patch(body, msg) {
    const res = await api('PATCH', `/api/admin/users/${id}`, body, etag ? { 'if-match': etag } : {});
    if (res.status === 200) {
      user = res.data.item;
      etag = res.etag;
      conflict.hidden = true;
      fill();
      events.reload();
      return true;
    }
    if (res.status === 412) {
      await showConflict(body, msg);
      return false;
    }
    msg.error(errorText(res));
    return false;
  }

  async function showConflict(mine, msg) {
    const latest = await api('GET', `/api/admin/users/${id}`);
    if (latest.status !== 200) return msg.error(errorText(latest));
    const theirs = latest.data.item;
    msg.error('Not saved: someone else changed this user after you opened it (compare the versions below).');
    const rows = [...PROFILE_FIELDS, ['is_active', 'Active'], ['password', 'Password']]
      .filter(([key]) => key in mine || (key !== 'password' && String(theirs[key] ?? '') !== String(user[key] ?? '')))
      .map(([key, label]) => cells(label,
        key === 'password' ? '(unchanged)' : String(user[key] ?? '—'),
        key in mine ? (key === 'password' ? '(new password)' : String(mine[key] ?? '—')) : '(unchanged)',
        key === 'password' ? '(unchanged)' : String(theirs[key] ?? '—')));
    conflict.replaceChildren(
      h('h4', {}, 'Conflicting change'),
      h('p', {}, `The server has version ${when(theirs.updated_at)}. Compare and choose:`),
      table('Your edits and the current version', ['Field', 'When you opened it', 'Your edit', 'Now on the server'], rows),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => { user = theirs; etag = latest.etag; conflict.hidden = true; msg.ok('Reloaded the current version; your edits were discarded.'); fill(); } }, 'Reload (discard my edits)'),
        h('button', { type: 'button', class: 'primary', onclick: async () => { etag = latest.etag; if (await patch(mine, msg)) msg.ok('Saved your edits over the other change.'); } }, 'Save my edits anyway')));
    conflict.hidden = false;
    conflict.scrollIntoView({ block: 'nearest' });
  }

  profile.addEventListener('submit', async (event) => {
    event.preventDefault();
    profileMsg.clear();
    const body = editsOf(profile, user);
    if (Object.keys(body).length === 0) return profileMsg.ok('Nothing changed.');
    if (await patch(body, profileMsg)) profileMsg.ok('Saved.');
  });

  // Account: password, activation, deletion.
  const accountMsg = messageLine();
  const password = h('form', { class: 'inline-form' },
    field('New password', h('input', { name: 'password', type: 'password', minlength: '8', maxlength: '128', required: true, autocomplete: 'new-password' }), '8 to 128 characters; ends the user\'s sessions'),
    h('button', { type: 'submit' }, 'Set password'));
  password.addEventListener('submit', async (event) => {
    event.preventDefault();
    accountMsg.clear();
    if (await patch({ password: password.password.value }, accountMsg)) {
      password.reset();
      accountMsg.ok('Password set.');
    }
  });
  const activeButton = h('button', { type: 'button' });
  activeButton.addEventListener('click', async () => {
    accountMsg.clear();
    const to = !user.is_active;
    if (await patch({ is_active: to }, accountMsg)) accountMsg.ok(to ? 'Reactivated.' : 'Deactivated: the user\'s sessions are ended.');
  });
  const confirmBox = h('div', { class: 'confirm', hidden: true });
  const deleteButton = h('button', { type: 'button', class: 'danger' }, 'Delete user…');
  deleteButton.addEventListener('click', () => {
    confirmBox.replaceChildren(
      h('p', {}, `Delete ${user.email || user.username}? Their sessions and tokens go with them; this cannot be undone.`),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        const res = await api('DELETE', `/api/admin/users/${id}`, undefined, etag ? { 'if-match': etag } : {});
        if (res.status === 200) { location.hash = '#/users'; return; }
        confirmBox.hidden = true;
        if (res.status === 412) accountMsg.error('Not deleted: someone changed this user since you opened it. Reload the page and check.');
        else accountMsg.error(errorText(res));
      } }, 'Delete permanently'),
      h('button', { type: 'button', onclick: () => { confirmBox.hidden = true; deleteButton.focus(); } }, 'Cancel'));
    confirmBox.hidden = false;
    confirmBox.querySelector('button').focus();
  });
  const account = h('section', { class: 'card', 'aria-labelledby': 'account-title' },
    h('h3', { id: 'account-title' }, 'Account'),
    self ? ownPassword(accountMsg, (item, newEtag) => { user = item; etag = newEtag; fill(); events.reload(); }) : password,
    h('div', { class: 'actions' }, activeButton, deleteButton),
    confirmBox,
    accountMsg.el);

  const events = auditHistory(id);
  fill();
  view.append(title, status, h('div', { class: 'columns' }, profile, account), conflict, events.el);
  await events.reload();
}

/** The user's audit history: GET /api/admin/audit-events?target_type=user&target_id=…, newest first. */
function auditHistory(id) {
  const body = h('div', {});
  const el = h('section', { 'aria-labelledby': 'history-title' }, h('h3', { id: 'history-title' }, 'History'), body);
  async function reload() {
    const res = await api('GET', `/api/admin/audit-events?target_type=user&target_id=${id}&limit=50`);
    if (res.status !== 200) return body.replaceChildren(h('p', { class: 'message error' }, errorText(res)));
    const rows = res.data.items.map((e) => cells(when(e.occurred_at), e.actor.label || e.actor.type, e.action, ((e.after && e.after.changed) || []).join(', ')));
    body.replaceChildren(rows.length ? table('History of this user', ['When', 'By', 'Action', 'Changed'], rows) : h('p', {}, 'No events.'));
  }
  return { el, reload };
}

/**
 * The signed-in admin's own password: PATCH /api/admin/users/me/password with the current one (the admin
 * surface refuses to set your own password through the user's PATCH). Other sessions are ended.
 */
function ownPassword(msg, onSaved) {
  const form = h('form', {},
    h('p', { class: 'hint' }, 'This is you: changing your password needs your current one and ends your other sessions.'),
    field('Current password', h('input', { name: 'current_password', type: 'password', required: true, autocomplete: 'current-password' })),
    field('New password', h('input', { name: 'new_password', type: 'password', minlength: '8', maxlength: '128', required: true, autocomplete: 'new-password' }), '8 to 128 characters'),
    h('button', { type: 'submit' }, 'Change my password'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    msg.clear();
    const res = await api('PATCH', '/api/admin/users/me/password', { current_password: form.current_password.value, new_password: form.new_password.value });
    if (res.status !== 200) return msg.error(errorText(res));
    form.reset();
    msg.ok(`Password changed; ${res.data.sessions_revoked} other session${res.data.sessions_revoked === 1 ? '' : 's'} ended.`);
    onSaved(res.data.item, res.etag);
  });
  return form;
}
