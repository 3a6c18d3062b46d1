// Users: the list (search, filters, previous/next) and one user's page (profile and root role saved with
// If-Match, a 412 shown as a conflict; password, deactivation, deletion; the user's audit history).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type Data, errorText, ifMatch, session, when } from './api.js';
import { Badge, Confirm, Field, Message, onSubmit, Row, Table, useMsg, value, type Say } from './components.js';
import { InviteUser, Memberships, Reinvite, Sessions, Tokens } from './access.js';
import { ROOT_ROLES } from './roles.js';

const PAGE_SIZE = 25;

// The list's state survives a visit to a user page (back to the same page of the same search).
const list: { q: string; active: string; admin: string; cursors: (string | null)[] } = { q: '', active: '', admin: '', cursors: [null] };

function RoleSelect({ name, value: selected }: { name: string; value: string }) {
  return <select name={name}>{ROOT_ROLES.map((r) => <option value={r} selected={r === selected}>{r}</option>)}</select>;
}

export function UsersPage() {
  const [q, setQ] = useState(list.q);
  const [active, setActive] = useState(list.active);
  const [admin, setAdmin] = useState(list.admin);
  const [cursors, setCursors] = useState(list.cursors);
  const [page, setPage] = useState<Data | null>(null);
  const [msg, say] = useMsg();
  const latest = useRef(0);
  const totals = useRef<{ query: string; total?: number; total_exact?: boolean }>({ query: '' });

  useEffect(() => {
    Object.assign(list, { q, active, admin, cursors });
    const mine = ++latest.current; // a slower earlier page never overwrites a later one
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (q) params.set('q', q);
    if (active) params.set('is_active', active);
    if (admin) params.set('is_admin', admin);
    const cursor = cursors[cursors.length - 1];
    if (cursor) params.set('cursor', cursor);
    // The total (a bounded count) is asked for on a query's first page only: it is the same on every page.
    const query = JSON.stringify([q, active, admin]);
    const known = totals.current.query === query ? totals.current : null;
    if (!cursor || !known) params.set('total', 'true');
    api('GET', `/api/admin/users?${params}`).then((res) => {
      if (mine !== latest.current) return;
      if (res.status !== 200) {
        say.error(errorText(res));
        setPage({ items: [], next_cursor: null });
        return;
      }
      say.clear();
      if (typeof res.data.total === 'number') totals.current = { query, total: res.data.total, total_exact: res.data.total_exact };
      const t = totals.current.query === query ? totals.current : null;
      setPage(t ? { ...res.data, total: t.total, total_exact: t.total_exact } : res.data);
    });
  }, [q, active, admin, cursors]);

  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const restart = () => setCursors([null]);
  if (!page) return null;
  const first = (cursors.length - 1) * PAGE_SIZE + 1;
  const n = page.items.length;
  return (
    <>
      <div class="page-head">
        <h2>Users</h2>
        <div class="actions"><NewUser /><InviteUser /></div>
      </div>
      <div class="toolbar" role="search">
        <Field label="Search">
          <input type="search" name="q" defaultValue={q} placeholder="Prefix of email, username or name" onInput={(e) => {
            const v = e.currentTarget.value.trim();
            clearTimeout(timer.current);
            timer.current = setTimeout(() => { setQ(v); restart(); }, 250);
          }} />
        </Field>
        <Field label="Status">
          <select name="active" value={active} onChange={(e) => { setActive(e.currentTarget.value); restart(); }}>
            <option value="">Any status</option><option value="true">Active</option><option value="false">Deactivated</option>
          </select>
        </Field>
        <Field label="Role">
          <select name="admin" value={admin} onChange={(e) => { setAdmin(e.currentTarget.value); restart(); }}>
            <option value="">Any role</option><option value="true">Administrators (Owner, Admin)</option><option value="false">Others (Editor, Viewer, Member)</option>
          </select>
        </Field>
      </div>
      <Message msg={msg} />
      <div aria-live="polite">
        {n ? (
          <Table caption="Users" headers={['ID', 'Email', 'Username', 'Name', 'Root role', 'Status', 'Last sign-in']}>
            {page.items.map((u: Data) => <Row cells={[
              u.id, <a href={`#/users/${u.id}`}>{u.email || u.username || `user #${u.id}`}</a>, u.username, u.name, u.root_role,
              <Badge on={u.is_active} text={u.is_active ? 'active' : 'deactivated'} />, when(u.last_login_at),
            ]} />)}
          </Table>
        ) : <p>{q || active || admin ? 'No user matches.' : 'No users yet.'}</p>}
      </div>
      <div class="pager">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <span class="page-label">{`Page ${cursors.length}${n ? ` · users ${first}–${first + n - 1}` : ''}`}</span>
        {typeof page.total === 'number' ? <span class="total" id="users-total">{totalText(page, Boolean(q || active || admin))}</span> : null}
        <button type="button" disabled={!page.next_cursor} onClick={() => setCursors([...cursors, page.next_cursor])}>Next page</button>
      </div>
    </>
  );
}

