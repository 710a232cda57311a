// The contract between the payout core (src/payouts/) and a provider's payout adapter (issue 9,
// PAY-1, PAY-2, PAY-6). As with collections (types.ts), adapters hold no state and never touch
// the database: the core owns the payout row, its attempts, their references, the state machine
// and the events. An adapter only translates one call into the provider's wire format and the
// provider's answer back into one of the outcomes below, and it must classify that answer
// HONESTLY: the core's exactly-once guarantee rests on "definite" meaning definite.
//
// How the core uses an adapter (src/payouts/):
//   1. It commits an attempt row carrying `reference` BEFORE calling createTransfer. The same
//      reference is passed again on every re-submission of that attempt (after a timeout, a 5xx,
//      a crash), so the provider's own uniqueness rule (Flutterwave/Paystack `reference`,
//      KwikPaisa `payout_order_id`, Stripe `Idempotency-Key`) is what stops a second transfer.
//      A new attempt, with a new reference, exists only after a DEFINITE failure.
//   2. Whatever createTransfer answers, the provider's status query (getTransfer) decides the
//      payout's fate; create's answer only moves it forward when it is definite.
//   3. Transfer webhooks are hints: they make the core call getTransfer sooner, nothing more.
//
// Four very different providers fit:
//   - Flutterwave v3: POST /v3/transfers (major units), GET /v3/transfers?reference= / :id.
//   - Paystack: a transfer recipient (RCP_) per beneficiary first (ensureRecipient), POST
//     /transfer (minor units), GET /transfer/verify/:reference, an OTP step (finalizeTransfer).
//   - Stripe Connect: POST /v1/transfers to the connected account, then POST /v1/payouts on it
//     (Stripe-Account header). Both carry Idempotency-Keys DERIVED from `reference` (e.g.
//     `<reference>:transfer`, `<reference>:payout`), never random ones, so a re-submission after
//     a crash replays instead of paying again. createTransfer performs both steps; getTransfer
//     reports the pair as one status (the payout's, once it exists). Stripe prunes keys after
//     24 h, so getTransfer must find the pair by `reference` alone (transfer_group / metadata),
//     never only by key replay.
//   - KwikPaisa v3: signed requests (X-API-KEY, X-TIMESTAMP, X-SIGNATURE; signing is the
//     adapter's business, re-signed on every call), `payout_order_id` = reference, amounts as
//     major-unit decimal strings, POST /api/v3/banking/payment/status.
//
// Amounts: the core speaks integer minor units (ISO 4217 exponents, src/money/). An adapter
// converts to the provider's unit EXACTLY or refuses: `rejected` with reason
// `amount_not_representable` before anything is sent. It never rounds.
import type { CallOutcome } from './types.ts';

/** Where the money goes, as stored on the beneficiary (src/beneficiaries/). */
export type PayoutDestination =
  | {
      readonly type: 'bank_account' | 'mobile_money';
      /** ISO 3166-1 alpha-2. */
      readonly country: string;
      /** The provider's bank (or mobile network) code, checked against its bank list. */
      readonly bankCode: string;
      readonly accountNumber: string;
      /** The name the provider resolved for the account when the beneficiary was saved. */
      readonly accountName: string;
    }
  | {
      /** Stripe Connect: the money goes to this connected account, then out to its bank. */
      readonly type: 'connected_account';
      readonly country: string | null;
      readonly accountId: string;
      readonly accountName: string;
    };

/**
 * A provider-side object standing for the beneficiary (Paystack's `RCP_...` transfer recipient).
 * The core stores it per (beneficiary, provider, mode) and passes it back on every transfer.
 */
export interface ProviderRecipient {
  readonly recipientCode: string;
}

export interface CreateTransferRequest {
  /** Our payout id (for the provider's metadata and logs; never the idempotency lever). */
  readonly payoutId: string;
  /**
   * The attempt's reference, made by the core (`pwo-` and 24 random lowercase letters and digits,
   * within PAYOUT_REFERENCE_PATTERN, which suits every provider's rules; Paystack's are the
   * strictest) and committed before the first call. THE
   * idempotency lever: the adapter must send it as the provider's unique reference (or as, or the
   * base of, Stripe's Idempotency-Key) and must never replace it with a value of its own.
   */
  readonly reference: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly narration: string;
  readonly destination: PayoutDestination;
  /** Set when the adapter has ensureRecipient (Paystack); undefined otherwise. */
  readonly recipient: ProviderRecipient | undefined;
}

/**
 * Why a transfer failed, normalised. `other` with the provider's message is fine; the specific
 * ones are what merchants act on (top up the balance, fix the account).
 */
