// IP addresses and CIDR ranges for ip bans: parsing, canonical text, and a per-prefix-length index that
// answers "which ban covers this address" with one hash lookup per distinct prefix length.
// IPv4 is a 32-bit number, IPv6 a 128-bit bigint; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) IS the
// IPv4 address, so a ban on 192.0.2.1 covers a client seen as ::ffff:192.0.2.1 and the other way round.
import { isIPv4, isIPv6 } from 'node:net';

export type IpAddress = { v: 4; n: number } | { v: 6; n: bigint };

const V6_MASK_ALL = (1n << 128n) - 1n;

function parseV4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    // No leading zeros (an octal reading of 010 would be a different address): node's isIPv4 agrees.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const b = Number(p);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s.toLowerCase();
  // A trailing dotted quad is two 16-bit groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 ? (halves[1] ? halves[1].split(':') : []) : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return undefined;
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** Parses an IPv4 or IPv6 address (brackets and IPv6 zone ids refused); mapped IPv6 becomes IPv4. */
export function parseIp(raw: string): IpAddress | undefined {
  if (isIPv4(raw)) {
    const n = parseV4(raw);
    return n === undefined ? undefined : { v: 4, n };
  }
  const n = parseV6(raw);
  if (n === undefined) return undefined;
  if (n >> 32n === 0xffffn) return { v: 4, n: Number(n & 0xffffffffn) };
  return { v: 6, n };
}

export function formatIp(ip: IpAddress): string {
  if (ip.v === 4) return [ip.n >>> 24, (ip.n >>> 16) & 255, (ip.n >>> 8) & 255, ip.n & 255].join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the first longest run of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export interface IpRange {
  ip: IpAddress;
  prefix: number;
}

export function maskV4(n: number, prefix: number): number {
  return prefix === 0 ? 0 : (n & (0xffffffff << (32 - prefix))) >>> 0;
}

export function maskV6(n: bigint, prefix: number): bigint {
  return prefix === 0 ? 0n : n & ((V6_MASK_ALL << BigInt(128 - prefix)) & V6_MASK_ALL);
}

/**
 * Parses an address or CIDR range. Host bits are cleared (10.1.2.3/8 is 10.0.0.0/8); a mapped IPv6 range
 * of /96 or longer is the IPv4 range it maps. Undefined when it is not an address or range.
 */
export function parseRange(raw: string): IpRange | { error: 'invalid' | 'prefix' } {
  const slash = raw.indexOf('/');
  const addr = slash < 0 ? raw : raw.slice(0, slash);
  const prefixText = slash < 0 ? undefined : raw.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { error: 'prefix' };
  let prefix = prefixText === undefined ? undefined : Number(prefixText);
  let ip: IpAddress | undefined;
  if (isIPv4(addr)) {
    const n = parseV4(addr);
    if (n === undefined) return { error: 'invalid' };
    ip = { v: 4, n };
  } else {
    const n = parseV6(addr);
    if (n === undefined) return { error: 'invalid' };
    if (n >> 32n === 0xffffn && (prefix === undefined || prefix >= 96)) {
      ip = { v: 4, n: Number(n & 0xffffffffn) };
      if (prefix !== undefined) prefix -= 96;
    } else ip = { v: 6, n };
  }
  const max = ip.v === 4 ? 32 : 128;
  if (prefix === undefined) prefix = max;
  if (prefix > max) return { error: 'prefix' };
  if (ip.v === 4) ip = { v: 4, n: maskV4(ip.n, prefix) };
  else ip = { v: 6, n: maskV6(ip.n, prefix) };
  return { ip, prefix };
}

export function formatRange(r: IpRange): string {
  const max = r.ip.v === 4 ? 32 : 128;
  return r.prefix === max ? formatIp(r.ip) : `${formatIp(r.ip)}/${r.prefix}`;
}

export function rangeContains(r: IpRange, ip: IpAddress): boolean {
  if (r.ip.v === 4 && ip.v === 4) return maskV4(ip.n, r.prefix) === r.ip.n;
  if (r.ip.v === 6 && ip.v === 6) return maskV6(ip.n, r.prefix) === r.ip.n;
  return false;
}

/** Entries are held by prefix length, each length a hash map from network to entries. */
export class IpIndex<T> {
  private readonly v4 = new Map<number, Map<number, T[]>>();
  private readonly v6 = new Map<number, Map<bigint, T[]>>();
  private v4Lengths: number[] = [];
  private v6Lengths: number[] = [];
  size = 0;

  add(range: IpRange, entry: T): void {
    this.size++;
    if (range.ip.v === 4) {
      let m = this.v4.get(range.prefix);
      if (!m) this.v4.set(range.prefix, (m = new Map()));
      const list = m.get(range.ip.n);
      if (list) list.push(entry);
      else m.set(range.ip.n, [entry]);
      this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
    } else {
      let m = this.v6.get(range.prefix);
      if (!m) this.v6.set(range.prefix, (m = new Map()));
      const list = m.get(range.ip.n);
      if (list) list.push(entry);
      else m.set(range.ip.n, [entry]);
      this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
    }
  }

  /** The first entry (most specific range first) covering `ip` that `accept` takes. */
  find(ip: IpAddress, accept: (entry: T) => boolean): T | undefined {
    if (ip.v === 4) {
      for (const len of this.v4Lengths) {
        const list = this.v4.get(len)!.get(maskV4(ip.n, len));
        if (list) for (const e of list) if (accept(e)) return e;
      }
    } else {
      for (const len of this.v6Lengths) {
        const list = this.v6.get(len)!.get(maskV6(ip.n, len));
        if (list) for (const e of list) if (accept(e)) return e;
      }
    }
    return undefined;
  }
}
