// A user's access, on their page: live sessions (end one or all), API tokens (revoke), tenant memberships
// with their roles; and invites (a new user with a one-time /new-user link, or a new link for a user who
// has no password yet: the link is shown once).
import { useEffect, useState } from 'preact/hooks';
import { api, type Data, errorText, plural, session, when } from './api.js';
import { Badge, Confirm, Field, Message, onSubmit, Row, SecretBox, Table, useMsg, value } from './components.js';
import { ROOT_ROLES } from './roles.js';

/** The answer of a GET list: its items, or the error to show. */
function useList(path: string, version: number): { items?: Data[]; error?: string } | null {
  const [res, setRes] = useState<{ items?: Data[]; error?: string } | null>(null);
  useEffect(() => {
    api('GET', path).then((r) => setRes(r.status === 200 ? { items: r.data.items } : { error: errorText(r) }));
  }, [path, version]);
  return res;
}

/** Ending the signed-in admin's own session signs them out of the console (the server cleared the cookies). */
function endedMine(userId: number, sessionId?: string, current?: boolean): boolean {
  return session.me?.id === userId && (sessionId === undefined || current === true);
}

export function Sessions({ userId, onChange }: { userId: number; onChange: () => void }) {
  const [version, setVersion] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [msg, say] = useMsg();
  const list = useList(`/api/admin/users/${userId}/sessions`, version);
  async function end(s: Data) {
    const r = await api('DELETE', `/api/admin/users/${userId}/sessions/${encodeURIComponent(s.id)}`);
    if (r.status !== 200) return say.error(errorText(r));
    if (endedMine(userId, s.id, s.current)) return session.onSignedOut();
    say.ok(`Ended the ${s.kind} session opened ${when(s.created_at)}.`);
    setVersion((n) => n + 1);
    onChange();
  }
  async function endAll() {
    setConfirming(false);
    const r = await api('DELETE', `/api/admin/users/${userId}/sessions`);
    if (r.status !== 200) return say.error(errorText(r));
    if (endedMine(userId)) return session.onSignedOut();
    say.ok(`Ended ${plural(r.data.sessions_revoked, 'session')}.`);
    setVersion((n) => n + 1);
    onChange();
  }
  return (
    <section class="card" aria-labelledby="sessions-title">
      <div class="page-head">
        <h3 id="sessions-title">Sessions</h3>
        {list?.items?.length ? <button type="button" class="danger" onClick={() => setConfirming(true)}>End all sessions…</button> : null}
      </div>
      {confirming ? (
        <Confirm text={`End every session of this user on every surface${session.me?.id === userId ? ', this one included: you will be signed out' : ''}? Their pending invite links end too.`}
          action="End all sessions" onConfirm={endAll} onCancel={() => setConfirming(false)} />
      ) : null}
      <Message msg={msg} />
      {!list ? null : list.error ? <p class="message error">{list.error}</p> : list.items!.length ? (
        <Table caption="Sessions of this user" headers={['Opened on', 'Opened', 'Last seen', 'Expires', 'Address', 'Browser', '']}>
          {list.items!.map((s) => <Row cells={[
            <>{s.kind}{s.current ? <> <span class="badge">this session</span></> : null}</>,
            when(s.created_at), when(s.last_seen_at), when(s.expires_at), s.ip ?? '—', s.user_agent ?? '—',
            <button type="button" aria-label={`End ${s.kind} session ${s.id}`} onClick={() => end(s)}>End</button>,
          ]} />)}
        </Table>
      ) : <p>No live sessions.</p>}
    </section>
  );
}

export function Tokens({ userId }: { userId: number }) {
  const [version, setVersion] = useState(0);
  const [msg, say] = useMsg();
  const list = useList(`/api/admin/users/${userId}/tokens`, version);
  async function revoke(t: Data) {
    const r = await api('DELETE', `/api/admin/users/${userId}/tokens/${t.id}`);
    if (r.status !== 200) return say.error(errorText(r));
    say.ok(`Revoked ${t.name}.`);
    setVersion((n) => n + 1);
  }
  return (
    <section class="card" aria-labelledby="user-tokens-title">
      <h3 id="user-tokens-title">API tokens</h3>
      <p class="hint">Personal tokens the user made, and admin API tokens they created (which act for them).</p>
      <Message msg={msg} />
      {!list ? null : list.error ? <p class="message error">{list.error}</p> : list.items!.length ? (
        <Table caption="API tokens of this user" headers={['Name', 'Kind', 'Created', 'Expires', 'Last used', '']}>
          {list.items!.map((t) => <Row cells={[t.name, t.kind, when(t.created_at), t.expires_at ? when(t.expires_at) : 'never', when(t.last_used_at),
            <button type="button" class="danger" aria-label={`Revoke ${t.kind} token ${t.name}`} onClick={() => revoke(t)}>Revoke</button>]} />)}
        </Table>
      ) : <p>No API tokens.</p>}
    </section>
  );
}