/** "28 users match" / "about 1,000,001 users in all" / "more than 1,000 users match" (the API counts exactly up to 1,000). */
function totalText(page: Data, filtered: boolean): string {
  const n = Number(page.total).toLocaleString('en');
  const count = page.total_exact === false ? (filtered ? `more than ${n} users` : `about ${n} users`) : page.total === 1 ? '1 user' : `${n} users`;
  return `${count} ${filtered ? (page.total === 1 && page.total_exact !== false ? 'matches' : 'match') : 'in all'}`;
}

function NewUser() {
  const [open, setOpen] = useState(false);
  const [msg, say] = useMsg();
  const toggle = useRef<HTMLButtonElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => { if (open) (form.current?.elements.namedItem('email') as HTMLInputElement | null)?.focus(); }, [open]);
  const create = onSubmit(async (f) => {
    const body: Data = { email: value(f, 'email'), password: (f.elements.namedItem('password') as HTMLInputElement).value, root_role: value(f, 'root_role') };
    if (value(f, 'username')) body.username = value(f, 'username');
    if (value(f, 'name')) body.name = value(f, 'name');
    const res = await api('POST', '/api/admin/users', body);
    if (res.status !== 201) return say.error(errorText(res));
    location.hash = `#/users/${res.data.item.id}`;
  });
  return (
    <>
      <button type="button" class="primary" ref={toggle} onClick={() => setOpen(true)}>New user</button>
      <form class="card new-user" hidden={!open} ref={form} onSubmit={create}>
        <h3>New user</h3>
        <Field label="Email"><input name="email" type="email" required autocomplete="off" /></Field>
        <Field label="Username (optional)"><input name="username" maxLength={64} autocomplete="off" /></Field>
        <Field label="Name (optional)"><input name="name" maxLength={255} autocomplete="off" /></Field>
        <Field label="Password" hint="8 to 128 characters"><input name="password" type="password" minLength={8} maxLength={128} required autocomplete="new-password" /></Field>
        <Field label="Root role"><RoleSelect name="root_role" value="Member" /></Field>
        <div class="actions">
          <button type="submit" class="primary">Create user</button>
          <button type="button" onClick={() => { setOpen(false); toggle.current?.focus(); }}>Cancel</button>
        </div>
        <Message msg={msg} />
      </form>
    </>
  );
}

const PROFILE_FIELDS: [string, string][] = [
  ['username', 'Username'],
  ['name', 'Name'],
  ['email', 'Email'],
  ['root_role', 'Root role'],
];

/** The fields of the profile form that differ from the user as read. */
function editsOf(form: HTMLFormElement, user: Data): Data {
  const body: Data = {};
  for (const [key] of PROFILE_FIELDS) {
    const v = value(form, key);
    const was = user[key] ?? '';
    if (v === was) continue;
    body[key] = v === '' && key !== 'email' ? null : v;
  }
  if (body.username === null) delete body.username; // the admin surface cannot clear a username
  return body;
}

interface Conflict { mine: Data; theirs: Data; etag: string | null; say: Say }

