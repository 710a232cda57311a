// The payout fault suite (issue 9 §5): every provider with a payout kit (test/helpers/payout-kits.ts),
// on both databases, through each fault of §3. For each: the payout's final state, AND the
// simulator's ledger holding exactly one transfer for it (or, for a definite refusal, no money
// moved), AND one merchant event per state entered. Faults are scoped to the attempt's reference,
// which exists (committed) before the provider is first called.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import type { FaultName } from '../../src/simulators/shared/faults.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { PAYOUT_KITS, type PayoutKit } from '../helpers/payout-kits.ts';

const PROVIDER_TIMEOUT_MS = 800;
// Finer than the 30-minute not-found grace, so a lookup gap right after a create is seen as one.
const ROUND_MS = 10 * 60_000;

interface FaultCase {
  readonly name: string;
  readonly faults: ReadonlyArray<{ fault: FaultName; value?: number; times?: number }>;
  readonly final: 'succeeded' | 'failed' | 'reversed' | 'requires_review';
  /** The status right after the first send: `unknown` for every indefinite answer, visible. */
  readonly first?: 'unknown';
  /** How far the clock moves per round (default ROUND_MS). */
  readonly roundMs?: number;
  /** Something to do once the payout is open (settle a stuck transfer). */
  readonly whenOpen?: (kit: PayoutKit, gw: TestGateway, reference: string, payoutId: string) => Promise<void>;
  /** The status at which whenOpen acts (default processing). */
  readonly openStatus?: string;
  /** Transfers the ledger holds at the end, when not the default for the final state. */
  readonly ledgerRows?: number;
  readonly failureCode?: string;
  /** Providers this case does not apply to, and why (the suite says so when it skips). */
  readonly notFor?: Readonly<Record<string, string>>;
}

const CASES: readonly FaultCase[] = [
  { name: 'no fault', faults: [], final: 'succeeded' },
  { name: 'dropped before processing', faults: [{ fault: 'drop_request' }], final: 'succeeded', first: 'unknown' },
  {
    name: 'processed, answer lost to a timeout',
    faults: [{ fault: 'lost_answer_timeout' }],
    final: 'succeeded',
    first: 'unknown',
  },
  { name: 'processed, answered 500', faults: [{ fault: 'lost_answer_500' }], final: 'succeeded', first: 'unknown' },
  {
    name: 'processed, connection reset',
    faults: [{ fault: 'lost_answer_reset' }],
    final: 'succeeded',
    first: 'unknown',
  },
  { name: 'slower than our timeout', faults: [{ fault: 'delay', value: 1_500 }], final: 'succeeded', first: 'unknown' },
  { name: '429 with Retry-After', faults: [{ fault: 'http_429', value: 2 }], final: 'succeeded', first: 'unknown' },
  { name: '500 before processing', faults: [{ fault: 'http_500' }], final: 'succeeded', first: 'unknown' },
  { name: 'duplicate-reference refusal', faults: [{ fault: 'duplicate_reference' }], final: 'succeeded' },
  {
    name: 'not found for a while after create',
    faults: [{ fault: 'not_found_after_create', value: 3 }],
    final: 'succeeded',
  },
  {
    name: 'stuck pending, then settled',
    faults: [{ fault: 'stuck_pending' }],
    final: 'succeeded',
    whenOpen: (kit, gw, reference) => kit.settle(gw, reference, 'succeeded'),
  },
  { name: 'webhook before the create answer', faults: [{ fault: 'webhook_before_answer' }], final: 'succeeded' },
  { name: 'webhook duplicated', faults: [{ fault: 'duplicate_webhook', value: 3 }], final: 'succeeded' },
  { name: 'webhook missing', faults: [{ fault: 'no_webhook' }], final: 'succeeded' },
  {
    name: 'webhook out of order: a stale earlier state after the final one',
    faults: [{ fault: 'out_of_order' }],
    final: 'succeeded',
    notFor: {
      paystack:
        'Paystack sends no webhook for a transfer before it is final (pending, otp): its stale one is the success after a reversal, the next case',
    },
  },
  {
    name: 'success then reversal, then the stale success webhook',
    faults: [{ fault: 'reversal_after_success' }, { fault: 'out_of_order' }],
    final: 'reversed',
    roundMs: 25 * 3_600_000,
  },
  {
    name: 'success then reversal',
    faults: [{ fault: 'reversal_after_success' }],
    final: 'reversed',
    roundMs: 25 * 3_600_000,
  },
  {
    name: 'stuck pending past the schedule goes to review',
    faults: [{ fault: 'stuck_pending' }],
    final: 'requires_review',
    roundMs: 24 * 3_600_000,
  },
  {
    name: 'OTP required, then finalized through the API',
    faults: [{ fault: 'otp_required' }],
    final: 'succeeded',
    openStatus: 'requires_action',
    whenOpen: async (_kit, gw, _reference, payoutId) => {
      const wrong = await gw.api('POST', `/v1/payouts/${payoutId}/finalize`, { otp: '000000' });
      assert.equal(wrong.body.error.code, 'otp_rejected');
      const right = await gw.api('POST', `/v1/payouts/${payoutId}/finalize`, { otp: '123456' });
      assert.equal(right.status, 200, JSON.stringify(right.body));
    },
  },
  {
    name: 'OTP never given: abandoned after 30 minutes',
    faults: [{ fault: 'otp_required' }],
    final: 'failed',
    failureCode: 'otp_abandoned',
    openStatus: 'requires_action',
    ledgerRows: 1,
    whenOpen: async (kit, gw, reference) => {
      await gw.sim('POST', `/_sim/transfers/${reference}/complete`, { status: 'abandoned' }, kit.provider);
    },
  },
  {
    name: 'insufficient balance',
    faults: [{ fault: 'insufficient_balance' }],
    final: 'failed',
    failureCode: 'insufficient_funds',
  },
];

