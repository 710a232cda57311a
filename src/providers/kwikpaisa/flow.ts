// KwikPaisa v3 payment-gateway calls (shared/provider-wire-formats.md §4): one function per
// operation, URLs and signed headers here, mapping in transformers.ts. Every request is a signed
// JSON POST (signing.ts); the bytes sent are exactly the bytes signed.
import type { Clock } from '../../clock.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import { readVerifyAnswer } from '../read-answers.ts';
import type { CheckoutOutcome, CheckoutRequest, PaymentProvider, VerifyOutcome, VerifyRequest } from '../types.ts';
import { createKwikPaisaPayouts } from './payout-flow.ts';
import { signRequest } from './signing.ts';
import {
  KWIKPAISA_CURRENCIES,
  parseOrderCreateResponse,
  parseOrderStatusResponse,
  toOrderCreateBody,
  toOrderStatusBody,
  type ServiceType,
  checkKwikPaisaRequest,
  kwikPaisaRequestProblem,
} from './transformers.ts';

export interface KwikPaisaProviderDeps {
  /** Sandbox `https://sandbox.kwikpaisa.com`, production `https://api.kwikpaisa.com`, or a simulator. */
  readonly baseUrl: string;
  readonly apiKey: Secret;
  readonly secretKey: Secret;
  readonly http: HttpClient;
  readonly clock: Clock;
  /** `service_type` of created orders (default DIGITAL). */
  readonly serviceType?: ServiceType;
  /** The payout wallet and contact number; without them KwikPaisa collects but does not pay out. */
  readonly payoutAccount?: { readonly walletId: Secret; readonly mobile: Secret };
}

export function createKwikPaisaProvider(deps: KwikPaisaProviderDeps): PaymentProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const post = (path: string, body: Record<string, unknown>) => {
    const signed = signRequest(
      body,
      { apiKey: deps.apiKey.reveal(), secretKey: deps.secretKey.reveal() },
      deps.clock.nowMs(),
    );
    return deps.http.send({ method: 'POST', url: `${base}${path}`, headers: signed.headers, body: signed.body });
  };

  return {
    name: 'kwikpaisa',
    currencies: KWIKPAISA_CURRENCIES,
    checkRequest: checkKwikPaisaRequest,
    ...(deps.payoutAccount === undefined
      ? {}
      : { payouts: createKwikPaisaPayouts({ ...deps, ...deps.payoutAccount }) }),

    async createCheckout(request: CheckoutRequest): Promise<CheckoutOutcome> {
      if (!(KWIKPAISA_CURRENCIES as readonly string[]).includes(request.currency))
        return { kind: 'rejected', reason: `KwikPaisa collects INR only, not ${request.currency}` };
      const outcome = await post('/api/v3/pg/order/create', toOrderCreateBody(request, deps.serviceType));
      if (outcome.kind === 'indefinite') return outcome;
      // §4.5: 409 is KwikPaisa's "duplicate request", an order id it already holds. The order's
      // link is in no status answer, so the core asks the order's status instead.
      if (outcome.response.status === 409)
        return { kind: 'reference_exists', reason: 'KwikPaisa already holds this order id (409)' };
      const parsed = parseOrderCreateResponse(outcome.response.status, outcome.response.body);
      if (!parsed.ok) {
        const problem = kwikPaisaRequestProblem(outcome.response.status, outcome.response.body);
        return { kind: 'rejected', reason: parsed.reason, ...(problem === undefined ? {} : { problem }) };
      }
      return {
        kind: 'ok',
        value: {
          checkoutUrl: parsed.link,
          ...(parsed.kwikxOrderId === undefined ? {} : { providerReference: parsed.kwikxOrderId }),
        },
      };
    },

    async verifyPayment(request: VerifyRequest): Promise<VerifyOutcome> {
      // The status call takes only our order id (§4.3); a kwikX id we may hold is not an input.
      return readVerifyAnswer(
        await post('/api/v3/pg/order/status', toOrderStatusBody(request.paymentId)),
        parseOrderStatusResponse,
      );
    },
  };
}