export type PayoutFailureReason =
  | 'insufficient_funds'
  | 'invalid_account'
  | 'amount_not_representable'
  | 'amount_out_of_range'
  | 'currency_not_supported'
  | 'destination_not_supported'
  | 'limit_exceeded'
  | 'otp_abandoned'
  | 'declined_by_approval'
  | 'provider_refused'
  | 'other';

/**
 * Normalised transfer status, from the provider's status table. Only an explicit provider word
 * maps to succeeded, failed or reversed; anything unrecognised is `unknown` (never failed).
 *   pending          accepted, not yet being processed (Flutterwave NEW, Paystack received)
 *   processing       on its way (Flutterwave PENDING, Paystack pending, Stripe in_transit)
 *   requires_action  waiting for us (Paystack `otp`: finalizeTransfer with the code)
 *   succeeded        the provider says the money left (can still be reversed later)
 *   failed           the provider says it did not and will not go (Paystack failed, abandoned,
 *                    blocked, rejected; Flutterwave FAILED; Stripe payout failed/canceled
 *                    BEFORE it was paid)
 *   reversed         it went and came back (Paystack reversed, KwikPaisa reversed, Stripe
 *                    payout paid then failed, a transfer reversal)
 *   unknown          the provider answered with a status this adapter does not know
 */
export type TransferStatus =
  | 'pending'
  | 'processing'
  | 'requires_action'
  | 'succeeded'
  | 'failed'
  | 'reversed'
  | 'unknown';

/** A provider's view of one transfer, as read from a create answer or a status query. */
export interface ProviderTransfer {
  readonly status: TransferStatus;
  /** The provider's own word, kept verbatim (bounded) for the timeline and for review. */
  readonly providerStatus: string;
  /** The reference the provider holds; the core checks it equals the attempt's. */
  readonly reference: string;
  /** The provider's id (Flutterwave numeric id, Paystack TRF_ code, Stripe po_/tr_, KwikPaisa id). */
  readonly providerTransferId: string | undefined;
  /** undefined when the provider's amount cannot be expressed exactly in minor units. */
  readonly amountMinor: number | undefined;
  readonly currency: string | undefined;
  /** The provider's fee in minor units of `currency`, when it says (informational). */
  readonly feeMinor: number | undefined;
  /** Set with status failed or reversed. */
  readonly failureReason?: PayoutFailureReason;
  /** The provider's message (Flutterwave complete_message, Paystack gateway_response), bounded. */
  readonly message?: string;
}

/**
 * createTransfer's answer. The distinctions matter:
 *   accepted             the provider holds a transfer with this reference (its status may
 *                        already be final: Paystack's test mode answers `success` at once).
 *   rejected             DEFINITE: the provider refused and holds nothing under this reference
 *                        (validation error, insufficient balance checked before acceptance,
 *                        invalid account, an amount that cannot be sent exactly). The attempt
 *                        fails with `reason`. Only answers the provider documents as refusals
 *                        belong here; when in doubt, it is indefinite.
 *   duplicate_reference  the provider says the reference is already used: the transfer EXISTS.
 *                        The core queries it; never a failure, never a reason for a new reference.
 *   indefinite           anything else: timeout, connection reset, 5xx, 429, an unreadable or
 *                        unexpected body. The transfer may or may not exist. `notSent` only when
 *                        we know the provider never saw the request (our own rate limit, or a
 *                        refusal before processing such as 401 or a signature/clock error); the
 *                        core still re-submits with the SAME reference, so it is only a hint.
 */
export type CreateTransferOutcome =
  | { readonly kind: 'accepted'; readonly transfer: ProviderTransfer }
  | { readonly kind: 'rejected'; readonly reason: PayoutFailureReason; readonly message: string }
  | { readonly kind: 'duplicate_reference'; readonly message: string }
  | {
      readonly kind: 'indefinite';
      readonly reason: string;
      readonly retryAfterMs?: number;
      readonly notSent?: boolean;
    };

export interface GetTransferRequest {
  readonly reference: string;
  /** When an earlier answer told us the provider's id (some lookups are only by id). */
  readonly providerTransferId: string | null;
  /**
   * The status the core last applied for this attempt, when it has one. Lets an adapter whose
   * provider reports a reversal as a plain failure answer `reversed` (Stripe: a payout `paid`
   * and later `failed`, with nothing on the object to tell the two apart).
   */
  readonly lastStatus?: TransferStatus;
}

