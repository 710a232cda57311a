// A whole gateway for end-to-end tests: real HTTP server, real database (either dialect), the
// Flutterwave simulator, workers. Tests drive workers with `drain()` unless they ask for them to run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway, type StartOptions } from '../../src/runtime.ts';
import type { Clock } from '../../src/clock.ts';
import type { TestDialect } from './databases.ts';
import { SCOPES } from '../../src/keys/scopes.ts';
import { CONTROLS_OFF, type PayoutControls } from '../../src/payouts/controls/settings.ts';
import { setPayoutControls } from './payout-controls.ts';

/**
 * The environment of a gateway with live mode enabled (its master and audit keys, the trusted
 * proxy, Paystack as the live provider with a generated key); `extra` adds or overrides.
 */
export function liveModeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PAYWARDEN_LIVE_ENABLED: 'true',
    PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_TRUSTED_PROXY: '127.0.0.1',
    PAYWARDEN_LIVE_PROVIDERS: 'paystack',
    PAYSTACK_LIVE_SECRET_KEY: `sk_live_${randomBytes(20).toString('hex')}`,
    ...extra,
  };
}

export interface TestGateway extends Gateway {
  readonly key: string;
  readonly keyId: string;
  readonly dataDir: string;
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** The control API of a provider's simulator (Flutterwave's unless named). */
  sim(method: string, path: string, body?: unknown, provider?: string): Promise<any>;
}

export async function startTestGateway(
  dialect: TestDialect,
  options: {
    clock?: Clock;
    env?: Record<string, string>;
    start?: StartOptions;
    /** The payout rules (PAY-5); off unless a test turns them on (test/e2e/payout-controls*.test.ts). */
    payoutControls?: PayoutControls;
  } = {},
): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-gw-'));
  const db = await dialect.create();
  const config = loadConfig({
    PAYWARDEN_DATA_DIR: dataDir,
    PAYWARDEN_PORT: '0',
    PAYWARDEN_SIMULATOR_PORT: '0',
    PAYWARDEN_DATABASE_URL: db.url,
    PAYWARDEN_LOG_LEVEL: process.env.PAYWARDEN_TEST_LOG_LEVEL ?? 'silent',
    // No shedding on event-loop delay: a test process runs several gateways at once on a busy CI
    // machine, where a second-long stall is the machine, not the gateway (a doctor test got 503s).
    // The tests of shedding itself (test/e2e/slow-clients.test.ts) set their own threshold.
    PAYWARDEN_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...options.env,
  });
  const database = openDatabase(config.databaseUrl, { poolSize: 8 });
  const gateway = await startGateway(config, createLogger(config.logLevel), {
    database,
    runWorkers: false,
    deliveryTimeoutMs: 2_000,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...options.start,
  });
  for (const mode of ['test', 'live'] as const)
    await setPayoutControls(gateway.services.database.db, mode, options.payoutControls ?? CONTROLS_OFF);
  // Every scope: these tests are about the routes, test/api/route-scopes.test.ts about the scopes.
  const { key, id: keyId } = await gateway.services.keys.create({ mode: 'test', name: 'test', scopes: SCOPES });

  return {
    ...gateway,
    key,
    keyId,
    dataDir,
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
    },
    async sim(method, path, body, provider = 'flutterwave') {
      const response = await fetch(`${gateway.simulatorUrls[provider]}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`simulator ${method} ${path} answered ${response.status}: ${text}`);
      return text === '' ? undefined : JSON.parse(text);
    },
    async close() {
      await gateway.close();
      await database.close();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A merchant endpoint: records every delivery; answers with the status the test chooses. */
export async function startReceiver(): Promise<{
  url: string;
  received: Array<{ body: string; headers: Record<string, string | string[] | undefined> }>;
  respondWith(status: number): void;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}> {
  const { createServer } = await import('node:http');
  const received: Array<{ body: string; headers: Record<string, string | string[] | undefined> }> = [];
  let status = 200;
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    respondWith(next) {
      status = next;
    },
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} deliveries, expected ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
