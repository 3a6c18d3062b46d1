// Tenants: the list (create), and one tenant's page: rename, delete, its roles as a permission matrix
// (one row per role, one checkbox per permission), and its members (add with roles, remove).
import { api, cells, errorText, field, h, messageLine, table, when } from './api.js';

// The tenant permissions (the directory's users.* and roles.assign), as the admin API lists them.
const PERMISSIONS = ['users.view', 'users.create', 'users.update', 'users.delete', 'roles.assign'];

export async function tenantsPage(view, current) {
  const msg = messageLine();
  const results = h('div', {});
  async function load() {
    const res = await api('GET', '/api/admin/tenants');
    if (!current()) return;
    if (res.status !== 200) return msg.error(errorText(res));
    const rows = res.data.items.map((t) => cells(t.id, h('a', { href: `#/tenants/${t.id}` }, t.name), t.member_count ?? '', when(t.created_at)));
    results.replaceChildren(rows.length ? table('Tenants', ['ID', 'Name', 'Members', 'Created'], rows) : h('p', {}, 'No tenants yet.'));
  }
  const createMsg = messageLine();
  const form = h('form', { class: 'card inline-form' },
    field('New tenant name', h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' })),
    h('button', { type: 'submit', class: 'primary' }, 'Create tenant'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await api('POST', '/api/admin/tenants', { name: form.name.value.trim() });
    if (res.status !== 201) return createMsg.error(errorText(res));
    location.hash = `#/tenants/${res.data.item.id}`;
  });
  view.append(h('h2', {}, 'Tenants'), form, createMsg.el, msg.el, results);
  await load();
}

export async function tenantPage(view, id, current) {
  const res = await api('GET', `/api/admin/tenants/${id}`);
  if (!current()) return;
  view.append(h('p', {}, h('a', { href: '#/tenants' }, '← All tenants')));
  if (res.status !== 200) {
    view.append(h('h2', {}, `Tenant #${id}`), h('p', { class: 'message error', role: 'alert' }, errorText(res)));
    return;
  }
  let tenant = res.data.item;
  const title = h('h2', {}, `Tenant: ${tenant.name}`);

  // Rename and delete.
  const tenantMsg = messageLine();
  const rename = h('form', { class: 'inline-form' },
    field('Name', h('input', { name: 'name', value: tenant.name, required: true, maxlength: '255', autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Rename'));
  rename.addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await api('PATCH', `/api/admin/tenants/${id}`, { name: rename.name.value.trim() });
    if (r.status !== 200) return tenantMsg.error(errorText(r));
    tenant = r.data.item;
    title.textContent = `Tenant: ${tenant.name}`;
    tenantMsg.ok('Renamed.');
  });
  const confirmBox = h('div', { class: 'confirm', hidden: true },
    h('p', {}, 'Delete this tenant with its roles and memberships? The users stay.'),
    h('button', { type: 'button', class: 'danger', onclick: async () => {
      const r = await api('DELETE', `/api/admin/tenants/${id}`);
      if (r.status === 200) { location.hash = '#/tenants'; return; }
      tenantMsg.error(errorText(r));
    } }, 'Delete permanently'),
    h('button', { type: 'button', onclick: () => { confirmBox.hidden = true; } }, 'Cancel'));
  const settings = h('section', { class: 'card', 'aria-labelledby': 'tenant-settings' },
    h('h3', { id: 'tenant-settings' }, 'Tenant'), rename,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => { confirmBox.hidden = false; confirmBox.querySelector('button').focus(); } }, 'Delete tenant…')),
    confirmBox, tenantMsg.el);

  // Roles: the permission matrix.
  let roles = [];
  const rolesBody = h('div', {});
  const rolesMsg = messageLine();
  async function loadRoles() {
    const r = await api('GET', `/api/admin/tenants/${id}/roles`);
    if (r.status !== 200) return rolesMsg.error(errorText(r));
    roles = r.data.items;
    const rows = roles.map((role) => h('tr', {},
      h('th', { scope: 'row' }, role.name),
      PERMISSIONS.map((p) => h('td', { class: 'center' }, h('input', {
        type: 'checkbox', checked: role.permissions.includes(p), 'aria-label': `${role.name}: ${p}`,
        onchange: (event) => setPermission(role, p, event.target),
      }))),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete role ${role.name}`, onclick: () => deleteRole(role) }, 'Delete'))));
    rolesBody.replaceChildren(roles.length
      ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Permissions by role' },
        h('table', { class: 'matrix' },
          h('caption', { class: 'sr-only' }, 'Permissions by role'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Role'), PERMISSIONS.map((p) => h('th', { scope: 'col' }, p)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', {}, rows)))
      : h('p', {}, 'No roles yet.'));
    fillRoleChoices();
  }
  async function setPermission(role, permission, box) {
    const permissions = box.checked ? [...new Set([...role.permissions, permission])] : role.permissions.filter((p) => p !== permission);
    const r = await api('PATCH', `/api/admin/tenants/${id}/roles/${role.id}`, { permissions });
    if (r.status !== 200) { box.checked = !box.checked; return rolesMsg.error(errorText(r)); }
    role.permissions = r.data.item.permissions;
    rolesMsg.ok(`${role.name}: ${box.checked ? 'granted' : 'withdrew'} ${permission}.`);
  }
  async function deleteRole(role) {
    const r = await api('DELETE', `/api/admin/tenants/${id}/roles/${role.id}`);
    if (r.status !== 200) return rolesMsg.error(errorText(r));
    rolesMsg.ok(`Deleted role ${role.name}.`);
    await loadRoles();
    await loadMembers();
  }
  const newRole = h('form', { class: 'inline-form' },
    field('New role name', h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Add role'));
  newRole.addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await api('POST', `/api/admin/tenants/${id}/roles`, { name: newRole.name.value.trim(), permissions: [] });
    if (r.status !== 201) return rolesMsg.error(errorText(r));
    newRole.reset();
    rolesMsg.ok(`Added role ${r.data.item.name}: tick its permissions below.`);
    await loadRoles();
  });
  const rolesSection = h('section', { class: 'card', 'aria-labelledby': 'roles-title' },
    h('h3', { id: 'roles-title' }, 'Roles and permissions'), newRole, rolesMsg.el, rolesBody);

  // Members.
  const membersBody = h('div', {});
  const membersMsg = messageLine();
  const roleChoices = h('fieldset', { class: 'choices' });
  function fillRoleChoices() {
    roleChoices.replaceChildren(h('legend', {}, 'Roles in this tenant'),
      ...(roles.length ? roles.map((r) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'role', value: String(r.id) }), r.name)) : [h('span', { class: 'hint' }, 'No roles yet')]));
  }
  async function loadMembers() {
    const r = await api('GET', `/api/admin/tenants/${id}/members`);
    if (r.status !== 200) return membersMsg.error(errorText(r));
    const rows = r.data.items.filter((m) => !m.deleted_at).map((m) => cells(
      h('a', { href: `#/users/${m.user_id}` }, m.email || m.username || `user #${m.user_id}`),
      m.roles.map((x) => x.name).join(', ') || '—',
      when(m.created_at),
      h('button', { type: 'button', 'aria-label': `Remove ${m.email || m.username || m.user_id}`, onclick: () => removeMember(m) }, 'Remove')));
    membersBody.replaceChildren(rows.length ? table('Members', ['User', 'Roles', 'Member since', ''], rows) : h('p', {}, 'No members yet.'));
  }
  async function removeMember(m) {
    const r = await api('DELETE', `/api/admin/tenants/${id}/members/${m.user_id}`);
    if (r.status !== 200) return membersMsg.error(errorText(r));
    membersMsg.ok(`Removed ${m.email || m.username || m.user_id}.`);
    await loadMembers();
  }
  const addMember = h('form', {},
    field('User (email or id)', h('input', { name: 'user', required: true, autocomplete: 'off' })),
    roleChoices,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add member')));
  addMember.addEventListener('submit', async (event) => {
    event.preventDefault();
    const userId = await resolveUser(addMember.user.value.trim());
    if (typeof userId === 'string') return membersMsg.error(userId);
    const roleIds = [...addMember.querySelectorAll('input[name=role]:checked')].map((b) => Number(b.value));
    const r = await api('POST', `/api/admin/tenants/${id}/members`, { user_id: userId, role_ids: roleIds });
    if (r.status !== 201) return membersMsg.error(errorText(r));
    addMember.reset();
    membersMsg.ok(`Added ${r.data.item.email || r.data.item.username || `user #${userId}`}.`);
    await loadMembers();
  });
  const membersSection = h('section', { class: 'card', 'aria-labelledby': 'members-title' },
    h('h3', { id: 'members-title' }, 'Members'), addMember, membersMsg.el, membersBody);

  view.append(title, settings, rolesSection, membersSection);
  await loadRoles();
  await loadMembers();
}

/** A user id from an id or an exact email/username (through the users search); a message when none. */
async function resolveUser(text) {
  if (/^\d+$/.test(text)) return Number(text);
  const r = await api('GET', `/api/admin/users?limit=5&q=${encodeURIComponent(text)}`);
  if (r.status !== 200) return errorText(r);
  const lower = text.toLowerCase();
  const match = r.data.items.find((u) => (u.email ?? '').toLowerCase() === lower || (u.username ?? '').toLowerCase() === lower);
  return match ? match.id : `No user has the email or username ${text}.`;
}
