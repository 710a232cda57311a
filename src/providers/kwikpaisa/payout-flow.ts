// KwikPaisa v3 payouts (payouts-research.md §1.5): signed JSON POSTs, re-signed on every call
// (a re-submission after a clock or signature refusal gets a fresh X-TIMESTAMP), our attempt's
// reference as `payout_order_id` (KwikPaisa's uniqueness rule is the exactly-once lever: a repeat
// is a 409, which means the payout exists), amounts as exact rupee strings. The docs say to trust
// the status call over the create answer, and so does the core.
import type { Clock } from '../../clock.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient } from '../../http/outbound.ts';
import type {
  CreateTransferOutcome,
  CreateTransferRequest,
  GetTransferOutcome,
  GetTransferRequest,
  PayoutProvider,
  ProviderBalance,
} from '../payout-types.ts';
import type { CallOutcome } from '../types.ts';
import {
  classifyPayoutCreate,
  KWIKPAISA_PAYOUT_CURRENCIES,
  parsePayoutStatus,
  parseWalletBalance,
  payoutProblem,
  toPayoutCreateBody,
  toPayoutStatusBody,
} from './payout-transformers.ts';
import { signRequest } from './signing.ts';

/** The docs promise nothing about how soon a new payout shows in the status call. */
const NOT_FOUND_GRACE_MS = 30 * 60_000;

export function createKwikPaisaPayouts(deps: {
  baseUrl: string;
  apiKey: Secret;
  secretKey: Secret;
  walletId: Secret;
  mobile: Secret;
  http: HttpClient;
  clock: Clock;
}): PayoutProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const post = (path: string, body: Record<string, unknown>) => {
    const signed = signRequest(
      body,
      { apiKey: deps.apiKey.reveal(), secretKey: deps.secretKey.reveal() },
      deps.clock.nowMs(),
    );
    return deps.http.send({ method: 'POST', url: `${base}${path}`, headers: signed.headers, body: signed.body });
  };

  async function createTransfer(request: CreateTransferRequest): Promise<CreateTransferOutcome> {
    const problem = payoutProblem(request);
    if (problem !== undefined) return { kind: 'rejected', ...problem };
    const body = toPayoutCreateBody(request, { walletId: deps.walletId.reveal(), mobile: deps.mobile.reveal() });
    const outcome = await post('/api/v3/banking/payment/create', body);
    if (outcome.kind === 'indefinite') return outcome;
    const { status, headers, body: text } = outcome.response;
    return classifyPayoutCreate(status, headers, text, request.reference);
  }

  async function getTransfer(request: GetTransferRequest): Promise<GetTransferOutcome> {
    const outcome = await post(
      '/api/v3/banking/payment/status',
      toPayoutStatusBody(request.reference, deps.walletId.reveal()),
    );
    if (outcome.kind === 'indefinite') return outcome;
    return parsePayoutStatus(outcome.response.status, outcome.response.body, request.reference);
  }

  async function getBalances(): Promise<CallOutcome<readonly ProviderBalance[]>> {
    const outcome = await post('/api/v3/banking/payment/account_info', { kwikx_wallet_id: deps.walletId.reveal() });
    if (outcome.kind === 'indefinite') return outcome;
    const balances = parseWalletBalance(outcome.response.status, outcome.response.body);
    return balances === undefined
      ? { kind: 'indefinite', reason: `kwikpaisa wallet answered HTTP ${outcome.response.status}` }
      : { kind: 'ok', value: balances };
  }

  return {
    name: 'kwikpaisa',
    currencies: KWIKPAISA_PAYOUT_CURRENCIES,
    destinations: ['bank_account'],
    notFoundGraceMs: NOT_FOUND_GRACE_MS,
    createTransfer,
    getTransfer,
    getBalances,
  };
}
