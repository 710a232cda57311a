// How Connect money moves after the API answered: a payout goes pending -> in_transit -> paid (or
// failed, or canceled while pending), and "some payouts that fail might initially show as paid,
// then change to failed" (docs.stripe.com/api/payouts; payouts-research.md §1.4): a paid payout
// can still fail, and its money returns to the connected account. Each change is an event; the
// webhook faults (no_webhook, duplicate_webhook, bad_signature, out_of_order) strike the
// settlement events (payout.paid|failed|canceled, transfer.reversed), not the intermediate ones.
import type { FaultName, FaultStore } from '../shared/faults.ts';
import { type ConnectState, type Payout, type PayoutStatus, referenceOf, type Transfer } from './connect-state.ts';
import { connectEventBody, payoutObject, transferObject } from './connect-wire.ts';
import { newId, type SimulatorState, type StoredEvent } from './state.ts';
import type { createWebhookSender } from './webhook-sender.ts';

type Sender = ReturnType<typeof createWebhookSender>;

/** Takes a fault aimed at `kind:ref` (a transfer or payout only), at `ref`, or at anything. */
export function takeFor(faults: FaultStore, names: readonly FaultName[], kind: 'transfer' | 'payout', ref?: string) {
  return (ref === undefined ? undefined : faults.take(names, `${kind}:${ref}`)) ?? faults.take(names, ref);
}

const NEXT: Readonly<Record<PayoutStatus, readonly PayoutStatus[]>> = {
  pending: ['in_transit', 'paid', 'failed', 'canceled'],
  in_transit: ['paid', 'failed'],
  // The late failure of a paid payout: the reversal Stripe warns about.
  paid: ['failed'],
  failed: [],
  canceled: [],
};

/**
 * How long after `paid` a reversal_after_success payout fails. Stripe's "some payouts that fail
 * might initially show as paid" happens days later, at the bank; here it is half a day on the
 * Connect clock (moved with POST /_sim/clock), so it lands after the gateway has recorded the
 * success and before its one re-check a day after it. Failing it at once (one tick after a lookup)
 * raced the gateway's own look-ups of the same check.
 */
export const REVERSAL_DELAY_SECONDS = 12 * 3_600;

const FAILURES: Readonly<Record<string, string>> = {
  account_closed: 'The bank account has been closed.',
  could_not_process: 'The bank could not process this payout.',
  insufficient_funds: 'Your Stripe account has insufficient funds to cover the payout.',
};

