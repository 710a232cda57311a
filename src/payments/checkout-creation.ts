// Getting a payment its checkout, once. The payment is committed first (the reference is claimed in
// the database), then the provider is asked for a hosted checkout. Between the two, a process can
// die or the provider's answer can be lost: the payment is then pending with no checkout, and
// nobody can pay it, since the only link was never handed out. The merchant's retry resumes it
// (payment-service.ts, `resume`), and a payment nobody resumes expires (`expireWithoutCheckout`).
//
// Whoever asks the provider holds the payment's checkout claim: `checkout_claimed_until`, set by a
// compare-and-set update (a lease of CHECKOUT_CLAIM_MS, longer than any provider call), so two
// retries never both call the provider. Every write that follows is guarded on the claim's value:
// a request that outlived its lease can neither record a checkout nor fail the payment. Status
// changes go through transitionPayment (event, outbox and audit row in its transaction).
import { sql } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Db, PaymentRow, Tx } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import type { CheckoutRequest } from '../providers/types.ts';
import { transitionPayment, type TransitionInput } from './transition.ts';

/** As long as the idempotency lock (src/idempotency), and longer than a provider call may take. */
export const CHECKOUT_CLAIM_MS = 60_000;

interface Deps {
  readonly db: Db;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly privacy: PrivacyService;
}

/** Takes the claim of a pending payment without a checkout; its value, or undefined when another
 * request holds it (or the payment has a checkout, or is no longer pending). */
export async function claimCheckout(
  trx: Tx,
  clock: Clock,
  paymentId: string,
  set: { client_secret_hash?: string | null } = {},
): Promise<number | undefined> {
  const now = clock.nowMs();
  const until = now + CHECKOUT_CLAIM_MS;
  const taken = await trx
    .updateTable('payments')
    // The version moves too: a transition decided on the row as it was before (an expiry) fails
    // its compare-and-set and decides again.
    .set({ ...set, checkout_claimed_until: until, updated_at: now, version: sql<number>`version + 1` })
    .where('id', '=', paymentId)
    .where('status', '=', 'pending')
    .where('checkout_url', 'is', null)
    .where((eb) => eb.or([eb('checkout_claimed_until', 'is', null), eb('checkout_claimed_until', '<=', now)]))
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) > 0 ? until : undefined;
}

/** Records the provider's checkout, if the claim is still this request's; undefined if not. */
export async function recordCheckout(
  deps: Deps,
  paymentId: string,
  claim: number,
  checkout: { checkoutUrl: string; providerReference?: string },
): Promise<PaymentRow | undefined> {
  return deps.db
    .updateTable('payments')
    .set({
      checkout_url: checkout.checkoutUrl,
      checkout_claimed_until: null,
      updated_at: deps.clock.nowMs(),
      version: sql<number>`version + 1`,
      ...(checkout.providerReference === undefined ? {} : { provider_tx_id: checkout.providerReference }),
    })
    .where('id', '=', paymentId)
    .where('status', '=', 'pending')
    .where('checkout_claimed_until', '=', claim)
    .returningAll()
    .executeTakeFirst();
}

/** Lets the claim go (the provider gave no answer): the next retry may take it at once. */
export async function releaseCheckout(db: Db, paymentId: string, claim: number): Promise<void> {
  await db
    .updateTable('payments')
    .set({ checkout_claimed_until: null })
    .where('id', '=', paymentId)
    .where('checkout_claimed_until', '=', claim)
    .execute();
}

class Undone extends Error {}

/**
 * A transition kept only if the row it moved still satisfied `keep` (read in the same guarded
 * update, so no other writer came between): otherwise rolled back, and false.
 */
async function transitionIf(deps: Deps, input: TransitionInput, keep: (row: PaymentRow) => boolean): Promise<boolean> {
  try {
    const moved = await deps.db.transaction().execute(async (trx) => {
      const result = await transitionPayment(trx, deps, input);
      if (!result.ok) return false;
      if (!keep(result.payment)) throw new Undone();
      return true;
    });
    if (moved) deps.queue.notify();
    return moved;
  } catch (error) {
    if (error instanceof Undone) return false;
    throw error;
  }
}

/** Fails the payment while this request still holds its claim (the provider refused the checkout,
 * or holds the reference with a checkout nobody can reach). */
export function failClaimed(
  deps: Deps,
  paymentId: string,
  claim: number,
  reason: string,
  details?: Record<string, unknown>,
): Promise<boolean> {
  return transitionIf(
    deps,
    { paymentId, to: 'failed', reason, actor: { type: 'system', id: null }, ...(details ? { details } : {}) },
    (row) => row.checkout_url === null && row.checkout_claimed_until === claim,
  );
}

/**
 * Expires a payment that never got its checkout, once past its expiry and while nobody holds its
 * claim. Nobody was ever given a link to it, so no money can have moved: the provider is not
 * asked (Stripe could not be: without the session id there is nothing to look up). When a claim
 * is live, the payment is looked at again when the claim lapses. True when it expired.
 */
export async function expireWithoutCheckout(deps: Deps, paymentId: string): Promise<boolean> {
  const now = deps.clock.nowMs();
  const row = await deps.db
    .selectFrom('payments')
    .select(['status', 'checkout_url', 'expires_at', 'checkout_claimed_until'])
    .where('id', '=', paymentId)
    .executeTakeFirst();
  if (row?.status !== 'pending' || row.checkout_url !== null || row.expires_at > now) return false;
  const claimedUntil = row.checkout_claimed_until ?? 0;
  if (claimedUntil <= now) {
    const expired = await transitionIf(
      deps,
      { paymentId, to: 'expired', reason: 'checkout_never_created', actor: { type: 'system', id: null } },
      (moved) => moved.checkout_url === null && (moved.checkout_claimed_until ?? 0) <= now,
    );
    if (expired) return true;
  }
  // A request is creating its checkout right now (or another writer came first): look again once
  // the claim lapses, whatever the schedule said.
  await deps.db
    .updateTable('payments')
    .set({ next_reconcile_at: Math.max(claimedUntil, now) })
    .where('id', '=', paymentId)
    .where('status', '=', 'pending')
    .execute();
  return false;
}

/**
 * What the provider is asked, the same for every attempt at one payment: the wall-clock expiry
 * fixed at creation (checkout_expires_at), and the creation instant derived from it.
 */
export function checkoutRequestFor(
  payment: PaymentRow,
  clock: Clock,
): Omit<CheckoutRequest, 'customer' | 'description' | 'redirectUrl'> {
  const lifetimeMs = payment.expires_at - payment.created_at;
  const expiresAt = payment.checkout_expires_at ?? Date.now() + (payment.expires_at - clock.nowMs());
  return {
    paymentId: payment.id,
    amountMinor: payment.amount_minor,
    currency: payment.currency,
    merchantReference: payment.reference,
    expiresAt,
    issuedAt: expiresAt - lifetimeMs,
  };
}
