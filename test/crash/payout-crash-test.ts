// Payout crash safety, run by CI (`npm run test:crash:payouts`; issue 9 §5). A real gateway process
// (SQLite, full durability) pays out at least 500 payouts through Flutterwave and Paystack while
// faults are injected at random at their simulators (dropped requests, answers lost after
// processing, 429 and 5xx, duplicate-reference refusals, lookups that miss fresh transfers,
// webhooks duplicated, early or missing, insufficient balance) and this script kills the gateway
// with SIGKILL at random moments (so between commit and call, during calls and after answers) and
// restarts it. The merchant retries creations as a merchant would (a new key; a 409 names the
// payout). Afterwards:
//   - every payout is final (succeeded or failed) or in explicit review;
//   - the simulators' ledgers hold exactly one transfer per succeeded payout, none for a payout
//     refused before anything moved, and no transfer that no payout accounts for;
//   - every payout event happened once and was delivered with one webhook-id (its event id).
// The simulators live in this process, so they survive the gateway's deaths.
import { type ChildProcess, spawn } from 'node:child_process';
import { setPayoutControls } from '../helpers/payout-controls.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createApiKeyService } from '../../src/keys/api-keys.ts';
import { SCOPES } from '../../src/keys/scopes.ts';
import { startFlutterwaveSimulator } from '../../src/simulators/flutterwave/simulator.ts';
import { startPaystackSimulator } from '../../src/simulators/paystack/simulator.ts';

const PAYOUTS = Number(process.env.CRASH_PAYOUTS ?? 500);
const MIN_KILLS = Number(process.env.CRASH_MIN_KILLS ?? 10);
const CONCURRENCY = 8;
const FAULT_RATE = 0.3;
const FAULTS = [
  'drop_request',
  'lost_answer_500',
  'lost_answer_reset',
  'http_429',
  'http_500',
  'duplicate_reference',
  'not_found_after_create',
  'webhook_before_answer',
  'duplicate_webhook',
  'no_webhook',
  'insufficient_balance',
] as const;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`[payout-crash] ${line}`);
const started = Date.now();

const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-payout-crash-'));
const port = await freePort();
const gatewayUrl = `http://127.0.0.1:${port}`;
const flwKey = `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;
const flwHash = randomBytes(24).toString('base64url');
const psKey = `sk_test_${randomBytes(20).toString('hex')}`;

// The merchant's endpoint: every webhook-id seen per event.
const deliveries = new Map<string, Set<string>>();
const merchant = createHttpServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
    if (!deliveries.has(body.id)) deliveries.set(body.id, new Set());
    deliveries.get(body.id)?.add(String(req.headers['webhook-id']));
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
const merchantUrl = `http://127.0.0.1:${(merchant.address() as { port: number }).port}/events`;

const sims = {
  flutterwave: await startFlutterwaveSimulator({
    secretKey: flwKey,
    secretHash: flwHash,
    webhookUrl: `${gatewayUrl}/webhooks/flutterwave`,
    host: '127.0.0.1',
    port: 0,
  }),
  paystack: await startPaystackSimulator({
    secretKey: psKey,
    webhookUrl: `${gatewayUrl}/webhooks/paystack`,
    host: '127.0.0.1',
    port: 0,
  }),
};
const env = {
  ...process.env,
  PAYWARDEN_DATA_DIR: dataDir,
  PAYWARDEN_PORT: String(port),
  PAYWARDEN_SIMULATOR_PORT: '0',
  PAYWARDEN_LOG_LEVEL: 'fatal',
  PAYWARDEN_JOB_LEASE_SECONDS: '3',
  PAYWARDEN_SWEEP_INTERVAL_SECONDS: '1',
  // Real time here: "not found" proves nothing for 2 s, and open payouts are asked every second or two.
  PAYWARDEN_PAYOUT_NOT_FOUND_GRACE_SECONDS: '2',
  PAYWARDEN_PAYOUT_CHECK_SCHEDULE_SECONDS: '1,1,2,2,3',
  PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '100000',
  PAYWARDEN_LOOKUP_RATE_LIMIT_PER_MINUTE: '100000',
  PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '100000',
  FLUTTERWAVE_TEST_BASE_URL: sims.flutterwave.url,
  FLUTTERWAVE_TEST_SECRET_KEY: flwKey,
  FLUTTERWAVE_TEST_SECRET_HASH: flwHash,
  PAYSTACK_TEST_BASE_URL: sims.paystack.url,
  PAYSTACK_TEST_SECRET_KEY: psKey,
};
const config = loadConfig(env);
const setupDb = openDatabase(config.databaseUrl);
await migrateToLatest(setupDb);
// The payout rules (cool-down, thresholds) would hold these payouts: this run is about crashes.
await setPayoutControls(setupDb.db, 'test');
const apiKey = (
  await createApiKeyService({ db: setupDb.db, masterKey: config.masterKey, clock: systemClock }).create({
    mode: 'test',
    name: 'payout-crash',
    scopes: SCOPES,
  })
).key;
await setupDb.close();