export function UserPage({ id }: { id: number }) {
  // The user as last read and its ETag: every write sends If-Match with it.
  const [state, setState] = useState<{ user: Data; etag: string | null } | { error: string } | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [history, setHistory] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [profileMsg, sayProfile] = useMsg();
  const [accountMsg, sayAccount] = useMsg();
  const profile = useRef<HTMLFormElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const conflictBox = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api('GET', `/api/admin/users/${id}`).then((res) => setState(res.status === 200 ? { user: res.data.item, etag: res.etag } : { error: errorText(res) }));
  }, [id]);
  const user = state && 'user' in state ? state.user : null;
  // The form shows the user as read: refilled on every new version, before the page paints (a message shown
  // with the new version never sits beside the old values).
  useLayoutEffect(() => {
    if (!user || !profile.current) return;
    for (const [key] of PROFILE_FIELDS) (profile.current.elements.namedItem(key) as HTMLInputElement).value = user[key] ?? '';
  }, [user]);
  useEffect(() => { if (conflict) conflictBox.current?.scrollIntoView({ block: 'nearest' }); }, [conflict]);

  if (!state) return null;
  const back = <p><a href="#/users">← All users</a></p>;
  if ('error' in state) return <>{back}<h2>{`User #${id}`}</h2><p class="message error" role="alert">{state.error}</p></>;
  const { etag } = state;
  const self = session.me?.id === id;
  const saved = (item: Data, newEtag: string | null) => { setState({ user: item, etag: newEtag }); setHistory((n) => n + 1); };

  /** PATCH with If-Match; a 412 opens the conflict panel with both versions. */
  async function patch(body: Data, say: Say, tag = etag): Promise<boolean> {
    const res = await api('PATCH', `/api/admin/users/${id}`, body, ifMatch(tag));
    if (res.status === 200) {
      setConflict(null);
      saved(res.data.item, res.etag);
      return true;
    }
    if (res.status === 412) {
      const latest = await api('GET', `/api/admin/users/${id}`);
      if (latest.status !== 200) { say.error(errorText(latest)); return false; }
      say.error('Not saved: someone else changed this user after you opened it (compare the versions below).');
      setConflict({ mine: body, theirs: latest.data.item, etag: latest.etag, say });
      return false;
    }
    say.error(errorText(res));
    return false;
  }

  async function remove() {
    const res = await api('DELETE', `/api/admin/users/${id}`, undefined, ifMatch(etag));
    if (res.status === 200) { location.hash = '#/users'; return; }
    setConfirming(false);
    if (res.status === 412) sayAccount.error('Not deleted: someone changed this user since you opened it. Reload the page and check.');
    else sayAccount.error(errorText(res));
  }

  return (
    <>
      {back}
      <h2>{`User #${user.id}: ${user.email || user.username || ''}`}</h2>
      <p>
        <Badge on={user.is_active} text={user.is_active ? 'active' : 'deactivated'} />{' '}
        {`Created ${when(user.created_at)} · last sign-in ${when(user.last_login_at)} · email ${user.email_verified_at ? 'verified' : 'not verified'}`}
      </p>
      <div class="columns">
        <form class="card" aria-labelledby="profile-title" ref={profile} onSubmit={onSubmit(async (f) => {
          sayProfile.clear();
          const body = editsOf(f, user);
          if (Object.keys(body).length === 0) return sayProfile.ok('Nothing changed.');
          if (await patch(body, sayProfile)) sayProfile.ok('Saved.');
        })}>
          <h3 id="profile-title">Profile and role</h3>
          <Field label="Username"><input name="username" maxLength={64} autocomplete="off" /></Field>
          <Field label="Name"><input name="name" maxLength={255} autocomplete="off" /></Field>
          <Field label="Email"><input name="email" type="email" autocomplete="off" /></Field>
          <Field label="Root role" hint="Owner and Admin may use this console and the admin API"><RoleSelect name="root_role" value={user.root_role} /></Field>
          <div class="actions"><button type="submit" class="primary">Save changes</button></div>
          <Message msg={profileMsg} />
        </form>
        <section class="card" aria-labelledby="account-title">
          <h3 id="account-title">Account</h3>
          {self ? <OwnPassword say={sayAccount} onSaved={saved} /> : (
            <form class="inline-form" onSubmit={onSubmit(async (f) => {
              sayAccount.clear();
              const password = f.elements.namedItem('password') as HTMLInputElement;
              if (await patch({ password: password.value }, sayAccount)) {
                f.reset();
                sayAccount.ok('Password set.');
              }
            })}>
              <Field label="New password" hint="8 to 128 characters; ends the user's sessions">
                <input name="password" type="password" minLength={8} maxLength={128} required autocomplete="new-password" />
              </Field>
              <button type="submit">Set password</button>
            </form>
          )}
          <div class="actions">
            <button type="button" onClick={async () => {
              sayAccount.clear();
              const to = !user.is_active;
              if (await patch({ is_active: to }, sayAccount)) sayAccount.ok(to ? 'Reactivated.' : "Deactivated: the user's sessions are ended.");
            }}>{user.is_active ? 'Deactivate user' : 'Reactivate user'}</button>
            <button type="button" class="danger" ref={deleteButton} onClick={() => setConfirming(true)}>Delete user…</button>
          </div>
          {self ? null : <Reinvite user={user} onDone={() => setHistory((n) => n + 1)} />}
          {confirming ? (
            <Confirm text={`Delete ${user.email || user.username}? Their sessions and tokens go with them; this cannot be undone.`}
              action="Delete permanently" onConfirm={remove} onCancel={() => { setConfirming(false); deleteButton.current?.focus(); }} />
          ) : null}
          <Message msg={accountMsg} />
        </section>
      </div>
      {conflict ? (
        <div class="conflict" role="alert" ref={conflictBox}>
          <h4>Conflicting change</h4>
          <p>{`The server has version ${when(conflict.theirs.updated_at)}. Compare and choose:`}</p>
          <Table caption="Your edits and the current version" headers={['Field', 'When you opened it', 'Your edit', 'Now on the server']}>
            {[...PROFILE_FIELDS, ['is_active', 'Active'], ['password', 'Password']]
              .filter(([key]) => key in conflict.mine || (key !== 'password' && String(conflict.theirs[key] ?? '') !== String(user[key] ?? '')))
              .map(([key, label]) => <Row cells={[label,
                key === 'password' ? '(unchanged)' : String(user[key] ?? '—'),
                key in conflict.mine ? (key === 'password' ? '(new password)' : String(conflict.mine[key] ?? '—')) : '(unchanged)',
                key === 'password' ? '(unchanged)' : String(conflict.theirs[key] ?? '—')]} />)}
          </Table>
          <div class="actions">
            <button type="button" onClick={() => {
              setState({ user: conflict.theirs, etag: conflict.etag });
              setConflict(null);
              conflict.say.ok('Reloaded the current version; your edits were discarded.');
            }}>Reload (discard my edits)</button>
            <button type="button" class="primary" onClick={async () => {
              if (await patch(conflict.mine, conflict.say, conflict.etag)) conflict.say.ok('Saved your edits over the other change.');
            }}>Save my edits anyway</button>
          </div>
        </div>
      ) : null}
      <div class="columns">
        <Memberships userId={id} />
        <Tokens userId={id} />
      </div>
      <Sessions userId={id} onChange={() => setHistory((n) => n + 1)} />
      <History id={id} version={history} />
    </>
  );
}

