// Webhooks (subscriptions: create with their events, the signing secret shown once, rotate it, disable or
// enable, delete; one webhook's deliveries with replay) and the outbox (every queued mail and webhook
// message, filtered by status and kind, with replay).
import { useEffect, useState } from 'preact/hooks';
import { api, type Data, errorText, when } from './api.js';
import { Badge, checked, Confirm, Field, Message, onSubmit, Pager, Row, SecretBox, Table, useMsg, usePaged, value } from './components.js';

// The event families a subscription picks from (audit action names; "ns.*" is the namespace, "*" every event).
const EVENT_CHOICES = ['*', 'user.*', 'session.*', 'ban.*', 'alias.*', 'api_token.*', 'tenant.*', 'tenant_role.*', 'oauth_client.*', 'webhook.*'];

function webhookState(w: Data): string {
  if (w.active) return w.failing_since ? `failing since ${when(w.failing_since)}` : 'active';
  return w.disabled_reason ? `disabled: ${w.disabled_reason}` : 'disabled';
}

export function WebhooksPage() {
  const [items, setItems] = useState<Data[] | null>(null);
  const [shown, setShown] = useState<{ url: string; secret: string } | null>(null);
  const [msg, say] = useMsg();
  const [createMsg, sayCreate] = useMsg();
  async function load() {
    const res = await api('GET', '/api/admin/webhooks');
    if (res.status !== 200) say.error(errorText(res));
    setItems(res.status === 200 ? res.data.items : []);
  }
  useEffect(() => { load(); }, []);
  if (!items) return null;
  return (
    <>
      <h2>Webhooks</h2>
      <form class="card" onSubmit={onSubmit(async (f) => {
        const events = [...checked(f, 'event'), ...value(f, 'more_events').split(/[\s,]+/).filter(Boolean)];
        const body: Data = { url: value(f, 'url'), events };
        if (value(f, 'description')) body.description = value(f, 'description');
        const res = await api('POST', '/api/admin/webhooks', body);
        if (res.status !== 201) return sayCreate.error(errorText(res));
        f.reset();
        sayCreate.clear();
        setShown({ url: res.data.item.url, secret: res.data.secret });
        load();
      })}>
        <h3>New webhook</h3>
        <Field label="URL" hint="http:// or https:// address of the receiver; each delivery is signed (Standard Webhooks)">
          <input name="url" type="url" required maxLength={2048} autocomplete="off" />
        </Field>
        <fieldset class="choices">
          <legend>Events</legend>
          {EVENT_CHOICES.map((e) => <label class="check"><input type="checkbox" name="event" value={e} />{e === '*' ? '* (every event)' : e}</label>)}
        </fieldset>
        <Field label="More events (optional)" hint="Audit action names separated by spaces or commas, e.g. user.created ban.updated">
          <input name="more_events" autocomplete="off" />
        </Field>
        <Field label="Description (optional)"><input name="description" maxLength={500} autocomplete="off" /></Field>
        <div class="actions"><button type="submit" class="primary">Create webhook</button></div>
        <Message msg={createMsg} />
      </form>
      {shown ? <SecretBox label={`Signing secret for ${shown.url}`} value={shown.secret} /> : null}
      <Message msg={msg} />
      {items.length ? (
        <Table caption="Webhooks" headers={['ID', 'URL', 'Events', 'State', 'Description']}>
          {items.map((w) => <Row cells={[w.id, <a href={`#/webhooks/${w.id}`}>{w.url}</a>, w.events.join(', '),
            <Badge on={w.active && !w.failing_since} text={webhookState(w)} />, w.description]} />)}
        </Table>
      ) : <p>No webhooks.</p>}
      <p><a href="#/outbox">The outbox: every queued mail and webhook message, and the dead letters</a></p>
    </>
  );
}

