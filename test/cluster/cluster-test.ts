// Proof of the cluster (`npm run test:cluster`, CI runs it): three gateway processes on one
// PostgreSQL schema (roles api, all, all), sharing a Redis of this script's own, each reaching
// PostgreSQL through a TCP proxy of this script's own. Payments are created through all three
// (retried with the same Idempotency-Key, as a merchant's client does), then signed webhooks,
// every one sent several times to different processes. Meanwhile one `all` process is SIGKILLed
// and restarted again and again, the database connections of every process are cut once, and
// Redis is stopped and started once. Afterwards:
//   - every acknowledged webhook is stored once, and has one job, done;
//   - every payment exists once and reached its final state exactly once (one transition, one event);
//   - every event was delivered, always with the same webhook-id, one delivery row per endpoint;
//   - no job is left queued, running or dead, and the two processes never killed never died;
//   - the audit rows all three wrote (sealed by whichever process held the chain) form one chain
//     per mode that verifies, each payment's creation before its transition (LOG-4).
// Sizes: CLUSTER_PAYMENTS (default 300), CLUSTER_COPIES (3), CLUSTER_MIN_KILLS (5).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { configuredKeyring } from '../../src/audit/deployment.ts';
import { sealAuditLog } from '../../src/audit/sealer.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { createApiKeyService } from '../../src/keys/api-keys.ts';
import { systemClock } from '../../src/clock.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';
import { startFlutterwaveSimulator } from '../../src/simulators/flutterwave/simulator.ts';
import { testDialects } from '../helpers/databases.ts';
import { POSTGRES_URL } from '../helpers/services.ts';
import {
  freePort,
  sleep,
  startGatewayProcess,
  startRedis,
  startTcpProxy,
  throughProxy,
  type GatewayProcess,
} from './processes.ts';
import { onlyWebhookId, startMerchantEndpoint, verdict } from '../crash/harness.ts';

const PAYMENTS = Number(process.env.CLUSTER_PAYMENTS ?? 300);
const COPIES = Number(process.env.CLUSTER_COPIES ?? 3);
const MIN_KILLS = Number(process.env.CLUSTER_MIN_KILLS ?? 5);
const SENDERS = 16;
const ROLES = ['api', 'all', 'all'] as const;
const VICTIM = 1;
const log = (line: string) => console.log(`[cluster] ${line}`);

