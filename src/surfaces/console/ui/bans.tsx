// Bans (list, create with per-type hints, revoke, "disable matching aliases" with its count; one ban's
// page: edit with If-Match, revoke or reinstate, history) and aliases (list, create, activate/deactivate).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type Data, errorText, ifMatch, isoOf, localInput, plural, when } from './api.js';
import { Badge, Field, input, Message, onSubmit, Pager, Row, Table, useMsg, usePaged, value } from './components.js';

const BAN_HINTS: Record<string, string> = {
  email: 'One mailbox, e.g. spammer@example.com. Matches that address only.',
  domain: 'A domain, e.g. example.com (@example.com and *.example.com mean the same). Covers its subdomains.',
  ip: 'An address (203.0.113.7) or a CIDR range: 203.0.113.0/24 covers 203.0.113.0–255; 2001:db8::/32 for IPv6. Ranges wider than /8 (IPv4) or /16 (IPv6) are refused. Refuses every request from a covered address.',
  name: 'A username, e.g. spammer (case-insensitive). Refuses sign-up and renames to it.',
};

const banState = (b: Data) => (b.active ? 'active' : b.revoked_at ? 'revoked' : 'expired');

export function BansPage() {
  const [type, setType] = useState('');
  const [active, setActive] = useState('');
  const [msg, say] = useMsg();
  const list = usePaged((cursor) => {
    const params = new URLSearchParams({ limit: '25' });
    if (type) params.set('type', type);
    if (active) params.set('active', active);
    if (cursor) params.set('cursor', String(cursor));
    return `/api/admin/bans?${params}`;
  }, [type, active]);
  useEffect(() => { if (list.error) say.error(list.error); }, [list.error]);

  async function revoke(b: Data) {
    const res = await api('PATCH', `/api/admin/bans/${b.id}`, { revoked: true });
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`Revoked the ${b.ban_type} ban on ${b.ban_value}.`);
    list.reload();
  }

  if (!list.page) return null;
  return (
    <>
      <h2>Bans</h2>
      <NewBan onCreated={list.restart} />
      <div class="toolbar">
        <Field label="Type">
          <select name="type" value={type} onChange={(e) => { setType(e.currentTarget.value); list.setCursors([null]); }}>
            <option value="">Any type</option>{Object.keys(BAN_HINTS).map((t) => <option value={t}>{t}</option>)}
          </select>
        </Field>
        <Field label="State">
          <select name="active" value={active} onChange={(e) => { setActive(e.currentTarget.value); list.setCursors([null]); }}>
            <option value="">Any state</option><option value="true">Active</option><option value="false">Revoked or expired</option>
          </select>
        </Field>
      </div>
      <Message msg={msg} />
      <div aria-live="polite">
        {list.page.items.length ? (
          <Table caption="Bans" headers={['ID', 'Type', 'Value', 'Reason', 'State', 'Expires', '']}>
            {list.page.items.map((b: Data) => <Row cells={[
              b.id, b.ban_type, <a href={`#/bans/${b.id}`}>{b.ban_value}</a>, b.reason,
              <Badge on={b.active} text={banState(b)} />,
              b.expires_at ? when(b.expires_at) : 'never',
              b.active ? <button type="button" aria-label={`Revoke ban ${b.ban_type} ${b.ban_value}`} onClick={() => revoke(b)}>Revoke</button> : '',
            ]} />)}
          </Table>
        ) : <p>No bans.</p>}
      </div>
      <Pager cursors={list.cursors} next={list.page.next_cursor} onMove={list.setCursors} />
    </>
  );
}

