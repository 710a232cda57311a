// KwikPaisa v3 payouts in the simulator: the wallet they are paid from, each payout's life
// (pending -> processing -> success | failed; success -> reversed) and the signed payout.*
// webhooks. The v3 docs are cut off after the first fields (payouts-research.md §1.5): the
// request fields, answer bodies, status words and webhook payload here follow the legacy v2
// payout API the v3 one probably inherits, and say so. Amounts: integer paise inside, major-unit
// decimal strings ("10.12") on the wire.
import { minorToMajorString } from '../../money/amount.ts';
import { accountResolves } from '../shared/accounts.ts';
import type { FaultName } from '../shared/faults.ts';
import type { MaybeHidden } from '../shared/payout-faults.ts';
import { createWebhookPoster } from '../shared/webhook-poster.ts';
import type { SimulatorState } from './state.ts';
import { kwikDate, kwikPaisaSignature, sortedJson } from './wire.ts';

export type PayoutStatus = 'pending' | 'processing' | 'success' | 'failed' | 'reversed';

export interface KwikPayout extends MaybeHidden {
  readonly payoutOrderId: string;
  readonly systemOrderId: string;
  readonly rrn: string;
  readonly amountMinor: number;
  readonly transferMode: string;
  readonly transferType: string;
  readonly beneficiary: { name: string; accountNumber: string; ifsc: string };
  readonly createdAt: Date;
  updatedAt: Date;
  status: PayoutStatus;
  message: string;
  readonly history: PayoutStatus[];
  stuck: boolean;
  reverseAfterSuccess: boolean;
  /** The request as it was posted (the legacy status answer echoes it as posted_data). */
  readonly posted: Record<string, unknown>;
}

export interface PayoutSettings {
  /** immediate: processing then success (or failed) right after the answer; manual: on /_sim/payouts/:id/complete. */
  payoutCompletion: 'immediate' | 'manual';
  /** Where answers put the payout: `data` (ours) or `return_data` (the v2 envelope); the docs are cut off. */
  payoutDataKey: 'data' | 'return_data';
  /** `txn_status` in lower case (legacy sample: "pending") or upper case (as the v3 order status: "PAID"). */
  payoutStatusCase: 'lower' | 'upper';
}

export const SIM_WALLET_ID = 'kwx_sim_wallet_001';
export const WALLET_START_MINOR = 1_000_000_000;

const NEXT: Readonly<Record<PayoutStatus, readonly PayoutStatus[]>> = {
  pending: ['processing', 'success', 'failed'],
  processing: ['success', 'failed'],
  success: ['reversed'],
  failed: [],
  reversed: [],
};

export function createPayoutState() {
  const state = {
    payouts: new Map<string, KwikPayout>(),
    walletMinor: WALLET_START_MINOR,
    nextRrn: 411_900_000_000,
    settings: { payoutCompletion: 'immediate', payoutDataKey: 'data', payoutStatusCase: 'lower' } as PayoutSettings,
    reset(): void {
      state.payouts.clear();
      state.walletMinor = WALLET_START_MINOR;
    },
  };
  return state;
}

export type PayoutState = ReturnType<typeof createPayoutState>;

/** The payout as the status call answers it (field names after the legacy v2 answer; ours). */
export function payoutData(payout: KwikPayout, settings: PayoutSettings): Record<string, unknown> {
  const status = settings.payoutStatusCase === 'upper' ? payout.status.toUpperCase() : payout.status;
  return {
    payout_order_id: payout.payoutOrderId,
    merchant_payout_order_id: payout.payoutOrderId,
    unique_system_order_id: payout.systemOrderId,
    transfer_amount: minorToMajorString(payout.amountMinor, 'INR'),
    currency: 'INR',
    transfer_mode: payout.transferMode,
    txn_status: status,
    rrn_number: payout.rrn,
    msg: payout.message,
    beneficiary_name: payout.beneficiary.name,
    created_at: kwikDate(payout.createdAt),
    updated_at: kwikDate(payout.updatedAt),
  };
}

