// Stripe calls: Checkout Sessions, one function per operation; URLs and headers here, mapping in
// transformers.ts. Amounts are integer minor units on both sides, so nothing is converted.
//
// Finding the session again: Stripe has no documented filter or search by client_reference_id,
// so createCheckout hands the session id back as `providerReference`, which the core stores and
// passes to verifyPayment as providerTxId. A `pi_…` id (from a payment_intent.* webhook) is
// mapped to its session with the documented `payment_intent` filter of the session list.
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import { createStripePayouts } from './payout-flow.ts';
import { readVerifyAnswer, type ParsedVerify } from '../read-answers.ts';
import type { CallOutcome, CheckoutRequest, PaymentProvider, VerifyOutcome, VerifyRequest } from '../types.ts';
import {
  encodeForm,
  PAYMENT_INTENT_ID,
  parseCheckoutSessionResponse,
  parseListSessionsResponse,
  parseRetrieveSessionResponse,
  SESSION_ID,
  shouldRetry,
  STRIPE_API_VERSION,
  toCheckoutSessionParams,
  errorReason,
  checkStripeAmount,
  stripeRequestProblem,
} from './transformers.ts';

// With the special cases of its exponent table (src/money/provider-amounts.ts): JPY and UGX
// zero-decimal, ISK two-decimal at Stripe though zero-decimal in ISO, HUF and TWD paid out whole.
export const STRIPE_CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'ISK', 'HUF', 'TWD', 'UGX'] as const;

export function createStripeProvider(deps: { baseUrl: string; secretKey: Secret; http: HttpClient }): PaymentProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${deps.secretKey.reveal()}`,
    accept: 'application/json',
    'stripe-version': STRIPE_API_VERSION,
    ...extra,
  });

  async function get(url: string, parse: (status: number, body: string) => ParsedVerify): Promise<VerifyOutcome> {
    const outcome = await deps.http.send({ method: 'GET', url, headers: headers() });
    if (outcome.kind === 'response' && shouldRetry(outcome.response.status, outcome.response.headers))
      return { kind: 'indefinite', reason: errorReason(outcome.response.status, outcome.response.body) };
    return readVerifyAnswer(outcome, parse);
  }

  return {
    name: 'stripe',
    currencies: STRIPE_CURRENCIES,
    checkRequest: (request) => checkStripeAmount(request.amountMinor, request.currency),
    payouts: createStripePayouts(deps),

    async createCheckout(
      request: CheckoutRequest,
    ): Promise<CallOutcome<{ checkoutUrl: string; providerReference: string }>> {
      // The session's expiry bounds are computed from the payment's creation, not from now: a
      // repeated call must send the same parameters, or Stripe refuses the key (idempotency_error).
      const outcome = await deps.http.send({
        method: 'POST',
        url: `${base}/v1/checkout/sessions`,
        // Our payment id as the idempotency key: a retry after a lost answer gets the same
        // session back instead of a second one (Stripe keeps keys at least 24 h, §3.2).
        headers: headers({ 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': request.paymentId }),
        body: encodeForm(toCheckoutSessionParams(request, request.issuedAt ?? Date.now())),
      });
      // Stripe keeps the first result under a key, 500s included (§3.2): a replayed error means
      // this payment can never get its session from Stripe. Whatever Stripe made under the key, no
      // customer has its link; the core fails the payment and the merchant's retry makes another.
      if (outcome.kind === 'indefinite' && outcome.replayed === true)
        return { kind: 'rejected', reason: `Stripe replays a saved error under this key (${outcome.reason})` };
      if (outcome.kind === 'indefinite') return outcome;
      const { status, headers: responseHeaders, body } = outcome.response;
      if (shouldRetry(status, responseHeaders)) return { kind: 'indefinite', reason: errorReason(status, body) };
      const parsed = parseCheckoutSessionResponse(status, body);
      if (parsed.ok) return { kind: 'ok', value: { checkoutUrl: parsed.url, providerReference: parsed.sessionId } };
      const problem = stripeRequestProblem(status, body);
      return { kind: 'rejected', reason: parsed.reason, ...(problem === undefined ? {} : { problem }) };
    },

    async verifyPayment(request: VerifyRequest): Promise<VerifyOutcome> {
      const id = request.providerTxId;
      // The PaymentIntent comes expanded: only it tells a failed bank debit from one still settling.
      if (id !== null && SESSION_ID.test(id))
        return get(
          `${base}/v1/checkout/sessions/${encodeURIComponent(id)}?expand[]=payment_intent`,
          parseRetrieveSessionResponse,
        );
      if (id !== null && PAYMENT_INTENT_ID.test(id))
        return get(
          `${base}/v1/checkout/sessions?payment_intent=${encodeURIComponent(id)}&limit=1&expand[]=data.payment_intent`,
          parseListSessionsResponse,
        );
      // No documented way to find a session by our reference alone: say so, never guess.
      return { kind: 'indefinite', reason: 'stripe verification needs the session id' };
    },
  };
}
