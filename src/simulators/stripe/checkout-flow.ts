// What happens to a Checkout Session, as on Stripe (docs.stripe.com/checkout/fulfillment):
// - a card paid: complete + paid, `checkout.session.completed`;
// - a card declined: the session stays open for another try (its PaymentIntent requires a new
//   payment method), `payment_intent.payment_failed`; nothing expires;
// - a delayed method (ACH debit, SEPA Direct Debit, Bacs: one per currency here): complete +
//   unpaid while it settles, `checkout.session.completed`; days later
//   `checkout.session.async_payment_succeeded` (paid) or `..._failed` (still unpaid, the
//   PaymentIntent back to requires_payment_method);
// - `expires_at` passed, or POST /expire: expired, `checkout.session.expired`.
// Webhook faults (no_webhook, duplicate_webhook, bad_signature, out_of_order) apply to each.
import type { SimulatorState, Session, StoredEvent } from './state.ts';
import { newId } from './state.ts';
import type { createWebhookSender } from './webhook-sender.ts';
import { DELAYED_METHOD, eventBody, paymentIntentObject, sessionObject } from './wire.ts';

export type Attempt = 'successful' | 'failed' | 'processing';

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function createCheckoutFlow(state: SimulatorState, sender: ReturnType<typeof createWebhookSender>) {
  function storeEvent(session: Session, type: string, object: Record<string, unknown>, created: number): StoredEvent {
    const id = newId('evt_');
    const event: StoredEvent = { id, sessionId: session.id, type, body: eventBody(id, type, object, created) };
    state.events.set(id, event);
    return event;
  }

  function send(session: Session, events: StoredEvent[]): void {
    if (state.faults.take(['no_webhook'], session.clientReferenceId) !== undefined) return;
    const duplicate = state.faults.take(['duplicate_webhook'], session.clientReferenceId);
    const badSignature = state.faults.take(['bad_signature'], session.clientReferenceId) !== undefined;
    setImmediate(
      () =>
        void sender.sendSequence(events, {
          badSignature,
          copies: duplicate === undefined ? 1 : (duplicate.value ?? 5),
        }),
    );
  }

  function expire(session: Session): boolean {
    if (session.status !== 'open') return false;
    session.status = 'expired';
    send(session, [storeEvent(session, 'checkout.session.expired', sessionObject(session), nowSeconds())]);
    return true;
  }

  /** Stripe expires an open session at its expires_at; the simulator does it when the session is next touched. */
  function expireIfDue(session: Session | undefined): void {
    if (session !== undefined && session.status === 'open' && nowSeconds() >= session.expiresAt) expire(session);
  }

  /** One attempt at an open session; undefined when it is not open (paid, settling or expired). */
  function attempt(session: Session, outcome: Attempt): { redirect: string | null } | undefined {
    expireIfDue(session);
    if (session.status !== 'open') return undefined;
    if (outcome === 'processing' && DELAYED_METHOD[session.currency] === undefined) return undefined;
    const now = nowSeconds();
    session.payment_intent = session.paymentIntentId;
    let events: StoredEvent[];
    if (outcome === 'failed') {
      session.piStatus = 'requires_payment_method';
      events = [
        storeEvent(
          session,
          'payment_intent.payment_failed',
          paymentIntentObject(session, 'requires_payment_method', now),
          now,
        ),
      ];
    } else {
      session.status = 'complete';
      session.payment_status = outcome === 'successful' ? 'paid' : 'unpaid';
      session.piStatus = outcome === 'successful' ? 'succeeded' : 'processing';
      session.paymentMethod = outcome === 'successful' ? 'card' : (DELAYED_METHOD[session.currency] ?? null);
      const completed = storeEvent(session, 'checkout.session.completed', sessionObject(session), now);
      // out_of_order: an earlier declined card attempt on the same session, delivered late.
      const outOfOrder = state.faults.take(['out_of_order'], session.clientReferenceId);
      events =
        outOfOrder === undefined
          ? [completed]
          : [
              completed,
              storeEvent(
                session,
                'payment_intent.payment_failed',
                paymentIntentObject(session, 'requires_payment_method', now - 1),
                now - 1,
              ),
            ];
    }
    send(session, events);
    // A declined card keeps the customer on the page; otherwise Stripe redirects to success_url
    // (a delayed method too: the customer is done, the money is not).
    if (outcome === 'failed') return { redirect: null };
    const target = session.successUrl;
    return { redirect: target === null ? null : target.replaceAll('{CHECKOUT_SESSION_ID}', session.id) };
  }

  /** The delayed method settles (the bank answered, days later); undefined unless it is settling. */
  function settle(session: Session, outcome: 'successful' | 'failed'): true | undefined {
    if (session.status !== 'complete' || session.piStatus !== 'processing') return undefined;
    const now = nowSeconds();
    if (outcome === 'successful') {
      session.payment_status = 'paid';
      session.piStatus = 'succeeded';
    } else {
      session.piStatus = 'requires_payment_method';
    }
    const type =
      outcome === 'successful' ? 'checkout.session.async_payment_succeeded' : 'checkout.session.async_payment_failed';
    send(session, [storeEvent(session, type, sessionObject(session), now)]);
    return true;
  }

  return { attempt, settle, expire, expireIfDue };
}

export type CheckoutFlow = ReturnType<typeof createCheckoutFlow>;