/** One webhook: enable or disable, rotate its secret, delete; its deliveries with replay. */
export function WebhookPage({ id }: { id: number }) {
  const [webhook, setWebhook] = useState<Data | { error: string } | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [msg, say] = useMsg();
  const [deliveriesMsg, sayDeliveries] = useMsg();
  const deliveries = usePaged((cursor) => {
    const params = new URLSearchParams({ limit: '25' });
    if (status) params.set('status', status);
    if (cursor) params.set('cursor', String(cursor));
    return `/api/admin/webhooks/${id}/deliveries?${params}`;
  }, [status]);
  useEffect(() => {
    api('GET', `/api/admin/webhooks/${id}`).then((res) => setWebhook(res.status === 200 ? res.data.item : { error: errorText(res) }));
  }, [id]);

  if (!webhook || !deliveries.page) return null;
  const back = <p><a href="#/webhooks">← All webhooks</a></p>;
  if ('error' in webhook) return <>{back}<h2>{`Webhook #${id}`}</h2><p class="message error" role="alert">{webhook.error}</p></>;

  async function setActive(active: boolean) {
    const res = await api('PATCH', `/api/admin/webhooks/${id}`, { active });
    if (res.status !== 200) return say.error(errorText(res));
    setWebhook(res.data.item);
    say.ok(active ? 'Enabled: new events are delivered again.' : 'Disabled: no deliveries are sent until it is enabled again.');
  }
  async function rotate() {
    const res = await api('POST', `/api/admin/webhooks/${id}/rotate-secret`, {});
    if (res.status !== 200) return say.error(errorText(res));
    setWebhook(res.data.item);
    setSecret(res.data.secret);
    say.ok('New signing secret: deliveries from now on are signed with it.');
  }
  async function remove() {
    const res = await api('DELETE', `/api/admin/webhooks/${id}`);
    if (res.status === 200) { location.hash = '#/webhooks'; return; }
    setConfirming(false);
    say.error(errorText(res));
  }
  async function replay(d: Data) {
    const res = await api('POST', `/api/admin/webhooks/${id}/deliveries/${encodeURIComponent(d.id)}/replay`, {});
    if (res.status !== 200) return sayDeliveries.error(errorText(res));
    sayDeliveries.ok(`Delivery ${d.id} queued again.`);
    deliveries.reload();
  }

  return (
    <>
      {back}
      <h2>{`Webhook #${webhook.id}: ${webhook.url}`}</h2>
      <p><Badge on={webhook.active && !webhook.failing_since} text={webhookState(webhook)} />{' '}{`Events: ${webhook.events.join(', ')} · created ${when(webhook.created_at)}`}</p>
      {webhook.description ? <p>{webhook.description}</p> : null}
      <section class="card" aria-labelledby="webhook-actions">
        <h3 id="webhook-actions">Subscription</h3>
        <div class="actions">
          <button type="button" onClick={() => setActive(!webhook.active)}>{webhook.active ? 'Disable webhook' : 'Enable webhook'}</button>
          <button type="button" onClick={rotate}>Rotate secret</button>
          <button type="button" class="danger" onClick={() => setConfirming(true)}>Delete webhook…</button>
        </div>
        {confirming ? <Confirm text="Delete this webhook with its delivery log?" action="Delete permanently" onConfirm={remove} onCancel={() => setConfirming(false)} /> : null}
        <Message msg={msg} />
        {secret ? <SecretBox label="New signing secret" value={secret} /> : null}
      </section>
      <section aria-labelledby="deliveries-title">
        <h3 id="deliveries-title">Deliveries</h3>
        <div class="toolbar">
          <Field label="Status">
            <select name="status" value={status} onChange={(e) => { setStatus(e.currentTarget.value); deliveries.setCursors([null]); }}>
              <option value="">Any status</option><option value="pending">Pending</option><option value="delivered">Delivered</option><option value="dead">Dead</option>
            </select>
          </Field>
        </div>
        <Message msg={deliveriesMsg} />
        <MessagesTable caption="Deliveries of this webhook" items={deliveries.page.items} onReplay={replay} />
        <Pager cursors={deliveries.cursors} next={deliveries.page.next_cursor} onMove={deliveries.setCursors} />
      </section>
    </>
  );
}

/** Outbox messages (webhook deliveries or mail), each with its attempts, last answer and a Replay button. */
function MessagesTable({ caption, items, onReplay, kind }: { caption: string; items: Data[]; onReplay: (m: Data) => void; kind?: boolean }) {
  if (!items.length) return <p>No messages.</p>;
  return (
    <Table caption={caption} headers={['Message', ...(kind ? ['Kind'] : []), 'Event or mail', 'Status', 'Attempts', 'Last answer', 'Created', '']}>
      {items.map((m) => <Row cells={[
        <code>{m.id}</code>,
        ...(kind ? [m.kind === 'webhook' && m.webhook_id ? <a href={`#/webhooks/${m.webhook_id}`}>{`webhook #${m.webhook_id}`}</a> : m.kind] : []),
        m.kind === 'mail' ? `${m.mail?.template ?? 'mail'} to ${m.mail?.to ?? '—'}` : m.event_type,
        <Badge on={m.status !== 'dead'} text={m.status === 'pending' ? `pending, next ${when(m.next_attempt_at)}` : m.status} />,
        m.attempts,
        [m.last_status ?? '', m.last_error ? ` ${m.last_error}` : ''].join('').trim() || '—',
        when(m.created_at),
        m.status === 'pending' ? '' : <button type="button" aria-label={`Replay ${m.id}`} onClick={() => onReplay(m)}>Replay</button>,
      ]} />)}
    </Table>
  );
}

export function OutboxPage() {
  const [status, setStatus] = useState('dead');
  const [kind, setKind] = useState('');
  const [msg, say] = useMsg();
  const list = usePaged((cursor) => {
    const params = new URLSearchParams({ limit: '25' });
    if (status) params.set('status', status);
    if (kind) params.set('kind', kind);
    if (cursor) params.set('cursor', String(cursor));
    return `/api/admin/outbox?${params}`;
  }, [status, kind]);
  useEffect(() => { if (list.error) say.error(list.error); }, [list.error]);
  async function replay(m: Data) {
    const res = await api('POST', `/api/admin/outbox/${encodeURIComponent(m.id)}/replay`, {});
    if (res.status !== 200) return say.error(errorText(res));
    say.ok(`Message ${m.id} queued again.`);
    list.reload();
  }
  if (!list.page) return null;
  return (
    <>
      <h2>Outbox</h2>
      <p>Every mail and webhook message waits here until it is delivered; one that keeps failing becomes a dead letter, which Replay sends again (same id, a fresh attempt budget).</p>
      <div class="toolbar">
        <Field label="Status">
          <select name="status" value={status} onChange={(e) => { setStatus(e.currentTarget.value); list.setCursors([null]); }}>
            <option value="">Any status</option><option value="pending">Pending</option><option value="delivered">Delivered</option><option value="dead">Dead letters</option>
          </select>
        </Field>
        <Field label="Kind">
          <select name="kind" value={kind} onChange={(e) => { setKind(e.currentTarget.value); list.setCursors([null]); }}>
            <option value="">Mail and webhooks</option><option value="mail">Mail</option><option value="webhook">Webhooks</option>
          </select>
        </Field>
      </div>
      <Message msg={msg} />
      <MessagesTable caption="Outbox messages" items={list.page.items} onReplay={replay} kind />
      <Pager cursors={list.cursors} next={list.page.next_cursor} onMove={list.setCursors} />
    </>
  );
}