/**
 * getTransfer's answer. `not_found` is a plain observation: the core decides what it means (a
 * create that never arrived, or the provider's eventual consistency right after a create: both
 * Flutterwave and Paystack have been seen to miss a fresh transfer), using its grace period.
 * An adapter must NOT turn not_found into failed. `rejected` is a definite refusal of the
 * query itself (bad credentials): the core treats it as indefinite for the payout.
 */
export type GetTransferOutcome = CallOutcome<ProviderTransfer> | { readonly kind: 'not_found' };

export interface FinalizeTransferRequest {
  readonly reference: string;
  readonly providerTransferId: string;
  /** Digits only, bounded; validated by the core. Never logged. */
  readonly otp: string;
}

/**
 * finalizeTransfer's answer: `ok` with the transfer's new state; `rejected` when the provider
 * refused the code (wrong or expired OTP: the transfer itself is unchanged and can be finalized
 * again); `indefinite` as usual (the core then asks getTransfer).
 */
export type FinalizeTransferOutcome = CallOutcome<ProviderTransfer>;

export interface ProviderBalance {
  readonly currency: string;
  /** What can be paid out now, integer minor units. */
  readonly availableMinor: number;
  /** Including what is on its way in or held, when the provider says. */
  readonly ledgerMinor: number | undefined;
}

export interface PayoutProvider {
  /** The same name as the PaymentProvider it belongs to. */
  readonly name: string;
  /** Currencies this provider pays out in. */
  readonly currencies: readonly string[];
  /** Destination types it can pay; the core refuses others before any attempt exists. */
  readonly destinations: ReadonlyArray<PayoutDestination['type']>;
  /**
   * How long after a create a `not_found` from getTransfer proves nothing (eventual consistency
   * at the provider). After it, the core re-submits with the SAME reference (a duplicate answer
   * then proves existence). Flutterwave and Paystack: 30 minutes.
   */
  readonly notFoundGraceMs: number;

  /**
   * Sends one transfer under `request.reference`. Must be safe to call again with the same
   * request: the provider's uniqueness rule for the reference makes the second call a
   * duplicate_reference (or an idempotent replay, as Stripe's key does), never a second transfer.
   */
  createTransfer(request: CreateTransferRequest): Promise<CreateTransferOutcome>;

  /** The provider's current view of the transfer, found by reference (and id when known). */
  getTransfer(request: GetTransferRequest): Promise<GetTransferOutcome>;

  /**
   * Providers that need an object for the beneficiary before a transfer (Paystack: POST
   * /transferrecipient). Idempotent from the core's point of view: the core calls it when it has
   * no recipient stored for (beneficiary, provider, mode) and stores the answer; a lost answer
   * means it is called again, and a second recipient object at the provider is harmless.
   */
  ensureRecipient?(destination: PayoutDestination): Promise<CallOutcome<ProviderRecipient>>;

  /** Providers with a confirmation step (Paystack's OTP: POST /transfer/finalize_transfer). */
  finalizeTransfer?(request: FinalizeTransferRequest): Promise<FinalizeTransferOutcome>;

  /** The balances payouts are paid from (GET /v1/balances). */
  getBalances(): Promise<CallOutcome<readonly ProviderBalance[]>>;

  /**
   * Providers that pay connected accounts (Stripe Connect): the account as the provider knows it,
   * so a beneficiary is checked (it exists, it can receive payouts) and named before it is saved,
   * as bank accounts are resolved. `not_found`: the provider says there is no such account (or
   * this key cannot reach it), a definite answer.
   */
  lookupConnectedAccount?(accountId: string): Promise<ConnectedAccountLookup>;
}

export type ConnectedAccountLookup =
  | CallOutcome<{
      readonly accountId: string;
      readonly accountName: string;
      readonly country: string | null;
      readonly payoutsEnabled: boolean;
    }>
  | { readonly kind: 'not_found'; readonly reason: string };

/**
 * What a verified transfer webhook tells the core (set on ProviderWebhookEvent.transfer by the
 * provider's webhook parser). A hint only: the core answers it by calling getTransfer, so a
 * forged, stale, duplicated or out-of-order webhook cannot move a payout by itself.
 */
export interface TransferWebhookHint {
  /** The reference we gave the provider (the attempt's). */
  readonly reference: string;
  readonly providerTransferId: string | undefined;
  /** The provider's word in the webhook, for the record (never acted on). */
  readonly providerStatus: string | undefined;
}

/** Paystack-style reference rules, which every provider accepts: lowercase, 16-50 characters. */
export const PAYOUT_REFERENCE_PATTERN = /^[a-z0-9][a-z0-9_-]{15,49}$/;
