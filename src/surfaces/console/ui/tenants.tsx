// Tenants: the list (create), and one tenant's page: rename, delete, its roles as a permission matrix
// (one row per role, one checkbox per permission), and its members (add with roles, remove).
import { useEffect, useState } from 'preact/hooks';
import { api, type Data, errorText, when } from './api.js';
import { checked, Confirm, Field, Message, onSubmit, Row, Table, useMsg, value } from './components.js';

// The tenant permissions (the directory's users.* and roles.assign), as the admin API lists them.
const PERMISSIONS = ['users.view', 'users.create', 'users.update', 'users.delete', 'roles.assign'];

export function TenantsPage() {
  const [items, setItems] = useState<Data[] | null>(null);
  const [msg, say] = useMsg();
  const [createMsg, sayCreate] = useMsg();
  useEffect(() => {
    api('GET', '/api/admin/tenants').then((res) => {
      if (res.status !== 200) say.error(errorText(res));
      setItems(res.status === 200 ? res.data.items : []);
    });
  }, []);
  if (!items) return null;
  return (
    <>
      <h2>Tenants</h2>
      <form class="card inline-form" onSubmit={onSubmit(async (f) => {
        const res = await api('POST', '/api/admin/tenants', { name: value(f, 'name') });
        if (res.status !== 201) return sayCreate.error(errorText(res));
        location.hash = `#/tenants/${res.data.item.id}`;
      })}>
        <Field label="New tenant name"><input name="name" required maxLength={255} autocomplete="off" /></Field>
        <button type="submit" class="primary">Create tenant</button>
      </form>
      <Message msg={createMsg} />
      <Message msg={msg} />
      {items.length ? (
        <Table caption="Tenants" headers={['ID', 'Name', 'Members', 'Created']}>
          {items.map((t) => <Row cells={[t.id, <a href={`#/tenants/${t.id}`}>{t.name}</a>, t.member_count ?? '', when(t.created_at)]} />)}
        </Table>
      ) : <p>No tenants yet.</p>}
    </>
  );
}

