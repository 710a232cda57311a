// The contract between the core and a provider adapter. Adapters hold no state and never touch
// the database: the core owns persistence, idempotency and state transitions.
import type { Mode } from '../db/schema.ts';
import type { PayoutProvider, TransferWebhookHint } from './payout-types.ts';

export interface CheckoutRequest {
  readonly paymentId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly customer: { readonly email: string; readonly name: string | null; readonly phone: string | null };
  readonly redirectUrl: string;
  readonly description: string | null;
  readonly merchantReference: string;
  /** Our payment's expiry (epoch ms): sent as the provider's own checkout lifetime where it has one,
   * so nobody can pay a payment we have already expired. */
  readonly expiresAt: number;
  /** When the payment was made (epoch ms, wall clock). The same for every attempt at one payment's
   * checkout: a bound an adapter computes from "now" is computed from this instead, so a repeated
   * create is the same request (Stripe compares the parameters under an Idempotency-Key).
   * Undefined: now. */
  readonly issuedAt?: number;
}

/**
 * Why a provider cannot take a request, known before it is called (its published rules) or read
 * from its refusal: our field name and a reason written for the merchant, never provider internals.
 */
export interface RequestProblem {
  readonly code: 'amount_below_minimum' | 'amount_not_accepted' | 'provider_field_required' | 'provider_refused_field';
  /** Our API's field: `amount`, `customer.name`, `redirect_url`... */
  readonly param: string;
  readonly message: string;
}

/** Result of a call whose outcome may be unknown: "indefinite" must never be read as failure. */
export type CallOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | {
      readonly kind: 'rejected';
      readonly reason: string;
      /** Set when the merchant can fix the refusal (a field the provider named, and why). */
      readonly problem?: RequestProblem;
    }
  | {
      readonly kind: 'indefinite';
      readonly reason: string;
      readonly retryAfterMs?: number;
      readonly notSent?: boolean;
    };

export type CheckoutOutcome =
  | CallOutcome<{ checkoutUrl: string; providerReference?: string }>
  /** The provider already holds this reference (an earlier create we never heard back from). */
  | { readonly kind: 'reference_exists'; readonly reason: string };

export interface VerifiedTransaction {
  /** Normalised: only an explicit provider success or failure leaves "pending". */
  readonly status: 'succeeded' | 'failed' | 'pending';
  readonly providerStatus: string;
  /** What counts toward the order (Paystack's `requested_amount` when the customer paid the fees);
   * undefined when the provider's amount cannot be expressed exactly in minor units. */
  readonly amountMinor: number | undefined;
  /**
   * Present when the provider reports what the customer was charged apart from the ordered amount
   * (fees passed to the customer): the charge must be at least the order.
   */
  readonly charged?: { readonly amountMinor: number | undefined };
  /**
   * The provider's fee for this transaction in minor units of `currency` (Paystack `fees`,
   * Flutterwave `app_fee`), whoever bore it; undefined when the provider reports none or not as
   * an exact number of minor units. Recorded on the payment, never rounded.
   */
  readonly feeMinor?: number;
  readonly currency: string;
  /** The reference we gave the provider (our payment id). */
  readonly reference: string;
  readonly providerTxId: string;
  /**
   * Pending because the money is on its way (a delayed method such as a bank debit, which Stripe
   * settles days later): the payment must not expire while the provider says so.
   */
  readonly inFlight?: true;
}

export type VerifyOutcome = CallOutcome<VerifiedTransaction> | { readonly kind: 'not_found' };

export interface VerifyRequest {
  readonly paymentId: string;
  readonly providerTxId: string | null;
}

/** What a verified provider webhook tells us; only a hint, never a reason to give value. */
export interface ProviderWebhookEvent {
  /** Namespaced, unique per provider event: `flutterwave:<id>:<event>:<status>`. */
  readonly dedupeKey: string;
  readonly eventType: string;
  /** Our payment id, when the event is about a payment we created. */
  readonly paymentId: string | undefined;
  readonly providerTxId: string | undefined;
  /** Set when the event is about a transfer out (payout-types.ts); a hint to query it. */
  readonly transfer?: TransferWebhookHint;
}

