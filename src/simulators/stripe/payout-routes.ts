// Payouts on a connected account (docs.stripe.com/api/payouts; payouts-research.md §1.4): made
// with the Stripe-Account header, from that account's available balance to its bank account,
// asynchronous (pending -> in_transit -> paid | failed; canceled while pending), and a paid payout
// may still fail later, when its money returns to the account.
import type { FastifyInstance } from 'fastify';
import {
  actingAccount,
  apiError,
  type ConnectDeps,
  pageOf,
  passGate,
  readForm,
  runIdempotent,
  unknownAccount,
  unknownQuery,
  createdMatches,
} from './connect-http.ts';
import { type ConnectLifecycle, takeFor } from './connect-lifecycle.ts';
import { readPayoutParams, scopeOfParams } from './connect-params.ts';
import { type Payout, referenceOf } from './connect-state.ts';
import { payoutObject } from './connect-wire.ts';
import { visible } from '../shared/payout-faults.ts';
import { newId } from './state.ts';

export const INSUFFICIENT_ACCOUNT_FUNDS =
  'You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance).';

const TWO_DAYS_SECONDS = 172_800;

export function registerPayoutRoutes(app: FastifyInstance, deps: ConnectDeps & { lifecycle: ConnectLifecycle }) {
  const { connect, lifecycle } = deps;
  /** A payout of the acting account that lookups may see; answers 404 otherwise. */
  const own = (account: string, id: string) => {
    const payout = connect.payouts.get(id);
    return payout !== undefined && payout.account === account ? payout : undefined;
  };
  const missing = (reply: Parameters<typeof apiError>[0], id: string) =>
    apiError(reply, 404, `No such payout: '${id.slice(0, 80)}'`, { code: 'resource_missing', param: 'id' });
  /** The answer of a lookup; a reversal_after_success payout that is due has failed by then. */
  const shown = (payout: Payout) => {
    lifecycle.reverseIfDue(payout);
    return payoutObject(payout);
  };

  app.post('/v1/payouts', async (request, reply) => {
    const form = readForm(request);
    const ref = form.ok ? scopeOfParams(form.tree) : undefined;
    if (!(await passGate(deps, request, reply, 'payout', ref))) return reply;
    if (!form.ok) return apiError(reply, 400, form.message);
    if (takeFor(deps.state.faults, ['drop_request'], 'payout', ref) !== undefined) {
      deps.answers.cut(request, reply);
      return reply;
    }
    const accountId = actingAccount(request);
    const refused = unknownAccount(deps, reply, accountId);
    if (refused !== undefined) return refused;
    const run = await deps.idempotency.start(
      reply,
      request.headers['idempotency-key'],
      accountId,
      'POST /v1/payouts',
      form.tree,
    );
    if (run.kind === 'answered') return reply;
    const params = readPayoutParams(form.tree);
    if (!params.ok) {
      run.release();
      return apiError(reply, 400, params.error.message, { code: params.error.code, param: params.error.param });
    }
    const p = params.value;
    const account = connect.accounts.get(accountId);
    const bankId = account?.externalAccount.id ?? 'ba_platform';
    return runIdempotent(deps, request, reply, run, 'payout', ref, () => {
      const refusal = (status: number, code: string, message: string, param?: string) =>
        ({
          kind: 'refused',
          status,
          body: { error: { type: 'invalid_request_error', code, message, ...(param === undefined ? {} : { param }) } },
        }) as const;
      if (account !== undefined && !account.payoutsEnabled)
        return refusal(400, 'payouts_not_allowed', 'Payouts have been disabled on this account.');
      if (p.destination !== null && p.destination !== bankId)
        return refusal(
          400,
          'resource_missing',
          `No such external account: '${p.destination.slice(0, 80)}'`,
          'destination',
        );
      const balance = connect.balanceOf(accountId) ?? new Map<string, number>();
      const available = balance.get(p.currency) ?? 0;
      if (takeFor(deps.state.faults, ['insufficient_balance'], 'payout', ref) !== undefined || available < p.amount)
        return refusal(400, 'balance_insufficient', INSUFFICIENT_ACCOUNT_FUNDS);
      const hidden = takeFor(deps.state.faults, ['not_found_after_create'], 'payout', ref);
      const created = connect.nowSeconds();
      const payout: Payout = {
        id: newId('po_'),
        account: accountId,
        amount: p.amount,
        currency: p.currency,
        description: p.description,
        statementDescriptor: p.statementDescriptor,
        metadata: p.metadata,
        method: p.method,
        destination: bankId,
        created,
        arrivalDate: created + TWO_DAYS_SECONDS,
        balanceTransaction: newId('txn_'),
        status: 'pending',
        failureCode: null,
        failureMessage: null,
        failureBalanceTransaction: null,
        history: ['pending'],
        stuck: takeFor(deps.state.faults, ['stuck_pending'], 'payout', ref) !== undefined,
        reverseAfterPaid: takeFor(deps.state.faults, ['reversal_after_success'], 'payout', ref) !== undefined,
        hiddenLookups: hidden === undefined ? 0 : Math.max(1, Math.floor(hidden.value ?? 2)),
      };
      balance.set(p.currency, available - p.amount);
      connect.payouts.set(payout.id, payout);
      return {
        kind: 'created',
        body: payoutObject(payout),
        afterAnswer: () => lifecycle.afterCreate(payout, { settle: connect.settings.payoutCompletion === 'immediate' }),
      };
    });
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/payouts', async (request, reply) => {
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    const accountId = actingAccount(request);
    const refusedAccount = unknownAccount(deps, reply, accountId);
    if (refusedAccount !== undefined) return refusedAccount;
    const refused = unknownQuery(reply, request.query, [
      'limit',
      'starting_after',
      'ending_before',
      'status',
      'destination',
      'created',
      'arrival_date',
    ]);
    if (refused !== undefined) return refused;
    const { status } = request.query;
    const matching = [...connect.payouts.values()]
      .filter((p) => p.account === accountId && (status === undefined || p.status === status))
      .filter((item) => createdMatches(item.created, request.query))
      .filter(visible)
      .reverse();
    return pageOf(reply, matching, request.query, '/v1/payouts', shown);
  });

  app.get<{ Params: { id: string } }>('/v1/payouts/:id', async (request, reply) => {
    const payout = own(actingAccount(request), request.params.id);
    if (!(await deps.apiGate(request, reply, payout === undefined ? undefined : referenceOf(payout)))) return reply;
    if (payout === undefined || !visible(payout)) return missing(reply, request.params.id);
    return shown(payout);
  });

  app.post<{ Params: { id: string } }>('/v1/payouts/:id/cancel', async (request, reply) => {
    const payout = own(actingAccount(request), request.params.id);
    if (!(await deps.apiGate(request, reply, payout === undefined ? undefined : referenceOf(payout)))) return reply;
    if (payout === undefined) return missing(reply, request.params.id);
    if (payout.status !== 'pending')
      return apiError(
        reply,
        400,
        `Payouts can only be canceled while they are pending. This payout is ${payout.status}.`,
      );
    // The move is synchronous; the webhook goes out after the answer.
    void lifecycle.settle(payout, 'canceled');
    return payoutObject(payout);
  });
}