const postgres = (await testDialects()).find((d) => d.name === 'postgres')!;
if (postgres.skip !== false) {
  console.error(`[cluster] needs PostgreSQL: ${postgres.skip}`);
  process.exit(1);
}
const schema = await postgres.create();
const redis = await startRedis();
const proxies = await Promise.all(ROLES.map(() => startTcpProxy(Number(new URL(POSTGRES_URL).port || 5432))));
const dataDirs = ROLES.map(() => mkdtempSync(join(tmpdir(), 'paywarden-cluster-')));
const secretKey = `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;
const secretHash = randomBytes(24).toString('base64url');
const masterKey = randomBytes(32).toString('base64');

// The merchant's app: every delivery by payment, by webhook-id.
const merchant = await startMerchantEndpoint((event: { data: { object: { id: string } } }) => event.data.object.id);
const { deliveries } = merchant;
const merchantUrl = merchant.url;

const simulator = await startFlutterwaveSimulator({ secretKey, secretHash, host: '127.0.0.1', port: 0 });
const ports = await Promise.all(ROLES.map(() => freePort()));
const envFor = (i: number): Record<string, string> => ({
  PAYWARDEN_ROLE: ROLES[i]!,
  PAYWARDEN_DATA_DIR: dataDirs[i]!,
  PAYWARDEN_DATABASE_URL: throughProxy(schema.url, proxies[i]!.port),
  PAYWARDEN_REDIS_URL: redis.url,
  PAYWARDEN_MASTER_KEY: masterKey,
  PAYWARDEN_SIMULATOR_PORT: '0',
  PAYWARDEN_LOG_LEVEL: 'error',
  PAYWARDEN_JOB_LEASE_SECONDS: '3',
  FLUTTERWAVE_TEST_BASE_URL: simulator.url,
  FLUTTERWAVE_TEST_SECRET_KEY: secretKey,
  FLUTTERWAVE_TEST_SECRET_HASH: secretHash,
});

const verifyDb = openDatabase(schema.url);
await migrateToLatest(verifyDb);
const config = loadConfig({ ...envFor(0) });
const apiKey = (
  await createApiKeyService({ db: verifyDb.db, masterKey: config.masterKey, clock: systemClock }).create({
    mode: 'test',
    name: 'cluster',
  })
).key;

const gateways: Array<GatewayProcess | undefined> = [];
const unexpectedExits: string[] = [];
async function start(i: number): Promise<void> {
  const gateway = await startGatewayProcess(envFor(i), ports[i]!);
  gateways[i] = gateway;
  void gateway.exited.then((code) => {
    if (i !== VICTIM) unexpectedExits.push(`process ${i} (${ROLES[i]}) exited with ${code}: ${gateway.stderr()}`);
  });
}
const pick = () => {
  const up = gateways.filter((g): g is GatewayProcess => g !== undefined);
  return up[Math.floor(Math.random() * up.length)]!;
};

/**
 * Like a merchant's client: the same Idempotency-Key until an answer, to any process that is up.
 * A request whose process was killed holds its key for LOCK_MS (60 s; 409 meanwhile), so this
 * client waits that long, as a merchant's backoff would.
 */
async function api(method: string, path: string, body?: unknown, webProcess?: () => GatewayProcess) {
  const key = randomUUID();
  const deadline = Date.now() + 90_000;
  let last = '';
  let attempts = 0;
  while (Date.now() < deadline) {
    attempts += 1;
    try {
      const res = await fetch(`${(webProcess ?? pickTraffic)().url}${path}`, {
        method,
        signal: AbortSignal.timeout(15_000),
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.ok) return (await res.json()) as Record<string, any>;
      const text = await res.text();
      // The first attempt created the payment, and its process died before the answer was kept
      // under the Idempotency-Key: the retry runs again and finds the reference taken (never a
      // second payment). A merchant looks the payment up by its reference; so do we.
      if (res.status === 409 && text.includes('reference_already_used') && attempts > 1) {
        const reference = (body as { reference: string }).reference;
        const found = await fetch(`${pickTraffic().url}/v1/payments?reference=${reference}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        if (found.ok) {
          lostAnswers += 1;
          return ((await found.json()) as { data: Array<Record<string, any>> }).data[0]!;
        }
      }
      if (res.status < 500 && res.status !== 409 && res.status !== 429)
        throw new Error(`${method} ${path}: ${res.status} ${text}`);
      last = `${res.status} ${text.slice(0, 200)}`;
      if (res.status === 409) await sleep(1_000);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(method)) throw error;
      // reset or refused: the process died under us; try again
      last = String(error);
    }
    await sleep(50);
  }
  throw new Error(`${method} ${path}: no answer within 90 s (last: ${last})`);
}
// Every role here serves traffic except none: api and all both do.
const pickTraffic = pick;

// Stopped from outside (a CI timeout): take the gateways and Redis down with us.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const gateway of gateways) gateway?.child.kill('SIGKILL');
    void redis.stop().finally(() => process.exit(1));
  });