function NewBan({ onCreated }: { onCreated: () => void }) {
  const [type, setType] = useState('email');
  const [msg, say] = useMsg();
  const create = onSubmit(async (f) => {
    const body: Data = { ban_type: type, ban_value: value(f, 'ban_value') };
    if (value(f, 'reason')) body.reason = value(f, 'reason');
    const expires = isoOf(input(f, 'expires_at').value);
    if (expires) body.expires_at = expires;
    if (type !== 'ip' && input(f, 'disable_matching_aliases').checked) body.disable_matching_aliases = true;
    if (input(f, 'revoke_sessions').checked) body.revoke_sessions = true;
    const res = await api('POST', '/api/admin/bans', body);
    if (res.status !== 201) return say.error(errorText(res));
    const effects = [];
    if (res.data.disabled_aliases !== undefined) effects.push(`${plural(res.data.disabled_aliases, 'matching alias', 'matching aliases')} deactivated`);
    if (res.data.sessions_revoked !== undefined) effects.push(`${plural(res.data.sessions_revoked, 'session')} ended`);
    say.ok(`Banned ${res.data.item.ban_type} ${res.data.item.ban_value}${effects.length ? `: ${effects.join(', ')}` : ''}.`);
    input(f, 'ban_value').value = '';
    input(f, 'reason').value = '';
    onCreated();
  });
  return (
    <form class="card" onSubmit={create}>
      <h3>New ban</h3>
      <Field label="Type">
        <select name="ban_type" aria-describedby="ban-hint" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {Object.keys(BAN_HINTS).map((t) => <option value={t}>{t}</option>)}
        </select>
      </Field>
      <p id="ban-hint" class="hint">{BAN_HINTS[type]}</p>
      <Field label="Value"><input name="ban_value" required maxLength={320} autocomplete="off" aria-describedby="ban-hint" /></Field>
      <Field label="Reason (optional)"><input name="reason" maxLength={255} autocomplete="off" /></Field>
      <Field label="Expires (optional)" hint="Empty: never expires"><input name="expires_at" type="datetime-local" /></Field>
      {/* aliases are addresses: an ip ban matches none */}
      <div hidden={type === 'ip'}>
        <label class="check"><input type="checkbox" name="disable_matching_aliases" aria-describedby="aliases-hint" />Deactivate the aliases this ban matches</label>
        <small id="aliases-hint" class="hint">Aliases delivering to the banned address or domain, or whose address has the banned name before the @</small>
      </div>
      <label class="check"><input type="checkbox" name="revoke_sessions" />End the sessions of matching users</label>
      <div class="actions"><button type="submit" class="primary">Create ban</button></div>
      <Message msg={msg} />
    </form>
  );
}

export function AliasesPage() {
  const [q, setQ] = useState('');
  const [msg, say] = useMsg();
  const [createMsg, sayCreate] = useMsg();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const list = usePaged((cursor) => {
    const params = new URLSearchParams({ limit: '25' });
    if (q) params.set('q', q);
    if (cursor) params.set('cursor', String(cursor));
    return `/api/admin/aliases?${params}`;
  }, [q]);
  useEffect(() => { if (list.error) say.error(list.error); }, [list.error]);

  async function change(a: Data, body: { active: boolean }) {
    const res = await api('PATCH', `/api/admin/aliases/${a.id}`, body);
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`${body.active ? 'Activated' : 'Deactivated'} ${a.address}.`);
    list.reload();
  }

  if (!list.page) return null;
  return (
    <>
      <h2>Aliases</h2>
      <form class="card" onSubmit={onSubmit(async (f) => {
        const res = await api('POST', '/api/admin/aliases', { address: value(f, 'address'), goto: value(f, 'goto') });
        if (res.status !== 201) return sayCreate.error(errorText(res));
        sayCreate.ok(`Created ${res.data.item.address}.`);
        f.reset();
        list.restart();
      })}>
        <h3>New alias</h3>
        <Field label="Address" hint="The forwarding address, e.g. sales@example.com"><input name="address" type="email" required autocomplete="off" /></Field>
        <Field label="Delivers to" hint="The destination mailbox"><input name="goto" type="email" required autocomplete="off" /></Field>
        <div class="actions"><button type="submit" class="primary">Create alias</button></div>
        <Message msg={createMsg} />
      </form>
      <div class="toolbar" role="search">
        <Field label="Search">
          <input type="search" name="q" placeholder="Prefix of the address" onInput={(e) => {
            const v = e.currentTarget.value.trim();
            clearTimeout(timer.current);
            timer.current = setTimeout(() => { setQ(v); list.setCursors([null]); }, 250);
          }} />
        </Field>
      </div>
      <Message msg={msg} />
      <div aria-live="polite">
        {list.page.items.length ? (
          <Table caption="Aliases" headers={['ID', 'Address', 'Delivers to', 'State', '']}>
            {list.page.items.map((a: Data) => <Row cells={[
              a.id, a.address, a.goto, <Badge on={a.active} text={a.active ? 'active' : 'inactive'} />,
              // DELETE deactivates and keeps the address taken (as the product's alias delete does), so the
              // console offers deactivation and activation only.
              <span class="row-actions">
                <button type="button" aria-label={`${a.active ? 'Deactivate' : 'Activate'} ${a.address}`} onClick={() => change(a, { active: !a.active })}>{a.active ? 'Deactivate' : 'Activate'}</button>
              </span>,
            ]} />)}
          </Table>
        ) : <p>No aliases.</p>}
      </div>
      <Pager cursors={list.cursors} next={list.page.next_cursor} onMove={list.setCursors} />
    </>
  );
}

