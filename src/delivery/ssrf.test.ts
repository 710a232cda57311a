import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request, type Agent } from 'undici';
import { parseCidrList } from '../net/addresses.ts';
import {
  checkDeliveryUrl,
  createGuardedDispatcher,
  createGuardedLookup,
  describeRefusal,
  isAddressAllowed,
  isSsrfBlocked,
  SsrfBlockedError,
  type DeliveryPolicy,
  type ResolveHost,
} from './ssrf.ts';

const LIVE: DeliveryPolicy = { mode: 'live' };
const TEST: DeliveryPolicy = { mode: 'test' };

function verdict(url: string, policy: DeliveryPolicy): string {
  const result = checkDeliveryUrl(url, policy);
  return result.ok ? 'ok' : result.reason;
}

test('test mode: http, localhost and private networks are fine; metadata endpoints are not', () => {
  for (const url of [
    'http://127.0.0.1:3000/hooks',
    'http://localhost:3000/hooks',
    'http://[::1]:8080/',
    'http://192.168.1.5/hook',
    'http://10.0.0.2:9000/',
    'http://host.docker.internal:4000/',
    'http://receiver/hook',
    'https://merchant.example/hooks',
    'http://merchant.example:22/',
  ]) {
    assert.equal(verdict(url, TEST), 'ok', url);
  }
  for (const url of [
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://2852039166/',
    'http://100.100.100.200/',
  ]) {
    assert.equal(verdict(url, TEST), 'forbidden_address', url);
  }
  assert.equal(verdict('http://user:pass@localhost:3000/', TEST), 'credentials_in_url');
  assert.equal(verdict('ftp://localhost/', TEST), 'invalid_url');
  assert.equal(verdict('http://localhost:0/', TEST), 'port_not_allowed');
});

test('live mode: https to a public host only', () => {
  for (const url of [
    'https://merchant.example/hooks',
    'https://merchant.example:443/h',
    'https://merchant.example:8443/h',
    'https://api.merchant.example./h',
    'https://8.8.8.8/h',
    'https://[2606:4700:4700::1111]/h',
    'https://xn--80ak6aa92e.com/h',
    'https://MERCHANT.example/h?x=1#frag',
  ]) {
    assert.equal(verdict(url, LIVE), 'ok', url);
  }
  const result = checkDeliveryUrl('https://MERCHANT.example:443/a/../hooks', LIVE);
  assert.ok(result.ok && result.url.href === 'https://merchant.example/hooks', 'the normalised URL is what gets used');
  assert.equal(verdict('http://merchant.example/hooks', LIVE), 'https_required');
  assert.equal(verdict('http://127.0.0.1/hooks', LIVE), 'https_required');
  for (const port of [22, 25, 80, 1023, 0])
    assert.equal(verdict(`https://merchant.example:${port}/h`, LIVE), 'port_not_allowed', String(port));
  assert.equal(verdict('https://user:pass@merchant.example/h', LIVE), 'credentials_in_url');
  assert.equal(verdict('https://user@merchant.example/h', LIVE), 'credentials_in_url');
  assert.equal(verdict('https://:pass@merchant.example/h', LIVE), 'credentials_in_url');
  for (const url of [
    'not a url',
    '',
    '/relative/path',
    'ftp://merchant.example/h',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/plain,hi',
    'gopher://merchant.example/',
    'ws://merchant.example/',
    'https://',
    `https://merchant.example/${'a'.repeat(2100)}`,
  ]) {
    assert.equal(verdict(url, LIVE), 'invalid_url', url.slice(0, 40));
  }
});

test('live mode refuses every spelling of a non-public IP literal', () => {
  const forbidden = [
    'https://127.0.0.1/h',
    'https://127.0.0.1:8443/h',
    'https://2130706433/h',
    'https://0x7f.1/h',
    'https://0x7f000001/h',
    'https://017700000001/h',
    'https://0177.0.0.1/h',
    'https://127.1/h',
    'https://0/h',
    'https://0.0.0.0/h',
    'https://[::]/h',
    'https://[::1]/h',
    'https://[0:0:0:0:0:0:0:1]/h',
    'https://[::ffff:127.0.0.1]/h',
    'https://[::ffff:7f00:1]/h',
    'https://[0:0:0:0:0:ffff:7f00:1]/h',
    'https://[64:ff9b::a00:1]/h',
    'https://[::127.0.0.1]/h',
    'https://[2002:7f00:1::1]/h',
    'https://10.0.0.5/h',
    'https://172.16.0.1/h',
    'https://192.168.0.1/h',
    'https://100.64.0.1/h',
    'https://169.254.169.254/latest',
    'https://169.254.1.1/h',
    'https://224.0.0.1/h',
    'https://255.255.255.255/h',
    'https://198.18.0.1/h',
    'https://[fe80::1]/h',
    'https://[fd00::1]/h',
    'https://[ff02::1]/h',
    'https://[2001:db8::1]/h',
    'https://%31%32%37.0.0.1/h',
    'https://127。0。0。1/h',
  ];
  for (const url of forbidden) assert.equal(verdict(url, LIVE), 'forbidden_address', url);
});

