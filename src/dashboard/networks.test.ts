import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetworkCheck, parseNetworks } from './networks.ts';

test('addresses and CIDR ranges of both families are matched; IPv4-mapped IPv6 counts as IPv4', () => {
  const parsed = parseNetworks('10.0.0.0/8, 192.168.1.7, fd00::/8');
  assert.ok(parsed.ok);
  const allowed = createNetworkCheck(parsed.networks);
  assert.equal(allowed('10.20.30.40'), true);
  assert.equal(allowed('::ffff:10.1.2.3'), true);
  assert.equal(allowed('192.168.1.7'), true);
  assert.equal(allowed('192.168.1.8'), false);
  assert.equal(allowed('fd12:3456::1'), true);
  assert.equal(allowed('2001:db8::1'), false);
  assert.equal(allowed('11.0.0.1'), false);
  assert.equal(allowed('not an address'), false);
  assert.equal(createNetworkCheck(undefined)('203.0.113.9'), true, 'unset means anywhere');
});

test('malformed entries are named, not ignored', () => {
  const parsed = parseNetworks('10.0.0.0/33, office, 1.2.3.4/x, ');
  assert.equal(parsed.ok, false);
  assert.deepEqual(!parsed.ok && parsed.problems, [
    '"10.0.0.0/33" is not an IP address or CIDR range',
    '"office" is not an IP address or CIDR range',
    '"1.2.3.4/x" is not an IP address or CIDR range',
  ]);
  assert.equal(parseNetworks(' , ').ok, false);
});
