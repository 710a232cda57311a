// Issue 16 §4 on a real server: duplicate Host headers are refused with 400; one framing policy
// (X-Frame-Options DENY, frame-ancestors 'none') for the API and the dashboard.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();

function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(text));
    socket.once('error', reject);
  });
}

describe('Host headers and framing', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!);
  });
  after(async () => gw.close());

  for (const path of ['/healthz', '/v1/payments', '/dashboard/login']) {
    test(`two Host headers on ${path}: 400`, async () => {
      const answer = await rawRequest(
        gw.url,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.match(answer, /more than one Host header/);
    });
  }

  test('one Host header is served', async () => {
    const answer = await rawRequest(gw.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });

  test('the API and the dashboard send the same framing policy, and no HSTS over plain http', async () => {
    const api = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${gw.key}` } });
    const dashboard = await fetch(`${gw.url}/dashboard/login`);
    for (const res of [api, dashboard]) {
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(res.headers.get('strict-transport-security'), null);
    }
  });
});