let kills = 0;
let lostAnswers = 0;
let exitCode = 1;
const chaos = { running: true, cutDone: false, redisDone: false };
try {
  for (let i = 0; i < ROLES.length; i += 1) await start(i);
  log(`3 processes up (${ROLES.join(', ')}) on one PostgreSQL schema, Redis on ${redis.port}`);
  await api('POST', '/v1/webhook_endpoints', { url: merchantUrl, events: ['payment.*'] });
  await fetch(`${simulator.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault: 'no_webhook', times: 0 }),
  });

  // The victim dies again and again, from the first payment to the last webhook.
  const killer: Promise<void> = (async () => {
    while (chaos.running || kills < MIN_KILLS) {
      await sleep(400 + Math.random() * 900);
      const victim = gateways[VICTIM];
      gateways[VICTIM] = undefined;
      await victim?.kill('SIGKILL');
      kills += 1;
      await sleep(100);
      // As a process manager does (systemd Restart=always): a start that fails (the database cut
      // meanwhile) is tried again.
      for (let tries = 1; ; tries += 1) {
        try {
          await start(VICTIM);
          break;
        } catch (error) {
          if (tries >= 20) throw error;
          await sleep(500);
        }
      }
    }
  })();
  killer.catch(() => {
    chaos.running = false;
  });

  log(`creating ${PAYMENTS} payments through the three processes`);
  const webhooks: Array<{ key: string; body: string }> = [];
  const paymentIds: string[] = [];
  let created = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (created < PAYMENTS) {
        const i = created++;
        // A kill between the payment's commit and its checkout call leaves it without a checkout;
        // the same Idempotency-Key, retried as a merchant would, resumes it (api() above), so
        // every order is one payable payment under its own reference.
        const payment = await api('POST', '/v1/payments', {
          amount: 10_000 + i,
          currency: 'NGN',
          reference: `cluster-${i}`,
          customer: { email: 'cluster@example.com' },
          redirect_url: 'https://merchant.example/r',
        });
        const completed = await fetch(`${simulator.url}/_sim/transactions/${payment.id}/complete`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'successful' }),
        });
        const tx = (await completed.json()) as { id?: number };
        if (!completed.ok || tx.id === undefined)
          throw new Error(`payment ${payment.id} for order ${i} has no payable checkout: ${JSON.stringify(tx)}`);
        paymentIds.push(String(payment.id));
        const body = JSON.stringify({
          event: 'charge.completed',
          data: { id: tx.id, tx_ref: payment.id, amount: (10_000 + i) / 100, currency: 'NGN', status: 'successful' },
          'event.type': 'CARD_TRANSACTION',
        });
        for (let c = 0; c < COPIES; c += 1)
          webhooks.push({ key: `flutterwave:${tx.id}:charge.completed:successful`, body });
      }
    }),
  );
  webhooks.sort(() => Math.random() - 0.5);
  const resumed = await verifyDb.db
    .selectFrom('audit_log')
    .select('object_id')
    .where('action', '=', 'payment.checkout_resume')
    .execute();
  log(
    `${lostAnswers} payment answers lost to a kill and found again by reference; ${resumed.length} payments left without a checkout by a kill were resumed by the retry`,
  );
  log(`sending ${webhooks.length} webhooks (${COPIES} copies each) to random processes`);

  const acknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  let next = 0;
  let attempts = 0;
  const faults = (async () => {
    // The database connections of every process, cut at once, for a second and a half.
    while (next < webhooks.length * 0.3) await sleep(20);
    for (const proxy of proxies) proxy.cut();
    log(`database connections cut (${next}/${webhooks.length} sent)`);
    await sleep(1_500);
    for (const proxy of proxies) proxy.restore();
    chaos.cutDone = true;
    // Redis stopped and started again on its port.
    while (next < webhooks.length * 0.6) await sleep(20);
    await redis.stop();
    log(`Redis stopped (${next}/${webhooks.length} sent)`);
    await sleep(1_500);
    Object.assign(redis, await startRedis(redis.port));
    chaos.redisDone = true;
  })();
  const progress = setInterval(
    () =>
      log(
        `progress: ${next}/${webhooks.length} sent, ${acknowledged.size} acknowledged, ${kills} kills, answers ${JSON.stringify(Object.fromEntries(statuses))}`,
      ),
    10_000,
  );
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < webhooks.length) {
        const webhook = webhooks[next++]!;
        for (;;) {
          attempts += 1;
          try {
            const res = await fetch(`${pick().url}/webhooks/flutterwave`, {
              method: 'POST',
              signal: AbortSignal.timeout(15_000),
              headers: {
                'content-type': 'application/json',
                'flutterwave-signature': flutterwaveSignature(webhook.body, secretHash),
                'verif-hash': secretHash,
              },
              body: webhook.body,
            });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 400 && res.status < 500) {
              // A provider retries these too, but a valid webhook must never get one.
              throw new Error(
                `webhook ${webhook.key} answered ${res.status}: ${await res.text()}; body ${webhook.body}`,
              );
            }
            await res.body?.cancel();
            if (res.status === 200) {
              acknowledged.add(webhook.key);
              break;
            }
          } catch (error) {
            if (error instanceof Error && error.message.startsWith('webhook ')) throw error;
            // connection refused or reset: the provider would retry, and so do we
          }
          await sleep(20);
        }
      }
    }),
  );
  clearInterval(progress);
  await faults;
  chaos.running = false;
  await killer;
  log(
    `${webhooks.length} webhooks acknowledged after ${attempts} attempts (answers ${JSON.stringify(Object.fromEntries(statuses))}); ${kills} SIGKILLs, database cut once, Redis restarted once`,
  );

  const deadline = Date.now() + 90_000;
  for (;;) {
    const open = await verifyDb.db
      .selectFrom('jobs')
      .select('id')
      .where('status', 'in', ['queued', 'running'])
      .where('kind', '!=', 'run_schedule')
      .execute();
    // A payment failed as checkout_lost is one a kill left after the provider took its reference
    // (its link died with the process): the retry made the order again, and that one is counted.
    const pending = await verifyDb.db
      .selectFrom('payments')
      .select('id')
      .where('status', '!=', 'succeeded')
      .where((eb) => eb.or([eb('status_reason', 'is', null), eb('status_reason', '!=', 'checkout_lost')]))
      .execute();
    const delivered = paymentIds.filter((id) => deliveries.has(id)).length;
    if (open.length === 0 && pending.length === 0 && delivered === paymentIds.length) break;
    if (Date.now() > deadline)
      throw new Error(
        `not quiescent: ${open.length} jobs open, ${pending.length} payments not succeeded, ${delivered}/${paymentIds.length} delivered`,
      );
    await sleep(250);
  }

  const failures: string[] = [...unexpectedExits];
  const stored = await verifyDb.db.selectFrom('provider_webhooks').select(['id', 'dedupe_key']).execute();
  const storedCount = new Map<string, number>();
  for (const row of stored) storedCount.set(row.dedupe_key, (storedCount.get(row.dedupe_key) ?? 0) + 1);
  for (const key of acknowledged)
    if (storedCount.get(key) !== 1)
      failures.push(`webhook ${key} acknowledged but stored ${storedCount.get(key) ?? 0} times`);
  const jobs = await verifyDb.db.selectFrom('jobs').select(['id', 'kind', 'status', 'payload_json']).execute();
  const dead = jobs.filter((j) => j.status === 'dead');
  for (const job of dead.slice(0, 5)) failures.push(`job ${job.id} (${job.kind}) is dead`);
  const webhookJobs = jobs.filter((j) => j.kind === 'process_provider_webhook');
  if (webhookJobs.length !== stored.length)
    failures.push(`${stored.length} webhooks stored but ${webhookJobs.length} webhook jobs`);
  if (webhookJobs.some((j) => j.status !== 'done')) failures.push('a webhook job is not done');

  const allPayments = await verifyDb.db
    .selectFrom('payments')
    .select(['id', 'reference', 'status', 'status_reason'])
    .execute();
  // Each order is one payment: one a kill left without a checkout was resumed, never made again,
  // unless the provider had taken its reference and the link was lost with the process (then the
  // orphan failed as checkout_lost, holding no money, and the order was made again once).
  const lost = allPayments.filter((p) => p.status_reason === 'checkout_lost');
  for (const p of lost)
    if (p.status !== 'failed') failures.push(`payment ${p.id} lost its checkout but is ${p.status}, not failed`);
  const payments = allPayments.filter((p) => p.status_reason !== 'checkout_lost');
  log(`${lost.length} payments whose checkout link died with a killed process were failed and made again`);
  if (payments.length !== PAYMENTS) failures.push(`${payments.length} payments for ${PAYMENTS} orders`);
  const events = await verifyDb.db.selectFrom('events').select(['id', 'object_id', 'type']).execute();
  const transitions = await verifyDb.db
    .selectFrom('audit_log')
    .select(['object_id'])
    .where('action', 'like', 'payment.transition.%')
    .execute();
  const deliveryRows = await verifyDb.db.selectFrom('deliveries').select(['event_id', 'status']).execute();
  let redelivered = 0;
  for (const id of paymentIds) {
    const mine = events.filter((e) => e.object_id === id);
    if (mine.length !== 1 || mine[0]?.type !== 'payment.succeeded')
      failures.push(`payment ${id} has events ${JSON.stringify(mine.map((e) => e.type))}`);
    const moved = transitions.filter((t) => t.object_id === id).length;
    if (moved !== 1) failures.push(`payment ${id} transitioned ${moved} times`);
    const rows = deliveryRows.filter((d) => d.event_id === mine[0]?.id);
    if (rows.length !== 1 || rows[0]?.status !== 'succeeded')
      failures.push(`payment ${id}: delivery rows ${JSON.stringify(rows)}`);
    const seen = deliveries.get(id) ?? [];
    if (!onlyWebhookId(seen, mine[0]?.id))
      failures.push(`payment ${id}: merchant saw webhook-ids ${JSON.stringify(seen)}, event ${mine[0]?.id}`);
    redelivered += seen.length - 1;
  }
  // LOG-4: one chain per mode across the three processes and every kill. Rows the processes' sealers
  // have not reached yet are sealed here; checkpoints were signed by each process's own key.
  await sealAuditLog(verifyDb);
  const keyring = new Map(ROLES.flatMap((_, i) => [...configuredKeyring(loadConfig({ ...envFor(i) }))]));
  const audit = await verifyAuditLog({ db: verifyDb.db, keyring });
  if (!audit.ok) failures.push(`audit log does not verify: ${JSON.stringify(audit.problems)}`);
  const paymentAudit = await verifyDb.db
    .selectFrom('audit_log')
    .select(['object_id', 'action', 'chain', 'seq'])
    .where('object_type', '=', 'payment')
    .where((eb) => eb.or([eb('action', '=', 'payment.create'), eb('action', 'like', 'payment.transition.%')]))
    .execute();
  for (const id of paymentIds) {
    const created = paymentAudit.find((r) => r.object_id === id && r.action === 'payment.create');
    const moved = paymentAudit.find((r) => r.object_id === id && r.action.startsWith('payment.transition.'));
    if (created?.chain !== 'test' || moved?.chain !== 'test' || !(created.seq > 0 && moved.seq > created.seq))
      failures.push(`payment ${id}: audit rows out of causal order ${JSON.stringify([created, moved])}`);
  }
  if (kills < MIN_KILLS) failures.push(`only ${kills} kills happened`);
  if (!chaos.cutDone || !chaos.redisDone) failures.push('a fault did not happen');

  exitCode = verdict(
    'cluster',
    failures,
    () =>
      `ok: ${acknowledged.size} unique webhooks stored once each with one job done, ${PAYMENTS} payments once and final once, every event delivered with one webhook-id (${redelivered} repeated deliveries of the same id after kills), no job lost or dead, the audit log one verified chain per mode (${audit.chains.find((c) => c.chain === 'test')?.rowsChecked} test rows), across ${kills} SIGKILLs, a database cut and a Redis restart`,
  );
} catch (error) {
  console.error('[cluster] error', error);
} finally {
  chaos.running = false;
  for (const gateway of gateways) await gateway?.kill('SIGKILL').catch(() => undefined);
  await verifyDb.close();
  await schema.cleanup().catch(() => undefined);
  for (const proxy of proxies) await proxy.close();
  await redis.stop();
  await simulator.close();
  merchant.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
