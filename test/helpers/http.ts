// A small HTTP client for tests: real requests with fetch, JSON in and out, cookies by hand.
export interface Res<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  cookies: Record<string, string>;
}

export interface Req {
  method?: string;
  body?: unknown;
  /** Sent as-is (no JSON encoding). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  cookie?: string;
  token?: string;
}

export function parseSetCookies(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const i = pair.indexOf('=');
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

export async function http<T = any>(base: string, path: string, req: Req = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let body: string | Buffer | undefined;
  if (req.raw !== undefined) body = req.raw;
  else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
  }
  if (req.cookie) headers.cookie = req.cookie;
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  const res = await fetch(base + path, { method: req.method ?? (body !== undefined ? "POST" : "GET"), headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text, cookies: parseSetCookies(res.headers) };
}

export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
}
