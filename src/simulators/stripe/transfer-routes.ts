// Connect transfers (docs.stripe.com/api/transfers; payouts-research.md §1.4): the platform moves
// money from its balance to a connected account's. A transfer has no status: it exists once the
// call succeeded, or the call failed (insufficient funds, unknown destination). Reversals send
// (part of) it back. Also the accounts and balances they move between.
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
import { takeFor } from './connect-lifecycle.ts';
import type { ConnectLifecycle } from './connect-lifecycle.ts';
import { readReversalParams, readTransferParams, scopeOfParams } from './connect-params.ts';
import { PLATFORM_ACCOUNT, referenceOf, type Transfer } from './connect-state.ts';
import { accountObject, balanceObject, listObject, reversalObject, transferObject } from './connect-wire.ts';
import { visible } from '../shared/payout-faults.ts';
import { newId } from './state.ts';

export const INSUFFICIENT_PLATFORM_FUNDS =
  'You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance';

export function registerTransferRoutes(app: FastifyInstance, deps: ConnectDeps & { lifecycle: ConnectLifecycle }) {
  const { connect, lifecycle } = deps;
  const missingTransfer = (reply: Parameters<typeof apiError>[0], id: string) =>
    apiError(reply, 404, `No such transfer: '${id.slice(0, 80)}'`, { code: 'resource_missing', param: 'id' });

  app.post('/v1/transfers', async (request, reply) => {
    const form = readForm(request);
    const ref = form.ok ? scopeOfParams(form.tree) : undefined;
    if (!(await passGate(deps, request, reply, 'transfer', ref))) return reply;
    if (!form.ok) return apiError(reply, 400, form.message);
    if (takeFor(deps.state.faults, ['drop_request'], 'transfer', ref) !== undefined) {
      deps.answers.cut(request, reply);
      return reply;
    }
    if (actingAccount(request) !== PLATFORM_ACCOUNT)
      return apiError(reply, 400, 'Transfers from a connected account are not simulated: create them as the platform.');
    const run = await deps.idempotency.start(
      reply,
      request.headers['idempotency-key'],
      PLATFORM_ACCOUNT,
      'POST /v1/transfers',
      form.tree,
    );
    if (run.kind === 'answered') return reply;
    const params = readTransferParams(form.tree);
    if (!params.ok) {
      run.release();
      return apiError(reply, 400, params.error.message, { code: params.error.code, param: params.error.param });
    }
    const p = params.value;
    return runIdempotent(deps, request, reply, run, 'transfer', ref, () => {
      const destination = connect.accounts.get(p.destination);
      if (destination === undefined)
        return {
          kind: 'refused',
          status: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'resource_missing',
              message: `No such destination: '${p.destination.slice(0, 80)}'`,
              param: 'destination',
            },
          },
        };
      const available = connect.platformAvailable.get(p.currency) ?? 0;
      if (takeFor(deps.state.faults, ['insufficient_balance'], 'transfer', ref) !== undefined || available < p.amount)
        return {
          kind: 'refused',
          status: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'balance_insufficient',
              message: INSUFFICIENT_PLATFORM_FUNDS,
            },
          },
        };
      const hidden = takeFor(deps.state.faults, ['not_found_after_create'], 'transfer', ref);
      const transfer: Transfer = {
        id: newId('tr_'),
        amount: p.amount,
        currency: p.currency,
        destination: destination.id,
        destinationPayment: newId('py_'),
        transferGroup: p.transferGroup,
        description: p.description,
        metadata: p.metadata,
        created: connect.nowSeconds(),
        balanceTransaction: newId('txn_'),
        reversals: [],
        hiddenLookups: hidden === undefined ? 0 : Math.max(1, Math.floor(hidden.value ?? 2)),
      };
      connect.platformAvailable.set(p.currency, available - p.amount);
      destination.available.set(p.currency, (destination.available.get(p.currency) ?? 0) + p.amount);
      connect.transfers.set(transfer.id, transfer);
      const created = lifecycle.storeEvent(transfer.id, 'transfer.created', transferObject(transfer), undefined);
      return {
        kind: 'created',
        body: transferObject(transfer),
        // transfer.created is the transfer's only event; it carries the webhook faults.
        afterAnswer: () => lifecycle.deliver('transfer', referenceOf(transfer), [], [created]),
      };
    });
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/transfers', async (request, reply) => {
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    const refused = unknownQuery(reply, request.query, [
      'limit',
      'starting_after',
      'ending_before',
      'destination',
      'transfer_group',
      'created',
    ]);
    if (refused !== undefined) return refused;
    const { destination, transfer_group: group } = request.query;
    const matching = [...connect.transfers.values()]
      .filter(
        (t) =>
          (destination === undefined || t.destination === destination) &&
          (group === undefined || t.transferGroup === group),
      )
      .filter((item) => createdMatches(item.created, request.query))
      .filter(visible)
      .reverse();
    return pageOf(reply, matching, request.query, '/v1/transfers', transferObject);
  });

  app.get<{ Params: { id: string } }>('/v1/transfers/:id', async (request, reply) => {
    const transfer = connect.transfers.get(request.params.id);
    if (!(await deps.apiGate(request, reply, transfer === undefined ? undefined : referenceOf(transfer)))) return reply;
    if (transfer === undefined || !visible(transfer)) return missingTransfer(reply, request.params.id);
    return transferObject(transfer);
  });

  app.post<{ Params: { id: string } }>('/v1/transfers/:id/reversals', async (request, reply) => {
    const transfer = connect.transfers.get(request.params.id);
    const form = readForm(request);
    if (!(await deps.apiGate(request, reply, transfer === undefined ? undefined : referenceOf(transfer)))) return reply;
    if (!form.ok) return apiError(reply, 400, form.message);
    if (transfer === undefined) return missingTransfer(reply, request.params.id);
    const run = await deps.idempotency.start(
      reply,
      request.headers['idempotency-key'],
      PLATFORM_ACCOUNT,
      `POST /v1/transfers/${transfer.id}/reversals`,
      form.tree,
    );
    if (run.kind === 'answered') return reply;
    const params = readReversalParams(form.tree);
    if (!params.ok) {
      run.release();
      return apiError(reply, 400, params.error.message, { code: params.error.code, param: params.error.param });
    }
    const left = transfer.amount - transfer.reversals.reduce((sum, r) => sum + r.amount, 0);
    const amount = params.value.amount ?? left;
    if (left === 0 || amount > left) {
      const body = {
        error: {
          type: 'invalid_request_error',
          message: `Transfer ${transfer.id} has already been reversed${left === 0 ? '' : ` by more than ${left}`}.`,
          code: 'transfer_already_reversed',
        },
      };
      return reply.code(400).type('application/json').send(run.save(400, body));
    }
    const reversal = lifecycle.reverseTransfer(transfer, amount, params.value.metadata);
    return reply.type('application/json').send(run.save(200, reversalObject(transfer, reversal)));
  });

  app.get<{ Params: { id: string } }>('/v1/transfers/:id/reversals', async (request, reply) => {
    const transfer = connect.transfers.get(request.params.id);
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    if (transfer === undefined) return missingTransfer(reply, request.params.id);
    return listObject(
      `/v1/transfers/${transfer.id}/reversals`,
      transfer.reversals.map((r) => reversalObject(transfer, r)),
    );
  });

  // ---- The accounts money moves between ------------------------------------------------------
  app.get('/v1/balance', async (request, reply) => {
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    const account = actingAccount(request);
    const refused = unknownAccount(deps, reply, account);
    if (refused !== undefined) return refused;
    return balanceObject(connect.balanceOf(account) ?? new Map());
  });

  app.get<{ Params: { id: string } }>('/v1/accounts/:id', async (request, reply) => {
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    const account = connect.accounts.get(request.params.id);
    // Stripe answers an account the platform cannot reach as a permission error, not a 404.
    if (account === undefined)
      return (
        unknownAccount(deps, reply, request.params.id) ??
        apiError(reply, 404, 'No such account', { code: 'resource_missing' })
      );
    return accountObject(account);
  });

  app.post('/v1/accounts', async (request, reply) => {
    if (!(await deps.apiGate(request, reply, undefined))) return reply;
    const form = readForm(request);
    if (!form.ok) return apiError(reply, 400, form.message);
    const tree = form.tree;
    const unknown = Object.keys(tree).find(
      (k) =>
        ![
          'type',
          'country',
          'email',
          'default_currency',
          'business_profile',
          'external_account',
          'capabilities',
          'metadata',
        ].includes(k),
    );
    if (unknown !== undefined)
      return apiError(reply, 400, `Received unknown parameter: ${unknown.slice(0, 80)}`, {
        code: 'parameter_unknown',
        param: unknown.slice(0, 80),
      });
    const country = typeof tree.country === 'string' && /^[A-Za-z]{2}$/.test(tree.country) ? tree.country : 'US';
    const currency =
      typeof tree.default_currency === 'string' && /^[A-Za-z]{3}$/.test(tree.default_currency)
        ? tree.default_currency
        : 'usd';
    const profile =
      typeof tree.business_profile === 'object' && !Array.isArray(tree.business_profile) ? tree.business_profile : {};
    const bank =
      typeof tree.external_account === 'object' && !Array.isArray(tree.external_account) ? tree.external_account : {};
    const account = connect.createAccount({
      country,
      defaultCurrency: currency,
      email: typeof tree.email === 'string' ? tree.email : null,
      ...(typeof profile.name === 'string' ? { businessName: profile.name } : {}),
      ...(typeof bank.account_number === 'string' ? { accountNumber: bank.account_number } : {}),
    });
    return accountObject(account);
  });
}
