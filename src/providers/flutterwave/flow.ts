// Flutterwave v3 calls: one function per operation, URLs and headers here, mapping in
// transformers.ts. Amounts cross the wire in major units; conversion is exact (src/money).
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import { createFlutterwavePayouts } from './payouts.ts';
import { bearerJsonHeaders, readResolveAnswer, readVerifyAnswer } from '../read-answers.ts';
import type {
  BeneficiaryLookup,
  CheckoutOutcome,
  CheckoutRequest,
  PaymentProvider,
  VerifyOutcome,
  VerifyRequest,
} from '../types.ts';
import {
  flutterwaveRequestProblem,
  isDuplicateTxRef,
  parseBanksResponse,
  parseCheckoutResponse,
  parseResolveResponse,
  parseVerifyResponse,
  toResolveBody,
  toStandardPaymentBody,
} from './transformers.ts';

// Currencies Flutterwave collects in (its docs' list for Standard checkout).
export const FLUTTERWAVE_CURRENCIES = [
  'NGN',
  'GHS',
  'KES',
  'UGX',
  'TZS',
  'ZAR',
  'RWF',
  'XAF',
  'XOF',
  'ZMW',
  'MWK',
  'EGP',
  'USD',
  'EUR',
  'GBP',
] as const;

export function createFlutterwaveProvider(deps: {
  baseUrl: string;
  secretKey: Secret;
  http: HttpClient;
}): PaymentProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const headers = () => bearerJsonHeaders(deps.secretKey);

  return {
    name: 'flutterwave',
    currencies: FLUTTERWAVE_CURRENCIES,
    // A tx_ref can hold several transactions: the customer may retry at the hosted checkout.
    attemptsPerReference: 'many',
    // Flutterwave Standard lets the customer retry after a declined card (max_retry_attempt).
    checkoutAfterDecline: 'open',

    async createCheckout(request: CheckoutRequest): Promise<CheckoutOutcome> {
      const outcome = await deps.http.send({
        method: 'POST',
        url: `${base}/v3/payments`,
        headers: headers(),
        body: JSON.stringify(toStandardPaymentBody(request)),
      });
      if (outcome.kind === 'indefinite') return outcome;
      // An earlier create with this tx_ref got through; its link is in no other answer.
      if (isDuplicateTxRef(outcome.response.status, outcome.response.body))
        return { kind: 'reference_exists', reason: 'Flutterwave already holds this tx_ref' };
      const parsed = parseCheckoutResponse(outcome.response.status, outcome.response.body);
      if (parsed.ok) return { kind: 'ok', value: { checkoutUrl: parsed.link } };
      const problem = flutterwaveRequestProblem(outcome.response.status, outcome.response.body);
      return { kind: 'rejected', reason: parsed.reason, ...(problem === undefined ? {} : { problem }) };
    },

    async verifyPayment(request: VerifyRequest): Promise<VerifyOutcome> {
      // By id when a webhook told us the transaction id; otherwise by our reference (tx_ref).
      const url =
        request.providerTxId !== null && /^\d+$/.test(request.providerTxId)
          ? `${base}/v3/transactions/${request.providerTxId}/verify`
          : `${base}/v3/transactions/verify_by_reference?tx_ref=${encodeURIComponent(request.paymentId)}`;
      return readVerifyAnswer(await deps.http.send({ method: 'GET', url, headers: headers() }), parseVerifyResponse);
    },

    beneficiaries: createBeneficiaryLookup(base, headers, deps.http),
    payouts: createFlutterwavePayouts(base, headers, deps.http),
  };
}

/** Countries whose bank lists Flutterwave serves (§1.6). */
export const FLUTTERWAVE_BANK_COUNTRIES = ['NG', 'GH', 'KE', 'UG', 'ZA', 'TZ'] as const;

function createBeneficiaryLookup(
  base: string,
  headers: () => Record<string, string>,
  http: HttpClient,
): BeneficiaryLookup {
  return {
    countries: FLUTTERWAVE_BANK_COUNTRIES,
    async listBanks(country) {
      const outcome = await http.send({
        method: 'GET',
        url: `${base}/v3/banks/${encodeURIComponent(country)}`,
        headers: headers(),
      });
      if (outcome.kind === 'indefinite') return outcome;
      const parsed = parseBanksResponse(outcome.response.status, outcome.response.body);
      return parsed.ok ? { kind: 'ok', value: parsed.banks } : { kind: 'rejected', reason: parsed.reason };
    },
    async resolveAccount(request) {
      return readResolveAnswer(
        await http.send({
          method: 'POST',
          url: `${base}/v3/accounts/resolve`,
          headers: headers(),
          body: JSON.stringify(toResolveBody(request)),
        }),
        parseResolveResponse,
      );
    },
  };
}
