// What the payout fault suite (test/e2e/payout-faults.test.ts) and the end-to-end payout tests
// need to know about a provider that pays out. Adding a provider to the suite is adding a kit:
// the beneficiary it pays, the faults of issue 9 §3 its simulator implements, how its simulator
// settles a transfer by hand, and what a definite insufficient-funds refusal leaves in its ledger.
// The faults themselves go through the common /_sim/ control API (POST /_sim/faults, scoped by
// the attempt's reference) and the ledger through GET /_sim/ledger, the same for every provider.
import type { FaultName } from '../../src/simulators/shared/faults.ts';
import { createFieldCipher } from '../../src/crypto/encryption.ts';
import { newId } from '../../src/ids.ts';
import type { Db } from '../../src/db/schema.ts';
import type { Secret } from '../../src/crypto/secret.ts';
import type { TestGateway } from './gateway.ts';

export interface PayoutKit {
  readonly provider: string;
  readonly currency: string;
  /** A POST /v1/beneficiaries body whose account resolves at the simulator. */
  readonly beneficiary: Record<string, unknown>;
  /** An account that resolves but whose transfers fail at the bank. */
  readonly failingBeneficiary?: Record<string, unknown>;
  /** Faults the simulator implements (the suite skips the others, and says so). */
  readonly faults: readonly FaultName[];
  /** Settles a transfer left pending (stuck_pending) as the bank would. */
  settle(gateway: TestGateway, reference: string, outcome: 'succeeded' | 'failed'): Promise<void>;
  /** Ledger rows an insufficient-funds refusal leaves: 0 (refused at create) or 1 (a failed transfer). */
  readonly insufficientLedgerRows: 0 | 1;
  /** Done at the simulator before the beneficiary is created (Stripe: the connected account). */
  setup?(gateway: TestGateway): Promise<void>;
  /**
   * The kinds of ledger row one payout makes, each exactly once (Stripe: a `transfer` to the
   * connected account and a `payout` from it); one row of any kind when undefined.
   */
  readonly ledgerKinds?: readonly string[];
  /**
   * For a provider with no account look-up (KwikPaisa documents none), the beneficiary is stored
   * directly, sealed as the store seals it, instead of through POST /v1/beneficiaries; its id.
   */
  seedBeneficiary?(gateway: TestGateway): Promise<string>;
  /**
   * Moves the simulator's own clock on with the test's, for a simulator whose behaviour depends on
   * time passing (Stripe: a paid payout that fails half a day later).
   */
  advance?(gateway: TestGateway, ms: number): Promise<void>;
}

/** A bank beneficiary row written as the store writes it (the account number sealed). */
export async function seedBankBeneficiary(
  db: Db,
  masterKey: Secret,
  fields: {
    provider: string;
    country: string;
    currency: string;
    bankCode: string;
    accountNumber: string;
    accountName: string;
  },
): Promise<string> {
  const id = newId('ben');
  const cipher = createFieldCipher(masterKey);
  await db
    .insertInto('beneficiaries')
    .values({
      id,
      mode: 'test',
      type: 'bank_account',
      country: fields.country,
      currency: fields.currency,
      bank_code: fields.bankCode,
      bank_name: null,
      account_sealed: cipher.encrypt(fields.accountNumber, `beneficiary:${id}`),
      account_last4: fields.accountNumber.slice(-4),
      account_name: fields.accountName,
      email: null,
      provider: fields.provider,
      metadata_json: '{}',
      created_at: Date.now(),
      deleted_at: null,
    })
    .execute();
  return id;
}

export const flutterwavePayoutKit: PayoutKit = {
  provider: 'flutterwave',
  currency: 'NGN',
  beneficiary: { type: 'bank_account', currency: 'NGN', country: 'NG', bank_code: '044', account_number: '0690000031' },
  faults: [
    'drop_request',
    'lost_answer_timeout',
    'lost_answer_500',
    'lost_answer_reset',
    'delay',
    'http_429',
    'http_500',
    'duplicate_reference',
    'not_found_after_create',
    'stuck_pending',
    'webhook_before_answer',
    'duplicate_webhook',
    'no_webhook',
    'out_of_order',
    'insufficient_balance',
  ],
  async settle(gateway, reference, outcome) {
    await gateway.sim('POST', `/_sim/transfers/${reference}/complete`, {
      status: outcome === 'succeeded' ? 'SUCCESSFUL' : 'FAILED',
    });
  },
  insufficientLedgerRows: 1,
};

/** The connected account the Stripe kit pays (created at the simulator by `setup`). */
export const STRIPE_KIT_ACCOUNT = 'acct_1PaywardenKitSeller';

