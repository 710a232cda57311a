// Crash safety, run by CI (`npm run test:crash`). A real gateway process (SQLite, full durability)
// receives at least 2,000 signed Flutterwave webhooks while this script kills it with SIGKILL at
// random moments and restarts it. Afterwards:
//   - every webhook that got a 200 is stored exactly once;
//   - every payment reached its final state exactly once (one transition, one event);
//   - every merchant event was delivered at least once, always with the same webhook-id.
// Like a real provider, the sender retries a webhook until it gets a 200.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';
import { startFlutterwaveSimulator } from '../../src/simulators/flutterwave/simulator.ts';
import { freePort, sleep } from '../cluster/processes.ts';
import { onlyWebhookId, prepareDatabase, restartableGateway, startMerchantEndpoint, verdict } from './harness.ts';

const PAYMENTS = Number(process.env.CRASH_PAYMENTS ?? 500);
const COPIES = Number(process.env.CRASH_COPIES ?? 4);
const CONCURRENCY = 16;
const MIN_KILLS = Number(process.env.CRASH_MIN_KILLS ?? 10);

const log = (line: string) => console.log(`[crash] ${line}`);

const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-crash-'));
const secretKey = `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;
const secretHash = randomBytes(24).toString('base64url');
const port = await freePort();
const gatewayUrl = `http://127.0.0.1:${port}`;

// The merchant's app: records every delivery by webhook-id.
const merchant = await startMerchantEndpoint((event: { data: { object: { id: string } } }) => event.data.object.id);
const { deliveries } = merchant;
const merchantUrl = merchant.url;

// The simulator lives in this process so it survives the gateway's deaths; webhooks are sent by
// this script, so the simulator itself sends none.
const simulator = await startFlutterwaveSimulator({ secretKey, secretHash, host: '127.0.0.1', port: 0 });
const env = {
  ...process.env,
  PAYWARDEN_DATA_DIR: dataDir,
  PAYWARDEN_PORT: String(port),
  PAYWARDEN_LOG_LEVEL: 'warn',
  PAYWARDEN_JOB_LEASE_SECONDS: '3',
  // The long run creates thousands of payments and verifies each: the test-mode outbound budget
  // (COL-3) is not what this run is about, and at its default the creations stop at 429.
  PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '1000000',
  // The other providers' local simulators on free ports: a fixed 4010+ collides with whatever
  // else runs on the machine, and the gateway then cannot restart.
  PAYWARDEN_SIMULATOR_PORT: '0',
  FLUTTERWAVE_TEST_BASE_URL: simulator.url,
  FLUTTERWAVE_TEST_SECRET_KEY: secretKey,
  FLUTTERWAVE_TEST_SECRET_HASH: secretHash,
};
const config = loadConfig(env);
const apiKey = await prepareDatabase(config, { name: 'crash' });
// Up to 60 s for a start: on a 2-core machine shared by other runs a start can take more than 5.
const gateway = restartableGateway(env, port);

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
};

