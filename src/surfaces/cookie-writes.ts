// One rule for every state change a browser cookie authenticates, on every surface (admin, account,
// user-admin): the body must be JSON, and the request must come from the server's own origin.
//
// Why: a cross-site page can make the browser send a form (application/x-www-form-urlencoded,
// multipart/form-data or text/plain) with the victim's cookies and no CORS preflight; SameSite=Lax does not
// stop a top-level form POST made within two minutes of a cookie being set, nor a same-site page on another
// subdomain. JSON cannot be sent cross-site without a preflight, which this server never grants. Browsers
// name the page in Origin (and, cross-site, in Sec-Fetch-Site); "null" (a sandboxed frame, a data: page) is
// never our origin. A request without Origin is a non-browser client, or a browser on a safe navigation.
//
// Requests authenticated by a bearer token (API tokens, personal access tokens, OAuth) carry no ambient
// credential a page could borrow, so this does not apply to them; nor to /oauth/token (a form, by RFC 6749).
import type { FastifyRequest } from 'fastify';
import type { Config } from '../platform/config.js';
import { DomainError } from '../core/index.js';
import { publicBaseUrl } from '../platform/http.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafeMethod(req: FastifyRequest): boolean {
  return UNSAFE.has(req.method);
}

/** 415 (each surface renders Fastify's unsupported-media-type error in its own shape) unless the body is JSON in UTF-8. */
export function requireJsonBodyIfAny(req: FastifyRequest): void {
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return;
  const type = req.headers['content-type'];
  const [mediaType, ...params] = (typeof type === 'string' ? type : '').split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  if (mediaType === 'application/json' && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return;
  throw Object.assign(new Error('Send Content-Type: application/json'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
}

/** The origins this server answers at: GATEHOUSE_PUBLIC_URL's (or http://HOST:PORT), and the one the request addressed. */
function ownOrigins(config: Config, req: FastifyRequest): string[] {
  const origins = [new URL(publicBaseUrl(config, req)).origin];
  // req.host is the Host header (X-Forwarded-Host only behind a trusted proxy): a page on another site
  // cannot make a browser send our Host with its own Origin.
  try {
    origins.push(new URL(`${req.protocol}://${req.host}`).origin);
  } catch {
    // A Host header that is not a host names no origin.
  }
  return origins;
}

function crossSite(message: string): DomainError {
  return new DomainError('forbidden', message, { reason: 'cross_site_request' });
}

/** 403 when the browser says the request came from another site (Sec-Fetch-Site, Origin). */
export function refuseCrossSite(config: Config, req: FastifyRequest): void {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') throw crossSite('Cross-site requests with a session cookie are refused');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (typeof origin !== 'string' || origin === 'null') throw crossSite('Requests with a session cookie must come from this server\'s own pages (Origin)');
  let given: string;
  try {
    given = new URL(origin).origin;
  } catch {
    throw crossSite('The Origin header is not a valid origin');
  }
  if (!ownOrigins(config, req).includes(given)) throw crossSite('Cross-site requests with a session cookie are refused');
}

/**
 * The guard each surface's cookie authentication calls for a request it authenticates (or would act on) by
 * a session cookie: unsafe methods only; 415 for a body that is not JSON, then 403 for another origin.
 */
export function guardCookieWrite(config: Config, req: FastifyRequest): void {
  if (!isUnsafeMethod(req)) return;
  requireJsonBodyIfAny(req);
  refuseCrossSite(config, req);
}
