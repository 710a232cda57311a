// Stripe Connect payouts: one of ours is two Stripe calls, a transfer from the platform to the
// connected account (POST /v1/transfers) and a payout from that account to its bank (POST
// /v1/payouts with Stripe-Account). Exactly once rests on three things (payouts-research.md
// §1.4, §2 #6, #7, #9):
//   - each call's Idempotency-Key is derived from the attempt's reference (committed by the core
//     before the first call), never random, so a re-submission replays instead of paying again;
//   - before creating a transfer we look for one under the reference (transfer_group): Stripe
//     prunes keys after 24 h, and a re-submission after that must not make a second transfer;
//   - when the payout step is definitely refused after the transfer went through, the transfer
//     is reversed (its own derived key) before we say `rejected`, so a new attempt cannot put
//     the money on the connected account twice.
// getTransfer finds the pair by reference alone: the transfer by transfer_group, its payout on
// the destination account by metadata.
import type { Secret } from '../../crypto/secret.ts';
import type { HttpClient, HttpOutcome } from '../../http/outbound.ts';
import type {
  ConnectedAccountLookup,
  CreateTransferOutcome,
  CreateTransferRequest,
  GetTransferOutcome,
  GetTransferRequest,
  PayoutProvider,
  ProviderBalance,
} from '../payout-types.ts';
import type { CallOutcome } from '../types.ts';
import { isRecord, parseJson } from '../webhook-fields.ts';
import {
  CONNECTED_ACCOUNT,
  classifyCreateAnswer,
  listData,
  payoutKey,
  payoutToTransfer,
  reversalKey,
  reversedTransferToTransfer,
  STRIPE_PAYOUT_CURRENCIES,
  toPayoutParams,
  toTransferParams,
  transferKey,
} from './payout-transformers.ts';
import { encodeForm, errorReason, type FormValue, STRIPE_API_VERSION } from './transformers.ts';

/** How many pages of an account's payouts (100 each, since the transfer) to search. */
const MAX_PAYOUT_PAGES = 5;
/** Stripe's lists are strongly consistent in practice; a short grace covers a create in flight. */
const NOT_FOUND_GRACE_MS = 5 * 60_000;

