// Small building blocks shared by the pages: labelled fields, status lines, tables in a scrolling frame,
// secrets shown once, confirmations.
import type { ComponentChildren, TargetedEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Data, errorText } from './api.js';

export function Field({ label, hint, children }: { label: string; hint?: string; children: ComponentChildren }) {
  return <label>{label}{children}{hint ? <small class="hint">{hint}</small> : null}</label>;
}

export interface Msg { kind: 'ok' | 'error'; text: string }
export interface Say { ok(text: string): void; error(text: string): void; clear(): void }

/** A status line's state: say.ok(…) for outcomes, say.error(…) for refusals. */
export function useMsg(): [Msg | null, Say] {
  const [msg, set] = useState<Msg | null>(null);
  const say = useRef<Say>({
    ok: (text) => set({ kind: 'ok', text }),
    error: (text) => set({ kind: 'error', text }),
    clear: () => set(null),
  }).current;
  return [msg, say];
}

/** A status line under a form: role=alert for errors, role=status for outcomes (always present, so it is announced). */
export function Message({ msg }: { msg: Msg | null }) {
  return (
    <p class={msg ? `message ${msg.kind}` : 'message'} role={msg?.kind === 'error' ? 'alert' : 'status'}>{msg?.text ?? ''}</p>
  );
}

/** A table in a horizontally scrolling frame (the page itself never scrolls sideways). */
export function Table({ caption, headers, children, className }: { caption: string; headers: string[]; children: ComponentChildren; className?: string }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table class={className}>
        <caption class="sr-only">{caption}</caption>
        <thead><tr>{headers.map((t) => <th scope="col">{t || <span class="sr-only">Actions</span>}</th>)}</tr></thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** One table row of plain cells. */
export function Row({ cells }: { cells: ComponentChildren[] }) {
  return <tr>{cells.map((c) => <td>{c ?? ''}</td>)}</tr>;
}

export function Badge({ on, text }: { on: boolean; text: string }) {
  return <span class={on ? 'badge' : 'badge off'}>{text}</span>;
}

/** A secret shown once: read-only, selectable, with a warning that it will not be shown again. */
export function SecretBox({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret-box" role="status">
      <p><strong>{`${label}: `}</strong>copy it now, it is shown only this once.</p>
      <input readOnly value={value} class="secret" aria-label={label} onFocus={(e) => e.currentTarget.select()} />
    </div>
  );
}

/** A confirmation box: its first button takes the focus when it opens. */
export function Confirm({ text, action, onConfirm, onCancel }: { text: string; action: string; onConfirm: () => void; onCancel: () => void }) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div class="confirm">
      <p>{text}</p>
      <button type="button" class="danger" ref={first} onClick={onConfirm}>{action}</button>
      <button type="button" onClick={onCancel}>Cancel</button>
    </div>
  );
}

/** Previous / next over a cursor-paged list: cursors[0] is the first page (null). */
export function Pager({ cursors, next, onMove, label }: { cursors: (string | number | null)[]; next: string | number | null; onMove: (c: (string | number | null)[]) => void; label?: string }) {
  return (
    <div class="pager">
      <button type="button" disabled={cursors.length === 1} onClick={() => onMove(cursors.slice(0, -1))}>Previous page</button>
      {label !== undefined ? <span class="page-label">{label}</span> : null}
      <button type="button" disabled={next === null || next === undefined} onClick={() => onMove([...cursors, next])}>Next page</button>
    </div>
  );
}

/** A form's named control (uncontrolled forms: read on submit). */
export function input(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}
/** A form field's value, trimmed. */
export const value = (form: HTMLFormElement, name: string): string => input(form, name).value.trim();
/** The values of the checked boxes called name. */
export const checked = (form: HTMLFormElement, name: string): string[] =>
  [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((b) => b.value);

export type Submit = TargetedEvent<HTMLFormElement, Event>;
/** An onSubmit handler that keeps the page and hands the form over. */
export const onSubmit = (fn: (form: HTMLFormElement) => unknown) => (event: Submit) => {
  event.preventDefault();
  fn(event.currentTarget);
};

/**
 * A cursor-paged list: its current page, reloaded when the query (deps) or the cursor changes; a slower
 * earlier answer never overwrites a later one. A new query starts at the first page (callers reset cursors).
 */
export function usePaged(path: (cursor: string | number | null) => string, deps: unknown[]) {
  const [cursors, setCursors] = useState<(string | number | null)[]>([null]);
  const [page, setPage] = useState<Data | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    api('GET', path(cursors[cursors.length - 1])).then((res) => {
      if (mine !== latest.current) return;
      if (res.status !== 200) { setError(errorText(res)); setPage((p: Data) => p ?? { items: [], next_cursor: null }); return; }
      setError(null);
      setPage(res.data);
    });
  }, [cursors, tick, ...deps]);
  return { page, error, cursors, setCursors, reload: () => setTick((n) => n + 1), restart: () => { setCursors([null]); setTick((n) => n + 1); } };
}

