// The OpenAPI description: the committed docs/openapi.json is what the code generates, it is a
// valid OpenAPI 3.1 document (checked by a maintained validator), every /v1 route is described
// with a summary and its success answer, and the answers the gateway really sends match it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { EVENT_TYPES } from '../api/schemas.ts';
import { ERRORS } from '../errors.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { COMMITTED_OPENAPI_PATH, generateOpenApiJson } from './generate.ts';
import { openApiPath, operationIdOf } from './document.ts';

type Json = Record<string, unknown>;
const [sqlite] = await testDialects();

describe('the OpenAPI description', { skip: sqlite?.skip }, () => {
  let generated: string;
  let doc: Json;
  let gw: TestGateway;
  before(async () => {
    generated = await generateOpenApiJson();
    doc = JSON.parse(generated) as Json;
    gw = await startTestGateway(sqlite!);
  });
  after(async () => gw?.close());

  test('docs/openapi.json is what the code generates (run `npm run openapi` after changing a /v1 route)', () => {
    assert.equal(readFileSync(COMMITTED_OPENAPI_PATH, 'utf8'), generated);
  });

  test('it is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.equal(doc.openapi, '3.1.0');
  });

  test('every /v1 route has a summary, its success answer, the key, and POSTs the Idempotency-Key', () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const operations = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ path, m, op })),
    );
    assert.ok(operations.length >= 12, `only ${operations.length} operations described`);
    for (const { path, m, op } of operations) {
      const name = `${m.toUpperCase()} ${path}`;
      assert.equal(typeof op.summary, 'string', `${name} has no summary`);
      const success = Object.entries(op.responses as Record<string, Json>).filter(([s]) => s.startsWith('2'));
      // One, or two where a POST answers 201 for what it created and 200 for what already existed.
      assert.ok(success.length >= 1 && success.length <= 2, `${name} declares no success answer (schema.response)`);
      for (const [status, answer] of success)
        assert.ok(
          (answer.content as Json | undefined)?.['application/json'],
          `${name}: ${status} answer has no schema`,
        );
      assert.deepEqual(op.security, [{ secretKey: [] }]);
      const params = op.parameters as Json[];
      for (const placeholder of path.match(/\{[^}]+\}/g) ?? [])
        assert.ok(
          params.some((p) => `{${String(p.name)}}` === placeholder && p.in === 'path'),
          `${name}: ${placeholder}`,
        );
      if (m === 'post')
        assert.ok(
          params.some((p) => p.$ref === '#/components/parameters/IdempotencyKey'),
          `${name}: Idempotency-Key`,
        );
      for (const status of ['400', '401', '404', '429', '500'])
        assert.ok((op.responses as Json)[status], `${name}: error ${status} not described`);
    }
  });

  test('the error envelope lists every code of the catalogue; every event type is under webhooks', () => {
    const error = ((doc.components as Json).schemas as Record<string, Json>).Error as Json;
    const codes = ((((error.properties as Json).error as Json).properties as Json).code as Json).enum as string[];
    assert.deepEqual([...codes].sort(), Object.keys(ERRORS).sort());
    const webhooks = doc.webhooks as Record<string, { post: Json }>;
    assert.deepEqual(Object.keys(webhooks).sort(), [...EVENT_TYPES].sort());
    for (const hook of Object.values(webhooks)) {
      const headers = (hook.post.parameters as Json[]).map((p) => p.name);
      assert.deepEqual(headers, ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    }
  });

  test('paths and operation ids', () => {
    assert.equal(openApiPath('/v1/payments/:id/cancel'), '/v1/payments/{id}/cancel');
    assert.equal(
      operationIdOf('POST', '/v1/webhook_endpoints/:id/rotate_secret'),
      'postWebhookEndpointsIdRotateSecret',
    );
    const ids = Object.values(doc.paths as Record<string, Record<string, Json>>).flatMap((ops) =>
      Object.values(ops).map((op) => op.operationId),
    );
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  });

  test('answers the gateway really sends validate against the described schemas', async () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const schemaOf = (path: string, method: string, status: string) =>
      (
        ((doc.paths as Record<string, Record<string, Json>>)[path]?.[method]?.responses as Record<string, Json>)[status]
          ?.content as Record<string, { schema: Json }>
      )['application/json']?.schema as Json;
    const created = await gw.api(
      'POST',
      '/v1/payments',
      {
        amount: 150000,
        currency: 'NGN',
        reference: 'openapi-1',
        customer: { email: 'ada@example.com' },
        redirect_url: 'https://shop.example/thanks',
      },
      { 'idempotency-key': 'openapi-1' },
    );
    assert.equal(created.status, 201);
    const check = (schema: Json, body: unknown, what: string) =>
      assert.ok(ajv.validate(schema, body), `${what}: ${ajv.errorsText()}`);
    check(schemaOf('/v1/payments', 'post', '201'), created.body, 'POST /v1/payments');
    const read = await gw.api('GET', `/v1/payments/${created.body.id}`);
    check(schemaOf('/v1/payments/{id}', 'get', '200'), read.body, 'GET /v1/payments/{id}');
    const list = await gw.api('GET', '/v1/payments?limit=5');
    check(schemaOf('/v1/payments', 'get', '200'), list.body, 'GET /v1/payments');
    const endpoint = await gw.api(
      'POST',
      '/v1/webhook_endpoints',
      { url: 'http://127.0.0.1:9/hook', events: ['*'] },
      { 'idempotency-key': 'openapi-2' },
    );
    check(schemaOf('/v1/webhook_endpoints', 'post', '201'), endpoint.body, 'POST /v1/webhook_endpoints');
    assert.match(endpoint.body.secret, /^whsec_/, 'the secret survives serialisation through the schema');
    const errorAnswer = await gw.api('GET', '/v1/payments/pay_0000000000000000000000');
    assert.equal(errorAnswer.status, 404);
    check(((doc.components as Json).schemas as Record<string, Json>).Error as Json, errorAnswer.body, 'error');
  });

  test('served at /v1/openapi.json without a key, and the reference page under the strict CSP', async () => {
    const served = await fetch(`${gw.url}/v1/openapi.json`);
    assert.equal(served.status, 200);
    assert.deepEqual(await served.json(), doc);
    const page = await fetch(`${gw.url}/docs/api`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
    const body = await page.text();
    assert.doesNotMatch(body, /<script|style=/i);
    for (const ops of Object.values(doc.paths as Record<string, Record<string, Json>>))
      for (const op of Object.values(ops))
        assert.ok(body.includes(`id="${String(op.operationId)}"`), String(op.operationId));
  });
});
