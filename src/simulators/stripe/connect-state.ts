// In-memory Stripe Connect: the platform and its connected accounts with their balances, the
// transfers between them (and their reversals), the payouts from a connected account to its bank,
// and the idempotency records of these calls. Amounts are integer minor units, as on Stripe's
// wire. `reset` empties the world and keeps the settings (../shared/world.ts).
import type { MaybeHidden } from '../shared/payout-faults.ts';
import { newId } from './state.ts';

export const PLATFORM_ACCOUNT = 'acct_platform';
/** The platform's starting balance in each of these currencies, so test mode can pay out at once. */
export const PLATFORM_CURRENCIES = ['usd', 'eur', 'gbp'] as const;
export const PLATFORM_START_BALANCE_MINOR = 100_000_000;

export interface ConnectedAccount {
  readonly id: string;
  readonly country: string;
  readonly defaultCurrency: string;
  readonly email: string | null;
  readonly businessName: string;
  /** The one external bank account payouts go to. */
  readonly externalAccount: { id: string; last4: string; bankName: string; accountHolderName: string };
  payoutsEnabled: boolean;
  readonly created: number;
  /** Available balance per lowercase currency, minor units. */
  readonly available: Map<string, number>;
}

export interface TransferReversal {
  readonly id: string;
  readonly amount: number;
  readonly created: number;
  readonly metadata: Record<string, string>;
}

export interface Transfer extends MaybeHidden {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly destination: string;
  readonly destinationPayment: string;
  readonly transferGroup: string | null;
  readonly description: string | null;
  readonly metadata: Record<string, string>;
  readonly created: number;
  readonly balanceTransaction: string;
  readonly reversals: TransferReversal[];
}

export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

export interface Payout extends MaybeHidden {
  readonly id: string;
  /** The account whose balance pays (the Stripe-Account it was created on). */
  readonly account: string;
  readonly amount: number;
  readonly currency: string;
  readonly description: string | null;
  readonly statementDescriptor: string | null;
  readonly metadata: Record<string, string>;
  readonly method: 'standard' | 'instant';
  readonly destination: string;
  readonly created: number;
  readonly arrivalDate: number;
  readonly balanceTransaction: string;
  status: PayoutStatus;
  failureCode: string | null;
  failureMessage: string | null;
  failureBalanceTransaction: string | null;
  /** Every status it has had, in order (a paid payout that later failed shows both). */
  readonly history: PayoutStatus[];
  /** stuck_pending: never settles on its own. */
  stuck: boolean;
  /** reversal_after_success: fails REVERSAL_DELAY_SECONDS after it is paid (Connect clock). */
  reverseAfterPaid: boolean;
  /** When it became paid, on the Connect clock. */
  paidAtSeconds?: number;
}

export interface ConnectIdempotencyRecord {
  readonly endpoint: string;
  readonly fingerprint: string;
  readonly createdSeconds: number;
  readonly statusCode: number;
  readonly body: string;
}

export interface ConnectSettings {
  /** immediate: a payout goes pending -> in_transit -> paid right after its answer; manual: on /_sim/payouts/:id/complete. */
  payoutCompletion: 'immediate' | 'manual';
}

/** Stripe keeps an idempotency key at least 24 hours, then may prune it (docs.stripe.com/idempotency). */
export const IDEMPOTENCY_RETENTION_SECONDS = 86_400;

export function createConnectState() {
  let clockOffsetSeconds = 0;
  const state = {
    accounts: new Map<string, ConnectedAccount>(),
    platformAvailable: new Map<string, number>(),
    transfers: new Map<string, Transfer>(),
    payouts: new Map<string, Payout>(),
    idempotency: new Map<string, ConnectIdempotencyRecord>(),
    /** Keys whose first request is still executing: a concurrent repeat gets 409. */
    inFlight: new Set<string>(),
    settings: { payoutCompletion: 'immediate' } as ConnectSettings,
    nowSeconds: () => Math.floor(Date.now() / 1000) + clockOffsetSeconds,
    /** Moves the Connect clock on (to let idempotency keys expire); never back. */
    advanceClock(seconds: number): void {
      clockOffsetSeconds += seconds;
    },
    /** The balance map of the platform or of a connected account; undefined for no such account. */
    balanceOf(account: string): Map<string, number> | undefined {
      return account === PLATFORM_ACCOUNT ? state.platformAvailable : state.accounts.get(account)?.available;
    },
    createAccount(fields: {
      country: string;
      defaultCurrency: string;
      email?: string | null;
      businessName?: string;
      accountNumber?: string;
      id?: string;
    }): ConnectedAccount {
      const accountNumber = fields.accountNumber ?? '000123456789';
      const account: ConnectedAccount = {
        id: fields.id ?? newId('acct_1').slice(0, 21),
        country: fields.country.toUpperCase(),
        defaultCurrency: fields.defaultCurrency.toLowerCase(),
        email: fields.email ?? null,
        businessName: fields.businessName ?? 'Simulated Connected Account',
        externalAccount: {
          id: newId('ba_'),
          last4: accountNumber.slice(-4),
          bankName: 'STRIPE TEST BANK',
          accountHolderName: fields.businessName ?? 'Simulated Connected Account',
        },
        payoutsEnabled: true,
        created: state.nowSeconds(),
        available: new Map(),
      };
      state.accounts.set(account.id, account);
      return account;
    },
    reset(): void {
      for (const record of [state.accounts, state.transfers, state.payouts, state.idempotency, state.inFlight])
        record.clear();
      state.platformAvailable.clear();
      for (const currency of PLATFORM_CURRENCIES) state.platformAvailable.set(currency, PLATFORM_START_BALANCE_MINOR);
    },
  };
  state.reset();
  return state;
}

export type ConnectState = ReturnType<typeof createConnectState>;

/** Our reference for a transfer or payout: `metadata[reference]`, else the transfer group. */
export function referenceOf(record: { metadata: Record<string, string>; transferGroup?: string | null }) {
  return record.metadata.reference ?? record.transferGroup ?? undefined;
}
