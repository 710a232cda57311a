// Payout crash safety, run by CI (`npm run test:crash:payouts`; issue 9 §5). A real gateway process
// (SQLite, full durability) pays out at least 500 payouts through Flutterwave, Paystack, Stripe
// (Connect: a transfer to the connected account, then a payout on it) and KwikPaisa while faults
// are injected at random at their simulators (dropped requests, answers lost after
// processing, 429 and 5xx, duplicate-reference refusals, lookups that miss fresh transfers,
// webhooks duplicated, early or missing, insufficient balance) and this script kills the gateway
// with SIGKILL at random moments (so between commit and call, during calls and after answers) and
// restarts it. The merchant retries creations as a merchant would (a new key; a 409 names the
// payout). Afterwards:
//   - every payout is final (succeeded or failed) or in explicit review;
//   - the simulators' ledgers hold exactly one transfer per succeeded payout (Stripe: exactly one
//     transfer and one payout), none that moved money for a failed one, and no transfer that no
//     payout accounts for;
//   - every payout event happened once and was delivered with one webhook-id (its event id).
// The simulators live in this process, so they survive the gateway's deaths.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import type { Db } from '../../src/db/schema.ts';
import { openDatabase } from '../../src/db/database.ts';
import { SCOPES } from '../../src/keys/scopes.ts';
import { startFlutterwaveSimulator } from '../../src/simulators/flutterwave/simulator.ts';
import { startKwikPaisaSimulator } from '../../src/simulators/kwikpaisa/simulator.ts';
import { startPaystackSimulator } from '../../src/simulators/paystack/simulator.ts';
import { startStripeSimulator } from '../../src/simulators/stripe/simulator.ts';
import { freePort, sleep } from '../cluster/processes.ts';
import { setPayoutControls } from '../helpers/payout-controls.ts';
import {
  KWIKPAISA_KIT_ACCOUNT,
  PAYOUT_KITS,
  type PayoutKit,
  seedBankBeneficiary,
  STRIPE_KIT_ACCOUNT,
} from '../helpers/payout-kits.ts';
import { SIM_WALLET_ID } from '../../src/simulators/kwikpaisa/payouts.ts';
import { onlyWebhookId, prepareDatabase, restartableGateway, startMerchantEndpoint, verdict } from './harness.ts';

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

const PROVIDERS = ['flutterwave', 'paystack', 'stripe', 'kwikpaisa'] as const;
type Provider = (typeof PROVIDERS)[number];
const KITS = Object.fromEntries(PAYOUT_KITS.map((k) => [k.provider, k])) as Record<Provider, PayoutKit>;
// What a transfer that moved money looks like in each ledger (Stripe: the payout on the
// connected account is paid; its transfer row is `created`).
const MOVED = ['SUCCESSFUL', 'success', 'paid'];
const log = (line: string) => console.log(`[payout-crash] ${line}`);
const started = Date.now();

const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-payout-crash-'));
const port = await freePort();
const gatewayUrl = `http://127.0.0.1:${port}`;
const secrets = {
  flwKey: `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`,
  flwHash: randomBytes(24).toString('base64url'),
  psKey: `sk_test_${randomBytes(20).toString('hex')}`,
  stripeKey: `sk_test_${randomBytes(24).toString('hex')}`,
  stripeWebhook: `whsec_${randomBytes(24).toString('base64')}`,
  kpApiKey: `kp_test_${randomBytes(12).toString('hex')}`,
  kpSecret: randomBytes(24).toString('base64url'),
};

// The merchant's endpoint: every webhook-id seen per event.
const merchant = await startMerchantEndpoint((event: { id: string }) => event.id);
const { deliveries } = merchant;

