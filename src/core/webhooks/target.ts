// Which webhook targets are allowed. Only http: and https: URLs without credentials; and unless the operator
// allows private targets, none whose host is (or resolves to) a loopback, private, link-local (cloud metadata
// at 169.254.169.254 and fd00:ec2::254), carrier-grade NAT, multicast or otherwise non-public address. The
// address is checked when the webhook is saved and again at every connection (the check is the connection's
// own DNS lookup), so a name that later resolves elsewhere (DNS rebinding) is refused too.
import dns from 'node:dns';
import net from 'node:net';
import { invalid } from '../errors.js';

const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) blocked.addSubnet(prefix, bits, 'ipv6');

/** True when a connection to this address is refused (it is not a public unicast address). */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach the IPv4 address inside.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (embedded) return blocked.check(embedded, 'ipv4');
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1], 16);
    const lo = parseInt(mappedHex[2], 16);
    return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return blocked.check(address, 'ipv6');
}

/** Parses and checks a target URL's form (scheme, no credentials); throws invalid on `field`. */
export function parseTargetUrl(raw: string, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(field, 'invalid_format', 'url must be an absolute http:// or https:// URL', { constraints: { format: 'uri' } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(field, 'unsupported_scheme', `Webhook targets must use http: or https:, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw invalid(field, 'credentials_in_url', 'Webhook URLs may not carry credentials; verify deliveries by their signature');
  }
  if (!url.hostname) throw invalid(field, 'invalid_format', 'url must name a host');
  return url;
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Checks a target before it is saved: its form, and (unless private targets are allowed) every address its host resolves to. */
export async function checkTarget(raw: string, allowPrivate: boolean, field = 'url'): Promise<URL> {
  const url = parseTargetUrl(raw, field);
  if (allowPrivate) return url;
  const host = hostOf(url);
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw invalid(field, 'unresolvable_host', `The host ${host} of the webhook URL does not resolve`);
    }
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw invalid(field, 'private_target', 'Webhook targets may not be loopback, private, link-local or metadata addresses (GATEHOUSE_WEBHOOK_ALLOW_PRIVATE allows them)');
  }
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A dns.lookup for http.request that refuses private addresses (the connection-time check). */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, verbatim: true }, (err, address, family) => {
      if (err) return callback(err, address as never, family);
      if (!allowPrivate) {
        const list = Array.isArray(address) ? address.map((a) => a.address) : [address as string];
        if (list.length === 0 || list.some(isPrivateAddress)) {
          const e = new Error(`refused: ${hostname} resolves to a non-public address`) as NodeJS.ErrnoException;
          e.code = 'EPRIVATETARGET';
          return callback(e, address as never, family);
        }
      }
      callback(null, address as never, family);
    });
  };
}
