// In-memory state of the Flutterwave simulator: hosted checkouts, transactions, injected faults,
// settings and the log of webhooks sent. Nothing persists; `reset` clears it all.
import { randomBytes } from 'node:crypto';

export interface Checkout {
  readonly token: string;
  readonly txRef: string;
  readonly amount: string;
  readonly currency: string;
  readonly redirectUrl: string;
  readonly customer: { email: string; name?: string; phonenumber?: string };
  readonly meta: unknown;
  readonly title: string;
  status: 'open' | 'paid' | 'declined';
  readonly createdAt: string;
}

export interface Transaction {
  readonly id: number;
  readonly tx_ref: string;
  readonly flw_ref: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: 'successful' | 'failed' | 'pending';
  readonly created_at: string;
  readonly customer: { id: number; name: string; phone_number: string; email: string; created_at: string };
  readonly meta: unknown;
}

export const FAULTS = ['delay', 'http_500', 'http_503', 'http_429', 'timeout', 'duplicate_webhook', 'out_of_order', 'wrong_amount', 'wrong_currency', 'bad_signature', 'no_webhook'] as const;
export type FaultName = (typeof FAULTS)[number];
export const API_FAULTS: readonly FaultName[] = ['delay', 'http_500', 'http_503', 'http_429', 'timeout'];
export const VERIFY_FAULTS: readonly FaultName[] = ['wrong_amount', 'wrong_currency'];
export const WEBHOOK_FAULTS: readonly FaultName[] = ['duplicate_webhook', 'out_of_order', 'bad_signature', 'no_webhook'];

export interface Fault {
  readonly fault: FaultName;
  readonly txRef: string | undefined;
  /** Uses left; Infinity for "until cleared". */
  remaining: number;
  readonly value: number | undefined;
}

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  signatureHeaders: 'both' | 'verif-hash' | 'flutterwave-signature';
  payloadShape: 'v3' | 'flat';
  notFoundHttpStatus: 200 | 400;
}

export interface WebhookLogEntry {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  statusCode: number | null;
  error: string | null;
  done: boolean;
  readonly sentAt: string;
}

export function createState(webhookUrl: string | undefined) {
  const state = {
    checkouts: new Map<string, Checkout>(),
    checkoutsByRef: new Map<string, Checkout>(),
    transactions: new Map<number, Transaction>(),
    faults: [] as Fault[],
    webhooks: [] as WebhookLogEntry[],
    settings: { webhookUrl, signatureHeaders: 'both', payloadShape: 'v3', notFoundHttpStatus: 400 } as SimulatorSettings,
    nextTransactionId: 285_959_875,
    newToken: () => randomBytes(12).toString('hex'),
    /** Takes one use of the first matching fault among `names`, if any. */
    takeFault(names: readonly FaultName[], txRef: string | undefined): Fault | undefined {
      const fault = state.faults.find((f) => names.includes(f.fault) && f.remaining > 0 && (f.txRef === undefined || f.txRef === txRef));
      if (fault === undefined) return undefined;
      fault.remaining -= 1;
      state.faults = state.faults.filter((f) => f.remaining > 0);
      return fault;
    },
    transactionsFor(txRef: string): Transaction[] {
      return [...state.transactions.values()].filter((t) => t.tx_ref === txRef);
    },
    reset() {
      state.checkouts.clear();
      state.checkoutsByRef.clear();
      state.transactions.clear();
      state.faults = [];
      state.webhooks.length = 0;
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
