// Ban values are validated as a pair with their type and stored in one normal form, so that matching is a
// plain equality (or a prefix-length lookup for ip ranges) on both engines.
import { domainToASCII } from 'node:url';
import { invalid } from '../errors.js';
import { emailDomain, foldKey, hasControlChars, isValidDomain, normalizeEmail } from '../users/validation.js';
import { emailKey, identitySkeleton } from '../identity/index.js';
import { formatRange, parseRange } from './ip.js';

export const BAN_TYPES = ['email', 'domain', 'ip', 'name'] as const;
export type BanType = (typeof BAN_TYPES)[number];

/** Ranges wider than these would lock out whole networks (or everyone): refused. */
export const MIN_PREFIX = { 4: 8, 6: 16 } as const;
export const NAME_MAX = 255;

function valueError(type: BanType, message: string, hint: string, constraints: Record<string, unknown> = {}) {
  return invalid('ban_value', `invalid_${type}`, message, { hint, constraints: { ban_type: type, ...constraints } });
}

export function normalizeDomain(raw: string): string | undefined {
  let d = raw.trim().toLowerCase();
  // "@example.com" and "*.example.com" mean the domain itself (which covers its subdomains anyway).
  if (d.startsWith('@')) d = d.slice(1);
  else if (d.startsWith('*.')) d = d.slice(2);
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d === '' || /[\s/@:]/.test(d)) return undefined;
  const ascii = /^[\x00-\x7f]*$/.test(d) ? d : domainToASCII(d);
  return ascii && isValidDomain(ascii) ? ascii : undefined;
}

/** The normal form of a ban value of `type`; throws 400 on `ban_value` when the pair is not valid. */
export function normalizeBanValue(type: BanType, raw: string): string {
  switch (type) {
    case 'email': {
      try {
        return normalizeEmail(raw, 'ban_value');
      } catch {
        throw valueError('email', 'ban_value is not a valid email address for an email ban', 'An email ban holds one mailbox, e.g. spammer@example.com', { format: 'email', maxLength: 254 });
      }
    }
    case 'domain': {
      const d = normalizeDomain(raw);
      if (!d) throw valueError('domain', 'ban_value is not a valid domain name for a domain ban', 'A domain ban holds a domain such as example.com; it covers every subdomain', { format: 'hostname', maxLength: 253 });
      return d;
    }
    case 'ip': {
      const r = parseRange(raw.trim());
      if ('error' in r) {
        throw valueError('ip', 'ban_value is not a valid IPv4/IPv6 address or CIDR range for an ip ban', 'Use an address (192.0.2.7, 2001:db8::7, ::ffff:192.0.2.7) or a CIDR range (192.0.2.0/24, 2001:db8::/48)');
      }
      if (r.prefix < MIN_PREFIX[r.ip.v]) {
        throw invalid('ban_value', 'range_too_broad', `An ip ban range must be at least /${MIN_PREFIX[r.ip.v]} for IPv${r.ip.v}`, {
          hint: 'Ban a narrower range',
          constraints: { ban_type: 'ip', minPrefixIPv4: MIN_PREFIX[4], minPrefixIPv6: MIN_PREFIX[6] },
        });
      }
      return formatRange(r);
    }
    case 'name': {
      const v = raw.trim();
      if (v === '' || Array.from(v).length > NAME_MAX || v.includes('@') || hasControlChars(v)) {
        throw valueError('name', 'ban_value is not a valid name for a name ban', 'A name ban holds a username or an alias local part (no "@", no control characters)', { minLength: 1, maxLength: NAME_MAX });
      }
      return foldKey(v);
    }
  }
}

/** Domain and each parent domain with at least two labels: a.b.example.com → [a.b.example.com, b.example.com, example.com]. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/**
 * What a name ban matches by: the confusable skeleton of its value (core/identity), so a ban on "mallory"
 * also refuses "mаllory" (Cyrillic а), "ma\u200bllory" and "ｍａｌｌｏｒｙ". Null for the other types.
 */
export function banMatchKey(type: BanType, value: string): string | null {
  return type === 'name' ? identitySkeleton(value) : null;
}

/** What an identity offers to ban matching: the email (exact and by domain) and a name (username, alias local part). */
export interface BanProbe {
  email?: string;
  name?: string;
}

/**
 * The (type, values) pairs that would refuse this probe: email and domain values are compared with
 * ban_value, name values (skeletons) with the ban's match key.
 */
export function probeCandidates(probe: BanProbe): Array<{ type: BanType; values: string[] }> {
  const out: Array<{ type: BanType; values: string[] }> = [];
  if (probe.email) {
    const email = emailKey(probe.email);
    out.push({ type: 'email', values: [email] });
    if (email.includes('@')) out.push({ type: 'domain', values: domainAndParents(emailDomain(email)) });
  }
  if (probe.name) out.push({ type: 'name', values: [identitySkeleton(probe.name)] });
  return out;
}