test('live mode refuses names that can only be local', () => {
  for (const url of [
    'https://localhost/h',
    'https://LOCALHOST/h',
    'https://localhost./h',
    'https://api.localhost/h',
    'https://db.internal/h',
    'https://metadata.google.internal/h',
    'https://printer.local/h',
    'https://nas.home.arpa/h',
    'https://host.localdomain/h',
    'https://intranet/h',
    'https://redis:6380/h',
  ]) {
    assert.equal(verdict(url, LIVE), 'forbidden_address', url);
  }
});

test('which resolved addresses each mode may connect to', () => {
  assert.equal(isAddressAllowed('93.184.216.34', LIVE), true);
  assert.equal(isAddressAllowed('2606:4700:4700::1111', LIVE), true);
  for (const ip of [
    '127.0.0.1',
    '::1',
    '10.0.0.1',
    '::ffff:10.0.0.1',
    '169.254.169.254',
    '100.64.0.1',
    'fe80::1',
    'not-an-ip',
  ])
    assert.equal(isAddressAllowed(ip, LIVE), false, ip);
  for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1', '93.184.216.34'])
    assert.equal(isAddressAllowed(ip, TEST), true, ip);
  for (const ip of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '168.63.129.16'])
    assert.equal(isAddressAllowed(ip, TEST), false, ip);
});

test('issue 16: all of link-local is refused in every mode, not only the metadata addresses', () => {
  for (const policy of [LIVE, TEST, { mode: 'test', testTargets: 'restricted' } as const])
    for (const ip of ['169.254.0.1', '169.254.1.1', '169.254.255.255', '::ffff:169.254.9.9', 'fe80::1', 'febf::ffff'])
      assert.equal(isAddressAllowed(ip, policy), false, `${ip} ${JSON.stringify(policy)}`);
  assert.equal(verdict('http://169.254.1.1/', TEST), 'forbidden_address');
  assert.equal(verdict('http://[fe80::1]/', TEST), 'forbidden_address');
});

test('issue 16: with live mode enabled, test targets are loopback or the allowlist only', () => {
  const parsed = parseCidrList('10.20.0.0/16, fd12::/16');
  assert.ok(parsed.ok);
  const restricted: DeliveryPolicy = { mode: 'test', testTargets: 'restricted' };
  const allowlisted: DeliveryPolicy = { ...restricted, allowedNetworks: parsed.cidrs };
  for (const ip of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])
    assert.equal(isAddressAllowed(ip, restricted), true, ip);
  for (const ip of ['10.20.0.1', '192.168.1.1', '100.64.0.1', '93.184.216.34', '224.0.0.1', 'fd12::1'])
    assert.equal(isAddressAllowed(ip, restricted), false, ip);
  for (const ip of ['10.20.0.1', '10.20.255.255', '::ffff:10.20.1.1', 'fd12::1'])
    assert.equal(isAddressAllowed(ip, allowlisted), true, ip);
  for (const ip of ['10.21.0.1', '192.168.1.1', '169.254.1.1'])
    assert.equal(isAddressAllowed(ip, allowlisted), false, ip);
  assert.equal(verdict('http://10.0.0.2:9000/', restricted), 'forbidden_address');
  assert.equal(verdict('http://127.0.0.1:3000/', restricted), 'ok');
  // The refusal names the rule that applies in the mode.
  assert.match(describeRefusal('forbidden_address', restricted), /live mode enabled.*loopback/);
  assert.match(describeRefusal('forbidden_address', TEST), /link-local or cloud metadata/);
  assert.match(describeRefusal('forbidden_address', LIVE), /Live-mode endpoints must be public/);
});

// --- the connect-time half ---

const fakeDns =
  (table: Record<string, readonly string[]>): ResolveHost =>
  async (hostname) => {
    const addresses = table[hostname];
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

function lookupOnce(
  policy: DeliveryPolicy,
  resolveHost: ResolveHost,
  hostname: string,
  all: boolean,
): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number | undefined }> {
  return new Promise((resolve) => {
    createGuardedLookup(policy, resolveHost)(hostname, { all }, (error, address, family) =>
      resolve({ error, address, family }),
    );
  });
}

