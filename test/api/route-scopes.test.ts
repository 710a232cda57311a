// API-4: every /v1 route declares the scope it needs, and a key without it is refused. This test
// walks every route the /v1 plugin registers (so a route added tomorrow is walked too) and fails
// on one that declares no scope; then, for each route, a key holding every scope but that one is
// refused with 403 `scope_missing` naming it, and a key holding only that one gets past the check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { v1Deps } from '../../src/app.ts';
import { v1Plugin } from '../../src/api/v1-plugin.ts';
import { installErrorHandling } from '../../src/http/errors-plugin.ts';
import { validatorCompiler } from '../../src/http/validation.ts';
import { PUBLISHABLE_SCOPE, SCOPES, type RouteScope } from '../../src/keys/scopes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { testDialects } from '../helpers/databases.ts';

// The scopes of the routes that existed when scopes were introduced, so that a route cannot
// quietly move to a weaker scope. Routes added later must declare a scope (checked below for
// every route) and should be added here.
const EXPECTED: Record<string, RouteScope> = {
  'POST /v1/payments': 'payments:write',
  'GET /v1/payments': 'payments:read',
  'GET /v1/payments/:id': 'payments:read',
  'POST /v1/webhook_endpoints': 'webhook_endpoints:write',
  'GET /v1/webhook_endpoints': 'webhook_endpoints:read',
  'DELETE /v1/webhook_endpoints/:id': 'webhook_endpoints:write',
  'POST /v1/webhook_endpoints/:id/rotate_secret': 'webhook_endpoints:write',
  'GET /v1/events': 'events:read',
  'GET /v1/events/:id': 'events:read',
  'POST /v1/events/:id/redeliver': 'events:write',
  'GET /v1/banks': 'banks:read',
  'POST /v1/accounts/resolve': 'accounts:resolve',
  'GET /v1/payment_status/:id': PUBLISHABLE_SCOPE,
  'POST /v1/payout_batches': 'payouts:write',
  'GET /v1/payout_batches/:id': 'payouts:read',
};

interface WalkedRoute {
  readonly method: string;
  readonly url: string;
  readonly scope: unknown;
}

async function walkV1(gw: TestGateway, extra?: (v1: FastifyInstance) => void) {
  const routes: WalkedRoute[] = [];
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat())
      routes.push({ method, url: route.url, scope: (route.config as { scope?: unknown } | undefined)?.scope });
  });
  await app.register(
    async (v1) => {
      await v1Plugin(v1, v1Deps(gw.services));
      extra?.(v1);
    },
    { prefix: '/v1' },
  );
  await app.ready();
  return { app, routes };
}

const allRouteScopes = new Set<string>([...SCOPES, PUBLISHABLE_SCOPE]);
const sample = (url: string) => url.replace(/:id/g, 'x_0');

const [sqlite] = await testDialects();
describe('every /v1 route requires its scope', () => {
  let gw: TestGateway;
  let walked: Awaited<ReturnType<typeof walkV1>>;
  before(async () => {
    gw = await startTestGateway(sqlite!);
    walked = await walkV1(gw);
  });
  after(async () => {
    await walked.app.close();
    await gw.close();
  });

  test('each registered route declares a known scope, and the original routes keep theirs', () => {
    assert.ok(walked.routes.length >= Object.keys(EXPECTED).length);
    const undeclared = walked.routes.filter((r) => typeof r.scope !== 'string' || !allRouteScopes.has(r.scope));
    assert.deepEqual(
      undeclared.map((r) => `${r.method} ${r.url}`),
      [],
      'give these routes `config: { scope }` (src/keys/scopes.ts)',
    );
    const declared = new Map(walked.routes.map((r) => [`${r.method} ${r.url}`, r.scope]));
    for (const [route, scope] of Object.entries(EXPECTED)) assert.equal(declared.get(route), scope, route);
  });

  test('a key with every scope but the route one is refused with scope_missing naming it; one with only it passes', async () => {
    const secretRoutes = walked.routes.filter((r) => r.scope !== PUBLISHABLE_SCOPE && r.method !== 'HEAD');
    for (const route of secretRoutes) {
      const scope = route.scope as (typeof SCOPES)[number];
      const without = await gw.services.keys.create({
        mode: 'test',
        name: 'without',
        scopes: SCOPES.filter((s) => s !== scope),
      });
      const only = await gw.services.keys.create({ mode: 'test', name: 'only', scopes: [scope] });
      const send = (key: string) =>
        walked.app.inject({
          method: route.method as 'GET',
          url: sample(route.url),
          headers: { authorization: `Bearer ${key}`, 'idempotency-key': randomUUID() },
          ...(route.method === 'POST' ? { payload: {} } : {}),
        });
      const refused = await send(without.key);
      assert.equal(refused.statusCode, 403, `${route.method} ${route.url}`);
      const error = refused.json().error;
      assert.equal(error.code, 'scope_missing');
      assert.equal(error.type, 'permission_error');
      assert.ok(error.message.includes(`\`${scope}\``), error.message);
      const allowed = await send(only.key);
      assert.notEqual(allowed.json()?.error?.code, 'scope_missing', `${route.method} ${route.url} with ${scope}`);
      assert.notEqual(allowed.statusCode, 401);
    }
  });

  test('the walk catches a route without a scope, and such a route is refused to every key (fail closed)', async () => {
    const withStray = await walkV1(gw, (v1) => v1.get('/stray', async () => ({ leaked: true })));
    try {
      const stray = withStray.routes.filter((r) => r.url === '/v1/stray');
      assert.equal(stray.length, 2, 'GET and its HEAD');
      assert.ok(stray.every((r) => r.scope === undefined));
      const response = await withStray.app.inject({ url: '/v1/stray', headers: { authorization: `Bearer ${gw.key}` } });
      assert.equal(response.statusCode, 500);
      assert.equal(response.json().error.code, 'internal_error');
      assert.ok(!response.body.includes('leaked'));
    } finally {
      await withStray.app.close();
    }
  });

  test('new keys default to the common case: payments, webhook endpoints, events read; never payouts', async () => {
    const created = await gw.services.keys.create({ mode: 'test', name: 'default' });
    const result = await gw.services.keys.authenticate(created.key);
    assert.ok(result.ok);
    assert.deepEqual(
      [...result.principal.scopes],
      ['payments:read', 'payments:write', 'webhook_endpoints:read', 'webhook_endpoints:write', 'events:read'],
    );
    const refused = await gw.api('POST', '/v1/events/evt_0/redeliver', undefined, {
      authorization: `Bearer ${created.key}`,
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'scope_missing');
  });
});
