// The console's only way to the server: the public admin API with the session cookies
// (__Host-access / __Host-refresh, set by POST /api/auth/sign-in) and X-CSRF-Token on every write.

export interface Me { id: number; email: string | null; username: string | null; is_admin: boolean; root_role: string }
export const session: { csrf: string | null; me: Me | null; onSignedOut: () => void } = { csrf: null, me: null, onSignedOut: () => {} };

// The API's bodies are JSON of many shapes; pages read the fields they know.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Data = any;
export interface Res { status: number; data: Data; etag: string | null }

/**
 * One request. Answers {status, data, etag}; never throws on an HTTP error (callers show it). A 401 is
 * retried once after POST /api/auth/refresh (the access cookie lives minutes); when that fails the
 * session is over and onSignedOut() shows the sign-in form.
 */
export async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await send(method, path, body, headers);
  if (res.status === 401 && path !== '/api/auth/sign-in' && path !== '/api/auth/refresh' && path !== '/api/auth/sign-out') {
    // Refresh needs the family's CSRF token (after a page reload it is learned from the refresh cookie alone).
    if (!session.csrf) {
      const t = await fetch('/api/auth/csrf', { credentials: 'same-origin' });
      if (t.ok) session.csrf = (await t.json()).csrf_token;
    }
    const refreshed = await fetch('/api/auth/refresh', {
      method: 'POST', credentials: 'same-origin', headers: session.csrf ? { 'x-csrf-token': session.csrf } : {},
    });
    if (refreshed.ok) return send(method, path, body, headers);
    session.onSignedOut();
  }
  return res;
}

async function send(method: string, path: string, body: unknown, extra: Record<string, string>): Promise<Res> {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['x-csrf-token'] = session.csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    return { status: 0, data: { message: 'The server could not be reached.' }, etag: null };
  }
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data, etag: res.headers.get('etag') };
}

/** If-Match for a write when the page knows the ETag of what it shows. */
export const ifMatch = (etag: string | null): Record<string, string> => (etag ? { 'if-match': etag } : {});

/** A readable message for an admin-surface error body. */
export function errorText(res: Res): string {
  const data = res.data || {};
  if (res.status === 403 && data.reason === 'admin_required') return 'You are not an administrator: this needs the Admin or Owner root role.';
  if (data.error === 'invalid_params' && data.field) {
    const hint = data.hint && data.hint !== data.message ? ` (${data.hint})` : '';
    return `${data.field}: ${data.message || data.reason}${hint}`;
  }
  if (data.error === 'banned' && data.ban) return `Refused: an active ${data.ban.ban_type} ban matches (${data.ban.ban_value}).`;
  return data.message || data.error || `Request failed (HTTP ${res.status})`;
}

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

/** A datetime-local value (the browser's local time) for an ISO instant; '' for none. */
export function localInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The ISO instant of a datetime-local value (read as the browser's local time); undefined when empty. */
export const isoOf = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