/** The user's audit history: GET /api/admin/audit-events?target_type=user&target_id=…, newest first. */
function History({ id, version }: { id: number; version: number }) {
  const [res, setRes] = useState<{ items?: Data[]; error?: string } | null>(null);
  useEffect(() => {
    api('GET', `/api/admin/audit-events?target_type=user&target_id=${id}&limit=50`)
      .then((r) => setRes(r.status === 200 ? { items: r.data.items } : { error: errorText(r) }));
  }, [id, version]);
  return (
    <section aria-labelledby="history-title">
      <h3 id="history-title">History</h3>
      {!res ? null : res.error ? <p class="message error">{res.error}</p> : res.items!.length ? (
        <Table caption="History of this user" headers={['When', 'By', 'Action', 'Changed']}>
          {res.items!.map((e) => <Row cells={[when(e.occurred_at), e.actor.label || e.actor.type, e.action, ((e.after && e.after.changed) || []).join(', ')]} />)}
        </Table>
      ) : <p>No events.</p>}
    </section>
  );
}

/**
 * The signed-in admin's own password: PATCH /api/admin/users/me/password with the current one (the admin
 * surface refuses to set your own password through the user's PATCH). Other sessions are ended.
 */
function OwnPassword({ say, onSaved }: { say: Say; onSaved: (item: Data, etag: string | null) => void }) {
  return (
    <form onSubmit={onSubmit(async (f) => {
      say.clear();
      const field = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value;
      const res = await api('PATCH', '/api/admin/users/me/password', { current_password: field('current_password'), new_password: field('new_password') });
      if (res.status !== 200) return say.error(errorText(res));
      f.reset();
      say.ok(`Password changed; ${res.data.sessions_revoked} other session${res.data.sessions_revoked === 1 ? '' : 's'} ended.`);
      onSaved(res.data.item, res.etag);
    })}>
      <p class="hint">This is you: changing your password needs your current one and ends your other sessions.</p>
      <Field label="Current password"><input name="current_password" type="password" required autocomplete="current-password" /></Field>
      <Field label="New password" hint="8 to 128 characters"><input name="new_password" type="password" minLength={8} maxLength={128} required autocomplete="new-password" /></Field>
      <button type="submit">Change my password</button>
    </form>
  );
}