export function createPayoutLifecycle(deps: {
  state: SimulatorState;
  payouts: PayoutState;
  secretKey: string;
  nowMs: () => number;
}) {
  const { state, payouts } = deps;
  const poster = createWebhookPoster(state.webhooks, deps.nowMs);
  const take = (names: readonly FaultName[], scope: string) => state.faults.take(names, scope);

  /** The webhook body (payload undocumented; ours, in the payment webhook's form). */
  function webhookBody(payout: KwikPayout, event: string): string {
    const data = payoutData(payout, payouts.settings);
    return sortedJson(
      {
        event,
        data: {
          payout_order_id: data.payout_order_id,
          unique_system_order_id: data.unique_system_order_id,
          amount: data.transfer_amount,
          currency: 'INR',
          status: data.txn_status,
          rrn_number: data.rrn_number,
        },
      },
      state.settings.webhookBodySort,
    );
  }

  function post(body: string, badSignature: boolean) {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const timestamp = String(Math.floor(deps.nowMs() / 1000) + state.settings.webhookTimestampOffsetSeconds);
    return poster.deliver(url, body, {
      'content-type': 'application/json',
      'x-timestamp': timestamp,
      'x-signature': kwikPaisaSignature(body, timestamp, badSignature ? `${deps.secretKey}-wrong` : deps.secretKey),
    });
  }

  /** Plain bodies first, then the settlement ones with the webhook faults of the payout. */
  async function deliver(payout: KwikPayout, plain: string[], settlement: string[], stale: string[]) {
    for (const body of plain) {
      const entry = post(body, false);
      if (entry !== undefined) await poster.waitFor(entry);
    }
    const scope = payout.payoutOrderId;
    if (settlement.length === 0 || take(['no_webhook'], scope) !== undefined) return;
    const duplicate = take(['duplicate_webhook'], scope);
    const badSignature = take(['bad_signature'], scope) !== undefined;
    const outOfOrder = take(['out_of_order'], scope) !== undefined;
    for (const body of [...settlement, ...(outOfOrder ? stale : [])]) {
      const first = post(body, badSignature);
      if (first === undefined) return;
      // Identical bytes (same timestamp too): a duplicate delivery, not a new event.
      const count = duplicate === undefined ? 1 : (duplicate.value ?? 5);
      const copies = [first, ...Array.from({ length: count - 1 }, () => poster.repeat(first))];
      await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    }
  }

  /** Moves a payout on if allowed; failed and reversed money returns to the wallet. */
  function move(payout: KwikPayout, to: PayoutStatus, message?: string): string | undefined {
    if (!NEXT[payout.status].includes(to)) return undefined;
    payout.status = to;
    payout.history.push(to);
    payout.updatedAt = new Date(deps.nowMs());
    payout.message =
      message ??
      (to === 'success'
        ? 'Transaction successful.'
        : to === 'failed'
          ? 'Transaction failed at beneficiary bank.'
          : to === 'reversed'
            ? 'Transaction reversed by beneficiary bank.'
            : 'Transaction is being processed.');
    if (to === 'failed' || to === 'reversed') payouts.walletMinor += payout.amountMinor;
    return webhookBody(payout, `payout.${to}`);
  }

  return {
    webhookBody,
    /** After the create answer (or before it: webhook_before_answer): settles unless stuck or manual. */
    async afterCreate(payout: KwikPayout): Promise<void> {
      if (payout.stuck || payouts.settings.payoutCompletion === 'manual') return;
      const processing = move(payout, 'processing');
      const final = accountResolves(payout.beneficiary.accountNumber)
        ? move(payout, 'success')
        : move(payout, 'failed', 'Invalid beneficiary account number.');
      await deliver(
        payout,
        processing === undefined ? [] : [processing],
        final === undefined ? [] : [final],
        processing === undefined ? [] : [processing],
      );
    },
    /** A test settles a payout: success, failed, or reversed after success. */
    async settle(payout: KwikPayout, to: PayoutStatus, message?: string): Promise<boolean> {
      const plain: string[] = [];
      if (to === 'success' && payout.status === 'pending') {
        const processing = move(payout, 'processing');
        if (processing !== undefined) plain.push(processing);
      }
      const stale = webhookBody(payout, `payout.${payout.status}`);
      const final = move(payout, to, message);
      if (final === undefined) return false;
      payout.stuck = false;
      await deliver(payout, plain, [final], [stale]);
      return true;
    },
    /** reversal_after_success: once a status call has shown the payout succeeded, it is reversed. */
    reverseIfDue(payout: KwikPayout): void {
      if (!payout.reverseAfterSuccess || payout.status !== 'success') return;
      payout.reverseAfterSuccess = false;
      setImmediate(() => {
        const reversed = move(payout, 'reversed');
        if (reversed !== undefined) void deliver(payout, [], [reversed], []);
      });
    },
    close: () => poster.close(),
  };
}

export type PayoutLifecycle = ReturnType<typeof createPayoutLifecycle>;