export function Memberships({ userId }: { userId: number }) {
  const list = useList(`/api/admin/users/${userId}/memberships`, 0);
  return (
    <section class="card" aria-labelledby="memberships-title">
      <h3 id="memberships-title">Tenants</h3>
      {!list ? null : list.error ? <p class="message error">{list.error}</p> : list.items!.length ? (
        <Table caption="Tenant memberships of this user" headers={['Tenant', 'Roles', 'Member since', 'State']}>
          {list.items!.map((m) => <Row cells={[
            <a href={`#/tenants/${m.tenant_id}`}>{m.tenant_name}</a>,
            m.roles.map((r: Data) => r.name).join(', ') || '—',
            when(m.created_at),
            <Badge on={!m.deleted_at} text={m.deleted_at ? `removed ${when(m.deleted_at)}` : 'member'} />,
          ]} />)}
        </Table>
      ) : <p>Not a member of any tenant. Add members on a <a href="#/tenants">tenant's page</a>.</p>}
    </section>
  );
}

/** The one-time link of an invite, with whether it was mailed. */
function InviteLink({ who, invite }: { who: string; invite: Data }) {
  return (
    <>
      <SecretBox label={`Invite link for ${who}`} value={invite.link} />
      <p class="hint">{`Valid until ${when(invite.expires_at)}; one use. ${invite.email_sent ? 'It was also mailed to the user.' : 'It was not mailed: hand it over yourself.'}`}</p>
    </>
  );
}

/** A new invite link for a user who has no password yet (their earlier links end). */
export function Reinvite({ user, onDone }: { user: Data; onDone: () => void }) {
  const [invite, setInvite] = useState<Data | null>(null);
  const [msg, say] = useMsg();
  return (
    <div>
      <div class="actions">
        <button type="button" onClick={async () => {
          const r = await api('POST', `/api/admin/users/${user.id}/invite`, {});
          if (r.status !== 201) {
            setInvite(null);
            return say.error(r.status === 409 && r.data.reason === 'has_password' ? 'This user has a password already: set a new one above instead of inviting.' : errorText(r));
          }
          say.ok(r.data.invites_ended ? `New invite link; ${plural(r.data.invites_ended, 'earlier link')} ended.` : 'New invite link.');
          setInvite(r.data.invite);
          onDone();
        }}>New invite link</button>
      </div>
      <small class="hint">For a user who has no password yet</small>
      <Message msg={msg} />
      {invite ? <InviteLink who={user.email || user.username} invite={invite} /> : null}
    </div>
  );
}

/** Invite a user from the users list: POST /api/admin/invites; the link is shown once. */
export function InviteUser() {
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<{ id: number; who: string; invite: Data } | null>(null);
  const [msg, say] = useMsg();
  return (
    <>
      <button type="button" onClick={() => { setOpen(true); setResult(null); }}>Invite user</button>
      {open ? (
        <form class="card invite-user" onSubmit={onSubmit(async (f) => {
          const body: Data = { email: value(f, 'email'), root_role: value(f, 'root_role'), send_email: (f.elements.namedItem('send_email') as HTMLInputElement).checked };
          if (value(f, 'username')) body.username = value(f, 'username');
          if (value(f, 'name')) body.name = value(f, 'name');
          const r = await api('POST', '/api/admin/invites', body);
          if (r.status !== 201) return say.error(errorText(r));
          say.clear();
          f.reset();
          setResult({ id: r.data.item.id, who: r.data.item.email, invite: r.data.invite });
        })}>
          <h3>Invite a user</h3>
          <p class="hint">Creates the user without a password; they choose one through the link.</p>
          <Field label="Email"><input name="email" type="email" required autocomplete="off" /></Field>
          <Field label="Username (optional)"><input name="username" maxLength={64} autocomplete="off" /></Field>
          <Field label="Name (optional)"><input name="name" maxLength={255} autocomplete="off" /></Field>
          <Field label="Root role">
            <select name="root_role">{ROOT_ROLES.map((r) => <option value={r} selected={r === 'Member'}>{r}</option>)}</select>
          </Field>
          <label class="check"><input type="checkbox" name="send_email" defaultChecked />Mail the link (when the server sends mail)</label>
          <div class="actions">
            <button type="submit" class="primary">Send invite</button>
            <button type="button" onClick={() => setOpen(false)}>Close</button>
          </div>
          <Message msg={msg} />
          {result ? (
            <>
              <p>{'Invited '}<a href={`#/users/${result.id}`}>{result.who}</a>.</p>
              <InviteLink who={result.who} invite={result.invite} />
            </>
          ) : null}
        </form>
      ) : null}
    </>
  );
}
