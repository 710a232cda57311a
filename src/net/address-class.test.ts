import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { classifyAddress, type AddressClass } from './address-class.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

function expectClasses(cases: ReadonlyArray<readonly [string, AddressClass]>): void {
  for (const [ip, expected] of cases) assert.equal(classifyAddress(ip), expected, ip);
}

test('IPv4 classes and the edges of every range', () => {
  expectClasses([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['93.184.216.34', 'public'],
    ['223.255.255.255', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['1.0.0.0', 'public'],
    ['9.255.255.255', 'public'],
    ['10.0.0.0', 'private'],
    ['10.1.2.3', 'private'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.64.0.0', 'cgnat'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.0', 'public'],
    ['126.255.255.255', 'public'],
    ['127.0.0.0', 'loopback'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['128.0.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['169.254.0.0', 'link_local'],
    ['169.254.1.1', 'link_local'],
    ['169.254.255.255', 'link_local'],
    ['169.255.0.0', 'public'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['172.15.255.255', 'public'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['192.0.3.0', 'public'],
    ['192.88.99.1', 'reserved'],
    ['192.167.255.255', 'public'],
    ['192.168.0.0', 'private'],
    ['192.168.1.1', 'private'],
    ['192.168.255.255', 'private'],
    ['192.169.0.0', 'public'],
    ['198.17.255.255', 'public'],
    ['198.18.0.0', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.0', 'multicast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.0', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ]);
});

test('IPv6 classes: an allowlist of global unicast', () => {
  expectClasses([
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['2a00:1450:4001:81c::200e', 'public'],
    ['2400:cb00::1', 'public'],
    ['3ffe::1', 'public'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:0', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fdff:ffff::1', 'private'],
    ['fec0::1', 'private'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:ec2::253', 'private'],
    ['2001:db8::1', 'reserved'],
    ['2001:db8:ffff::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['3fff:fff::1', 'reserved'],
    ['3fff:1000::1', 'public'],
    ['2001::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['2001:200::1', 'public'],
    ['100::1', 'reserved'],
    ['::2', 'unspecified'],
    ['::1:0:0:0', 'reserved'],
    ['1::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['5f00::1', 'reserved'],
    ['e000::1', 'reserved'],
  ]);
});

test('IPv6 carrying IPv4 is judged by the IPv4 it carries, in every spelling', () => {
  expectClasses([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['0000:0000:0000:0000:0000:ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:808:808', 'public'],
    // NAT64 well-known prefix: reached through the gateway as the IPv4 inside.
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::a00:1', 'private'],
    // Deprecated embeddings: a private IPv4 shows through, a public one is still refused.
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::10.0.0.1', 'private'],
    ['::8.8.8.8', 'reserved'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:8.8.8.8', 'reserved'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a9fe:a9fe::', 'metadata'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'reserved'],
  ]);
});

test('anything that is not an IP address is never public', () => {
  for (const notIp of [
    '',
    'localhost',
    'example.com',
    '[::1]',
    ' 127.0.0.1',
    '127.0.0.1 ',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '0177.0.0.1',
    '01.2.3.4',
    '1.2.3.4.5',
    '256.0.0.1',
    '::1::',
    ':::',
    'gggg::1',
    '1.2.3.4/32',
    '127.0.0.1:80',
  ]) {
    assert.equal(classifyAddress(notIp), 'reserved', JSON.stringify(notIp));
  }
});

test('property: random IPv4 agrees with a BlockList oracle, and so do its IPv6 spellings', () => {
  const nonPublic = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
    ['168.63.129.16', 32],
  ] as const)
    nonPublic.addSubnet(net, prefix, 'ipv4');
  const random = seededRandom(1918);
  // Half uniform, half near the interesting ranges, so the edges get exercised.
  const hotFirstOctets = [0, 9, 10, 11, 100, 126, 127, 128, 168, 169, 172, 192, 198, 203, 223, 224, 239, 240, 255];
  for (let i = 0; i < 50_000; i += 1) {
    const first =
      i % 2 === 0 ? Math.floor(random() * 256) : hotFirstOctets[Math.floor(random() * hotFirstOctets.length)]!;
    const octets = [first, Math.floor(random() * 256), Math.floor(random() * 256), Math.floor(random() * 256)];
    const ip = octets.join('.');
    const cls = classifyAddress(ip);
    if ((cls === 'public') !== !nonPublic.check(ip, 'ipv4')) assert.fail(`${ip}: ${cls}`);
    const hex = `${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
    for (const spelling of [
      `::ffff:${ip}`,
      `::ffff:${hex}`,
      `0:0:0:0:0:ffff:${hex}`,
      `64:ff9b::${ip}`,
      `64:ff9b::${hex}`,
    ]) {
      if (classifyAddress(spelling) !== cls)
        assert.fail(`${spelling}: ${classifyAddress(spelling)}, expected ${cls} like ${ip}`);
    }
  }
});

test('property: random global unicast IPv6 is public unless in a special range', () => {
  const special = new BlockList();
  special.addSubnet('2001::', 23, 'ipv6');
  special.addSubnet('2001:db8::', 32, 'ipv6');
  special.addSubnet('2002::', 16, 'ipv6');
  special.addSubnet('3fff::', 20, 'ipv6');
  const random = seededRandom(4291);
  const word = () => Math.floor(random() * 0x10000);
  for (let i = 0; i < 20_000; i += 1) {
    const words = Array.from({ length: 8 }, word);
    words[0] = (i % 2 === 0 ? 0x2000 | (words[0]! & 0x1fff) : [0x2001, 0x2002, 0x3fff][i % 3]! | 0) >>> 0;
    const ip = words.map((w) => w.toString(16)).join(':');
    const cls = classifyAddress(ip);
    if (special.check(ip, 'ipv6') ? cls === 'public' : cls !== 'public') assert.fail(`${ip}: ${cls}`);
  }
  // Outside 2000::/3 nothing is public.
  for (let i = 0; i < 20_000; i += 1) {
    const words = Array.from({ length: 8 }, word);
    if ((words[0]! & 0xe000) === 0x2000) words[0] = words[0]! ^ 0x8000;
    const ip = words.map((w) => w.toString(16)).join(':');
    if (classifyAddress(ip) === 'public') assert.fail(ip);
  }
});
