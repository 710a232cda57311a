// The one IP address and CIDR parser of the project: SSRF classes, the dashboard's trusted
// networks, trusted proxies, provider webhook source allowlists, loopback-only routes and API key
// allowlists all go through it. One parser, because the same address has many spellings
// ("127.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:ffff:7f00:1") and two parsers that
// disagree on one of them are a guard with a hole.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4
// client) IS that IPv4 address here: it parses to family 4, matches IPv4 ranges and prints as a
// dotted quad. Other embeddings (NAT64, 6to4, IPv4-compatible) stay IPv6; the classifier judges them.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  /** The address as an unsigned integer of 32 or 128 bits. */
  readonly value: bigint;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address: host bits are cleared when parsing. */
  readonly network: bigint;
  readonly prefix: number;
  /** The canonical "network/prefix"; also what JSON shows (configs are logged and compared as JSON). */
  readonly text: string;
  toJSON(): string;
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

/**
 * Parses an IPv4 or IPv6 address in any textual form Node accepts (a zone index such as
 * `fe80::1%eth0` is dropped; IPv4 must be a strict dotted quad). Brackets, ports and whitespace are
 * not addresses: undefined.
 */
export function parseIp(text: string | undefined): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (isIPv4(text)) return { family: 4, value: ipv4ToBigInt(text) };
  if (!isIPv6(text)) return undefined;
  const value = ipv6ToBigInt(text);
  if (value >> 32n === MAPPED_PREFIX >> 32n) return { family: 4, value: value & 0xffff_ffffn };
  return { family: 6, value };
}

/** The canonical text: dotted quad for IPv4 (mapped included), RFC 5952 for IPv6. */
export function formatIp(address: IpAddress): string {
  if (address.family === 4)
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  const words = Array.from({ length: 8 }, (_, i) => Number((address.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: the longest run (first on a tie) of two or more zero words becomes "::".
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j += 1;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** The canonical text of an address, or undefined when it is not one. */
export function normaliseIp(text: string | undefined): string | undefined {
  const address = parseIp(text);
  return address === undefined ? undefined : formatIp(address);
}

/**
 * "10.0.0.0/8", "fd00::/8" or a single address (a /32 or /128). Host bits below the prefix are
 * cleared ("10.1.2.3/8" is 10.0.0.0/8). A mapped range (::ffff:10.0.0.0/104) is the IPv4 range.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const mapped = address.family === 4 && slash >= 0 && text.slice(0, slash).includes(':');
  const bits = address.family === 4 && !mapped ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  if (mapped) {
    if (prefix < 96) return undefined; // would reach outside ::ffff:0:0/96: not an IPv4 range
    prefix -= 96;
  }
  const width = address.family === 4 ? 32 : 128;
  const shift = BigInt(width - prefix);
  const network = (address.value >> shift) << shift;
  const canonical = `${formatIp({ family: address.family, value: network })}/${prefix}`;
  return Object.freeze({ family: address.family, network, prefix, text: canonical, toJSON: () => canonical });
}

export function formatCidr(cidr: Cidr): string {
  return cidr.text;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  const shift = BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefix);
  return address.value >> shift === cidr.network >> shift;
}

export type CidrListResult =
  | { readonly ok: true; readonly cidrs: readonly Cidr[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Parses "10.0.0.0/8, 192.168.1.7, fd00::/8"; returns the problems instead of throwing. */
export function parseCidrList(raw: string): CidrListResult {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const problems: string[] = [];
  const cidrs: Cidr[] = [];
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr === undefined) problems.push(`"${entry}" is not an IP address or CIDR range`);
    else cidrs.push(cidr);
  }
  if (entries.length === 0) problems.push('no address given');
  return problems.length === 0 ? { ok: true, cidrs } : { ok: false, problems };
}

/** A predicate over address text: true when it parses and lies in one of the ranges. */
export function createAddressMatcher(cidrs: readonly Cidr[]): (address: string | undefined) => boolean {
  return (text) => {
    const address = parseIp(text);
    return address !== undefined && cidrs.some((cidr) => cidrContains(cidr, address));
  };
}

const LOOPBACK = [parseCidr('127.0.0.0/8'), parseCidr('::1/128')] as readonly Cidr[];

/** 127.0.0.0/8 and ::1, in any spelling (::ffff:127.0.0.1 included). */
export const isLoopback = createAddressMatcher(LOOPBACK);

// Both converters assume node:net has already validated the text.
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
