// The /v1 key guards over real HTTP on both databases: signed requests (good, bad, stale, replayed,
// replayed on another gateway process sharing the database), expired vs revoked, a secret key from
// a browser, and per-key address allowlists (IPv4, IPv6, behind a trusted proxy).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { signRequest } from '../../src/keys/request-signing.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const payment = (reference: string) => ({
  amount: 150000,
  currency: 'NGN',
  reference,
  customer: { email: 'ada@example.com' },
  redirect_url: 'https://merchant.example/r',
});

async function signedFetch(
  url: string,
  signer: { key: string; secret: string; nowSeconds: number },
  method: string,
  pathWithQuery: string,
  options: { body?: string; timestamp?: number; tamperBody?: string; headers?: Record<string, string> } = {},
) {
  const timestamp = String(options.timestamp ?? signer.nowSeconds);
  const body = options.body ?? '';
  const signature = signRequest(signer.secret, { timestamp, method, pathWithQuery, body });
  const headers = {
    'x-api-key': signer.key,
    'x-timestamp': timestamp,
    'x-signature': signature,
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
    ...options.headers,
  };
  const send = async (target: string) => {
    const response = await fetch(`${target}${pathWithQuery}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: options.tamperBody ?? body }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return { first: await send(url), again: send };
}

for (const dialect of await testDialects()) {
  describe(`API key guards over HTTP on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let second: TestGateway | undefined;
    before(async () => {
      gw = await startTestGateway(dialect, { clock, env: { PAYWARDEN_TRUSTED_PROXY: '127.0.0.1,::1' } });
      // A second gateway process on the same PostgreSQL schema (SQLite serves one process only).
      if (dialect.name !== 'postgres') return;
      second = await startTestGateway(dialect, {
        clock,
        env: {
          PAYWARDEN_DATABASE_URL: gw.services.config.databaseUrl,
          PAYWARDEN_MASTER_KEY: gw.services.config.masterKey.reveal(),
        },
      });
    });
    after(async () => {
      await second?.close();
      await gw.close();
    });
    const nowSeconds = () => Math.floor(clock.nowMs() / 1000);
    const signingKey = async () => {
      const created = await gw.services.keys.create({
        mode: 'test',
        name: 'signer',
        signed: true,
        scopes: ['payments:read', 'payments:write'],
      });
      return { key: created.key, secret: created.signingSecret ?? '', nowSeconds: nowSeconds() };
    };

    test('a signed GET and POST go through; the POST body is signed byte for byte', async () => {
      const signer = await signingKey();
      const read = await signedFetch(gw.url, signer, 'GET', '/v1/payments?limit=1');
      assert.equal(read.first.status, 200, JSON.stringify(read.first.body));
      const body = JSON.stringify(payment(`signed-${randomUUID()}`));
      const created = await signedFetch(gw.url, signer, 'POST', '/v1/payments', { body });
      assert.equal(created.first.status, 201, JSON.stringify(created.first.body));
    });

    test('a signing key without a signature, with a wrong one, a changed body, path or query, is refused', async () => {
      const signer = await signingKey();
      const unsigned = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${signer.key}` } });
      assert.equal(unsigned.status, 401);
      assert.equal(((await unsigned.json()) as any).error.code, 'signature_required');
      const wrong = await signedFetch(gw.url, { ...signer, secret: 'whsk_wrong' }, 'GET', '/v1/payments');
      assert.equal(wrong.first.body.error.code, 'signature_invalid');
      const body = JSON.stringify(payment(`tamper-${randomUUID()}`));
      const tampered = await signedFetch(gw.url, signer, 'POST', '/v1/payments', {
        body,
        tamperBody: body.replace('150000', '150001'),
      });
      assert.equal(tampered.first.status, 401);
      assert.equal(tampered.first.body.error.code, 'signature_invalid');
      // Signed for one query, sent with another.
      const timestamp = String(nowSeconds());
      const signature = signRequest(signer.secret, {
        timestamp,
        method: 'GET',
        pathWithQuery: '/v1/payments?limit=1',
        body: '',
      });
      const moved = await fetch(`${gw.url}/v1/payments?limit=100`, {
        headers: { 'x-api-key': signer.key, 'x-timestamp': timestamp, 'x-signature': signature },
      });
      assert.equal(((await moved.json()) as any).error.code, 'signature_invalid');
      const unsignedKeySigning = await signedFetch(gw.url, { ...signer, key: gw.key }, 'GET', '/v1/payments');
      assert.equal(unsignedKeySigning.first.body.error.code, 'signature_invalid', 'a key without a secret sends none');
      const refusals = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(refusals, /paywarden_api_signature_refusals_total\{reason="signature_invalid"\} [1-9]/);
    });

    test('a signature more than 300 s old or ahead is stale; within the window it passes', async () => {
      const signer = await signingKey();
      for (const offset of [-301, 301]) {
        const stale = await signedFetch(gw.url, signer, 'GET', '/v1/payments', { timestamp: nowSeconds() + offset });
        assert.equal(stale.first.status, 401);
        assert.equal(stale.first.body.error.code, 'signature_expired');
      }
      const edge = await signedFetch(gw.url, signer, 'GET', '/v1/payments', { timestamp: nowSeconds() - 299 });
      assert.equal(edge.first.status, 200);
    });

    test('a signature is accepted once: replayed on the same process or on another one sharing the database', async () => {
      const signer = await signingKey();
      const once = await signedFetch(gw.url, signer, 'GET', '/v1/payments?limit=2');
      assert.equal(once.first.status, 200);
      const replayed = await once.again(gw.url);
      assert.equal(replayed.status, 401);
      assert.equal(replayed.body.error.code, 'signature_replayed');
      if (second === undefined) return;
      const elsewhere = await once.again(second.url);
      assert.equal(elsewhere.status, 401, 'the other process knows it was used');
      assert.equal(elsewhere.body.error.code, 'signature_replayed');
      const fresh = await signedFetch(second.url, signer, 'GET', '/v1/payments?limit=3');
      assert.equal(fresh.first.status, 200, 'the other process accepts a new signature');
      assert.equal((await fresh.again(gw.url)).body.error.code, 'signature_replayed', 'and the first one knows');
    });

    test('expired and revoked keys are told apart; a rolled key works for its overlap, then is expired', async () => {
      const get = async (key: string) => {
        const response = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${key}` } });
        return { status: response.status, code: ((await response.json()) as any).error?.code };
      };
      const short = await gw.services.keys.create({ mode: 'test', name: 'short', expiresInDays: 1 });
      const revoked = await gw.services.keys.create({ mode: 'test', name: 'revoked' });
      await gw.services.keys.revoke(revoked.id);
      const rolled = await gw.services.keys.roll(short.id, { overlapSeconds: 600 });
      assert.ok(rolled.ok);
      assert.equal((await get(short.key)).status, 200);
      assert.deepEqual(await get(revoked.key), { status: 401, code: 'api_key_revoked' });
      const start = clock.nowMs();
      try {
        clock.advance(600_000);
        assert.deepEqual(await get(short.key), { status: 401, code: 'api_key_expired' });
        assert.equal((await get(rolled.key)).status, 200);
        assert.deepEqual(await get(`sk_test_${'A'.repeat(48)}`), { status: 401, code: 'api_key_invalid' });
      } finally {
        clock.set(start);
      }
    });

    test('a secret key from a browser (an Origin header) is refused before anything else', async () => {
      const response = await fetch(`${gw.url}/v1/payments`, {
        headers: { authorization: `Bearer ${gw.key}`, origin: 'https://shop.example' },
      });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as any).error.code, 'secret_key_from_browser');
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    });

    test('an allowlisted key works only from its addresses: IPv4, IPv6, and the client behind a trusted proxy', async () => {
      const { key } = await gw.services.keys.create({
        mode: 'test',
        name: 'pinned',
        scopes: ['payments:read'],
        allowedNetworks: ['192.0.2.0/24', '2001:db8:10::/48'],
      });
      const from = async (remoteAddress: string, forwardedFor?: string) => {
        const response = await gw.app.inject({
          method: 'GET',
          url: '/v1/payments',
          remoteAddress,
          headers: {
            authorization: `Bearer ${key}`,
            ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
          },
        });
        return response.statusCode === 200 ? 'ok' : (response.json().error.code as string);
      };
      assert.equal(await from('192.0.2.44'), 'ok');
      assert.equal(await from('::ffff:192.0.2.44'), 'ok', 'an IPv4-mapped address is its IPv4');
      assert.equal(await from('198.51.100.1'), 'address_not_allowed');
      assert.equal(await from('2001:db8:10:ff::1'), 'ok');
      assert.equal(await from('2001:db8:11::1'), 'address_not_allowed');
      // Through the trusted proxy (127.0.0.1, ::1) the forwarded client address counts...
      assert.equal(await from('127.0.0.1', '192.0.2.9'), 'ok');
      assert.equal(await from('::1', '198.51.100.7'), 'address_not_allowed');
      // ...but from anyone else, X-Forwarded-For is ignored.
      assert.equal(await from('198.51.100.1', '192.0.2.9'), 'address_not_allowed');
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /paywarden_api_address_refusals_total\{mode="test"\} [4-9]/);
    });
  });
}
