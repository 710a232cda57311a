// Where we may deliver merchant events (WHO-3, SSRF). In live mode only https to public addresses.
// Two checks, because each alone is bypassable:
//   1. checkDeliveryUrl, on the URL itself: catches IP literals (http://127.0.0.1, http://[::1],
//      http://2130706433/ which WHATWG URL normalises to 127.0.0.1) — for those, no DNS lookup
//      happens, so a lookup hook would never see them;
//   2. the guarded dispatcher's lookup, at connect time on the resolved addresses: catches a
//      hostname that resolves (or is re-pointed after the URL was saved) to a private address.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';

export type AddressClass = 'public' | 'private' | 'loopback' | 'link_local' | 'cgnat' | 'unspecified' | 'multicast' | 'reserved' | 'metadata';

const v4 = (ranges: Array<[string, number]>) => {
  const list = new BlockList();
  for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv4');
  return list;
};
const v6 = (ranges: Array<[string, number]>) => {
  const list = new BlockList();
  for (const [net, prefix] of ranges) list.addSubnet(net, prefix, 'ipv6');
  return list;
};

const CLASSES: Array<[AddressClass, BlockList, BlockList]> = [
  ['metadata', v4([['169.254.169.254', 32], ['100.100.100.200', 32]]), v6([['fd00:ec2::254', 128]])],
  ['unspecified', v4([['0.0.0.0', 8]]), v6([['::', 128]])],
  ['loopback', v4([['127.0.0.0', 8]]), v6([['::1', 128]])],
  ['private', v4([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]), v6([['fc00::', 7]])],
  ['link_local', v4([['169.254.0.0', 16]]), v6([['fe80::', 10]])],
  ['cgnat', v4([['100.64.0.0', 10]]), v6([])],
  ['multicast', v4([['224.0.0.0', 4]]), v6([['ff00::', 8]])],
  ['reserved', v4([['240.0.0.0', 4], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['255.255.255.255', 32]]), v6([['2001:db8::', 32], ['100::', 64], ['2001::', 23]])],
];

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const lower = ip.toLowerCase();
    // IPv4 embedded in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) is judged as the IPv4 it carries.
    const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1] ?? hexEmbedded(lower);
    if (embedded !== undefined) return classifyAddress(embedded);
    for (const [name, , list] of CLASSES) if (list.check(ip, 'ipv6')) return name;
    return 'public';
  }
  for (const [name, list] of CLASSES) if (list.check(ip, 'ipv4')) return name;
  return 'public';
}

function hexEmbedded(ip: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (match === null) return undefined;
  const hi = parseInt(match[1]!, 16);
  const lo = parseInt(match[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: 'invalid_url' | 'https_required' | 'credentials_in_url' | 'forbidden_address' | 'port_not_allowed' };

export function checkDeliveryUrl(raw: string, policy: { mode: 'test' | 'live' }): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid_url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'invalid_url' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials_in_url' };
  if (policy.mode === 'test') return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, reason: 'https_required' };
  if (url.port !== '' && url.port !== '443' && Number(url.port) < 1024) return { ok: false, reason: 'port_not_allowed' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && classifyAddress(host) !== 'public') return { ok: false, reason: 'forbidden_address' };
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return { ok: false, reason: 'forbidden_address' };
  return { ok: true, url };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** An undici Agent that refuses, at connect time, any resolved address that is not public (live mode). */
export function createGuardedDispatcher(policy: { mode: 'test' | 'live' }): Agent {
  if (policy.mode === 'test') return new Agent({ connect: { timeout: 10_000 } });
  const lookup = (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses) => {
      if (error !== null) return callback(error, []);
      const blocked = addresses.find((a) => classifyAddress(a.address) !== 'public');
      if (blocked !== undefined) {
        const refusal = Object.assign(new Error(`refusing to connect to ${hostname}: resolves to a ${classifyAddress(blocked.address)} address`), { code: 'ERR_SSRF_BLOCKED' });
        return callback(refusal, []);
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
  return new Agent({ connect: { timeout: 10_000, lookup: lookup as never } });
}