let exitCode = 1;
try {
  await gateway.start();
  await api('POST', '/v1/webhook_endpoints', { url: merchantUrl, events: ['payment.*'] });
  log(`creating ${PAYMENTS} payments`);
  await fetch(`${simulator.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault: 'no_webhook', times: 0 }),
  });
  const webhooks: Array<{ key: string; body: string }> = [];
  const paymentIds: string[] = [];
  for (let i = 0; i < PAYMENTS; i += 1) {
    const payment = await api('POST', '/v1/payments', {
      amount: 10_000 + i,
      currency: 'NGN',
      reference: `crash-${i}`,
      customer: { email: 'crash@example.com' },
      redirect_url: 'https://merchant.example/r',
    });
    paymentIds.push(String(payment.id));
    const completed = await fetch(`${simulator.url}/_sim/transactions/${payment.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'successful' }),
    });
    const tx = (await completed.json()) as { id: number };
    const body = JSON.stringify({
      event: 'charge.completed',
      data: { id: tx.id, tx_ref: payment.id, amount: (10_000 + i) / 100, currency: 'NGN', status: 'successful' },
      'event.type': 'CARD_TRANSACTION',
    });
    for (let c = 0; c < COPIES; c += 1)
      webhooks.push({ key: `flutterwave:${tx.id}:charge.completed:successful`, body });
  }
  webhooks.sort(() => Math.random() - 0.5);
  log(`sending ${webhooks.length} webhooks while killing the gateway at random moments`);

  const acknowledged = new Set<string>();
  let sending = true;
  const killer = (async () => {
    while (sending || gateway.kills() < MIN_KILLS) {
      await sleep(100 + Math.random() * 600);
      await gateway.kill();
      await gateway.start();
    }
  })();
  let next = 0;
  let attempts = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < webhooks.length) {
        const webhook = webhooks[next++]!;
        for (;;) {
          attempts += 1;
          try {
            const res = await fetch(`${gatewayUrl}/webhooks/flutterwave`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'flutterwave-signature': flutterwaveSignature(webhook.body, secretHash),
                'verif-hash': secretHash,
              },
              body: webhook.body,
            });
            if (res.status === 200) {
              acknowledged.add(webhook.key);
              break;
            }
          } catch {
            // connection refused or reset mid-request: the provider would retry, and so do we
          }
          await sleep(20);
        }
      }
    }),
  );
  sending = false;
  await killer;
  log(`${webhooks.length} webhooks acknowledged after ${attempts} attempts; ${gateway.kills()} SIGKILLs`);

  // Let the last gateway finish its work, unharmed.
  const verifyDb = openDatabase(config.databaseUrl);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const pending = await verifyDb.db.selectFrom('payments').select('id').where('status', '!=', 'succeeded').execute();
    const undelivered = await verifyDb.db
      .selectFrom('deliveries')
      .select('id')
      .where('status', '!=', 'succeeded')
      .execute();
    const delivered = paymentIds.filter((id) => deliveries.has(id)).length;
    if (pending.length === 0 && undelivered.length === 0 && delivered === paymentIds.length) break;
    if (Date.now() > deadline)
      throw new Error(
        `not quiescent: ${pending.length} payments not succeeded, ${undelivered.length} deliveries open, ${delivered}/${paymentIds.length} delivered`,
      );
    await sleep(250);
  }

  const failures: string[] = [];
  const stored = await verifyDb.db.selectFrom('provider_webhooks').select(['dedupe_key']).execute();
  const storedCount = new Map<string, number>();
  for (const row of stored) storedCount.set(row.dedupe_key, (storedCount.get(row.dedupe_key) ?? 0) + 1);
  for (const key of acknowledged)
    if (storedCount.get(key) !== 1)
      failures.push(`webhook ${key} acknowledged but stored ${storedCount.get(key) ?? 0} times`);

  const events = await verifyDb.db.selectFrom('events').select(['id', 'object_id', 'type']).execute();
  const transitions = await verifyDb.db
    .selectFrom('audit_log')
    .select(['object_id'])
    .where('action', 'like', 'payment.transition.%')
    .execute();
  for (const id of paymentIds) {
    const mine = events.filter((e) => e.object_id === id);
    if (mine.length !== 1 || mine[0]?.type !== 'payment.succeeded')
      failures.push(`payment ${id} has events ${JSON.stringify(mine.map((e) => e.type))}`);
    const moved = transitions.filter((t) => t.object_id === id).length;
    if (moved !== 1) failures.push(`payment ${id} transitioned ${moved} times`);
    const seen = deliveries.get(id) ?? [];
    if (!onlyWebhookId(seen, mine[0]?.id))
      failures.push(`payment ${id}: merchant saw webhook-ids ${JSON.stringify(seen)}, event ${mine[0]?.id}`);
  }
  await verifyDb.close();
  if (gateway.kills() < MIN_KILLS) failures.push(`only ${gateway.kills()} kills happened`);
  exitCode = verdict(
    'crash',
    failures,
    () =>
      `ok: ${acknowledged.size} unique webhooks stored once each, ${paymentIds.length} payments final once, every event delivered with one webhook-id, across ${gateway.kills()} SIGKILLs`,
  );
} catch (error) {
  console.error('[crash] error', error);
} finally {
  await gateway.kill().catch(() => undefined);
  await simulator.close();
  merchant.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
