// In-memory state of the Flutterwave simulator: hosted checkouts, transactions, transfers,
// refunds, injected faults, settings and the log of webhooks sent. Nothing persists; `reset`
// clears it all except settings and the id counters (../shared/world.ts).
import { randomBytes } from 'node:crypto';
import { commonState, resetWorld } from '../shared/world.ts';

export interface CheckoutCustomer {
  readonly email: string;
  readonly name?: string;
  readonly phonenumber?: string;
}

export interface Checkout {
  readonly token: string;
  readonly txRef: string;
  /** Integer minor units of `currency`; the wire's major-unit numbers are written from it (wire.ts). */
  readonly amountMinor: number;
  readonly currency: string;
  readonly redirectUrl: string;
  readonly customer: CheckoutCustomer;
  readonly meta: unknown;
  readonly title: string;
  /** Open until paid or past `expiresAtMs`: a declined card leaves it open for another try, as
   * Flutterwave's hosted checkout does (the customer retries; max_retry_attempt bounds it). */
  status: 'open' | 'paid' | 'expired';
  readonly createdAt: string;
  /** From `session_duration` (minutes); undefined: the checkout does not expire here. */
  readonly expiresAtMs: number | undefined;
  /** Declined attempts so far, shown on the page and bounded by `maxRetryAttempts`. */
  declinedAttempts: number;
  /** From `max_retry_attempt`: after this many declines the checkout closes (undefined: no bound). */
  readonly maxRetryAttempts: number | undefined;
  /** Reserved at creation, so an unpaid checkout verifies as `pending` under the id it keeps. */
  readonly transactionId: number;
}

export interface Transaction {
  readonly id: number;
  readonly tx_ref: string;
  readonly flw_ref: string;
  /** Integer minor units; Flutterwave answers in major units, written from this (wire.ts). */
  readonly amountMinor: number;
  readonly currency: string;
  readonly status: 'successful' | 'failed' | 'pending';
  readonly created_at: string;
  readonly customer: { id: number; name: string; phone_number: string; email: string; created_at: string };
  readonly meta: unknown;
}

export type TransferStatus = 'NEW' | 'PENDING' | 'SUCCESSFUL' | 'FAILED';

export interface Transfer {
  readonly id: number;
  readonly account_number: string;
  readonly bank_code: string;
  readonly bank_name: string;
  readonly full_name: string;
  readonly created_at: string;
  readonly currency: string;
  readonly debit_currency: string;
  /** Integer minor units of `currency`; the wire's major-unit number is written from it (wire.ts). */
  readonly amountMinor: number;
  /** Integer thousandths of a major unit: Flutterwave's NGN fees (10.75, 26.875) are finer than a kobo. */
  readonly feeThousandths: number;
  status: TransferStatus;
  readonly reference: string;
  readonly meta: unknown;
  readonly narration: string;
  complete_message: string;
  /** Where this transfer's webhook goes instead of the account's URL, when the caller gave one. */
  readonly callbackUrl: string | undefined;
  /** Lookups that will not see it yet (the not_found_after_create fault). */
  hiddenLookups: number;
}

export interface Refund {
  readonly id: number;
  readonly tx_id: number;
  readonly flw_ref: string;
  readonly currency: string;
  /** Integer minor units of the transaction's currency. */
  readonly amountRefundedMinor: number;
  readonly comments: string | null;
  readonly created_at: string;
}

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  signatureHeaders: 'both' | 'verif-hash' | 'flutterwave-signature';
  payloadShape: 'v3' | 'flat';
  /** HTTP status of "No transaction was found": undocumented (§1.3), so it is a setting. */
  notFoundHttpStatus: 200 | 400;
  /** What verify answers for a checkout nobody has paid yet: `pending`, or "No transaction was found". */
  unpaidVerify: 'pending' | 'not_found';
  /** `immediate`: a transfer settles right after it is queued; `manual`: it waits for /_sim/transfers/:reference/complete. */
  transferCompletion: 'immediate' | 'manual';
  /** The currencies the merchant's account may collect in (Flutterwave enables them per account);
   * null: every one. Another currency is refused with 400 "Invalid currency". */
  currencies: readonly string[] | null;
}

