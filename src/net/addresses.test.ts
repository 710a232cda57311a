import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import {
  cidrContains,
  createAddressMatcher,
  formatCidr,
  formatIp,
  isLoopback,
  normaliseIp,
  parseCidr,
  parseCidrList,
  parseIp,
  type Cidr,
} from './addresses.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const mustCidr = (text: string): Cidr => {
  const cidr = parseCidr(text);
  assert.ok(cidr, text);
  return cidr;
};
const contains = (cidr: string, ip: string): boolean => {
  const address = parseIp(ip);
  assert.ok(address, ip);
  return cidrContains(mustCidr(cidr), address);
};

test('every spelling of an IPv4-mapped address is that IPv4 address', () => {
  for (const spelling of [
    '127.0.0.1',
    '::ffff:127.0.0.1',
    '::FFFF:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:1',
    '0000:0000:0000:0000:0000:ffff:7f00:0001',
    '::ffff:7f00:1%eth0',
  ])
    assert.equal(normaliseIp(spelling), '127.0.0.1', spelling);
  assert.equal(parseIp('::ffff:10.1.2.3')?.family, 4);
  // Other embeddings are not the IPv4 address: NAT64, IPv4-compatible and SIIT stay IPv6.
  assert.equal(normaliseIp('64:ff9b::7f00:1'), '64:ff9b::7f00:1');
  assert.equal(normaliseIp('::127.0.0.1'), '::7f00:1');
  assert.equal(normaliseIp('::ffff:0:7f00:1'), '::ffff:0:7f00:1');
});

