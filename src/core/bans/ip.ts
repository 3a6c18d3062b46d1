// IP addresses and CIDR ranges for ip bans: parsing, canonical text, and a per-prefix-length index that
// answers "which ban covers this address" with one hash lookup per distinct prefix length.
// IPv4 is a 32-bit number, IPv6 eight 16-bit groups (not a bigint: V8 hashes bigint Map keys by their low
// word only, so /64 networks would all collide); an IPv4-mapped IPv6 address (::ffff:a.b.c.d) IS the IPv4
// address, so a ban on 192.0.2.1 covers a client seen as ::ffff:192.0.2.1 and the other way round.

export type IpAddress = { v: 4; n: number } | { v: 6; g: number[] };

/** Dotted quad without leading zeros (an octal reading of 010 would be another address); hand-rolled: hot path. */
function parseV4(s: string, from = 0, to = s.length): number | undefined {
  let n = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (octet < 0) return undefined;
      n = n * 256 + octet;
      octet = -1;
      digits = 0;
      if (++dots > 3) return undefined;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined;
      octet = (octet < 0 ? 0 : octet) * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || octet < 0) return undefined;
  return n * 256 + octet;
}

function hexGroup(s: string, from: number, to: number): number {
  if (to <= from || to - from > 4) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Eight 16-bit groups; "::" once at most; a trailing dotted quad; no zone id, no brackets. */
function parseV6(s: string): number[] | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parsePart = (from: number, to: number, allowV4: boolean): number[] | undefined => {
    const out: number[] = [];
    if (from === to) return out;
    let start = from;
    for (let i = from; i <= to; i++) {
      if (i === to || s.charCodeAt(i) === 58) {
        if (i === to && allowV4 && s.indexOf('.', start) >= 0 && s.indexOf('.', start) < to) {
          const v4 = parseV4(s, start, to);
          if (v4 === undefined) return undefined;
          out.push(Math.floor(v4 / 65536), v4 & 0xffff);
          return out;
        }
        const g = hexGroup(s, start, i);
        if (g < 0) return undefined;
        out.push(g);
        start = i + 1;
      }
    }
    return out;
  };
  let groups: number[];
  if (dbl < 0) {
    const all = parsePart(0, s.length, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = parsePart(0, dbl, false);
    const tail = parsePart(dbl + 2, s.length, true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups;
}

function isMapped(g: number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** Parses an IPv4 or IPv6 address (brackets and IPv6 zone ids refused); mapped IPv6 becomes IPv4. */
export function parseIp(raw: string): IpAddress | undefined {
  if (raw.indexOf(':') < 0) {
    const n = parseV4(raw);
    return n === undefined ? undefined : { v: 4, n };
  }
  const g = parseV6(raw);
  if (!g) return undefined;
  if (isMapped(g)) return { v: 4, n: g[6] * 65536 + g[7] };
  return { v: 6, g };
}

export function formatIp(ip: IpAddress): string {
  if (ip.v === 4) return [ip.n >>> 24, (ip.n >>> 16) & 255, (ip.n >>> 8) & 255, ip.n & 255].join('.');
  const groups = ip.g;
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

export function maskV6(g: number[], prefix: number): number[] {
  const out = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    out[i] = bits === 0 ? 0 : bits === 16 ? g[i] : g[i] & ((0xffff << (16 - bits)) & 0xffff);
  }
  return out;
}

/** The map key of the /prefix network of `g`: only the groups the prefix reaches. */
function keyV6(g: number[], prefix: number): string {
  const full = prefix >> 4;
  const rem = prefix & 15;
  let key = '';
  for (let i = 0; i < full; i++) key += `${g[i]}:`;
  if (rem) key += `${g[full] & ((0xffff << (16 - rem)) & 0xffff)}`;
  return key;
}

/**
 * Parses an address or CIDR range. Host bits are cleared (10.1.2.3/8 is 10.0.0.0/8); a mapped IPv6 range
 * of /96 or longer is the IPv4 range it maps.
 */
export function parseRange(raw: string): IpRange | { error: 'invalid' | 'prefix' } {
  const slash = raw.indexOf('/');
  const addr = slash < 0 ? raw : raw.slice(0, slash);
  const prefixText = slash < 0 ? undefined : raw.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { error: 'prefix' };
  let prefix = prefixText === undefined ? undefined : Number(prefixText);
  let ip: IpAddress;
  if (addr.indexOf(':') < 0) {
    const n = parseV4(addr);
    if (n === undefined) return { error: 'invalid' };
    ip = { v: 4, n };
  } else {
    const g = parseV6(addr);
    if (!g) return { error: 'invalid' };
    if (isMapped(g) && (prefix === undefined || prefix >= 96)) {
      ip = { v: 4, n: g[6] * 65536 + g[7] };
      if (prefix !== undefined) prefix -= 96;
    } else ip = { v: 6, g };
  }
  const max = ip.v === 4 ? 32 : 128;
  if (prefix === undefined) prefix = max;
  if (prefix > max) return { error: 'prefix' };
  ip = ip.v === 4 ? { v: 4, n: maskV4(ip.n, prefix) } : { v: 6, g: maskV6(ip.g, prefix) };
  return { ip, prefix };
}

export function formatRange(r: IpRange): string {
  const max = r.ip.v === 4 ? 32 : 128;
  return r.prefix === max ? formatIp(r.ip) : `${formatIp(r.ip)}/${r.prefix}`;
}

export function rangeContains(r: IpRange, ip: IpAddress): boolean {
  if (r.ip.v === 4 && ip.v === 4) return maskV4(ip.n, r.prefix) === r.ip.n;
  if (r.ip.v === 6 && ip.v === 6) return keyV6(ip.g, r.prefix) === keyV6(r.ip.g, r.prefix);
  return false;
}

/** Entries are held by prefix length, each length a hash map from network to entries. */
export class IpIndex<T> {
  private readonly v4 = new Map<number, Map<number, T[]>>();
  private readonly v6 = new Map<number, Map<string, T[]>>();
  private v4Lengths: number[] = [];
  private v6Lengths: number[] = [];
  size = 0;

  add(range: IpRange, entry: T): void {
    this.size++;
    if (range.ip.v === 4) {
      let m = this.v4.get(range.prefix);
      if (!m) {
        this.v4.set(range.prefix, (m = new Map()));
        this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
      }
      const list = m.get(range.ip.n);
      if (list) list.push(entry);
      else m.set(range.ip.n, [entry]);
    } else {
      let m = this.v6.get(range.prefix);
      if (!m) {
        this.v6.set(range.prefix, (m = new Map()));
        this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
      }
      const key = keyV6(range.ip.g, range.prefix);
      const list = m.get(key);
      if (list) list.push(entry);
      else m.set(key, [entry]);
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
        const list = this.v6.get(len)!.get(keyV6(ip.g, len));
        if (list) for (const e of list) if (accept(e)) return e;
      }
    }
    return undefined;
  }
}