export const DEFAULT_SETTINGS: Readonly<Omit<SimulatorSettings, 'webhookUrl'>> = {
  signatureHeaders: 'both',
  payloadShape: 'v3',
  notFoundHttpStatus: 400,
  unpaidVerify: 'pending',
  transferCompletion: 'immediate',
  currencies: null,
};

// Ids in the range of the docs' examples, so they look like Flutterwave's and sort by creation.
const FIRST_TRANSACTION_ID = 285_959_875;
const FIRST_TRANSFER_ID = 396_432;
const FIRST_REFUND_ID = 8_612;

export function createState(webhookUrl: string | undefined) {
  const state = {
    checkouts: new Map<string, Checkout>(),
    checkoutsByRef: new Map<string, Checkout>(),
    transactions: new Map<number, Transaction>(),
    transfers: new Map<number, Transfer>(),
    // Look-ups by another key than the map's own, kept with them (add* below): a scan of every
    // transaction on each verify made the simulator slower with every payment of a long soak.
    transactionsByRef: new Map<string, Transaction[]>(),
    checkoutsByTransactionId: new Map<number, Checkout>(),
    transfersByReference: new Map<string, Transfer>(),
    refunds: [] as Refund[],
    /** Available balance per currency, integer minor units (GET /v3/balances); debited at queueing. */
    balances: new Map<string, number>(),
    ...commonState<SimulatorSettings>({ webhookUrl, ...DEFAULT_SETTINGS }),
    nextTransactionId: FIRST_TRANSACTION_ID,
    nextTransferId: FIRST_TRANSFER_ID,
    nextRefundId: FIRST_REFUND_ID,
    /** 96 bits: a checkout link is the only thing standing between a stranger and the Pay button. */
    newToken: () => randomBytes(12).toString('hex'),
    addCheckout(checkout: Checkout): void {
      state.checkouts.set(checkout.token, checkout);
      state.checkoutsByRef.set(checkout.txRef, checkout);
      state.checkoutsByTransactionId.set(checkout.transactionId, checkout);
    },
    addTransaction(transaction: Transaction): void {
      state.transactions.set(transaction.id, transaction);
      const attempts = state.transactionsByRef.get(transaction.tx_ref) ?? [];
      attempts.push(transaction);
      state.transactionsByRef.set(transaction.tx_ref, attempts);
    },
    addTransfer(transfer: Transfer): void {
      state.transfers.set(transfer.id, transfer);
      // The first with a reference is the one a look-up by reference finds.
      if (!state.transfersByReference.has(transfer.reference))
        state.transfersByReference.set(transfer.reference, transfer);
    },
    /** The attempts at a reference, in the order they were made. */
    transactionsFor(txRef: string): Transaction[] {
      return [...(state.transactionsByRef.get(txRef) ?? [])];
    },
    checkoutByTransactionId(id: number): Checkout | undefined {
      return state.checkoutsByTransactionId.get(id);
    },
    transferByReference(reference: string): Transfer | undefined {
      return state.transfersByReference.get(reference);
    },
    refundedTotal(txId: number): number {
      return state.refunds.filter((r) => r.tx_id === txId).reduce((sum, r) => sum + r.amountRefundedMinor, 0);
    },
    reset(): void {
      // Ids keep counting: an id reused for another payment would look like the provider
      // contradicting itself to a gateway that still holds the old one.
      resetWorld(state, [
        state.checkouts,
        state.checkoutsByRef,
        state.transactions,
        state.transfers,
        state.transactionsByRef,
        state.checkoutsByTransactionId,
        state.transfersByReference,
        state.refunds,
        state.balances,
      ]);
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