export function createStripePayouts(deps: { baseUrl: string; secretKey: Secret; http: HttpClient }): PayoutProvider {
  const base = deps.baseUrl.replace(/\/+$/, '');
  const headers = (extra: Record<string, string | undefined> = {}) => {
    const all: Record<string, string> = {
      authorization: `Bearer ${deps.secretKey.reveal()}`,
      accept: 'application/json',
      'stripe-version': STRIPE_API_VERSION,
    };
    for (const [name, value] of Object.entries(extra)) if (value !== undefined) all[name] = value;
    return all;
  };
  const post = (path: string, params: { [key: string]: FormValue }, key: string, account?: string) =>
    deps.http.send({
      method: 'POST',
      url: `${base}${path}`,
      headers: headers({
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': key,
        'stripe-account': account,
      }),
      body: encodeForm(params),
    });
  const get = (path: string, account?: string) =>
    deps.http.send({ method: 'GET', url: `${base}${path}`, headers: headers({ 'stripe-account': account }) });

  type Indefinite = { kind: 'indefinite'; reason: string; retryAfterMs?: number };
  type Found<T> = { kind: 'found'; value: T } | { kind: 'none' } | Indefinite;
  const unreadable = (outcome: HttpOutcome, what: string): Indefinite =>
    outcome.kind === 'indefinite'
      ? {
          kind: 'indefinite',
          reason: outcome.reason,
          ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
        }
      : { kind: 'indefinite', reason: `${what}: ${errorReason(outcome.response.status, outcome.response.body)}` };

  /** The platform's transfers under our reference: none, one, or (never expected) several. */
  async function findTransfers(reference: string): Promise<Found<Record<string, unknown>[]>> {
    const outcome = await get(`/v1/transfers?transfer_group=${encodeURIComponent(reference)}&limit=10`);
    const data = outcome.kind === 'response' ? listData(outcome.response.status, outcome.response.body) : undefined;
    if (data === undefined) return unreadable(outcome, 'transfer list');
    const ours = data.filter((t) => t.transfer_group === reference);
    return ours.length === 0 ? { kind: 'none' } : { kind: 'found', value: ours };
  }

  /** Our payout on the connected account: by id when we know it, else by metadata since the transfer. */
  async function findPayout(
    account: string,
    reference: string,
    sinceSeconds: number,
    knownId: string | null,
  ): Promise<Found<Record<string, unknown>>> {
    if (knownId?.startsWith('po_')) {
      const outcome = await get(`/v1/payouts/${encodeURIComponent(knownId)}`, account);
      if (outcome.kind === 'response' && outcome.response.status === 200) {
        const parsed = parseJson(outcome.response.body);
        if (isRecord(parsed) && parsed.object === 'payout') return { kind: 'found', value: parsed };
      }
      if (outcome.kind === 'indefinite' || outcome.response.status !== 404) return unreadable(outcome, 'payout');
    }
    let cursor = '';
    for (let page = 0; page < MAX_PAYOUT_PAGES; page++) {
      const outcome = await get(`/v1/payouts?limit=100&created[gte]=${sinceSeconds}${cursor}`, account);
      const data = outcome.kind === 'response' ? listData(outcome.response.status, outcome.response.body) : undefined;
      if (data === undefined) return unreadable(outcome, 'payout list');
      const ours = data.find((p) => isRecord(p.metadata) && p.metadata.reference === reference);
      if (ours !== undefined) return { kind: 'found', value: ours };
      const last = data.at(-1);
      const hasMore =
        outcome.kind === 'response' &&
        (parseJson(outcome.response.body) as { has_more?: unknown } | undefined)?.has_more === true;
      if (!hasMore || typeof last?.id !== 'string') return { kind: 'none' };
      cursor = `&starting_after=${encodeURIComponent(last.id)}`;
    }
    return { kind: 'indefinite', reason: `more than ${MAX_PAYOUT_PAGES * 100} payouts since the transfer` };
  }

  async function createTransfer(request: CreateTransferRequest): Promise<CreateTransferOutcome> {
    const destination = request.destination;
    if (destination.type !== 'connected_account')
      return {
        kind: 'rejected',
        reason: 'destination_not_supported',
        message: 'Stripe pays out to connected accounts only',
      };
    if (!CONNECTED_ACCOUNT.test(destination.accountId))
      return { kind: 'rejected', reason: 'invalid_account', message: 'not a Stripe connected account id (acct_…)' };
    if (!(STRIPE_PAYOUT_CURRENCIES as readonly string[]).includes(request.currency))
      return {
        kind: 'rejected',
        reason: 'currency_not_supported',
        message: `Stripe payouts here are in ${STRIPE_PAYOUT_CURRENCIES.join(', ')}`,
      };
    if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0)
      return { kind: 'rejected', reason: 'amount_not_representable', message: 'not a whole number of minor units' };

    // 1. The transfer: the one already made under this reference, else a new one (keyed).
    const existing = await findTransfers(request.reference);
    if (existing.kind === 'indefinite') return existing;
    let transfer: Record<string, unknown>;
    if (existing.kind === 'found') {
      transfer = existing.value[0] as Record<string, unknown>;
    } else {
      const sent = await post(
        '/v1/transfers',
        toTransferParams(request, destination.accountId),
        transferKey(request.reference),
      );
      if (sent.kind === 'indefinite') return sent;
      const answer = classifyCreateAnswer(sent.response.status, sent.response.headers, sent.response.body, 'transfer');
      if (answer.kind === 'refused') return { kind: 'rejected', reason: answer.reason, message: answer.message };
      if (answer.kind === 'indefinite') return answer;
      transfer = answer.object;
    }
    if (transfer.reversed === true)
      return { kind: 'accepted', transfer: reversedTransferToTransfer(transfer, request.reference) };
    const transferId = String(transfer.id);

    // 2. The payout on the connected account: the one already made under this reference (its
    // key may be pruned), else a new one (keyed).
    const made = await findPayout(destination.accountId, request.reference, Number(transfer.created ?? 0), null);
    if (made.kind === 'indefinite') return made;
    if (made.kind === 'found') {
      const view = payoutToTransfer(made.value, undefined);
      return view === undefined
        ? { kind: 'indefinite', reason: 'stripe payout without our reference' }
        : { kind: 'accepted', transfer: view };
    }
    const sent = await post(
      '/v1/payouts',
      toPayoutParams(request, transferId),
      payoutKey(request.reference),
      destination.accountId,
    );
    if (sent.kind === 'indefinite') return sent;
    const answer = classifyCreateAnswer(sent.response.status, sent.response.headers, sent.response.body, 'payout');
    if (answer.kind === 'indefinite') return answer;
    if (answer.kind === 'object') {
      const view = payoutToTransfer(answer.object, undefined);
      return view === undefined
        ? { kind: 'indefinite', reason: 'stripe answered a payout without our reference' }
        : { kind: 'accepted', transfer: view };
    }
    // 3. The payout was refused: bring the transfer back before saying so (see the top).
    const reversal = await post(
      `/v1/transfers/${encodeURIComponent(transferId)}/reversals`,
      { metadata: { reference: request.reference } },
      reversalKey(request.reference),
    );
    if (reversal.kind === 'indefinite') return reversal;
    const reversed = classifyCreateAnswer(
      reversal.response.status,
      reversal.response.headers,
      reversal.response.body,
      'transfer_reversal',
    );
    const alreadyReversed =
      reversal.response.status === 400 && /transfer_already_reversed/.test(reversal.response.body);
    if (reversed.kind !== 'object' && !alreadyReversed)
      return {
        kind: 'indefinite',
        reason: `payout refused (${answer.message}); the transfer's reversal did not go through`,
      };
    return { kind: 'rejected', reason: answer.reason, message: `${answer.message} (the transfer was reversed)` };
  }

  async function getTransfer(request: GetTransferRequest): Promise<GetTransferOutcome> {
    const transfers = await findTransfers(request.reference);
    if (transfers.kind === 'indefinite') return transfers;
    // Nothing under the reference, or a transfer whose payout was never made: either way a
    // re-submission with the same reference is what completes it (both calls are keyed).
    if (transfers.kind === 'none') return { kind: 'not_found' };
    if (transfers.value.length > 1)
      return {
        kind: 'ok',
        value: {
          status: 'unknown',
          providerStatus: `transfer:multiple(${transfers.value.length})`,
          reference: request.reference,
          providerTransferId: undefined,
          amountMinor: undefined,
          currency: undefined,
          feeMinor: undefined,
          message: 'more than one Stripe transfer carries this reference',
        },
      };
    const transfer = transfers.value[0] as Record<string, unknown>;
    const account = typeof transfer.destination === 'string' ? transfer.destination : '';
    const created = typeof transfer.created === 'number' ? transfer.created : 0;
    const payout = await findPayout(account, request.reference, created, request.providerTransferId);
    if (payout.kind === 'indefinite') return payout;
    if (payout.kind === 'found') {
      const view = payoutToTransfer(payout.value, request.lastStatus);
      return view === undefined
        ? { kind: 'indefinite', reason: 'stripe payout without our reference' }
        : { kind: 'ok', value: view };
    }
    if (transfer.reversed === true)
      return { kind: 'ok', value: reversedTransferToTransfer(transfer, request.reference) };
    return { kind: 'not_found' };
  }

  async function getBalances(): Promise<CallOutcome<readonly ProviderBalance[]>> {
    const outcome = await get('/v1/balance');
    if (outcome.kind === 'indefinite') return outcome;
    const parsed = parseJson(outcome.response.body);
    if (outcome.response.status !== 200 || !isRecord(parsed) || !Array.isArray(parsed.available))
      return { kind: 'indefinite', reason: `balance: ${errorReason(outcome.response.status, outcome.response.body)}` };
    const pending = new Map<string, number>();
    for (const entry of Array.isArray(parsed.pending) ? parsed.pending : [])
      if (isRecord(entry) && typeof entry.currency === 'string' && Number.isSafeInteger(entry.amount))
        pending.set(entry.currency, entry.amount as number);
    return {
      kind: 'ok',
      value: parsed.available
        .filter(
          (e): e is { currency: string; amount: number } =>
            isRecord(e) && typeof e.currency === 'string' && Number.isSafeInteger(e.amount),
        )
        .map((e) => ({
          currency: e.currency.toUpperCase(),
          availableMinor: e.amount,
          ledgerMinor: e.amount + (pending.get(e.currency) ?? 0),
        })),
    };
  }

  async function lookupConnectedAccount(accountId: string): Promise<ConnectedAccountLookup> {
    if (!CONNECTED_ACCOUNT.test(accountId)) return { kind: 'not_found', reason: 'not a connected account id (acct_…)' };
    const outcome = await get(`/v1/accounts/${encodeURIComponent(accountId)}`);
    if (outcome.kind === 'indefinite') return outcome;
    const { status, body } = outcome.response;
    // Stripe answers an account this platform cannot reach as 403 (or 404): no such account for us.
    if (status === 403 || status === 404) return { kind: 'not_found', reason: errorReason(status, body) };
    const parsed = parseJson(body);
    if (status !== 200 || !isRecord(parsed) || parsed.object !== 'account' || parsed.id !== accountId)
      return { kind: 'indefinite', reason: `account: ${errorReason(status, body)}` };
    const profile = isRecord(parsed.business_profile) ? parsed.business_profile : {};
    const name =
      typeof profile.name === 'string' && profile.name.trim() !== ''
        ? profile.name
        : typeof parsed.email === 'string'
          ? parsed.email
          : accountId;
    return {
      kind: 'ok',
      value: {
        accountId,
        accountName: name.slice(0, 200),
        country: typeof parsed.country === 'string' ? parsed.country.toUpperCase() : null,
        payoutsEnabled: parsed.payouts_enabled === true,
      },
    };
  }

  return {
    name: 'stripe',
    currencies: STRIPE_PAYOUT_CURRENCIES,
    lookupConnectedAccount,
    destinations: ['connected_account'],
    notFoundGraceMs: NOT_FOUND_GRACE_MS,
    createTransfer,
    getTransfer,
    getBalances,
  };
}
