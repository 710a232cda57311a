// Paystack calls: one function per operation, URLs and headers here, mapping in transformers.ts.
// Amounts cross the wire as integers in minor units (§2.2), so no conversion is needed.
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import type { CallOutcome, CheckoutRequest, PaymentProvider, VerifyOutcome, VerifyRequest } from '../types.ts';
import { parseInitializeResponse, parseVerifyResponse, toInitializeBody, toPaystackReference } from './transformers.ts';

// The currencies /transaction/initialize accepts (§2.2).
export const PAYSTACK_CURRENCIES = ['NGN', 'GHS', 'KES', 'ZAR', 'USD'] as const;

export function createPaystackProvider(deps: { baseUrl: string; secretKey: Secret; http: HttpClient }): PaymentProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const headers = () => ({ authorization: `Bearer ${deps.secretKey.reveal()}`, 'content-type': 'application/json', accept: 'application/json' });

  return {
    name: 'paystack',
    currencies: PAYSTACK_CURRENCIES,

    async createCheckout(request: CheckoutRequest): Promise<CallOutcome<{ checkoutUrl: string }>> {
      const outcome = await deps.http.send({ method: 'POST', url: `${base}/transaction/initialize`, headers: headers(), body: JSON.stringify(toInitializeBody(request)) });
      if (outcome.kind === 'indefinite') return outcome;
      const parsed = parseInitializeResponse(outcome.response.status, outcome.response.body);
      if (parsed.kind === 'ok') return { kind: 'ok', value: { checkoutUrl: parsed.authorizationUrl } };
      if (parsed.kind === 'rejected') return { kind: 'rejected', reason: parsed.reason };
      // An answer we cannot read may still have created the transaction: unknown, not refused.
      return { kind: 'indefinite', reason: parsed.reason };
    },

    async verifyPayment(request: VerifyRequest): Promise<VerifyOutcome> {
      // Always by our reference: it is what Paystack indexes verify on. The transaction id a
      // webhook gives (request.providerTxId) names the same transaction and adds nothing.
      const url = `${base}/transaction/verify/${encodeURIComponent(toPaystackReference(request.paymentId))}`;
      const outcome = await deps.http.send({ method: 'GET', url, headers: headers() });
      if (outcome.kind === 'indefinite') return outcome;
      const parsed = parseVerifyResponse(outcome.response.status, outcome.response.body);
      if (parsed.kind === 'found') return { kind: 'ok', value: parsed.transaction };
      if (parsed.kind === 'not_found') return { kind: 'not_found' };
      // An answer we cannot read is not a definite failure: treat it as unknown and retry.
      return { kind: 'indefinite', reason: parsed.reason };
    },
  };
}
