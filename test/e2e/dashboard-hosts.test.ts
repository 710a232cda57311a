// Issue 16 §4: the dashboard answers only at its configured public host names (by default the
// public URL's, plus localhost in test mode); any other Host gets 421 before anything is rendered.
// The API and webhooks answer whatever the Host. On real sockets (node:http, which lets a test
// send any Host header).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

function get(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const [sqlite] = await testDialects();

describe('the dashboard answers only at its own host names', () => {
  let gw: TestGateway;
  let configured: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, { env: { PAYWARDEN_PUBLIC_URL: 'https://pay.merchant.example' } });
    configured = await startTestGateway(sqlite!, {
      env: {
        PAYWARDEN_PUBLIC_URL: 'https://pay.merchant.example',
        PAYWARDEN_DASHBOARD_HOSTS: 'dash.merchant.example:8443',
      },
    });
  });
  after(async () => {
    await gw?.close();
    await configured?.close();
  });

  test('another Host: 421, plain text, nothing rendered, no cookie', async () => {
    for (const host of ['evil.example', 'pay.merchant.example.evil.example', `evil.example:${new URL(gw.url).port}`]) {
      const answer = await get(gw.url, '/dashboard/login', { host });
      assert.equal(answer.status, 421, host);
      assert.match(String(answer.headers['content-type']), /^text\/plain/);
      assert.ok(!answer.body.includes('<'), 'no page');
      assert.match(answer.body, /not served at this host name/);
      assert.equal(answer.headers['set-cookie'], undefined);
    }
    assert.equal((await get(gw.url, '/dashboard', { host: 'evil.example' })).status, 421, 'not even a redirect');
  });

  test('the public URL host, with or without a port, and localhost in test mode: the page', async () => {
    for (const host of ['pay.merchant.example', 'PAY.merchant.example:8443', `127.0.0.1:${new URL(gw.url).port}`]) {
      const answer = await get(gw.url, '/dashboard/login', { host });
      assert.equal(answer.status, 200, host);
      assert.match(answer.body, /<form/);
    }
  });

  test('configured hosts replace the default; a configured port is required', async () => {
    assert.equal((await get(configured.url, '/dashboard/login', { host: 'dash.merchant.example:8443' })).status, 200);
    assert.equal((await get(configured.url, '/dashboard/login', { host: 'dash.merchant.example:9000' })).status, 421);
    assert.equal((await get(configured.url, '/dashboard/login', { host: 'pay.merchant.example' })).status, 421);
  });

  test('the API, health and webhooks are unaffected by the Host', async () => {
    const api = await get(gw.url, '/v1/payments', { host: 'evil.example', authorization: `Bearer ${gw.key}` });
    assert.equal(api.status, 200);
    assert.equal((await get(gw.url, '/healthz', { host: 'evil.example' })).status, 200);
    const webhook = await get(gw.url, '/webhooks/flutterwave', { host: 'evil.example' });
    assert.notEqual(webhook.status, 421);
  });
});