export function TenantPage({ id }: { id: number }) {
  const [tenant, setTenant] = useState<Data | { error: string } | null>(null);
  const [roles, setRoles] = useState<Data[] | null>(null);
  const [members, setMembers] = useState<Data[] | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [tenantMsg, sayTenant] = useMsg();
  const [rolesMsg, sayRoles] = useMsg();
  const [membersMsg, sayMembers] = useMsg();

  async function loadRoles() {
    const r = await api('GET', `/api/admin/tenants/${id}/roles`);
    if (r.status !== 200) return sayRoles.error(errorText(r));
    setRoles(r.data.items);
  }
  async function loadMembers() {
    const r = await api('GET', `/api/admin/tenants/${id}/members`);
    if (r.status !== 200) return sayMembers.error(errorText(r));
    setMembers(r.data.items.filter((m: Data) => !m.deleted_at));
  }
  useEffect(() => {
    (async () => {
      const res = await api('GET', `/api/admin/tenants/${id}`);
      if (res.status !== 200) return setTenant({ error: errorText(res) });
      await Promise.all([loadRoles(), loadMembers()]);
      setTenant(res.data.item);
    })();
  }, [id]);

  if (!tenant) return null;
  const back = <p><a href="#/tenants">← All tenants</a></p>;
  if ('error' in tenant) return <>{back}<h2>{`Tenant #${id}`}</h2><p class="message error" role="alert">{tenant.error}</p></>;

  async function setPermission(role: Data, permission: string, box: HTMLInputElement) {
    const permissions = box.checked ? [...new Set([...role.permissions, permission])] : role.permissions.filter((p: string) => p !== permission);
    const r = await api('PATCH', `/api/admin/tenants/${id}/roles/${role.id}`, { permissions });
    if (r.status !== 200) { box.checked = !box.checked; return sayRoles.error(errorText(r)); }
    setRoles((rs) => rs!.map((x) => (x.id === role.id ? { ...x, permissions: r.data.item.permissions } : x)));
    sayRoles.ok(`${role.name}: ${box.checked ? 'granted' : 'withdrew'} ${permission}.`);
  }
  async function deleteRole(role: Data) {
    const r = await api('DELETE', `/api/admin/tenants/${id}/roles/${role.id}`);
    if (r.status !== 200) return sayRoles.error(errorText(r));
    sayRoles.ok(`Deleted role ${role.name}.`);
    await loadRoles();
    await loadMembers();
  }
  async function removeMember(m: Data) {
    const r = await api('DELETE', `/api/admin/tenants/${id}/members/${m.user_id}`);
    if (r.status !== 200) return sayMembers.error(errorText(r));
    sayMembers.ok(`Removed ${m.email || m.username || m.user_id}.`);
    await loadMembers();
  }

  return (
    <>
      {back}
      <h2>{`Tenant: ${tenant.name}`}</h2>
      <section class="card" aria-labelledby="tenant-settings">
        <h3 id="tenant-settings">Tenant</h3>
        <form class="inline-form" onSubmit={onSubmit(async (f) => {
          const r = await api('PATCH', `/api/admin/tenants/${id}`, { name: value(f, 'name') });
          if (r.status !== 200) return sayTenant.error(errorText(r));
          setTenant(r.data.item);
          sayTenant.ok('Renamed.');
        })}>
          <Field label="Name"><input name="name" defaultValue={tenant.name} required maxLength={255} autocomplete="off" /></Field>
          <button type="submit">Rename</button>
        </form>
        <div class="actions"><button type="button" class="danger" onClick={() => setConfirming(true)}>Delete tenant…</button></div>
        {confirming ? (
          <Confirm text="Delete this tenant with its roles and memberships? The users stay." action="Delete permanently"
            onCancel={() => setConfirming(false)} onConfirm={async () => {
              const r = await api('DELETE', `/api/admin/tenants/${id}`);
              if (r.status === 200) { location.hash = '#/tenants'; return; }
              sayTenant.error(errorText(r));
            }} />
        ) : null}
        <Message msg={tenantMsg} />
      </section>

      <section class="card" aria-labelledby="roles-title">
        <h3 id="roles-title">Roles and permissions</h3>
        <form class="inline-form" onSubmit={onSubmit(async (f) => {
          const r = await api('POST', `/api/admin/tenants/${id}/roles`, { name: value(f, 'name'), permissions: [] });
          if (r.status !== 201) return sayRoles.error(errorText(r));
          f.reset();
          sayRoles.ok(`Added role ${r.data.item.name}: tick its permissions below.`);
          await loadRoles();
        })}>
          <Field label="New role name"><input name="name" required maxLength={255} autocomplete="off" /></Field>
          <button type="submit">Add role</button>
        </form>
        <Message msg={rolesMsg} />
        {roles?.length ? (
          <Table caption="Permissions by role" headers={['Role', ...PERMISSIONS, '']} className="matrix">
            {roles.map((role) => (
              <tr key={role.id}>
                <th scope="row">{role.name}</th>
                {PERMISSIONS.map((p) => (
                  <td class="center">
                    <input type="checkbox" checked={role.permissions.includes(p)} aria-label={`${role.name}: ${p}`}
                      onChange={(e) => setPermission(role, p, e.currentTarget)} />
                  </td>
                ))}
                <td><button type="button" class="danger" aria-label={`Delete role ${role.name}`} onClick={() => deleteRole(role)}>Delete</button></td>
              </tr>
            ))}
          </Table>
        ) : <p>No roles yet.</p>}
      </section>

      <section class="card" aria-labelledby="members-title">
        <h3 id="members-title">Members</h3>
        <form onSubmit={onSubmit(async (f) => {
          const userId = await resolveUser(value(f, 'user'));
          if (typeof userId === 'string') return sayMembers.error(userId);
          const roleIds = checked(f, 'role').map(Number);
          const r = await api('POST', `/api/admin/tenants/${id}/members`, { user_id: userId, role_ids: roleIds });
          if (r.status !== 201) return sayMembers.error(errorText(r));
          f.reset();
          sayMembers.ok(`Added ${r.data.item.email || r.data.item.username || `user #${userId}`}.`);
          await loadMembers();
        })}>
          <Field label="User (email or id)"><input name="user" required autocomplete="off" /></Field>
          <fieldset class="choices">
            <legend>Roles in this tenant</legend>
            {roles?.length ? roles.map((r) => <label class="check" key={r.id}><input type="checkbox" name="role" value={String(r.id)} />{r.name}</label>) : <span class="hint">No roles yet</span>}
          </fieldset>
          <div class="actions"><button type="submit">Add member</button></div>
        </form>
        <Message msg={membersMsg} />
        {members?.length ? (
          <Table caption="Members" headers={['User', 'Roles', 'Member since', '']}>
            {members.map((m) => <Row cells={[
              <a href={`#/users/${m.user_id}`}>{m.email || m.username || `user #${m.user_id}`}</a>,
              m.roles.map((x: Data) => x.name).join(', ') || '—',
              when(m.created_at),
              <button type="button" aria-label={`Remove ${m.email || m.username || m.user_id}`} onClick={() => removeMember(m)}>Remove</button>,
            ]} />)}
          </Table>
        ) : <p>No members yet.</p>}
      </section>
    </>
  );
}

/** A user id from an id or an exact email/username (through the users search); a message when none. */
async function resolveUser(text: string): Promise<number | string> {
  if (/^\d+$/.test(text)) return Number(text);
  const r = await api('GET', `/api/admin/users?limit=5&q=${encodeURIComponent(text)}`);
  if (r.status !== 200) return errorText(r);
  const lower = text.toLowerCase();
  const match = r.data.items.find((u: Data) => (u.email ?? '').toLowerCase() === lower || (u.username ?? '').toLowerCase() === lower);
  return match ? match.id : `No user has the email or username ${text}.`;
}
