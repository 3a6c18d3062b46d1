// The audit log: newest first, filtered by action, target, actor and time range, with each event's changes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Data, errorText, isoOf, when } from './api.js';
import { Field, input, Message, onSubmit, Row, useMsg, value } from './components.js';

export function AuditPage() {
  const [events, setEvents] = useState<Data[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [msg, say] = useMsg();
  const form = useRef<HTMLFormElement>(null);

  const latest = useRef(0);

  async function load(reset: boolean) {
    const mine = ++latest.current; // a slower earlier answer never overwrites a later one
    if (reset && events) setEvents([]); // a new filter starts from an empty table, not the old rows
    const f = form.current;
    const params = new URLSearchParams({ limit: '50' });
    if (f) {
      for (const name of ['action', 'target_type', 'target_id', 'actor_type', 'actor_id']) if (value(f, name)) params.set(name, value(f, name));
      for (const name of ['from', 'to']) { const iso = isoOf(input(f, name).value); if (iso) params.set(name, iso); }
    }
    if (!reset && cursor) params.set('cursor', String(cursor));
    const res = await api('GET', `/api/admin/audit-events?${params}`);
    if (mine !== latest.current) return;
    if (res.status !== 200) { say.error(errorText(res)); setEvents((e) => e ?? []); return; }
    say.clear();
    setEvents((e) => (reset ? res.data.items : [...(e ?? []), ...res.data.items]));
    setCursor(res.data.next_cursor);
  }
  useEffect(() => { load(true); }, []);

  return (
    <div hidden={!events}>
      <h2>Audit log</h2>
      <form class="toolbar" role="search" ref={form} onSubmit={onSubmit(() => load(true))}>
        <Field label="Action"><input name="action" placeholder="e.g. user.updated" /></Field>
        <Field label="Target type"><input name="target_type" placeholder="e.g. user" /></Field>
        <Field label="Target id"><input name="target_id" inputMode="numeric" /></Field>
        <Field label="Actor type">
          <select name="actor_type">
            <option value="">any</option>
            <option value="user">user</option>
            <option value="api_token">api_token</option>
            <option value="system">system</option>
          </select>
        </Field>
        <Field label="Actor id"><input name="actor_id" inputMode="numeric" placeholder="user or token id" /></Field>
        <Field label="From"><input name="from" type="datetime-local" /></Field>
        <Field label="To"><input name="to" type="datetime-local" /></Field>
        <button type="submit">Filter</button>
      </form>
      <Message msg={msg} />
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
        <table>
          <thead><tr>{['When', 'Actor', 'Action', 'Target', 'Changes'].map((t) => <th scope="col">{t}</th>)}</tr></thead>
          <tbody>
            {(events ?? []).map((e) => <Row cells={[when(e.occurred_at), e.actor.label || e.actor.type, e.action, `${e.target.type} ${e.target.id ?? ''}`, <Diff e={e} />]} />)}
          </tbody>
        </table>
      </div>
      <div class="pager"><button type="button" disabled={!cursor} onClick={() => load(false)}>Older events</button></div>
    </div>
  );
}

/** The fields an event changed, before → after. */
function Diff({ e }: { e: Data }) {
  const changed: string[] = (e.after && e.after.changed) || [];
  if (!changed.length) return null;
  return (
    <ul class="diff">
      {changed.map((k) => {
        const before = e.before ? e.before[k] : undefined;
        const after = e.after ? e.after[k] : undefined;
        return <li>{before === undefined && after === undefined ? k : `${k}: ${JSON.stringify(before ?? null)} → ${JSON.stringify(after ?? null)}`}</li>;
      })}
    </ul>
  );
}
