import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHostMatcher, dashboardHosts, parseHost, parseHostList } from './host-allowlist.ts';

test('Host text: name and port, lower-cased, IPv6 in brackets; malformed ones are refused', () => {
  assert.deepEqual(parseHost('Pay.Example.COM:8443'), { hostname: 'pay.example.com', port: '8443' });
  assert.deepEqual(parseHost('pay.example.com.'), { hostname: 'pay.example.com', port: undefined });
  assert.deepEqual(parseHost('[::1]:3000'), { hostname: '[::1]', port: '3000' });
  for (const bad of [
    '',
    'pay example',
    'a@b',
    'pay.example.com:',
    'pay.example.com:99999x',
    '::1',
    'x/y',
    '-a.example',
  ])
    assert.equal(parseHost(bad), undefined, bad);
});

test('the default is the public URL host at any port, plus localhost in test mode only', () => {
  const test = createHostMatcher(
    dashboardHosts({ publicUrl: 'https://pay.example.com', liveEnabled: false, dashboardHosts: undefined }),
  );
  assert.equal(test('pay.example.com'), true);
  assert.equal(test('pay.example.com:8443'), true);
  assert.equal(test('localhost:3000'), true);
  assert.equal(test('127.0.0.1:3000'), true);
  assert.equal(test('[::1]'), true);
  assert.equal(test('evil.example'), false);
  assert.equal(test('pay.example.com.evil.example'), false);
  assert.equal(test(undefined), false);
  assert.equal(test(''), false);
  const live = createHostMatcher(
    dashboardHosts({ publicUrl: 'https://pay.example.com', liveEnabled: true, dashboardHosts: undefined }),
  );
  assert.equal(live('pay.example.com'), true);
  assert.equal(live('localhost'), false, 'no localhost in live mode');
  assert.equal(live('127.0.0.1'), false);
});

test('configured hosts replace the public URL host; an entry with a port allows that port only', () => {
  const problems: string[] = [];
  const hosts = parseHostList('dash.example.com:8443, admin.example.com', problems, 'PAYWARDEN_DASHBOARD_HOSTS');
  assert.deepEqual(problems, []);
  const match = createHostMatcher(
    dashboardHosts({ publicUrl: 'https://pay.example.com', liveEnabled: true, dashboardHosts: hosts }),
  );
  assert.equal(match('dash.example.com:8443'), true);
  assert.equal(match('dash.example.com:9000'), false);
  assert.equal(match('dash.example.com'), false);
  assert.equal(match('admin.example.com:1234'), true);
  assert.equal(match('pay.example.com'), false);
  parseHostList('ok.example, not a host,', problems, 'PAYWARDEN_DASHBOARD_HOSTS');
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /PAYWARDEN_DASHBOARD_HOSTS: "not a host" is not a host name/);
});