test('the guarded lookup passes public answers through, in both callback shapes', async () => {
  const dns = fakeDns({ 'merchant.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] });
  const all = await lookupOnce(LIVE, dns, 'merchant.example', true);
  assert.equal(all.error, null);
  assert.deepEqual(all.address, [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
  ]);
  const one = await lookupOnce(LIVE, dns, 'merchant.example', false);
  assert.deepEqual([one.error, one.address, one.family], [null, '93.184.216.34', 4]);
});

test('the guarded lookup fails the connection if ANY resolved address is not allowed', async () => {
  const dns = fakeDns({
    mixed: ['93.184.216.34', '10.0.0.7'],
    rebound: ['127.0.0.1'],
    metadata: ['169.254.169.254'],
    mapped: ['::ffff:192.168.0.1'],
    empty: [],
  });
  for (const hostname of ['mixed', 'rebound', 'metadata', 'mapped']) {
    const { error } = await lookupOnce(LIVE, dns, hostname, true);
    assert.ok(error instanceof SsrfBlockedError, hostname);
    assert.equal(error.code, 'ERR_SSRF_BLOCKED');
    assert.equal(error.hostname, hostname);
  }
  const blocked = (await lookupOnce(LIVE, dns, 'mixed', false)).error;
  assert.ok(
    blocked instanceof SsrfBlockedError &&
      blocked.address === '10.0.0.7' &&
      blocked.addressClass === 'private' &&
      /mixed.*10\.0\.0\.7.*private/.test(blocked.message),
  );
  assert.equal((await lookupOnce(TEST, dns, 'rebound', true)).error, null, 'test mode may reach loopback');
  assert.ok((await lookupOnce(TEST, dns, 'metadata', true)).error instanceof SsrfBlockedError, 'but never metadata');
  assert.equal((await lookupOnce(LIVE, dns, 'empty', true)).error?.code, 'ENOTFOUND');
  assert.equal(
    (await lookupOnce(LIVE, dns, 'unknown.example', true)).error?.code,
    'ENOTFOUND',
    'resolver errors pass through',
  );
});

async function withServer(run: (port: number, hits: () => number) => Promise<void>): Promise<void> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port, () => hits);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function refused(url: string, dispatcher: Agent): Promise<void> {
  await assert.rejects(request(url, { dispatcher }), (error: unknown) => {
    assert.ok(isSsrfBlocked(error), `expected an SSRF refusal, got ${String(error)}`);
    return true;
  });
}

test('live dispatcher: a name resolving to loopback is refused before any byte reaches the server', async () => {
  const live = createGuardedDispatcher(LIVE);
  const test = createGuardedDispatcher(TEST);
  try {
    await withServer(async (port, hits) => {
      await refused(`http://localhost:${port}/`, live);
      assert.equal(hits(), 0);
      const allowed = await request(`http://localhost:${port}/`, { dispatcher: test });
      assert.equal(allowed.statusCode, 200);
      assert.equal(await allowed.body.text(), 'ok');
      assert.equal(hits(), 1);
    });
  } finally {
    await Promise.all([live.close(), test.close()]);
  }
});

test('live dispatcher: IP literals, which never reach lookup, are refused by the connector', async () => {
  const live = createGuardedDispatcher(LIVE);
  try {
    await withServer(async (port, hits) => {
      for (const host of ['127.0.0.1', '[::1]', '2130706433', '[::ffff:127.0.0.1]'])
        await refused(`http://${host}:${port}/`, live);
      assert.equal(hits(), 0);
    });
  } finally {
    await live.close();
  }
});

test('the dispatcher resolves through the guarded lookup: DNS rebinding to loopback is caught at connect time', async () => {
  // A name that was public when the endpoint was saved and now answers 127.0.0.1 (plus a public decoy).
  const dns = fakeDns({ 'merchant.example': ['93.184.216.34', '127.0.0.1'], 'rebound.example': ['127.0.0.1'] });
  const live = createGuardedDispatcher(LIVE, { resolveHost: dns });
  const test = createGuardedDispatcher(TEST, { resolveHost: dns });
  try {
    await withServer(async (port, hits) => {
      assert.equal(verdict(`https://rebound.example:${port}/`, LIVE), 'ok', 'the URL alone looks fine');
      await refused(`http://merchant.example:${port}/`, live);
      await refused(`http://rebound.example:${port}/`, live);
      assert.equal(hits(), 0);
      // The same fake DNS in test mode connects: proof the dispatcher really uses our lookup.
      const allowed = await request(`http://rebound.example:${port}/`, { dispatcher: test });
      assert.equal(allowed.statusCode, 200);
      await allowed.body.text();
      assert.equal(hits(), 1);
    });
  } finally {
    await Promise.all([live.close(), test.close()]);
  }
});

test('isSsrfBlocked looks through cause chains and nothing else', () => {
  const blocked = new SsrfBlockedError('h', '127.0.0.1');
  assert.equal(isSsrfBlocked(blocked), true);
  assert.equal(isSsrfBlocked(new Error('wrapped', { cause: new Error('again', { cause: blocked }) })), true);
  assert.equal(isSsrfBlocked(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), false);
  assert.equal(isSsrfBlocked({ code: 'ERR_SSRF_BLOCKED' }), false, 'only real errors');
  assert.equal(isSsrfBlocked(undefined), false);
});
