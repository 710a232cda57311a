// What kind of address an IP is, for the SSRF guard (WHO-3) and anything else that asks "is this
// loopback, private, link-local?". Only 'public' may receive live-mode deliveries. Parsing is
// ./addresses.ts's, so every spelling of an address gets the same class.
//
// IPv6 is an allowlist: only global unicast (2000::/3) can be public, so any range nobody
// thought of fails closed. Addresses that carry an IPv4 address inside (mapped, NAT64, 6to4,
// IPv4-compatible) are judged by the IPv4 they carry.
import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddress } from './addresses.ts';

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

type Range = readonly [AddressClass, Cidr];

// First match wins, so cloud metadata endpoints come before the ranges that contain them.
const IPV4_RANGES = ranges([
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

const IPV6_RANGES = ranges([
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

const GLOBAL_UNICAST = cidr('2000::/3');
const TRANSLATED = cidr('::ffff:0:0:0/96'); // SIIT, RFC 2765
const IPV4_COMPATIBLE = cidr('::/96');
const NAT64 = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');

/**
 * The class of an IPv4 or IPv6 address in any textual form Node accepts (a zone index such as
 * `fe80::1%eth0` is ignored). Anything that is not an IP address is 'reserved': never public.
 */
export function classifyAddress(ip: string): AddressClass {
  const address = parseIp(ip);
  if (address === undefined) return 'reserved';
  // A mapped address (::ffff:a.b.c.d) has already become its IPv4: the kernel reaches it as IPv4.
  return address.family === 4 ? classifyV4(address) : classifyV6(address);
}

const v4 = (value: bigint): IpAddress => ({ family: 4, value });

function classifyV4(address: IpAddress): AddressClass {
  return IPV4_RANGES.find(([, range]) => cidrContains(range, address))?.[0] ?? 'public';
}

function classifyV6(address: IpAddress): AddressClass {
  const low32 = v4(address.value & 0xffff_ffffn);
  // Reached as IPv4 by a NAT64 gateway: exactly as safe as that IPv4.
  if (cidrContains(NAT64, address)) return classifyV4(low32);
  // Deprecated embeddings: no legitimate receiver uses them, so even a public IPv4 inside is
  // refused, but a private one is reported as what it is.
  if (address.value > 1n && (cidrContains(IPV4_COMPATIBLE, address) || cidrContains(TRANSLATED, address)))
    return notPublic(classifyV4(low32));
  if (cidrContains(SIX_TO_FOUR, address)) return notPublic(classifyV4(v4((address.value >> 80n) & 0xffff_ffffn)));
  const special = IPV6_RANGES.find(([, range]) => cidrContains(range, address));
  if (special !== undefined) return special[0];
  return cidrContains(GLOBAL_UNICAST, address) ? 'public' : 'reserved';
}

function notPublic(embedded: AddressClass): AddressClass {
  return embedded === 'public' ? 'reserved' : embedded;
}

function ranges(list: ReadonlyArray<readonly [AddressClass, string]>): readonly Range[] {
  return list.map(([name, text]) => [name, cidr(text)]);
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`bad range ${text}`);
  return parsed;
}