const dialects = await testDialects();

for (const kit of PAYOUT_KITS) {
  for (const dialect of dialects) {
    describe(`payout faults: ${kit.provider} on ${dialect.name}`, { skip: dialect.skip }, () => {
      const clock = manualClock(Date.UTC(2026, 5, 1));
      let gw: TestGateway;
      let beneficiary: string;
      let n = 0;
      before(async () => {
        gw = await startTestGateway(dialect, {
          clock,
          start: { providerTimeoutMs: PROVIDER_TIMEOUT_MS },
        });
        await kit.setup?.(gw);
        if (kit.seedBeneficiary !== undefined) {
          beneficiary = await kit.seedBeneficiary(gw);
          return;
        }
        const created = await gw.api('POST', '/v1/beneficiaries', kit.beneficiary);
        assert.equal(created.status, 201, JSON.stringify(created.body));
        beneficiary = created.body.id;
      });
      after(() => gw?.close());

      const db = () => gw.services.database.db;

      /** Webhooks the simulator is still posting are waited for (real sockets), then jobs run. */
      async function settleWork(): Promise<void> {
        for (let i = 0; i < 5; i += 1) {
          const hooks = (await gw.sim('GET', '/_sim/webhooks', undefined, kit.provider)) as Array<{ done: boolean }>;
          if (hooks.every((h) => h.done)) {
            if ((await gw.services.worker.drain()) === 0) return;
          } else {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }

      for (const c of CASES) {
        const unsupported = c.faults.find((f) => !kit.faults.includes(f.fault));
        test(c.name, {
          skip:
            unsupported === undefined
              ? (c.notFor?.[kit.provider] ?? false)
              : `${kit.provider} has no ${unsupported.fault}`,
        }, async () => {
          await gw.sim('DELETE', '/_sim/faults', undefined, kit.provider);
          n += 1;
          const created = await gw.api('POST', '/v1/payouts', {
            amount: 150_075,
            currency: kit.currency,
            beneficiary,
            reference: `fault-${process.pid}-${n}`,
          });
          assert.equal(created.status, 201, JSON.stringify(created.body));
          const payoutId: string = created.body.id;
          assert.equal(created.body.status, 'pending');
          // The attempt and its reference are committed before any provider call.
          const attempt = await db()
            .selectFrom('payout_attempts')
            .selectAll()
            .where('payout_id', '=', payoutId)
            .executeTakeFirstOrThrow();
          assert.equal(attempt.sends, 0);
          for (const f of c.faults)
            await gw.sim(
              'POST',
              '/_sim/faults',
              {
                fault: f.fault,
                reference: attempt.reference,
                times: f.times ?? 1,
                ...(f.value === undefined ? {} : { value: f.value }),
              },
              kit.provider,
            );

          let status = '';
          let acted = false;
          for (let round = 0; round < 30; round += 1) {
            await settleWork();
            status = (await gw.api('GET', `/v1/payouts/${payoutId}`)).body.status;
            if (status === c.final) break;
            // Never failed on the way to success, never paid on the way to a refusal.
            if (c.final !== 'failed') assert.notEqual(status, 'failed');
            if (c.final === 'failed') assert.notEqual(status, 'succeeded');
            if (c.final !== 'requires_review') assert.notEqual(status, 'requires_review');
            if (!acted && c.whenOpen !== undefined && status === (c.openStatus ?? 'processing')) {
              acted = true;
              await c.whenOpen(kit, gw, attempt.reference, payoutId);
              continue;
            }
            clock.advance(c.roundMs ?? ROUND_MS);
            await kit.advance?.(gw, c.roundMs ?? ROUND_MS);
            await gw.services.payoutSweep.sweep();
          }
          assert.equal(status, c.final);
          const payout = (await gw.api('GET', `/v1/payouts/${payoutId}`)).body;
          if (c.failureCode !== undefined) assert.equal(payout.failure_code, c.failureCode);

          // The judge: the provider's own ledger.
          const ledger = (await gw.sim(
            'GET',
            `/_sim/ledger?reference=${attempt.reference}`,
            undefined,
            kit.provider,
          )) as Array<{ amountMinor: number; status: string }>;
          if (c.final !== 'failed') {
            // One row per kind of money movement (Stripe: a transfer and a payout), each once.
            for (const kind of kit.ledgerKinds ?? [undefined]) {
              const rows = (ledger as Array<{ amountMinor: number; kind?: string }>).filter(
                (r) => kind === undefined || r.kind === kind,
              );
              assert.equal(rows.length, 1, `exactly one ${kind ?? 'transfer'}: ${JSON.stringify(ledger)}`);
              assert.equal(rows[0]?.amountMinor, 150_075);
            }
            assert.equal(ledger.length, kit.ledgerKinds?.length ?? 1, JSON.stringify(ledger));
          } else {
            assert.equal(ledger.length, c.ledgerRows ?? kit.insufficientLedgerRows);
          }
          if (c.first !== undefined) {
            // The indefinite answer was recorded as such (a transition to unknown), not as a failure.
            const moves = await db()
              .selectFrom('audit_log')
              .select('action')
              .where('object_id', '=', payoutId)
              .execute();
            assert.ok(
              moves.some((m) => m.action === 'payout.transition.pending.unknown'),
              moves.map((m) => m.action).join(),
            );
          }
          // One attempt, one reference, whatever happened on the wire.
          const attempts = await db()
            .selectFrom('payout_attempts')
            .selectAll()
            .where('payout_id', '=', payoutId)
            .execute();
          assert.equal(attempts.length, 1);
          assert.equal(attempts[0]?.closed_at !== null, c.final !== 'requires_review');
          if (c.final === 'failed') assert.equal(attempts[0]?.sends, 1, 'a definite refusal is never retried');
          // Each state entered once, announced once.
          const events = await db().selectFrom('events').select('type').where('object_id', '=', payoutId).execute();
          const types = events.map((e) => e.type);
          assert.equal(types.filter((t) => t === `payout.${c.final}`).length, 1, types.join());
          // A reversal seen after the success was announced follows it; one seen at the first look skips it.
          if (c.final === 'reversed') assert.ok(types.filter((t) => t === 'payout.succeeded').length <= 1);
          assert.equal(new Set(types).size, types.length, `an event repeated: ${types.join()}`);
        });
      }
    });
  }
}
