// In-memory state of the Paystack simulator: initialized transactions (checkouts), completed
// transactions, injected faults, settings and the log of webhooks sent. Nothing persists;
// `reset` clears it all except settings (../shared/world.ts).
import { randomBytes } from 'node:crypto';
import { createFaultStore, type FaultStore } from '../shared/faults.ts';
import { commonState, resetWorld } from '../shared/world.ts';

export interface Checkout {
  readonly accessCode: string;
  readonly reference: string;
  /** Integer, minor units, as Paystack takes it. */
  readonly amount: number;
  readonly currency: string;
  readonly email: string;
  readonly callbackUrl: string | undefined;
  readonly metadata: unknown;
  /** Paystack gives a transaction its id at initialize; the paid attempt keeps it. */
  readonly transactionId: number;
  /** Open until paid: a declined card leaves the checkout open for another try, as Paystack's does. */
  status: 'open' | 'paid';
  /** Declined attempts so far (shown on the page; the transaction's log counts them too). */
  declinedAttempts: number;
  readonly createdAt: string;
}

export interface Transaction {
  readonly id: number;
  readonly reference: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: 'success' | 'failed' | 'abandoned';
  readonly gateway_response: string;
  readonly paid_at: string | null;
  readonly created_at: string;
  readonly customer: { id: number; email: string; customer_code: string };
  readonly metadata: unknown;
}

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  /** HTTP status of "Transaction reference not found": 404 by default (§2.1's generic 404), or 400. */
  notFoundHttpStatus: 400 | 404;
  /** What verify says for an initialized reference nobody has paid yet. */
  unpaidVerify: 'abandoned' | 'not_found';
  /** Who pays Paystack's fees: `customer` adds them to the charge (data.amount), as the dashboard setting does. */
  feeBearer: 'merchant' | 'customer';
  /** The currencies enabled on the merchant's Paystack account (its dashboard setting); another
   * currency is refused with "Currency not supported by merchant", as Paystack does. */
  currencies: string[];
}

/** Paystack references never hold `_`; a fault scope or complete call given in Paywarden's form
 * (`pay_…`) is read as its Paystack reference (`pay-…`), the adapter's mapping. */
export const wireReference = (scope: string): string => scope.replaceAll('_', '-');

/** The fault store seen by the API gate and the control API: scopes stored in wire form. */
function wireScopedFaults(store: FaultStore): FaultStore {
  return {
    ...store,
    add: (fault) => store.add({ ...fault, scope: fault.scope === undefined ? undefined : wireReference(fault.scope) }),
  };
}

export function createState(webhookUrl: string | undefined) {
  const state = {
    checkouts: new Map<string, Checkout>(),
    checkoutsByRef: new Map<string, Checkout>(),
    transactions: new Map<number, Transaction>(),
    ...commonState<SimulatorSettings>(
      {
        webhookUrl,
        notFoundHttpStatus: 404,
        unpaidVerify: 'abandoned',
        feeBearer: 'merchant',
        currencies: ['NGN', 'GHS', 'KES', 'ZAR', 'USD'],
      },
      wireScopedFaults(createFaultStore()),
    ),
    nextTransactionId: 4_099_260_516,
    newAccessCode: () => randomBytes(8).toString('hex'),
    transactionsFor(reference: string): Transaction[] {
      return [...state.transactions.values()].filter((t) => t.reference === reference);
    },
    reset(): void {
      resetWorld(state, [state.checkouts, state.checkoutsByRef, state.transactions]);
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