export function createConnectLifecycle(deps: { state: SimulatorState; connect: ConnectState; sender: Sender }) {
  const { state, connect, sender } = deps;

  function storeEvent(
    objectId: string,
    type: string,
    object: Record<string, unknown>,
    account: string | undefined,
    previous?: Record<string, unknown>,
  ): StoredEvent {
    const id = newId('evt_');
    const event: StoredEvent = {
      id,
      sessionId: objectId,
      type,
      body: connectEventBody(id, type, object, connect.nowSeconds(), account, previous),
    };
    state.events.set(id, event);
    return event;
  }

  const accountOf = (payout: Payout) => (payout.account.startsWith('acct_platform') ? undefined : payout.account);

  /** Sends events one after the other; `settlement` ones carry the webhook faults of `ref`. */
  async function deliver(
    kind: 'transfer' | 'payout',
    ref: string | undefined,
    plain: readonly StoredEvent[],
    settlement: readonly StoredEvent[],
    stale: readonly StoredEvent[] = [],
  ): Promise<void> {
    await sender.sendSequence(plain, { badSignature: false, copies: 1 });
    if (settlement.length === 0) return;
    if (takeFor(state.faults, ['no_webhook'], kind, ref) !== undefined) return;
    const duplicate = takeFor(state.faults, ['duplicate_webhook'], kind, ref);
    const badSignature = takeFor(state.faults, ['bad_signature'], kind, ref) !== undefined;
    const outOfOrder = takeFor(state.faults, ['out_of_order'], kind, ref) !== undefined;
    await sender.sendSequence([...settlement, ...(outOfOrder ? stale : [])], {
      badSignature,
      copies: duplicate === undefined ? 1 : (duplicate.value ?? 5),
    });
  }

  /** Moves a payout to `to` if allowed; the money of a failed or canceled payout goes back. */
  function move(payout: Payout, to: PayoutStatus, failureCode?: string): StoredEvent | undefined {
    if (!NEXT[payout.status].includes(to)) return undefined;
    const from = payout.status;
    payout.status = to;
    payout.history.push(to);
    if (to === 'paid') payout.paidAtSeconds = connect.nowSeconds();
    if (to === 'failed' || to === 'canceled') {
      const balance = connect.balanceOf(payout.account);
      balance?.set(payout.currency, (balance.get(payout.currency) ?? 0) + payout.amount);
      payout.failureBalanceTransaction = newId('txn_');
      if (to === 'failed') {
        payout.failureCode = failureCode ?? 'could_not_process';
        payout.failureMessage = FAILURES[payout.failureCode] ?? 'The payout failed.';
      }
    }
    const type = to === 'in_transit' ? 'payout.updated' : `payout.${to}`;
    return storeEvent(payout.id, type, payoutObject(payout), accountOf(payout), { status: from });
  }

  return {
    storeEvent,
    deliver,
    move,
    /** Announces a new payout (payout.created) and, unless it is stuck or manual, settles it. */
    async afterCreate(payout: Payout, options: { settle: boolean }): Promise<void> {
      const created = storeEvent(payout.id, 'payout.created', payoutObject(payout), accountOf(payout));
      if (!options.settle || payout.stuck) return deliver('payout', referenceOf(payout), [created], []);
      const inTransit = move(payout, 'in_transit');
      const staleSnapshot = inTransit;
      // A bank account whose number ends in 0000 refuses the money, as at the bank.
      const destination = [...connect.accounts.values()].find((a) => a.externalAccount.id === payout.destination);
      const final =
        destination?.externalAccount.last4 === '0000' ? move(payout, 'failed', 'account_closed') : move(payout, 'paid');
      await deliver(
        'payout',
        referenceOf(payout),
        [created, ...(inTransit === undefined ? [] : [inTransit])],
        final === undefined ? [] : [final],
        staleSnapshot === undefined ? [] : [staleSnapshot],
      );
    },
    /** A test (or manual mode) settles the payout: paid, failed (also after paid) or canceled. */
    async settle(payout: Payout, to: PayoutStatus, failureCode?: string): Promise<boolean> {
      const steps: StoredEvent[] = [];
      if (to === 'paid' && payout.status === 'pending') {
        const inTransit = move(payout, 'in_transit');
        if (inTransit !== undefined) steps.push(inTransit);
      }
      // What out_of_order delivers late: the payout as it was just before it settled.
      const before = storeEvent(payout.id, 'payout.updated', payoutObject(payout), accountOf(payout));
      const final = move(payout, to, failureCode);
      if (final === undefined) return false;
      await deliver('payout', referenceOf(payout), steps, [final], [before]);
      return true;
    },
    /**
     * reversal_after_success: a paid payout fails once REVERSAL_DELAY_SECONDS have passed on the
     * Connect clock; called before a lookup answers and when the clock moves. True when it failed.
     */
    reverseIfDue(payout: Payout): boolean {
      if (!payout.reverseAfterPaid || payout.status !== 'paid' || payout.paidAtSeconds === undefined) return false;
      if (connect.nowSeconds() < payout.paidAtSeconds + REVERSAL_DELAY_SECONDS) return false;
      payout.reverseAfterPaid = false;
      const failed = move(payout, 'failed', 'account_closed');
      if (failed === undefined) return false;
      void deliver('payout', referenceOf(payout), [], [failed]);
      return true;
    },
    /** Reverses (part of) a transfer: the money goes back from the connected account. */
    reverseTransfer(transfer: Transfer, amount: number, metadata: Record<string, string>) {
      const reversal = { id: newId('trr_'), amount, created: connect.nowSeconds(), metadata };
      transfer.reversals.push(reversal);
      const destination = connect.balanceOf(transfer.destination);
      destination?.set(transfer.currency, (destination.get(transfer.currency) ?? 0) - amount);
      connect.platformAvailable.set(
        transfer.currency,
        (connect.platformAvailable.get(transfer.currency) ?? 0) + amount,
      );
      const event = storeEvent(transfer.id, 'transfer.reversed', transferObject(transfer), undefined);
      setImmediate(() => void deliver('transfer', referenceOf(transfer), [], [event]));
      return reversal;
    },
  };
}

export type ConnectLifecycle = ReturnType<typeof createConnectLifecycle>;