// The simulators live in this process, so they survive the gateway's deaths.
const sim = { host: '127.0.0.1', port: 0 } as const;
const sims: Record<Provider, { url: string; close(): Promise<void> }> = {
  flutterwave: await startFlutterwaveSimulator({
    ...sim,
    secretKey: secrets.flwKey,
    secretHash: secrets.flwHash,
    webhookUrl: `${gatewayUrl}/webhooks/flutterwave`,
  }),
  paystack: await startPaystackSimulator({
    ...sim,
    secretKey: secrets.psKey,
    webhookUrl: `${gatewayUrl}/webhooks/paystack`,
  }),
  stripe: await startStripeSimulator({
    ...sim,
    secretKey: secrets.stripeKey,
    webhookSecret: secrets.stripeWebhook,
    webhookUrl: `${gatewayUrl}/webhooks/stripe`,
  }),
  kwikpaisa: await startKwikPaisaSimulator({
    ...sim,
    apiKey: secrets.kpApiKey,
    secretKey: secrets.kpSecret,
    webhookUrl: `${gatewayUrl}/webhooks/kwikpaisa`,
  }),
};
const env = {
  ...process.env,
  PAYWARDEN_DATA_DIR: dataDir,
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
  FLUTTERWAVE_TEST_SECRET_KEY: secrets.flwKey,
  FLUTTERWAVE_TEST_SECRET_HASH: secrets.flwHash,
  PAYSTACK_TEST_BASE_URL: sims.paystack.url,
  PAYSTACK_TEST_SECRET_KEY: secrets.psKey,
  STRIPE_TEST_BASE_URL: sims.stripe.url,
  STRIPE_TEST_SECRET_KEY: secrets.stripeKey,
  STRIPE_TEST_WEBHOOK_SECRET: secrets.stripeWebhook,
  KWIKPAISA_TEST_BASE_URL: sims.kwikpaisa.url,
  KWIKPAISA_TEST_API_KEY: secrets.kpApiKey,
  KWIKPAISA_TEST_SECRET_KEY: secrets.kpSecret,
  KWIKPAISA_TEST_WALLET_ID: SIM_WALLET_ID,
  KWIKPAISA_TEST_PAYOUT_MOBILE: '9000000000',
};
const config = loadConfig(env);
// KwikPaisa documents no account look-up: its beneficiary is stored as the store stores one.
let kwikpaisaBeneficiary = '';
const apiKey = await prepareDatabase(config, { name: 'payout-crash', scopes: SCOPES }, async (db) => {
  // The payout rules (cool-down, thresholds) would hold these payouts: this run is about crashes.
  await setPayoutControls(db, 'test');
  kwikpaisaBeneficiary = await seedBankBeneficiary(db, config.masterKey, KWIKPAISA_KIT_ACCOUNT);
});
const gateway = restartableGateway(env, port);

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