export const stripePayoutKit: PayoutKit = {
  provider: 'stripe',
  currency: 'USD',
  beneficiary: { type: 'connected_account', currency: 'USD', account_id: STRIPE_KIT_ACCOUNT, provider: 'stripe' },
  async setup(gateway) {
    const accounts = (await gateway.sim('GET', '/_sim/accounts', undefined, 'stripe')) as Array<{ id: string }>;
    if (!accounts.some((a) => a.id === STRIPE_KIT_ACCOUNT))
      await gateway.sim(
        'POST',
        '/_sim/accounts',
        { id: STRIPE_KIT_ACCOUNT, country: 'US', default_currency: 'usd', business_name: 'Kit Seller LLC' },
        'stripe',
      );
  },
  faults: [
    'drop_request',
    'lost_answer_timeout',
    'lost_answer_500',
    'lost_answer_reset',
    'delay',
    'http_429',
    'http_500',
    'duplicate_reference',
    'not_found_after_create',
    'stuck_pending',
    'webhook_before_answer',
    'duplicate_webhook',
    'no_webhook',
    'out_of_order',
    'reversal_after_success',
    'insufficient_balance',
  ],
  async settle(gateway, reference, outcome) {
    await gateway.sim(
      'POST',
      `/_sim/payouts/${reference}/complete`,
      { status: outcome === 'succeeded' ? 'paid' : 'failed' },
      'stripe',
    );
  },
  async advance(gateway, ms) {
    await gateway.sim('POST', '/_sim/clock', { advanceSeconds: Math.floor(ms / 1000) }, 'stripe');
  },
  // Refused at the transfer (the platform's balance): nothing moved.
  insufficientLedgerRows: 0,
  ledgerKinds: ['transfer', 'payout'],
};

/** The bank account the KwikPaisa kit pays (stored directly: KwikPaisa documents no look-up). */
export const KWIKPAISA_KIT_ACCOUNT = {
  provider: 'kwikpaisa',
  country: 'IN',
  currency: 'INR',
  bankCode: 'HDFC0001234',
  accountNumber: '123456789012',
  accountName: 'Ajay Kumar',
} as const;

export const kwikpaisaPayoutKit: PayoutKit = {
  provider: 'kwikpaisa',
  currency: 'INR',
  beneficiary: {},
  seedBeneficiary: (gateway) =>
    seedBankBeneficiary(gateway.services.database.db, gateway.services.config.masterKey, KWIKPAISA_KIT_ACCOUNT),
  faults: [
    'drop_request',
    'lost_answer_timeout',
    'lost_answer_500',
    'lost_answer_reset',
    'delay',
    'http_429',
    'http_500',
    'duplicate_reference',
    'not_found_after_create',
    'stuck_pending',
    'webhook_before_answer',
    'duplicate_webhook',
    'no_webhook',
    'out_of_order',
    'reversal_after_success',
    'insufficient_balance',
  ],
  async settle(gateway, reference, outcome) {
    await gateway.sim(
      'POST',
      `/_sim/payouts/${reference}/complete`,
      { status: outcome === 'succeeded' ? 'success' : 'failed' },
      'kwikpaisa',
    );
  },
  // Refused at create (422 Insufficient wallet balance): nothing made.
  insufficientLedgerRows: 0,
};

export const paystackPayoutKit: PayoutKit = {
  provider: 'paystack',
  currency: 'NGN',
  beneficiary: {
    type: 'bank_account',
    currency: 'NGN',
    country: 'NG',
    bank_code: '058',
    account_number: '0123456789',
    provider: 'paystack',
  },
  faults: [
    'drop_request',
    'lost_answer_timeout',
    'lost_answer_500',
    'lost_answer_reset',
    'delay',
    'http_429',
    'http_500',
    'duplicate_reference',
    'not_found_after_create',
    'stuck_pending',
    'webhook_before_answer',
    'duplicate_webhook',
    'no_webhook',
    'out_of_order',
    'insufficient_balance',
    'reversal_after_success',
    'otp_required',
  ],
  async settle(gateway, reference, outcome) {
    await gateway.sim(
      'POST',
      `/_sim/transfers/${reference}/complete`,
      { status: outcome === 'succeeded' ? 'success' : 'failed' },
      'paystack',
    );
  },
  // Paystack checks the balance at creation: nothing is queued.
  insufficientLedgerRows: 0,
};

export const PAYOUT_KITS: readonly PayoutKit[] = [
  flutterwavePayoutKit,
  paystackPayoutKit,
  stripePayoutKit,
  kwikpaisaPayoutKit,
];