export type WebhookCheck =
  | { readonly ok: true; readonly mode: Mode; readonly scheme: string }
  | {
      readonly ok: false;
      readonly reason: string;
      /** Signed with our secret, but outside the timestamp window: a provider's late retry (or a
       * replay), refused but not evidence that the sender does not hold the secret. */
      readonly late?: true;
    };

export interface PaymentProvider {
  readonly name: string;
  readonly currencies: readonly string[];
  /**
   * 'many': one reference can carry several attempts (a customer retrying at the hosted checkout
   * creates new transactions under the same reference), so one failed attempt must be checked
   * against the reference as a whole. 'one': the object verified is the whole payment.
   */
  readonly attemptsPerReference?: 'one' | 'many';
  /**
   * 'open': a declined attempt leaves the hosted checkout payable (the customer tries another
   * card), so a failed attempt is not a failed payment until the checkout can no longer be paid
   * (our expiry, which is also the provider's where it takes one). 'closed' (default): the
   * provider's failure is the payment's.
   */
  readonly checkoutAfterDecline?: 'open' | 'closed';
  /**
   * The provider's published rules for a request (minimum charge, exact amounts, required fields),
   * checked before anything is stored or sent; undefined when it would take it.
   */
  checkRequest?(request: Pick<CheckoutRequest, 'amountMinor' | 'currency' | 'customer'>): RequestProblem | undefined;
  /**
   * `providerReference`, when given, is kept and passed back to verifyPayment as providerTxId.
   * Called again for the same payment when an earlier call's answer was lost (a retry resumes the
   * creation, src/payments/checkout-creation.ts): a provider that dedupes (Stripe, by our
   * Idempotency-Key) answers the same checkout; one that refuses a repeated reference answers
   * `reference_exists`, and the core asks verify instead.
   */
  createCheckout(request: CheckoutRequest): Promise<CheckoutOutcome>;
  verifyPayment(request: VerifyRequest): Promise<VerifyOutcome>;
  /** Bank lists and account-name look-ups (PAY-3), for providers that pay out. */
  readonly beneficiaries?: BeneficiaryLookup;
  /** Transfers out (issue 9), for providers that pay out: see payout-types.ts. */
  readonly payouts?: PayoutProvider;
}

export interface Bank {
  readonly code: string;
  readonly name: string;
}

export interface AccountLookupRequest {
  readonly accountNumber: string;
  readonly bankCode: string;
  readonly country: string;
  readonly type: 'bank_account' | 'mobile_money';
}

/** not_found: the provider says no such account (a definite answer, worth telling the merchant). */
export type AccountLookupResult =
  | CallOutcome<{ accountNumber: string; accountName: string }>
  | { readonly kind: 'not_found'; readonly reason: string };

export interface BeneficiaryLookup {
  readonly countries: readonly string[];
  listBanks(country: string): Promise<CallOutcome<readonly Bank[]>>;
  resolveAccount(request: AccountLookupRequest): Promise<AccountLookupResult>;
}

export interface ProviderWebhookHandler {
  readonly name: string;
  /** Checks the signature on the raw bytes before anything is parsed (WHI-1). */
  verifySignature(rawBody: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>): WebhookCheck;
  /**
   * Validates the payload against its schema (WHI-7). `headers` are given at ingest (some
   * providers' event identity includes a header, e.g. a signed timestamp); a stored body parsed
   * again later comes without them.
   */
  parse(
    rawBody: Buffer,
    headers?: Readonly<Record<string, string | string[] | undefined>>,
  ): { ok: true; event: ProviderWebhookEvent } | { ok: false; reason: string };
}