let child: ChildProcess | undefined;
let kills = 0;
async function startChild(): Promise<void> {
  child = spawn(process.execPath, ['src/main.ts', 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 2400; i += 1) {
    try {
      if ((await fetch(`${gatewayUrl}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(25);
  }
  throw new Error('gateway did not start');
}
async function killChild(): Promise<void> {
  const dying = child;
  if (dying === undefined || dying.exitCode !== null) return;
  const exited = new Promise((resolve) => dying.once('exit', resolve));
  dying.kill('SIGKILL');
  await exited;
  kills += 1;
}

/** One API call, retried through deaths as a merchant's client would (a new key each time). */
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  for (;;) {
    try {
      const res = await fetch(`${gatewayUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 500) throw new Error(`answered ${res.status}`);
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      await sleep(50);
    }
  }
}

async function sim(provider: keyof typeof sims, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sims[provider].url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return text === '' ? undefined : JSON.parse(text);
}

let exitCode = 1;
try {
  await startChild();
  const endpoint = await api('POST', '/v1/webhook_endpoints', { url: merchantUrl, events: ['payout.*'] });
  if (endpoint.status !== 201) throw new Error(`endpoint: ${JSON.stringify(endpoint.body)}`);
  const beneficiaries: Record<keyof typeof sims, string> = { flutterwave: '', paystack: '' };
  for (const [provider, bank] of [
    ['flutterwave', '044'],
    ['paystack', '058'],
  ] as const) {
    const b = await api('POST', '/v1/beneficiaries', {
      type: 'bank_account',
      currency: 'NGN',
      country: 'NG',
      bank_code: bank,
      account_number: '0690000031',
      provider,
    });
    if (b.status !== 201) throw new Error(`beneficiary: ${JSON.stringify(b.body)}`);
    beneficiaries[provider] = b.body.id;
  }

  // Kills spread over the run (one per PAYOUTS / MIN_KILLS creations, at a random moment within
  // it), so the gateway spends its time working between deaths, not restarting.
  let creating = true;
  let createdCount = 0;
  const killer = (async () => {
    const every = Math.max(1, Math.floor(PAYOUTS / MIN_KILLS));
    while (creating || kills < MIN_KILLS) {
      const target = (kills + 1) * every - Math.floor(Math.random() * every * 0.5);
      while (creating && createdCount < target) await sleep(10);
      await sleep(Math.random() * 150);
      await killChild();
      await startChild();
    }
  })();

  log(`creating ${PAYOUTS} payouts with faults at random while killing the gateway`);
  const payouts: Array<{ id: string; provider: keyof typeof sims; amount: number }> = [];
  let next = 0;
  const faultCounts = new Map<string, number>();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PAYOUTS) {
        const i = next++;
        const provider = i % 2 === 0 ? 'flutterwave' : 'paystack';
        if (Math.random() < FAULT_RATE) {
          const fault = FAULTS[Math.floor(Math.random() * FAULTS.length)] as string;
          faultCounts.set(fault, (faultCounts.get(fault) ?? 0) + 1);
          await sim(provider, 'POST', '/_sim/faults', {
            fault,
            times: 1,
            ...(fault === 'duplicate_webhook' ? { value: 3 } : {}),
          });
        }
        const amount = 10_000 + i;
        const body = { amount, currency: 'NGN', beneficiary: beneficiaries[provider], reference: `crash-po-${i}` };
        let created = await api('POST', '/v1/payouts', body);
        // A creation whose answer died with the gateway: the retry's 409 names the payout.
        if (created.status === 409 && created.body.error.code === 'payout_reference_used') {
          const id = /po_[0-9A-Za-z]{22}/.exec(created.body.error.message)?.[0];
          created = { status: 201, body: { id } };
        }
        if (created.status === 409 && created.body.error.code === 'idempotency_key_in_flight')
          created = await api('POST', '/v1/payouts', body);
        if (created.status !== 201 || typeof created.body.id !== 'string')
          throw new Error(`create ${i}: ${created.status} ${JSON.stringify(created.body)}`);
        payouts.push({ id: created.body.id, provider, amount });
        createdCount += 1;
      }
    }),
  );
  creating = false;
  await killer;
  log(
    `${payouts.length} payouts created; ${kills} SIGKILLs; faults ${JSON.stringify(Object.fromEntries(faultCounts))}`,
  );

  // Let the last gateway settle everything, unharmed.
  const db = openDatabase(config.databaseUrl);
  const deadline = Date.now() + 150_000;
  const FINAL = ['succeeded', 'failed', 'requires_review'] as const;
  for (;;) {
    const open = await db.db.selectFrom('payouts').select('id').where('status', 'not in', FINAL).execute();
    const undelivered = await db.db.selectFrom('deliveries').select('id').where('status', '!=', 'succeeded').execute();
    if (open.length === 0 && undelivered.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(`not quiescent: ${open.length} payouts open, ${undelivered.length} deliveries open`);
    await sleep(250);
  }

  const failures: string[] = [];
  const rows = await db.db.selectFrom('payouts').selectAll().execute();
  const attempts = await db.db.selectFrom('payout_attempts').selectAll().execute();
  const events = await db.db.selectFrom('events').select(['id', 'object_id', 'type']).execute();
  const ledgers = {
    flutterwave: (await sim('flutterwave', 'GET', '/_sim/ledger')) as Array<{
      reference: string;
      status: string;
      amountMinor: number;
    }>,
    paystack: (await sim('paystack', 'GET', '/_sim/ledger')) as Array<{
      reference: string;
      status: string;
      amountMinor: number;
    }>,
  };
  const statuses = new Map<string, number>();
  if (rows.length !== new Set(payouts.map((p) => p.id)).size)
    failures.push(`${rows.length} payouts stored for ${payouts.length} created`);
  const accounted = new Set<string>();
  for (const p of payouts) {
    const row = rows.find((r) => r.id === p.id);
    if (row === undefined) {
      failures.push(`payout ${p.id} lost`);
      continue;
    }
    statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
    const mine = attempts.filter((a) => a.payout_id === p.id);
    if (mine.length !== 1) failures.push(`payout ${p.id} has ${mine.length} attempts`);
    const ledger = ledgers[p.provider].filter((l) => mine.some((a) => a.reference === l.reference));
    for (const l of ledger) accounted.add(`${p.provider}:${l.reference}`);
    const moved = ledger.filter((l) => ['SUCCESSFUL', 'success'].includes(l.status));
    if (row.status === 'succeeded' && (ledger.length !== 1 || moved.length !== 1 || moved[0]?.amountMinor !== p.amount))
      failures.push(`payout ${p.id} succeeded with ledger ${JSON.stringify(ledger)}`);
    if (row.status === 'failed' && moved.length !== 0) failures.push(`payout ${p.id} failed but money moved`);
    if (ledger.length > 1) failures.push(`payout ${p.id}: ${ledger.length} transfers`);
    const types = events.filter((e) => e.object_id === p.id).map((e) => e.type);
    if (new Set(types).size !== types.length) failures.push(`payout ${p.id} events ${types.join()}`);
    if (row.status !== 'requires_review' && !types.includes(`payout.${row.status}`))
      failures.push(`payout ${p.id} is ${row.status} without its event`);
  }
  for (const provider of ['flutterwave', 'paystack'] as const)
    for (const l of ledgers[provider])
      if (!accounted.has(`${provider}:${l.reference}`))
        failures.push(`${provider} transfer ${l.reference} belongs to no payout`);
  for (const e of events.filter((x) => x.type.startsWith('payout.'))) {
    const seen = deliveries.get(e.id);
    if (seen === undefined || seen.size !== 1 || !seen.has(e.id))
      failures.push(`event ${e.id}: merchant saw webhook-ids ${JSON.stringify([...(seen ?? [])])}`);
  }
  const resent = attempts.filter((a) => a.sends > 1).length;
  await db.close();
  if (kills < MIN_KILLS) failures.push(`only ${kills} kills happened`);

  if (failures.length > 0) {
    for (const failure of failures.slice(0, 20)) console.error(`[payout-crash] FAIL ${failure}`);
    log(`${failures.length} failures`);
  } else {
    log(
      `ok in ${Math.round((Date.now() - started) / 1000)} s: ${payouts.length} payouts ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `exactly one transfer per paid payout (${ledgers.flutterwave.length + ledgers.paystack.length} in the ledgers), ` +
        `${resent} attempts sent more than once under the same reference, every event delivered with one webhook-id, across ${kills} SIGKILLs`,
    );
    exitCode = 0;
  }
} catch (error) {
  console.error('[payout-crash] error', error);
} finally {
  await killChild().catch(() => undefined);
  await sims.flutterwave.close();
  await sims.paystack.close();
  merchant.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
