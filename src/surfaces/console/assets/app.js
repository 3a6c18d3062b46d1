// Gatehouse admin console: plain DOM over the admin API (cookie session + X-CSRF-Token).
const $ = (sel) => document.querySelector(sel);
let csrf = null;
let me = null;
let cursors = [null];
let auditCursor = null;
let editing = null;

async function api(method, path, body, extra = {}) {
  const headers = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/auth/sign-in' && path !== '/api/auth/refresh') {
    // Refresh needs the family's CSRF token (learned from the refresh cookie alone after a page reload).
    if (!csrf) {
      const t = await fetch('/api/auth/csrf', { credentials: 'same-origin' });
      if (t.ok) csrf = (await t.json()).csrf_token;
    }
    const refreshed = await fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin', headers: csrf ? { 'x-csrf-token': csrf } : {} });
    if (refreshed.ok) return api(method, path, body, extra);
    showSignIn();
  }
  return { status: res.status, data, headers: res.headers };
}

function errorText(data) {
  if (!data) return 'Request failed';
  if (data.error === 'invalid_params') return `${data.field}: ${data.message || data.reason}`;
  return data.message || data.error || 'Request failed';
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  return td;
}

function badge(on, yes, no) {
  const td = document.createElement('td');
  const span = document.createElement('span');
  span.className = on ? 'badge' : 'badge off';
  span.textContent = on ? yes : no;
  td.append(span);
  return td;
}

function showSignIn() {
  $('#nav').hidden = true;
  $('#users-view').hidden = true;
  $('#audit-view').hidden = true;
  $('#signin-view').hidden = false;
}

async function showApp() {
  const session = await api('GET', '/api/auth/session');
  if (session.status !== 200) return showSignIn();
  me = session.data.user;
  const token = await api('GET', '/api/auth/csrf');
  csrf = token.data.csrf_token;
  $('#whoami').textContent = me ? (me.email || me.username) : '';
  $('#signin-view').hidden = true;
  $('#nav').hidden = false;
  switchView('users');
}

function switchView(view) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.view === view);
  $('#users-view').hidden = view !== 'users';
  $('#audit-view').hidden = view !== 'audit';
  if (view === 'users') { cursors = [null]; loadUsers(); }
  else { auditCursor = null; $('#audit').replaceChildren(); loadAudit(); }
}

async function loadUsers() {
  const params = new URLSearchParams({ limit: '25' });
  const q = $('#search').value.trim();
  if (q) params.set('q', q);
  if ($('#filter-active').value) params.set('is_active', $('#filter-active').value);
  const cursor = cursors[cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  const res = await api('GET', `/api/admin/users?${params}`);
  if (res.status !== 200) return;
  const rows = res.data.items.map((u) => {
    const tr = document.createElement('tr');
    const edit = document.createElement('button');
    edit.textContent = 'Edit';
    edit.addEventListener('click', () => openEditor(u));
    const actions = document.createElement('td');
    actions.append(edit);
    tr.append(cell(u.id), cell(u.username), cell(u.email), badge(u.is_active === 1, 'active', 'inactive'), badge(u.is_admin, 'admin', 'member'), cell(u.last_login_at ? new Date(u.last_login_at).toLocaleString() : '—'), actions);
    return tr;
  });
  $('#users').replaceChildren(...rows);
  $('#next-page').disabled = !res.data.next_cursor;
  $('#next-page').onclick = () => { cursors.push(res.data.next_cursor); loadUsers(); };
}

async function loadAudit() {
  const params = new URLSearchParams({ limit: '50' });
  if (auditCursor) params.set('cursor', String(auditCursor));
  const res = await api('GET', `/api/admin/audit-events?${params}`);
  if (res.status !== 200) return;
  for (const e of res.data.items) {
    const tr = document.createElement('tr');
    tr.append(cell(new Date(e.occurred_at).toLocaleString()), cell(e.actor.label || e.actor.type), cell(e.action), cell(`${e.target.type} ${e.target.id ?? ''}`), cell((e.after && e.after.changed || []).join(', ')));
    $('#audit').append(tr);
  }
  auditCursor = res.data.next_cursor;
  $('#audit-more').disabled = !auditCursor;
}

function openEditor(user) {
  editing = user;
  const f = $('#edit-form');
  $('#edit-title').textContent = user ? `Edit user #${user.id}` : 'New user';
  f.username.value = user?.username ?? '';
  f.email.value = user?.email ?? '';
  f.password.value = '';
  f.password.placeholder = user ? 'unchanged' : 'required';
  f.is_active.checked = user ? user.is_active === 1 : true;
  f.is_admin.checked = user ? user.is_admin : false;
  $('#delete-user').hidden = !user;
  $('#edit-error').textContent = '';
  $('#editor').showModal();
}

async function saveUser(event) {
  event.preventDefault();
  const f = $('#edit-form');
  const body = {};
  if (f.username.value.trim() !== (editing?.username ?? '')) body.username = f.username.value;
  if (f.email.value.trim() !== (editing?.email ?? '')) body.email = f.email.value;
  if (f.password.value) body.password = f.password.value;
  if (!editing || f.is_active.checked !== (editing.is_active === 1)) body.is_active = f.is_active.checked;
  if (!editing || f.is_admin.checked !== editing.is_admin) body.is_admin = f.is_admin.checked;
  const res = editing
    ? await api('PATCH', `/api/admin/users/${editing.id}`, body)
    : await api('POST', '/api/admin/users', body);
  if (res.status >= 400) { $('#edit-error').textContent = errorText(res.data); return; }
  $('#editor').close();
  loadUsers();
}

async function deleteUser() {
  if (!editing || !confirm(`Delete ${editing.email || editing.username}?`)) return;
  const res = await api('DELETE', `/api/admin/users/${editing.id}`);
  if (res.status >= 400) { $('#edit-error').textContent = errorText(res.data); return; }
  $('#editor').close();
  loadUsers();
}

$('#signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  const res = await api('POST', '/api/auth/sign-in', { identifier: f.identifier.value, password: f.password.value });
  f.password.value = '';
  if (res.status !== 200) { $('#signin-error').textContent = errorText(res.data); return; }
  $('#signin-error').textContent = '';
  showApp();
});
$('#signout').addEventListener('click', async () => { await api('POST', '/api/auth/sign-out'); csrf = null; showSignIn(); });
for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => switchView(b.dataset.view));
let searchTimer;
$('#search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { cursors = [null]; loadUsers(); }, 200); });
$('#filter-active').addEventListener('change', () => { cursors = [null]; loadUsers(); });
$('#first-page').addEventListener('click', () => { cursors = [null]; loadUsers(); });
$('#new-user').addEventListener('click', () => openEditor(null));
$('#edit-form').addEventListener('submit', saveUser);
$('#cancel-edit').addEventListener('click', () => $('#editor').close());
$('#delete-user').addEventListener('click', deleteUser);
$('#audit-more').addEventListener('click', loadAudit);
showApp();
