// The audit log: newest first, filtered by action, target and time range, with each event's changes.
import { api, cells, errorText, field, h, messageLine, table, when } from './api.js';

export async function auditPage(view, current) {
  const msg = messageLine();
  const body = h('tbody', {});
  const more = h('button', { type: 'button' }, 'Older events');
  const form = h('form', { class: 'toolbar', role: 'search' },
    field('Action', h('input', { name: 'action', placeholder: 'e.g. user.updated' })),
    field('Target type', h('input', { name: 'target_type', placeholder: 'e.g. user' })),
    field('Target id', h('input', { name: 'target_id', inputmode: 'numeric' })),
    field('From', h('input', { name: 'from', type: 'datetime-local' })),
    field('To', h('input', { name: 'to', type: 'datetime-local' })),
    h('button', { type: 'submit' }, 'Filter'));
  let cursor = null;

  async function load(reset) {
    if (reset) { cursor = null; body.replaceChildren(); }
    const params = new URLSearchParams({ limit: '50' });
    for (const name of ['action', 'target_type', 'target_id']) if (form[name].value.trim()) params.set(name, form[name].value.trim());
    for (const name of ['from', 'to']) if (form[name].value) params.set(name, new Date(form[name].value).toISOString());
    if (cursor) params.set('cursor', String(cursor));
    const res = await api('GET', `/api/admin/audit-events?${params}`);
    if (!current()) return;
    if (res.status !== 200) return msg.error(errorText(res));
    msg.clear();
    for (const e of res.data.items) {
      body.append(cells(when(e.occurred_at), e.actor.label || e.actor.type, e.action, `${e.target.type} ${e.target.id ?? ''}`, diffOf(e)));
    }
    cursor = res.data.next_cursor;
    more.disabled = !cursor;
  }
  form.addEventListener('submit', (event) => { event.preventDefault(); load(true); });
  more.addEventListener('click', () => load(false));
  view.append(h('h2', {}, 'Audit log'), form, msg.el,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Audit events' },
      h('table', {}, h('thead', {}, h('tr', {}, ['When', 'Actor', 'Action', 'Target', 'Changes'].map((t) => h('th', { scope: 'col' }, t)))), body)),
    h('div', { class: 'pager' }, more));
  await load(true);
}

/** The fields an event changed, before → after. */
function diffOf(e) {
  const changed = (e.after && e.after.changed) || [];
  if (!changed.length) return '';
  return h('ul', { class: 'diff' }, changed.map((k) => {
    const before = e.before ? e.before[k] : undefined;
    const after = e.after ? e.after[k] : undefined;
    return h('li', {}, before === undefined && after === undefined ? k : `${k}: ${JSON.stringify(before ?? null)} → ${JSON.stringify(after ?? null)}`);
  }));
}
