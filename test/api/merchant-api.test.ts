// The merchant API's edges: authentication, idempotency, strict schemas, error shape. Bad input
// gets a clear error with a stable code and a request id, and loses nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const validPayment = (reference: string) => ({
  amount: 5000,
  currency: 'NGN',
  reference,
  customer: { email: 'ada@example.com' },
  redirect_url: 'https://merchant.example/r',
});

for (const dialect of await testDialects()) {
  describe(`merchant API edges on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway(dialect);
    });
    after(async () => gw.close());

    const inject = (
      method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'TRACE' | 'PATCH',
      url: string,
      options: { body?: unknown; headers?: Record<string, string>; key?: string | null } = {},
    ) =>
      gw.app.inject({
        method,
        url,
        headers: {
          ...(options.key === null ? {} : { authorization: `Bearer ${options.key ?? gw.key}` }),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined
          ? {}
          : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
      });

    const expectError = (
      res: { statusCode: number; json(): any; headers: Record<string, unknown> },
      status: number,
      code: string,
      param?: string,
    ) => {
      assert.equal(res.statusCode, status, JSON.stringify(res.json()));
      const body = res.json();
      assert.equal(body.error.code, code);
      assert.match(body.error.request_id, /^req_/);
      assert.equal(body.error.request_id, res.headers['request-id']);
      if (param !== undefined) assert.equal(body.error.param, param);
      assert.ok(
        !JSON.stringify(body).match(/at \w+ \(|node_modules|SELECT|sqlite|stack/i),
        'no internals in the error',
      );
    };

    test('no key, a malformed key, a wrong key: 401 with the catalogue code', async () => {
      expectError(await inject('GET', '/v1/payments', { key: null }), 401, 'api_key_missing');
      expectError(await inject('GET', '/v1/payments', { key: 'sk_test_short' }), 401, 'api_key_invalid');
      expectError(await inject('GET', '/v1/payments', { key: `sk_test_${'A'.repeat(48)}` }), 401, 'api_key_invalid');
    });

    test('a live key is refused while live mode is not enabled', async () => {
      const { key } = await gw.services.keys.create({ mode: 'live', name: 'live' });
      expectError(await inject('GET', '/v1/payments', { key }), 403, 'mode_not_enabled');
    });

    test('test and live data never mix: another mode cannot see a payment', async () => {
      const created = await inject('POST', '/v1/payments', {
        body: validPayment('mode-1'),
        headers: { 'idempotency-key': randomUUID() },
      });
      assert.equal(created.statusCode, 201);
      const row = await gw.services.payments.get('live', created.json().id);
      assert.equal(row, undefined);
    });

    test('Idempotency-Key: required, replayed, refused with another body', async () => {
      expectError(
        await inject('POST', '/v1/payments', { body: validPayment('idem-0') }),
        400,
        'idempotency_key_missing',
      );
      expectError(
        await inject('POST', '/v1/payments', {
          body: validPayment('idem-0'),
          headers: { 'idempotency-key': 'has space' },
        }),
        400,
        'idempotency_key_invalid',
      );
      const key = randomUUID();
      const first = await inject('POST', '/v1/payments', {
        body: validPayment('idem-1'),
        headers: { 'idempotency-key': key },
      });
      assert.equal(first.statusCode, 201);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const second = await inject('POST', '/v1/payments', {
        body: validPayment('idem-1'),
        headers: { 'idempotency-key': key },
      });
      assert.equal(second.statusCode, 201);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.deepEqual(second.json(), first.json());
      const count = await gw.services.database.db
        .selectFrom('payments')
        .select('id')
        .where('reference', '=', 'idem-1')
        .execute();
      assert.equal(count.length, 1, 'the replay created nothing');
      expectError(
        await inject('POST', '/v1/payments', { body: validPayment('idem-2'), headers: { 'idempotency-key': key } }),
        422,
        'idempotency_key_reused',
      );
    });

    test('Idempotency-Key is scoped to the API key', async () => {
      const other = await gw.services.keys.create({ mode: 'test', name: 'other' });
      const key = randomUUID();
      assert.equal(
        (await inject('POST', '/v1/payments', { body: validPayment('scope-1'), headers: { 'idempotency-key': key } }))
          .statusCode,
        201,
      );
      const res = await inject('POST', '/v1/payments', {
        body: validPayment('scope-2'),
        headers: { 'idempotency-key': key },
        key: other.key,
      });
      assert.equal(res.statusCode, 201);
      assert.equal(res.headers['idempotent-replayed'], undefined);
    });

    test('a 5xx answer is not stored: the same key runs again once the provider is back', async () => {
      const key = randomUUID();
      await gw.sim('POST', '/_sim/faults', { fault: 'http_503', times: 1 });
      const failed = await inject('POST', '/v1/payments', {
        body: validPayment('idem-5xx'),
        headers: { 'idempotency-key': key },
      });
      assert.equal(failed.statusCode, 502);
      const retried = await inject('POST', '/v1/payments', {
        body: validPayment('idem-5xx'),
        headers: { 'idempotency-key': key },
      });
      assert.equal(retried.statusCode, 201, retried.body);
      assert.equal(retried.headers['idempotent-replayed'], undefined);
    });

    test('a request still in flight with the same key gets 409', async () => {
      const key = randomUUID();
      const apiKeyId = gw.keyId;
      await gw.services.idempotency.claim(apiKeyId, key, 'some-hash-of-a-request');
      // Same key, same request: the earlier one has not answered yet.
      const body = validPayment('inflight-1');
      const { requestHash } = await import('../../src/idempotency/idempotency.ts');
      await gw.services.database.db
        .updateTable('idempotency_keys')
        .set({ request_hash: requestHash('POST', '/v1/payments', body) })
        .where('idem_key', '=', key)
        .execute();
      expectError(
        await inject('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } }),
        409,
        'idempotency_key_in_flight',
      );
    });

    const bad: Array<[string, unknown, number, string, string?]> = [
      ['amount as a float', { ...validPayment('b1'), amount: 10.5 }, 422, 'parameter_invalid', 'amount'],
      ['amount as a string', { ...validPayment('b2'), amount: '5000' }, 422, 'parameter_invalid', 'amount'],
      ['amount zero', { ...validPayment('b3'), amount: 0 }, 422, 'parameter_invalid', 'amount'],
      ['negative amount', { ...validPayment('b4'), amount: -5 }, 422, 'parameter_invalid', 'amount'],
      ['lowercase currency', { ...validPayment('b5'), currency: 'ngn' }, 422, 'parameter_invalid', 'currency'],
      ['unknown currency', { ...validPayment('b6'), currency: 'ABC' }, 422, 'parameter_invalid', 'currency'],
      [
        'currency no provider takes',
        { ...validPayment('b7'), currency: 'CHF' },
        422,
        'currency_not_supported',
        'currency',
      ],
      [
        'reference with forbidden characters',
        { ...validPayment('b8'), reference: 'order 1; drop' },
        422,
        'parameter_invalid',
        'reference',
      ],
      [
        'reference too long',
        { ...validPayment('b9'), reference: 'x'.repeat(101) },
        422,
        'parameter_invalid',
        'reference',
      ],
      ['missing customer email', { ...validPayment('b10'), customer: {} }, 422, 'parameter_missing', 'customer.email'],
      [
        'invalid email',
        { ...validPayment('b11'), customer: { email: 'not-an-email' } },
        422,
        'parameter_invalid',
        'customer.email',
      ],
      [
        'customer name with markup',
        { ...validPayment('b12'), customer: { email: 'a@b.co', name: '<script>alert(1)</script>' } },
        422,
        'parameter_invalid',
        'customer.name',
      ],
      ['unknown top-level field', { ...validPayment('b13'), amout: 5 }, 422, 'parameter_unknown', 'amout'],
      [
        'unknown nested field',
        { ...validPayment('b14'), customer: { email: 'a@b.co', ssn: '1' } },
        422,
        'parameter_unknown',
        'customer.ssn',
      ],
      [
        '21 metadata pairs',
        { ...validPayment('b15'), metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) },
        422,
        'parameter_invalid',
        'metadata',
      ],
      [
        'non-string metadata value',
        { ...validPayment('b16'), metadata: { a: 1 } },
        422,
        'parameter_invalid',
        'metadata.a',
      ],
      [
        'javascript: redirect',
        { ...validPayment('b17'), redirect_url: 'javascript:alert(1)' },
        422,
        'parameter_invalid',
        'redirect_url',
      ],
      [
        'missing amount',
        { currency: 'NGN', reference: 'b18', customer: { email: 'a@b.co' }, redirect_url: 'https://m.example' },
        422,
        'parameter_missing',
        'amount',
      ],
    ];
    for (const [name, body, status, code, param] of bad) {
      test(`refused: ${name}`, async () => {
        expectError(
          await inject('POST', '/v1/payments', { body, headers: { 'idempotency-key': randomUUID() } }),
          status,
          code,
          param,
        );
      });
    }

    test('malformed JSON, wrong content type, oversized body', async () => {
      expectError(
        await inject('POST', '/v1/payments', { body: '{"amount": ', headers: { 'idempotency-key': randomUUID() } }),
        400,
        'invalid_json',
      );
      expectError(
        await inject('POST', '/v1/payments', {
          body: 'amount=1',
          headers: { 'idempotency-key': randomUUID(), 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'unsupported_media_type',
      );
      expectError(
        await inject('POST', '/v1/payments', {
          body: JSON.stringify({ ...validPayment('big'), description: 'x'.repeat(70_000) }),
          headers: { 'idempotency-key': randomUUID() },
        }),
        413,
        'body_too_large',
      );
    });

    test('TRACE and other unused methods are refused; unknown paths are 404 in the same shape', async () => {
      expectError(await inject('TRACE', '/v1/payments'), 405, 'method_not_allowed');
      expectError(await inject('PUT', '/v1/payments'), 405, 'method_not_allowed');
      expectError(await inject('GET', '/v1/nothing-here'), 404, 'not_found');
      expectError(await inject('GET', '/v1/payments/not-an-id'), 422, 'parameter_invalid', 'id');
    });

    test('responses are never cached and carry security headers', async () => {
      const res = await inject('GET', '/v1/payments');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      // HSTS only over TLS (test/e2e/tls.test.ts checks it is there over https).
      assert.equal(res.headers['strict-transport-security'], undefined);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    });

    test('webhook endpoints: secret shown once, rotation keeps the old one 24 h, delete', async () => {
      const created = await inject('POST', '/v1/webhook_endpoints', {
        body: { url: 'http://127.0.0.1:9/hooks', events: ['payment.succeeded'] },
        headers: { 'idempotency-key': randomUUID() },
      });
      assert.equal(created.statusCode, 201);
      const endpoint = created.json();
      assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      const listed = await inject('GET', '/v1/webhook_endpoints');
      assert.ok(!JSON.stringify(listed.json()).includes('whsec_'), 'the list never shows secrets');
      const stored = await gw.services.database.db
        .selectFrom('endpoint_secrets')
        .selectAll()
        .where('endpoint_id', '=', endpoint.id)
        .execute();
      assert.ok(!JSON.stringify(stored).includes(endpoint.secret.slice(6)), 'sealed at rest');
      const rotated = await inject('POST', `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`, {
        headers: { 'idempotency-key': randomUUID() },
      });
      assert.equal(rotated.statusCode, 200, rotated.body);
      assert.notEqual(rotated.json().secret, endpoint.secret);
      const { activeSecrets } = await import('../../src/webhook-endpoints/endpoint-service.ts');
      const { createFieldCipher } = await import('../../src/crypto/encryption.ts');
      const cipher = createFieldCipher(gw.services.config.masterKey);
      const now = Date.now();
      assert.deepEqual(
        (await activeSecrets(gw.services.database.db, cipher, endpoint.id, now)).sort(),
        [endpoint.secret, rotated.json().secret].sort(),
      );
      assert.deepEqual(await activeSecrets(gw.services.database.db, cipher, endpoint.id, now + 24 * 3_600_000 + 1), [
        rotated.json().secret,
      ]);
      const deleted = await inject('DELETE', `/v1/webhook_endpoints/${endpoint.id}`);
      assert.equal(deleted.json().deleted, true);
      expectError(await inject('DELETE', `/v1/webhook_endpoints/${endpoint.id}`), 404, 'not_found');
    });

    test('webhook endpoint input is validated', async () => {
      expectError(
        await inject('POST', '/v1/webhook_endpoints', {
          body: { url: 'ftp://x', events: ['payment.succeeded'] },
          headers: { 'idempotency-key': randomUUID() },
        }),
        422,
        'parameter_invalid',
        'url',
      );
      expectError(
        await inject('POST', '/v1/webhook_endpoints', {
          body: { url: 'https://m.example/h', events: ['payment.refunded'] },
          headers: { 'idempotency-key': randomUUID() },
        }),
        422,
        'parameter_invalid',
      );
      expectError(
        await inject('POST', '/v1/webhook_endpoints', {
          body: { url: 'https://m.example/h', events: [] },
          headers: { 'idempotency-key': randomUUID() },
        }),
        422,
        'parameter_invalid',
        'events',
      );
    });
  });
}
