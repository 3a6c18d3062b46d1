// Credentials: admin API tokens and OAuth clients (secrets shown once, revoke), and the access-token
// signing keys (rotate).
import { api, cells, errorText, field, h, messageLine, table, when } from './api.js';

/** A secret shown once: read-only, selectable, with a warning that it will not be shown again. */
function secretBox(label, value) {
  const input = h('input', { readonly: true, value, class: 'secret', 'aria-label': label, onfocus: (e) => e.target.select() });
  return h('div', { class: 'secret-box', role: 'status' },
    h('p', {}, h('strong', {}, `${label}: `), 'copy it now, it is shown only this once.'), input);
}

export async function tokensPage(view, current) {
  const msg = messageLine();
  const results = h('div', {});
  const shown = h('div', {});
  async function load() {
    const res = await api('GET', '/api/admin/api-tokens');
    if (!current()) return;
    if (res.status !== 200) return msg.error(errorText(res));
    const rows = res.data.items.map((t) => cells(t.id, t.name, when(t.created_at), t.expires_at ? when(t.expires_at) : 'never', when(t.last_used_at),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke token ${t.name}`, onclick: () => revoke(t) }, 'Revoke')));
    results.replaceChildren(rows.length ? table('Admin API tokens', ['ID', 'Name', 'Created', 'Expires', 'Last used', ''], rows) : h('p', {}, 'No admin API tokens.'));
  }
  async function revoke(t) {
    const res = await api('DELETE', `/api/admin/api-tokens/${t.id}`);
    if (res.status !== 200) return msg.error(errorText(res));
    msg.ok(`Revoked ${t.name}.`);
    load();
  }
  const form = h('form', { class: 'card' },
    h('h3', {}, 'New admin API token'),
    field('Name', h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' })),
    field('Expires (optional)', h('input', { name: 'expires_at', type: 'datetime-local' }), 'Empty: never expires'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create token')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: form.name.value.trim() };
    if (form.expires_at.value) body.expires_at = new Date(form.expires_at.value).toISOString();
    const res = await api('POST', '/api/admin/api-tokens', body);
    if (res.status !== 201) return msg.error(errorText(res));
    form.reset();
    shown.replaceChildren(secretBox(`Token ${res.data.item.name}`, res.data.token));
    load();
  });
  view.append(h('h2', {}, 'Admin API tokens'), h('p', {}, 'Send one as Authorization: Bearer <token> to the admin API (no cookie, no CSRF token).'),
    form, shown, msg.el, results);
  await load();
}

export async function oauthPage(view, current) {
  const msg = messageLine();
  const clients = h('div', {});
  const keys = h('div', {});
  const shown = h('div', {});
  async function load() {
    const [c, k] = await Promise.all([api('GET', '/api/admin/oauth-clients'), api('GET', '/api/admin/oauth-keys')]);
    if (!current()) return;
    if (c.status !== 200) return msg.error(errorText(c));
    const rows = c.data.items.map((x) => cells(x.name, h('code', {}, x.client_id), x.grant_types.join(', '),
      x.service_user_id ? h('a', { href: `#/users/${x.service_user_id}` }, `user #${x.service_user_id}`) : '—', when(x.last_used_at),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete client ${x.name}`, onclick: () => remove(x) }, 'Delete')));
    clients.replaceChildren(rows.length ? table('OAuth clients', ['Name', 'Client id', 'Grant types', 'Service account', 'Last used', ''], rows) : h('p', {}, 'No OAuth clients.'));
    if (k.status === 200) {
      keys.replaceChildren(table('Signing keys', ['Key id', 'Created', 'State'],
        k.data.items.map((x) => cells(h('code', {}, x.kid), when(x.created_at), x.signing ? 'signing' : x.published ? `retired ${when(x.retired_at)}, still published` : 'retired'))));
    }
  }
  async function remove(x) {
    const res = await api('DELETE', `/api/admin/oauth-clients/${x.id}`);
    if (res.status !== 200) return msg.error(errorText(res));
    msg.ok(`Deleted ${x.name}: its sessions ended.`);
    load();
  }
  const grants = ['password', 'refresh_token', 'client_credentials'];
  const form = h('form', { class: 'card' },
    h('h3', {}, 'New OAuth client'),
    field('Name', h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' })),
    h('fieldset', { class: 'choices' }, h('legend', {}, 'Grant types'),
      grants.map((g) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'grant', value: g, checked: g !== 'client_credentials' }), g))),
    h('small', { class: 'hint' }, 'client_credentials gives the client a service account: add it to tenants as a member.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create client')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const grantTypes = [...form.querySelectorAll('input[name=grant]:checked')].map((b) => b.value);
    const res = await api('POST', '/api/admin/oauth-clients', { name: form.name.value.trim(), ...(grantTypes.length ? { grant_types: grantTypes } : {}) });
    if (res.status !== 201) return msg.error(errorText(res));
    form.reset();
    shown.replaceChildren(h('p', {}, `Client id: `, h('code', {}, res.data.item.client_id)), secretBox(`Client secret of ${res.data.item.name}`, res.data.client_secret));
    load();
  });
  const rotate = h('button', { type: 'button', onclick: async () => {
    const res = await api('POST', '/api/admin/oauth-keys/rotate', {});
    if (res.status !== 200) return msg.error(errorText(res));
    msg.ok(`Now signing with key ${res.data.kid}; older keys stay published until their tokens expire.`);
    load();
  } }, 'Rotate signing key');
  view.append(h('h2', {}, 'OAuth clients and signing keys'), form, shown, msg.el, clients,
    h('section', { 'aria-labelledby': 'keys-title' }, h('div', { class: 'page-head' }, h('h3', { id: 'keys-title' }, 'Signing keys'), rotate), keys));
  await load();
}
