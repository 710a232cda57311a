// /v1/payouts and /v1/balances. POSTs carry the Idempotency-Key like every /v1 POST (v1-plugin):
// the same key and body replay the first answer, the same key with another body is 422; a new key
// with a used reference is 409 payout_reference_used naming the payout that holds it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { contextOf } from '../api/auth.ts';
import { BalanceListSchema, ListOf, PayoutObjectSchema } from '../api/objects.ts';
import { refuseBody } from '../api/refuse-body.ts';
import { IdParams } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import { isCurrency } from '../money/currencies.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { toPayoutObject } from './payout-object.ts';
import type { PayoutService } from './payout-service.ts';
import { PayoutCreateBody, PayoutFinalizeBody, PayoutListQuery } from './schemas.ts';

export function payoutRoutes(
  app: FastifyInstance,
  deps: { payouts: PayoutService; providers: ProviderRegistry; providerNames: readonly string[] },
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/payouts',
    {
      config: { scope: 'payouts:write' },
      schema: {
        summary: 'Send money to a saved beneficiary, exactly once. Settles asynchronously: watch the events.',
        body: PayoutCreateBody,
        response: { 201: PayoutObjectSchema },
      },
    },
    async (request, reply) => {
      if (!isCurrency(request.body.currency))
        throw new ApiError('parameter_invalid', {
          param: 'currency',
          message: `${request.body.currency} is not an ISO 4217 currency code.`,
        });
      const payout = await deps.payouts.create(contextOf(request), request.body);
      return reply.code(201).send(toPayoutObject(payout));
    },
  );

  api.get(
    '/payouts/:id',
    {
      config: { scope: 'payouts:read' },
      schema: { summary: 'Read a payout.', params: IdParams('po'), response: { 200: PayoutObjectSchema } },
    },
    async (request) => {
      const payout = await deps.payouts.get(contextOf(request).mode, request.params.id);
      if (payout === undefined) throw new ApiError('not_found', { message: 'No such payout.' });
      return toPayoutObject(payout);
    },
  );

  api.get(
    '/payouts',
    {
      config: { scope: 'payouts:read' },
      schema: {
        summary: 'List payouts, newest first, filtered by status, beneficiary, reference or provider.',
        querystring: PayoutListQuery,
        response: { 200: ListOf(PayoutObjectSchema, 'A page of payouts.') },
      },
    },
    async (request) => {
      const { limit = 20, starting_after, status, beneficiary, reference, provider } = request.query;
      const page = await deps.payouts.list(contextOf(request).mode, {
        limit,
        ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
        ...(status === undefined ? {} : { status }),
        ...(beneficiary === undefined ? {} : { beneficiary }),
        ...(reference === undefined ? {} : { reference }),
        ...(provider === undefined ? {} : { provider }),
      });
      return { object: 'list' as const, data: page.data.map(toPayoutObject), has_more: page.hasMore };
    },
  );

  api.post(
    '/payouts/:id/cancel',
    {
      config: { scope: 'payouts:write' },
      schema: {
        summary: 'Cancel a payout that was never sent to the provider.',
        params: IdParams('po'),
        response: { 200: PayoutObjectSchema },
      },
      preValidation: refuseBody,
    },
    async (request) => toPayoutObject(await deps.payouts.cancel(contextOf(request), request.params.id)),
  );

  api.post(
    '/payouts/:id/refresh',
    {
      config: { scope: 'payouts:write' },
      schema: {
        summary: 'Ask the provider about the payout now; only a definite answer changes it.',
        params: IdParams('po'),
        response: { 200: PayoutObjectSchema },
      },
      preValidation: refuseBody,
    },
    async (request) => toPayoutObject(await deps.payouts.refresh(contextOf(request), request.params.id)),
  );

  api.post(
    '/payouts/:id/finalize',
    {
      config: { scope: 'payouts:write' },
      schema: {
        summary: 'Give the code the provider sent (Paystack OTP) for a payout in requires_action.',
        params: IdParams('po'),
        body: PayoutFinalizeBody,
        response: { 200: PayoutObjectSchema },
      },
    },
    async (request) =>
      toPayoutObject(await deps.payouts.finalize(contextOf(request), request.params.id, request.body.otp)),
  );

  api.get(
    '/balances',
    {
      config: { scope: 'balances:read' },
      schema: {
        summary: "The providers' balances payouts are paid from, in minor units.",
        response: { 200: BalanceListSchema },
      },
    },
    async (request) => {
      const mode = contextOf(request).mode;
      const data: Array<{
        object: 'balance';
        provider: string;
        currency: string;
        available: number;
        ledger: number | null;
      }> = [];
      const errors: Array<{ provider: string; code: string }> = [];
      for (const name of deps.providerNames) {
        const adapter = deps.providers.payouts(mode, name);
        if (adapter === undefined) continue;
        const outcome = await adapter.getBalances();
        if (outcome.kind !== 'ok') {
          errors.push({
            provider: name,
            code: outcome.kind === 'rejected' ? 'provider_rejected' : 'provider_unavailable',
          });
          continue;
        }
        for (const b of outcome.value)
          data.push({
            object: 'balance',
            provider: name,
            currency: b.currency,
            available: b.availableMinor,
            ledger: b.ledgerMinor ?? null,
          });
      }
      return { object: 'list' as const, data, errors, has_more: false };
    },
  );
}
