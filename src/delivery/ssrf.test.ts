import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { request } from 'undici';
import { checkDeliveryUrl, classifyAddress, createGuardedDispatcher } from './ssrf.ts';

test('address classes, IPv4 and IPv6, including embedded IPv4', () => {
  const cases: Array<[string, string]> = [
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['fd12:3456::1', 'private'], ['64:ff9b::10.0.0.1', 'private'],
    ['172.32.0.1', 'public'], ['169.254.1.1', 'link_local'], ['fe80::1', 'link_local'], ['169.254.169.254', 'metadata'],
    ['100.64.0.1', 'cgnat'], ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'], ['198.18.0.1', 'reserved'], ['2001:db8::1', 'reserved'], ['not-an-ip', 'reserved'],
  ];
  for (const [ip, expected] of cases) assert.equal(classifyAddress(ip), expected, ip);
});

test('URL policy: test mode allows local http; live mode needs https and a public host', () => {
  assert.equal(checkDeliveryUrl('http://127.0.0.1:3000/hooks', { mode: 'test' }).ok, true);
  const live = (url: string) => {
    const result = checkDeliveryUrl(url, { mode: 'live' });
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(live('https://merchant.example/hooks'), 'ok');
  assert.equal(live('http://merchant.example/hooks'), 'https_required');
  for (const forbidden of ['https://127.0.0.1/h', 'https://[::1]/h', 'https://2130706433/h', 'https://0x7f.1/h', 'https://10.0.0.5/h', 'https://169.254.169.254/latest', 'https://[::ffff:127.0.0.1]/h', 'https://localhost/h', 'https://db.internal/h']) {
    assert.equal(live(forbidden), 'forbidden_address', forbidden);
  }
  assert.equal(live('https://user:pass@merchant.example/h'), 'credentials_in_url');
  assert.equal(live('https://merchant.example:22/h'), 'port_not_allowed');
  assert.equal(live('ftp://merchant.example/h'), 'invalid_url');
  assert.equal(live('not a url'), 'invalid_url');
});

test('live dispatcher refuses a hostname resolving to loopback before connecting; test dispatcher allows it', async () => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(request(`http://localhost:${port}/`, { dispatcher: createGuardedDispatcher({ mode: 'live' }) }), (error: Error & { code?: string; cause?: { code?: string } }) => error.code === 'ERR_SSRF_BLOCKED' || error.cause?.code === 'ERR_SSRF_BLOCKED' || /refusing to connect/.test(error.message));
    assert.equal(hits, 0);
    const allowed = await request(`http://localhost:${port}/`, { dispatcher: createGuardedDispatcher({ mode: 'test' }) });
    assert.equal(allowed.statusCode, 200);
    await allowed.body.text();
    assert.equal(hits, 1);
  } finally {
    server.close();
  }
});
