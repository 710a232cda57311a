// Paystack calls: one function per operation, URLs and headers here, mapping in transformers.ts.
// Amounts cross the wire as integers in minor units (§2.2), so no conversion is needed.
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import { createPaystackPayouts } from './payouts.ts';
import { bearerJsonHeaders, readResolveAnswer, readVerifyAnswer } from '../read-answers.ts';
import type {
  Bank,
  BeneficiaryLookup,
  CheckoutOutcome,
  CheckoutRequest,
  PaymentProvider,
  VerifyOutcome,
  VerifyRequest,
} from '../types.ts';
import {
  PAYSTACK_BANK_COUNTRIES,
  parseBanksResponse,
  isDuplicateReference,
  parseInitializeResponse,
  parseResolveResponse,
  parseVerifyResponse,
  paystackRequestProblem,
  toInitializeBody,
  toPaystackReference,
} from './transformers.ts';

// The currencies /transaction/initialize accepts (§2.2).
export const PAYSTACK_CURRENCIES = ['NGN', 'GHS', 'KES', 'ZAR', 'USD'] as const;

export function createPaystackProvider(deps: {
  baseUrl: string;
  secretKey: Secret;
  http: HttpClient;
}): PaymentProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const headers = () => bearerJsonHeaders(deps.secretKey);

  return {
    name: 'paystack',
    currencies: PAYSTACK_CURRENCIES,
    // Paystack's checkout stays open after a declined card; verify says `failed` meanwhile (R2).
    checkoutAfterDecline: 'open',

    async createCheckout(request: CheckoutRequest): Promise<CheckoutOutcome> {
      const outcome = await deps.http.send({
        method: 'POST',
        url: `${base}/transaction/initialize`,
        headers: headers(),
        body: JSON.stringify(toInitializeBody(request)),
      });
      if (outcome.kind === 'indefinite') return outcome;
      // An earlier initialize with this reference got through; its authorization URL is not in
      // any later answer (verify has none), so the core asks verify what became of it.
      if (isDuplicateReference(outcome.response.status, outcome.response.body))
        return { kind: 'reference_exists', reason: 'Paystack already holds this reference (duplicate_reference)' };
      const parsed = parseInitializeResponse(outcome.response.status, outcome.response.body);
      if (parsed.kind === 'ok') return { kind: 'ok', value: { checkoutUrl: parsed.authorizationUrl } };
      if (parsed.kind === 'rejected') {
        const problem = paystackRequestProblem(outcome.response.status, outcome.response.body);
        return { kind: 'rejected', reason: parsed.reason, ...(problem === undefined ? {} : { problem }) };
      }
      // An answer we cannot read may still have created the transaction: unknown, not refused.
      return { kind: 'indefinite', reason: parsed.reason };
    },

    async verifyPayment(request: VerifyRequest): Promise<VerifyOutcome> {
      // Always by our reference: it is what Paystack indexes verify on. The transaction id a
      // webhook gives (request.providerTxId) names the same transaction and adds nothing.
      const url = `${base}/transaction/verify/${encodeURIComponent(toPaystackReference(request.paymentId))}`;
      return readVerifyAnswer(await deps.http.send({ method: 'GET', url, headers: headers() }), parseVerifyResponse);
    },

    beneficiaries: createBeneficiaryLookup(base, headers, deps.http),
    payouts: createPaystackPayouts(base, headers, deps.http),
  };
}

// At most this many pages of banks are followed; Paystack lists a few hundred per country.
const MAX_BANK_PAGES = 10;

function createBeneficiaryLookup(
  base: string,
  headers: () => Record<string, string>,
  http: HttpClient,
): BeneficiaryLookup {
  return {
    countries: Object.keys(PAYSTACK_BANK_COUNTRIES),
    async listBanks(country) {
      const name = PAYSTACK_BANK_COUNTRIES[country];
      if (name === undefined) return { kind: 'rejected', reason: `no Paystack banks in ${country}` };
      const banks: Bank[] = [];
      let next: string | null = null;
      for (let page = 0; page < MAX_BANK_PAGES; page += 1) {
        const query = new URLSearchParams({
          country: name,
          perPage: '100',
          use_cursor: 'true',
          ...(next === null ? {} : { next }),
        });
        const outcome = await http.send({ method: 'GET', url: `${base}/bank?${query.toString()}`, headers: headers() });
        if (outcome.kind === 'indefinite') return outcome;
        const parsed = parseBanksResponse(outcome.response.status, outcome.response.body);
        if (!parsed.ok) return { kind: 'rejected', reason: parsed.reason };
        banks.push(...parsed.banks);
        next = parsed.next;
        if (next === null) break;
      }
      return { kind: 'ok', value: banks };
    },
    async resolveAccount(request) {
      // Paystack's resolve covers bank accounts (NUBAN); mobile-money names are not resolvable here.
      if (request.type === 'mobile_money')
        return { kind: 'rejected', reason: 'Paystack does not resolve mobile-money accounts' };
      const query = new URLSearchParams({ account_number: request.accountNumber, bank_code: request.bankCode });
      return readResolveAnswer(
        await http.send({ method: 'GET', url: `${base}/bank/resolve?${query.toString()}`, headers: headers() }),
        parseResolveResponse,
      );
    },
  };
}