/** One ban: edit its reason and expiry (If-Match), revoke or reinstate it, and its history. */
export function BanPage({ id }: { id: number }) {
  const [state, setState] = useState<{ ban: Data; etag: string | null } | { error: string } | null>(null);
  const [history, setHistory] = useState(0);
  const [msg, say] = useMsg();
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    api('GET', `/api/admin/bans/${id}`).then((res) => setState(res.status === 200 ? { ban: res.data.item, etag: res.etag } : { error: errorText(res) }));
  }, [id]);
  const ban = state && 'ban' in state ? state.ban : null;
  useLayoutEffect(() => {
    if (!ban || !form.current) return;
    input(form.current, 'reason').value = ban.reason ?? '';
    input(form.current, 'expires_at').value = localInput(ban.expires_at);
  }, [ban]);

  if (!state) return null;
  const back = <p><a href="#/bans">← All bans</a></p>;
  if ('error' in state) return <>{back}<h2>{`Ban #${id}`}</h2><p class="message error" role="alert">{state.error}</p></>;

  async function patch(body: Data, done: string) {
    const r = await api('PATCH', `/api/admin/bans/${id}`, body, ifMatch((state as { etag: string | null }).etag));
    if (r.status === 412) {
      const latest = await api('GET', `/api/admin/bans/${id}`);
      if (latest.status === 200) setState({ ban: latest.data.item, etag: latest.etag });
      return say.error('Not saved: someone else changed this ban after you opened it. The form now shows the current version; make your change again.');
    }
    if (r.status !== 200) return say.error(errorText(r));
    setState({ ban: r.data.item, etag: r.etag });
    say.ok(done);
    setHistory((n) => n + 1);
  }

  return (
    <>
      {back}
      <h2>{`Ban #${ban.id}: ${ban.ban_type} ${ban.ban_value}`}</h2>
      <p><Badge on={ban.active} text={banState(ban)} />{' '}{`Created ${when(ban.created_at)}${ban.revoked_at ? ` · revoked ${when(ban.revoked_at)}` : ''}`}</p>
      <form class="card" ref={form} onSubmit={onSubmit((f) => {
        const body: Data = {};
        if (value(f, 'reason') !== (ban.reason ?? '')) body.reason = value(f, 'reason') || null;
        const local = input(f, 'expires_at').value;
        if (local !== localInput(ban.expires_at)) body.expires_at = isoOf(local) ?? null;
        if (Object.keys(body).length === 0) return say.ok('Nothing changed.');
        patch(body, 'Saved.');
      })}>
        <h3>Edit</h3>
        <Field label="Reason"><input name="reason" maxLength={255} autocomplete="off" /></Field>
        <Field label="Expires" hint="Empty: never expires"><input name="expires_at" type="datetime-local" /></Field>
        <div class="actions"><button type="submit" class="primary">Save ban</button></div>
        <Message msg={msg} />
      </form>
      <div class="actions">
        <button type="button" onClick={() => patch({ revoked: !ban.revoked_at }, ban.revoked_at ? 'Reinstated.' : 'Revoked.')}>{ban.revoked_at ? 'Reinstate ban' : 'Revoke ban'}</button>
      </div>
      <BanHistory id={id} version={history} />
    </>
  );
}

function BanHistory({ id, version }: { id: number; version: number }) {
  const [res, setRes] = useState<{ items?: Data[]; error?: string } | null>(null);
  useEffect(() => {
    api('GET', `/api/admin/bans/${id}/history?limit=50`).then((r) => setRes(r.status === 200 ? { items: r.data.items } : { error: errorText(r) }));
  }, [id, version]);
  return (
    <section aria-labelledby="ban-history">
      <h3 id="ban-history">History</h3>
      {!res ? null : res.error ? <p class="message error">{res.error}</p> : res.items!.length ? (
        <Table caption="History of this ban" headers={['When', 'By', 'Action', 'Changes']}>
          {res.items!.map((e) => <Row cells={[when(e.occurred_at), e.actor.label || e.actor.type, e.action, changesOf(e)]} />)}
        </Table>
      ) : <p>No events.</p>}
    </section>
  );
}

/** The fields an event changed (keys whose value differs between before and after). */
function changesOf(e: Data): string {
  if (!e.before || !e.after) return '';
  const keys = Object.keys(e.after).filter((k) => k !== 'version' && k !== 'updated_at' && JSON.stringify(e.before[k]) !== JSON.stringify(e.after[k]));
  return keys.map((k) => `${k}: ${JSON.stringify(e.before[k] ?? null)} → ${JSON.stringify(e.after[k] ?? null)}`).join('; ');
}
