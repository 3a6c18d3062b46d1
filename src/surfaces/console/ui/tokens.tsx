// Credentials: admin API tokens and OAuth clients (secrets shown once, revoke; a client's secret rotates), and the access-token
// signing keys (rotate).
import { useEffect, useState } from 'preact/hooks';
import { api, type Data, errorText, isoOf, when } from './api.js';
import { checked, Field, input, Message, onSubmit, Row, SecretBox, Table, useMsg, value } from './components.js';

export function TokensPage() {
  const [items, setItems] = useState<Data[] | null>(null);
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const [msg, say] = useMsg();
  async function load() {
    const res = await api('GET', '/api/admin/api-tokens');
    if (res.status !== 200) say.error(errorText(res));
    setItems(res.status === 200 ? res.data.items : []);
  }
  useEffect(() => { load(); }, []);
  async function revoke(t: Data) {
    const res = await api('DELETE', `/api/admin/api-tokens/${t.id}`);
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`Revoked ${t.name}.`);
    load();
  }
  if (!items) return null;
  return (
    <>
      <h2>Admin API tokens</h2>
      <p>Send one as Authorization: Bearer &lt;token&gt; to the admin API (no cookie, no CSRF token).</p>
      <form class="card" onSubmit={onSubmit(async (f) => {
        const body: Data = { name: value(f, 'name') };
        const expires = isoOf(input(f, 'expires_at').value);
        if (expires) body.expires_at = expires;
        const res = await api('POST', '/api/admin/api-tokens', body);
        if (res.status !== 201) return say.error(errorText(res));
        f.reset();
        setShown({ name: res.data.item.name, token: res.data.token });
        load();
      })}>
        <h3>New admin API token</h3>
        <Field label="Name"><input name="name" required maxLength={255} autocomplete="off" /></Field>
        <Field label="Expires (optional)" hint="Empty: never expires"><input name="expires_at" type="datetime-local" /></Field>
        <div class="actions"><button type="submit" class="primary">Create token</button></div>
      </form>
      {shown ? <SecretBox label={`Token ${shown.name}`} value={shown.token} /> : null}
      <Message msg={msg} />
      {items.length ? (
        <Table caption="Admin API tokens" headers={['ID', 'Name', 'Created', 'Expires', 'Last used', '']}>
          {items.map((t) => <Row cells={[t.id, t.name, when(t.created_at), t.expires_at ? when(t.expires_at) : 'never', when(t.last_used_at),
            <button type="button" class="danger" aria-label={`Revoke token ${t.name}`} onClick={() => revoke(t)}>Revoke</button>]} />)}
        </Table>
      ) : <p>No admin API tokens.</p>}
    </>
  );
}

const GRANTS = ['password', 'refresh_token', 'client_credentials'];

export function OAuthPage() {
  const [clients, setClients] = useState<Data[] | null>(null);
  const [keys, setKeys] = useState<Data[]>([]);
  const [shown, setShown] = useState<{ name: string; clientId: string; secret: string; rotated?: boolean } | null>(null);
  const [msg, say] = useMsg();
  async function load() {
    const [c, k] = await Promise.all([api('GET', '/api/admin/oauth-clients'), api('GET', '/api/admin/oauth-keys')]);
    if (c.status !== 200) say.error(errorText(c));
    setClients(c.status === 200 ? c.data.items : []);
    if (k.status === 200) setKeys(k.data.items);
  }
  useEffect(() => { load(); }, []);
  async function remove(x: Data) {
    const res = await api('DELETE', `/api/admin/oauth-clients/${x.id}`);
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`Deleted ${x.name}: its sessions ended.`);
    load();
  }
  async function rotateSecret(x: Data) {
    const res = await api('POST', `/api/admin/oauth-clients/${x.id}/rotate-secret`, {});
    if (res.status !== 200) return say.error(errorText(res));
    setShown({ name: res.data.item.name, clientId: res.data.item.client_id, secret: res.data.client_secret, rotated: true });
    say.ok(`New secret for ${x.name}: the old one no longer works.`);
    load();
  }
  async function rotate() {
    const res = await api('POST', '/api/admin/oauth-keys/rotate', {});
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`Now signing with key ${res.data.kid}; older keys stay published until their tokens expire.`);
    load();
  }
  if (!clients) return null;
  return (
    <>
      <h2>OAuth clients and signing keys</h2>
      <form class="card" onSubmit={onSubmit(async (f) => {
        const grantTypes = checked(f, 'grant');
        const res = await api('POST', '/api/admin/oauth-clients', { name: value(f, 'name'), ...(grantTypes.length ? { grant_types: grantTypes } : {}) });
        if (res.status !== 201) return say.error(errorText(res));
        f.reset();
        setShown({ name: res.data.item.name, clientId: res.data.item.client_id, secret: res.data.client_secret });
        load();
      })}>
        <h3>New OAuth client</h3>
        <Field label="Name"><input name="name" required maxLength={255} autocomplete="off" /></Field>
        <fieldset class="choices">
          <legend>Grant types</legend>
          {GRANTS.map((g) => <label class="check"><input type="checkbox" name="grant" value={g} defaultChecked={g !== 'client_credentials'} />{g}</label>)}
        </fieldset>
        <small class="hint">client_credentials gives the client a service account: add it to tenants as a member.</small>
        <div class="actions"><button type="submit" class="primary">Create client</button></div>
      </form>
      {shown ? <div><p>Client id: <code>{shown.clientId}</code></p><SecretBox label={`${shown.rotated ? 'New client secret' : 'Client secret'} of ${shown.name}`} value={shown.secret} /></div> : null}
      <Message msg={msg} />
      {clients.length ? (
        <Table caption="OAuth clients" headers={['Name', 'Client id', 'Grant types', 'Service account', 'Last used', '']}>
          {clients.map((x) => <Row cells={[x.name, <code>{x.client_id}</code>, x.grant_types.join(', '),
            x.service_user_id ? <a href={`#/users/${x.service_user_id}`}>{`user #${x.service_user_id}`}</a> : '—', when(x.last_used_at),
            <div class="actions">
              <button type="button" aria-label={`Rotate secret of client ${x.name}`} onClick={() => rotateSecret(x)}>Rotate secret</button>
              <button type="button" class="danger" aria-label={`Delete client ${x.name}`} onClick={() => remove(x)}>Delete</button>
            </div>]} />)}
        </Table>
      ) : <p>No OAuth clients.</p>}
      <section aria-labelledby="keys-title">
        <div class="page-head"><h3 id="keys-title">Signing keys</h3><button type="button" onClick={rotate}>Rotate signing key</button></div>
        <Table caption="Signing keys" headers={['Key id', 'Created', 'State']}>
          {keys.map((x) => <Row cells={[<code>{x.kid}</code>, when(x.created_at), x.signing ? 'signing' : x.published ? `retired ${when(x.retired_at)}, still published` : 'retired']} />)}
        </Table>
      </section>
    </>
  );
}