test('IPv6 prints in RFC 5952 form', () => {
  assert.equal(normaliseIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(normaliseIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first of two equal runs
  assert.equal(normaliseIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // a single zero stays
  assert.equal(normaliseIp('::'), '::');
  assert.equal(normaliseIp('::1'), '::1');
  assert.equal(normaliseIp('fe80::1%eth0'), 'fe80::1');
});

test('what is not an address is undefined, never a guess', () => {
  for (const text of [
    '',
    ' 127.0.0.1',
    '127.0.0.1 ',
    '[::1]',
    '127.0.0.1:80',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '256.0.0.1',
    '1.2.3.4.5',
    'localhost',
    ':::1',
    '1::2::3',
    'g::1',
    undefined,
    'a'.repeat(100),
    `${'1'.repeat(100)}.0.0.1`,
  ])
    assert.equal(parseIp(text), undefined, String(text));
});

test('CIDR: parse, clear host bits, refuse bad prefixes', () => {
  assert.equal(formatCidr(mustCidr('10.1.2.3/8')), '10.0.0.0/8');
  assert.equal(formatCidr(mustCidr('192.0.2.7')), '192.0.2.7/32');
  assert.equal(formatCidr(mustCidr('fd00::1')), 'fd00::1/128');
  assert.equal(formatCidr(mustCidr('fe80::/10')), 'fe80::/10');
  assert.equal(formatCidr(mustCidr('0.0.0.0/0')), '0.0.0.0/0');
  assert.equal(formatCidr(mustCidr('::ffff:10.0.0.0/104')), '10.0.0.0/8'); // a mapped range is IPv4
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/ 8', 'office'])
    assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(parseCidr('::ffff:0:0/95'), undefined, 'a mapped prefix reaching outside ::ffff:0:0/96');
});

test('CIDR boundaries: first and last inside, one either side outside', () => {
  assert.equal(contains('10.0.0.0/8', '9.255.255.255'), false);
  assert.equal(contains('10.0.0.0/8', '10.0.0.0'), true);
  assert.equal(contains('10.0.0.0/8', '10.255.255.255'), true);
  assert.equal(contains('10.0.0.0/8', '11.0.0.0'), false);
  assert.equal(contains('172.16.0.0/12', '172.31.255.255'), true);
  assert.equal(contains('172.16.0.0/12', '172.32.0.0'), false);
  assert.equal(contains('192.0.2.7/32', '192.0.2.7'), true);
  assert.equal(contains('192.0.2.7/32', '192.0.2.8'), false);
  assert.equal(contains('0.0.0.0/0', '255.255.255.255'), true);
  assert.equal(contains('fe80::/10', 'fe80::'), true);
  assert.equal(contains('fe80::/10', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
  assert.equal(contains('fe80::/10', 'fec0::'), false);
  assert.equal(contains('fe80::/10', 'fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), false);
  assert.equal(contains('::/0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
  // Families never mix, except that a mapped client IS its IPv4 address.
  assert.equal(contains('::/0', '10.0.0.1'), false);
  assert.equal(contains('0.0.0.0/0', '::1'), false);
  assert.equal(contains('10.0.0.0/8', '::ffff:10.9.9.9'), true);
});

test('lists and matchers: problems collected, mapped clients matched', () => {
  const parsed = parseCidrList('10.0.0.0/8, 192.168.1.7, fd00::/8');
  assert.ok(parsed.ok);
  const allowed = createAddressMatcher(parsed.cidrs);
  for (const ip of ['10.2.3.4', '::ffff:10.2.3.4', '192.168.1.7', 'fd12::1']) assert.equal(allowed(ip), true, ip);
  for (const ip of ['11.0.0.1', '192.168.1.8', 'fe80::1', 'garbage', undefined, ''])
    assert.equal(allowed(ip), false, String(ip));
  const bad = parseCidrList('10.0.0.0/33, office, 1.2.3.4/x, ');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.problems.length, 3);
  assert.equal(parseCidrList(' , ').ok, false);
});

test('loopback in every spelling, and nothing else', () => {
  for (const ip of ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', '::ffff:7f00:1'])
    assert.equal(isLoopback(ip), true, ip);
  for (const ip of ['128.0.0.1', '126.255.255.255', '::2', '::', '0.0.0.0', '::127.0.0.1', 'localhost', undefined])
    assert.equal(isLoopback(ip), false, String(ip));
});

test('property: containment agrees with node:net BlockList for random IPv4 and IPv6 ranges', () => {
  const random = seededRandom(1010);
  const word = () => Math.floor(random() * 0x10000);
  for (let i = 0; i < 3000; i += 1) {
    const v6 = i % 2 === 1;
    const words = Array.from({ length: 8 }, word);
    const base = v6
      ? words.map((w) => w.toString(16)).join(':')
      : words
          .slice(0, 4)
          .map((w) => w & 0xff)
          .join('.');
    const bits = v6 ? 128 : 32;
    const prefix = Math.floor(random() * (bits + 1));
    const cidr = mustCidr(`${base}/${prefix}`);
    const oracle = new BlockList();
    oracle.addSubnet(formatIp({ family: cidr.family, value: cidr.network }), prefix, v6 ? 'ipv6' : 'ipv4');
    for (let j = 0; j < 8; j += 1) {
      // Flip one bit at a random position: below the prefix it stays inside, above it leaves.
      const position = BigInt(Math.floor(random() * bits));
      const value = parseIp(base)!.value ^ (1n << position);
      const address = formatIp({ family: v6 ? 6 : 4, value });
      const expected = oracle.check(address, v6 ? 'ipv6' : 'ipv4');
      if (parseIp(address)!.family !== (v6 ? 6 : 4)) continue; // a flip that happened to make a mapped address
      if (cidrContains(cidr, parseIp(address)!) !== expected) assert.fail(`${address} in ${formatCidr(cidr)}`);
      if (expected !== position < BigInt(bits - prefix)) assert.fail(`oracle ${address} ${formatCidr(cidr)}`);
    }
  }
});

test('property: format and parse round-trip, and the canonical text is what node:net accepts', () => {
  const random = seededRandom(5952);
  for (let i = 0; i < 5000; i += 1) {
    // Sparse words so that zero runs (and "::") are common.
    const words = Array.from({ length: 8 }, () => (random() < 0.4 ? 0 : Math.floor(random() * 0x10000)));
    const text = words.map((w) => w.toString(16)).join(':');
    const address = parseIp(text)!;
    const canonical = formatIp(address);
    assert.deepEqual(parseIp(canonical), address, text);
    assert.equal(normaliseIp(canonical), canonical, text);
    if (address.family === 6) assert.ok(!canonical.includes(':::') && canonical.split('::').length <= 2, canonical);
  }
});
