// In-memory state of the Flutterwave simulator: hosted checkouts, transactions, injected faults,
// settings and the log of webhooks sent. Nothing persists; `reset` clears it all.
import { randomBytes } from 'node:crypto';
import { createFaultStore } from '../shared/faults.ts';
import type { WebhookLogEntry } from '../shared/webhook-poster.ts';

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

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  signatureHeaders: 'both' | 'verif-hash' | 'flutterwave-signature';
  payloadShape: 'v3' | 'flat';
  notFoundHttpStatus: 200 | 400;
}

export function createState(webhookUrl: string | undefined) {
  const state = {
    checkouts: new Map<string, Checkout>(),
    checkoutsByRef: new Map<string, Checkout>(),
    transactions: new Map<number, Transaction>(),
    faults: createFaultStore(),
    webhooks: [] as WebhookLogEntry[],
    settings: { webhookUrl, signatureHeaders: 'both', payloadShape: 'v3', notFoundHttpStatus: 400 } as SimulatorSettings,
    nextTransactionId: 285_959_875,
    newToken: () => randomBytes(12).toString('hex'),
    transactionsFor(txRef: string): Transaction[] {
      return [...state.transactions.values()].filter((t) => t.tx_ref === txRef);
    },
    reset() {
      state.checkouts.clear();
      state.checkoutsByRef.clear();
      state.transactions.clear();
      state.faults.clear();
      state.webhooks.length = 0;
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