async function simCall(provider: Provider, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sims[provider].url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${provider} simulator ${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

interface LedgerRow {
  readonly reference: string | null;
  readonly kind?: string;
  readonly status: string;
  readonly amountMinor: number;
}

let exitCode = 1;
try {
  await gateway.start();
  const endpoint = await api('POST', '/v1/webhook_endpoints', { url: merchant.url, events: ['payout.*'] });
  if (endpoint.status !== 201) throw new Error(`endpoint: ${JSON.stringify(endpoint.body)}`);
  await simCall('stripe', 'POST', '/_sim/accounts', {
    id: STRIPE_KIT_ACCOUNT,
    country: 'US',
    default_currency: 'usd',
    business_name: 'Crash Seller LLC',
  });
  const beneficiaries = { kwikpaisa: kwikpaisaBeneficiary } as Record<Provider, string>;
  for (const provider of ['flutterwave', 'paystack', 'stripe'] as const) {
    const b = await api('POST', '/v1/beneficiaries', { ...KITS[provider].beneficiary, provider });
    if (b.status !== 201) throw new Error(`beneficiary: ${JSON.stringify(b.body)}`);
    beneficiaries[provider] = b.body.id;
  }

  // Kills spread over the run (one per PAYOUTS / MIN_KILLS creations, at a random moment within
  // it), so the gateway spends its time working between deaths, not restarting.
  let creating = true;
  let createdCount = 0;
  const killer = (async () => {
    const every = Math.max(1, Math.floor(PAYOUTS / MIN_KILLS));
    while (creating || gateway.kills() < MIN_KILLS) {
      const target = (gateway.kills() + 1) * every - Math.floor(Math.random() * every * 0.5);
      while (creating && createdCount < target) await sleep(10);
      await sleep(Math.random() * 150);
      await gateway.kill();
      await gateway.start();
    }
  })();

  log(`creating ${PAYOUTS} payouts across ${PROVIDERS.join(', ')} with faults at random while killing the gateway`);
  const payouts: Array<{ id: string; provider: Provider; amount: number }> = [];
  let next = 0;
  const faultCounts = new Map<string, number>();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PAYOUTS) {
        const i = next++;
        const provider = PROVIDERS[i % PROVIDERS.length] as Provider;
        if (Math.random() < FAULT_RATE) {
          const fault = FAULTS[Math.floor(Math.random() * FAULTS.length)] as string;
          faultCounts.set(fault, (faultCounts.get(fault) ?? 0) + 1);
          await simCall(provider, 'POST', '/_sim/faults', {
            fault,
            times: 1,
            ...(fault === 'duplicate_webhook' ? { value: 3 } : {}),
          });
        }
        const amount = 10_000 + i;
        const body = {
          amount,
          currency: KITS[provider].currency,
          beneficiary: beneficiaries[provider],
          reference: `crash-po-${i}`,
        };
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
    `${payouts.length} payouts created; ${gateway.kills()} SIGKILLs; faults ${JSON.stringify(Object.fromEntries(faultCounts))}`,
  );

  // Let the last gateway settle everything, unharmed.
  const failures = await judge(payouts);
  exitCode = verdict('payout-crash', failures.list, () => {
    const perProvider = PROVIDERS.map((p) => `${p} ${failures.ledgerRows[p]}`).join(', ');
    return (
      `ok in ${Math.round((Date.now() - started) / 1000)} s: ${payouts.length} payouts ${JSON.stringify(failures.statuses)}, ` +
      `exactly one transfer per paid payout (ledger rows: ${perProvider}; Stripe one transfer and one payout each), ` +
      `${failures.resent} attempts sent more than once under the same reference, every event delivered with one webhook-id, across ${gateway.kills()} SIGKILLs`
    );
  });
} catch (error) {
  console.error('[payout-crash] error', error);
} finally {
  await gateway.kill().catch(() => undefined);
  for (const simulator of Object.values(sims)) await simulator.close();
  merchant.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);

/** Waits for quiescence, then holds the database against the simulators' ledgers. */
async function judge(payouts: ReadonlyArray<{ id: string; provider: Provider; amount: number }>) {
  const db = openDatabase(config.databaseUrl);
  try {
    await quiescent(db.db);
    const list: string[] = [];
    const rows = await db.db.selectFrom('payouts').selectAll().execute();
    const attempts = await db.db.selectFrom('payout_attempts').selectAll().execute();
    const events = await db.db.selectFrom('events').select(['id', 'object_id', 'type']).execute();
    const ledgers = {} as Record<Provider, LedgerRow[]>;
    for (const provider of PROVIDERS) ledgers[provider] = await simCall(provider, 'GET', '/_sim/ledger');
    const statuses: Record<string, number> = {};
    if (rows.length !== new Set(payouts.map((p) => p.id)).size)
      list.push(`${rows.length} payouts stored for ${payouts.length} created`);
    const accounted = new Set<string>();
    for (const p of payouts) {
      const row = rows.find((r) => r.id === p.id);
      if (row === undefined) {
        list.push(`payout ${p.id} lost`);
        continue;
      }
      statuses[row.status] = (statuses[row.status] ?? 0) + 1;
      const mine = attempts.filter((a) => a.payout_id === p.id);
      if (mine.length !== 1) list.push(`payout ${p.id} has ${mine.length} attempts`);
      const ledger = ledgers[p.provider].filter((l) => mine.some((a) => a.reference === l.reference));
      for (const l of ledger) accounted.add(`${p.provider}:${l.reference}`);
      list.push(...ledgerProblems(p, row.status, ledger));
      const types = events.filter((e) => e.object_id === p.id).map((e) => e.type);
      if (new Set(types).size !== types.length) list.push(`payout ${p.id} events ${types.join()}`);
      if (row.status !== 'requires_review' && !types.includes(`payout.${row.status}`))
        list.push(`payout ${p.id} is ${row.status} without its event`);
    }
    for (const provider of PROVIDERS)
      for (const l of ledgers[provider])
        if (!accounted.has(`${provider}:${l.reference}`))
          list.push(`${provider} ${l.kind ?? 'transfer'} ${l.reference} belongs to no payout`);
    for (const e of events.filter((x) => x.type.startsWith('payout.'))) {
      const seen = deliveries.get(e.id) ?? [];
      if (!onlyWebhookId(seen, e.id)) list.push(`event ${e.id}: merchant saw webhook-ids ${JSON.stringify(seen)}`);
    }
    if (gateway.kills() < MIN_KILLS) list.push(`only ${gateway.kills()} kills happened`);
    const ledgerRows = Object.fromEntries(PROVIDERS.map((p) => [p, ledgers[p].length])) as Record<Provider, number>;
    return { list, statuses, ledgerRows, resent: attempts.filter((a) => a.sends > 1).length };
  } finally {
    await db.close();
  }
}

async function quiescent(db: Db): Promise<void> {
  const deadline = Date.now() + 150_000;
  const FINAL = ['succeeded', 'failed', 'requires_review'] as const;
  for (;;) {
    const open = await db.selectFrom('payouts').select('id').where('status', 'not in', FINAL).execute();
    const undelivered = await db.selectFrom('deliveries').select('id').where('status', '!=', 'succeeded').execute();
    if (open.length === 0 && undelivered.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`not quiescent: ${open.length} payouts open, ${undelivered.length} deliveries open`);
    await sleep(250);
  }
}

/**
 * A succeeded payout: exactly one row of each kind its provider makes (Stripe: a transfer and a
 * payout), the money moved once, for the amount. A failed one: no money moved. Never two of a kind.
 */
function ledgerProblems(p: { id: string; provider: Provider; amount: number }, status: string, ledger: LedgerRow[]) {
  const problems: string[] = [];
  const kinds = KITS[p.provider].ledgerKinds ?? [undefined];
  for (const kind of kinds) {
    const ofKind = ledger.filter((l) => kind === undefined || l.kind === kind);
    if (ofKind.length > 1) problems.push(`payout ${p.id}: ${ofKind.length} ${kind ?? 'transfer'}s`);
    if (status === 'succeeded' && (ofKind.length !== 1 || ofKind[0]?.amountMinor !== p.amount))
      problems.push(`payout ${p.id} succeeded with ledger ${JSON.stringify(ledger)}`);
  }
  const moved = ledger.filter((l) => MOVED.includes(l.status));
  if (status === 'succeeded' && moved.length !== 1)
    problems.push(`payout ${p.id} succeeded but money moved ${moved.length} times: ${JSON.stringify(ledger)}`);
  if (status === 'failed' && moved.length !== 0) problems.push(`payout ${p.id} failed but money moved`);
  return problems;
}
