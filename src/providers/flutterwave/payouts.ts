// Flutterwave v3 payouts (payout-types.ts): POST /v3/transfers with our reference, the status by
// id or by reference (GET /v3/transfers?reference=, the form integrators use; §1.2), balances.
// Flutterwave documents no idempotency key on v3: the unique `reference` is the only lever, and
// "a timeout could also mean the request is still processing": the core queries before resending.
import type { HttpClient } from '../../http/outbound.ts';
import type { PayoutProvider } from '../payout-types.ts';
import { readBalances, readCreateAnswer, readGetAnswer, toTransferBody } from './payout-transformers.ts';

/** Currencies Flutterwave pays out in (transfers overview). */
export const FLUTTERWAVE_PAYOUT_CURRENCIES = [
  'NGN',
  'GHS',
  'KES',
  'UGX',
  'TZS',
  'ZAR',
  'RWF',
  'XAF',
  'XOF',
  'USD',
  'EUR',
  'GBP',
];

/** An integrator saw fresh transfers missing from lookups; 30 minutes before "not found" counts. */
export const FLUTTERWAVE_NOT_FOUND_GRACE_MS = 30 * 60_000;

export function createFlutterwavePayouts(
  base: string,
  headers: () => Record<string, string>,
  http: HttpClient,
): PayoutProvider {
  return {
    name: 'flutterwave',
    currencies: FLUTTERWAVE_PAYOUT_CURRENCIES,
    destinations: ['bank_account', 'mobile_money'],
    notFoundGraceMs: FLUTTERWAVE_NOT_FOUND_GRACE_MS,

    async createTransfer(request) {
      const outcome = await http.send({
        method: 'POST',
        url: `${base}/v3/transfers`,
        headers: headers(),
        body: toTransferBody(request),
      });
      if (outcome.kind === 'indefinite') return outcome;
      return readCreateAnswer(outcome.response.status, outcome.response.body);
    },

    async getTransfer(request) {
      const url =
        request.providerTransferId !== null && /^\d{1,15}$/.test(request.providerTransferId)
          ? `${base}/v3/transfers/${request.providerTransferId}`
          : `${base}/v3/transfers?reference=${encodeURIComponent(request.reference)}`;
      const outcome = await http.send({ method: 'GET', url, headers: headers() });
      if (outcome.kind === 'indefinite') return outcome;
      return readGetAnswer(outcome.response.status, outcome.response.body, request.reference);
    },

    async getBalances() {
      const outcome = await http.send({ method: 'GET', url: `${base}/v3/balances`, headers: headers() });
      if (outcome.kind === 'indefinite') return outcome;
      const balances = readBalances(outcome.response.status, outcome.response.body);
      return balances === undefined
        ? { kind: 'rejected', reason: `balances unreadable (HTTP ${outcome.response.status})` }
        : { kind: 'ok', value: balances };
    },
  };
}
