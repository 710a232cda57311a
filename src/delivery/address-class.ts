// What kind of address an IP is, for the SSRF guard (WHO-3). Only 'public' may receive live-mode
// deliveries. Parsed here rather than with string prefixes, because the same address has many
// spellings ("::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:ffff:7f00:1") and a guard that knows
// only one of them is a guard with a hole.
//
// IPv6 is an allowlist: only global unicast (2000::/3) can be public, so any range nobody
// thought of fails closed. Addresses that carry an IPv4 address inside (mapped, NAT64, 6to4,
// IPv4-compatible) are judged by the IPv4 they carry.
import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link_local'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'metadata';

type Range = readonly [AddressClass, bigint, number];

// First match wins, so cloud metadata endpoints come before the ranges that contain them.
const IPV4_RANGES = ranges(32, [
  ['metadata', '169.254.169.254/32'], // AWS, GCP, Azure, OpenStack instance metadata
  ['metadata', '169.254.170.2/32'], // AWS ECS task credentials
  ['metadata', '100.100.100.200/32'], // Alibaba Cloud
  ['metadata', '192.0.0.192/32'], // Oracle Cloud (legacy)
  ['metadata', '168.63.129.16/32'], // Azure wire server: a public-looking address, hence listed
  ['unspecified', '0.0.0.0/8'],
  ['loopback', '127.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['private', '172.16.0.0/12'],
  ['private', '192.168.0.0/16'],
  ['link_local', '169.254.0.0/16'],
  ['cgnat', '100.64.0.0/10'],
  ['multicast', '224.0.0.0/4'],
  ['reserved', '192.0.0.0/24'], // IETF protocol assignments
  ['reserved', '192.0.2.0/24'], // TEST-NET-1
  ['reserved', '192.88.99.0/24'], // deprecated 6to4 relay anycast
  ['reserved', '198.18.0.0/15'], // benchmarking
  ['reserved', '198.51.100.0/24'], // TEST-NET-2
  ['reserved', '203.0.113.0/24'], // TEST-NET-3
  ['reserved', '240.0.0.0/4'], // future use, and 255.255.255.255 broadcast
]);

const IPV6_RANGES = ranges(128, [
  ['metadata', 'fd00:ec2::254/128'], // AWS instance metadata over IPv6
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['private', 'fc00::/7'], // unique local
  ['private', 'fec0::/10'], // deprecated site-local, the old "private"
  ['private', '64:ff9b:1::/48'], // local-use NAT64 (RFC 8215)
  ['link_local', 'fe80::/10'],
  ['multicast', 'ff00::/8'],
  ['reserved', '2001::/23'], // IETF protocol assignments: Teredo (tunnels to an IPv4 we cannot judge), benchmarking, ORCHID...
  ['reserved', '2001:db8::/32'], // documentation
  ['reserved', '3fff::/20'], // documentation (RFC 9637)
]);

const GLOBAL_UNICAST = range('public', '2000::/3', 128);
const MAPPED = range('reserved', '::ffff:0:0/96', 128);
const TRANSLATED = range('reserved', '::ffff:0:0:0/96', 128); // SIIT, RFC 2765
const IPV4_COMPATIBLE = range('reserved', '::/96', 128);
const NAT64 = range('public', '64:ff9b::/96', 128);
const SIX_TO_FOUR = range('reserved', '2002::/16', 128);

/**
 * The class of an IPv4 or IPv6 address in any textual form Node accepts (a zone index such as
 * `fe80::1%eth0` is ignored). Anything that is not an IP address is 'reserved': never public.
 */
export function classifyAddress(ip: string): AddressClass {
  if (isIPv4(ip)) return classifyV4(ipv4ToBigInt(ip));
  if (isIPv6(ip)) return classifyV6(ipv6ToBigInt(ip));
  return 'reserved';
}

function classifyV4(address: bigint): AddressClass {
  return IPV4_RANGES.find((r) => inRange(address, r, 32))?.[0] ?? 'public';
}

function classifyV6(address: bigint): AddressClass {
  const low32 = address & 0xffff_ffffn;
  // Reached as IPv4 by the kernel or by a NAT64 gateway: exactly as safe as that IPv4.
  if (inRange(address, MAPPED, 128) || inRange(address, NAT64, 128)) return classifyV4(low32);
  // Deprecated embeddings: no legitimate receiver uses them, so even a public IPv4 inside is
  // refused, but a private one is reported as what it is.
  if (address > 1n && (inRange(address, IPV4_COMPATIBLE, 128) || inRange(address, TRANSLATED, 128)))
    return notPublic(classifyV4(low32));
  if (inRange(address, SIX_TO_FOUR, 128)) return notPublic(classifyV4((address >> 80n) & 0xffff_ffffn));
  const special = IPV6_RANGES.find((r) => inRange(address, r, 128));
  if (special !== undefined) return special[0];
  return inRange(address, GLOBAL_UNICAST, 128) ? 'public' : 'reserved';
}

function notPublic(embedded: AddressClass): AddressClass {
  return embedded === 'public' ? 'reserved' : embedded;
}

function inRange(address: bigint, [, network, prefix]: Range, bits: number): boolean {
  const shift = BigInt(bits - prefix);
  return address >> shift === network >> shift;
}

function ranges(bits: 32 | 128, list: ReadonlyArray<readonly [AddressClass, string]>): readonly Range[] {
  return list.map(([name, cidr]) => range(name, cidr, bits));
}

function range(name: AddressClass, cidr: string, bits: 32 | 128): Range {
  const [text = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const valid = bits === 32 ? isIPv4(text) : isIPv6(text);
  if (!valid || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`bad range ${cidr}`);
  return [name, bits === 32 ? ipv4ToBigInt(text) : ipv6ToBigInt(text), prefix];
}

// Both parsers assume node:net has already validated the text.
function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  const withoutZone = ip.split('%')[0] ?? '';
  const [head = '', tail] = withoutZone.split('::');
  const words = (part: string): bigint[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [BigInt(parseInt(group, 16))];
          const v4 = ipv4ToBigInt(group); // trailing dotted quad: two 16-bit words
          return [v4 >> 16n, v4 & 0xffffn];
        });
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  return all.reduce((acc, word) => (acc << 16n) | word, 0n);
}
