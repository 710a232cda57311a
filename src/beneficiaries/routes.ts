import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BankListSchema, ResolvedAccountSchema } from '../api/objects.ts';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { contextOf } from '../api/auth.ts';
import { apiRead, type AuditReads } from '../audit/audit.ts';
import { AccountResolveBody, BanksQuery, IdParams } from '../api/schemas.ts';
import { BeneficiaryObjectSchema, DeletedObjectSchema, ListOf } from '../api/objects.ts';
import { BeneficiaryCreateBody, BeneficiaryListQuery } from '../payouts/schemas.ts';
import { toBeneficiaryObject, type BeneficiaryStore } from './beneficiary-store.ts';
import { ApiError } from '../errors.ts';
import type { BeneficiaryService } from './beneficiary-service.ts';

export function beneficiaryRoutes(
  app: FastifyInstance,
  deps: {
    beneficiaries: BeneficiaryService;
    store: BeneficiaryStore;
    lookupLimiter: RateLimiterAbstract;
    auditReads: AuditReads;
  },
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // LOG-3: a beneficiary answer shows a person's account name and email, so every read is audited.
  const audited = (request: FastifyRequest, ids: readonly string[]) =>
    deps.auditReads(apiRead(contextOf(request), 'beneficiary', ids, request.routeOptions.url));

  // Look-ups reach the provider; a tighter per-key budget than the rest of the API keeps account
  // resolution from being used to enumerate account holders.
  const limit = async (request: FastifyRequest) => {
    try {
      await deps.lookupLimiter.consume(contextOf(request).apiKeyId);
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      const waitMs = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 1000;
      throw new ApiError('rate_limited', { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
    }
  };

  api.get(
    '/banks',
    {
      config: { scope: 'banks:read' },
      schema: {
        summary: 'The provider\u2019s bank list for a country (cached for a day).',
        querystring: BanksQuery,
        response: { 200: BankListSchema },
      },
      preHandler: limit,
    },
    async (request) => {
      const { country, provider } = request.query;
      const result = await deps.beneficiaries.listBanks(contextOf(request).mode, country, provider);
      return {
        object: 'list' as const,
        provider: result.provider,
        country,
        data: result.banks.map((b) => ({ object: 'bank' as const, code: b.code, name: b.name })),
        has_more: false,
      };
    },
  );

  api.post(
    '/accounts/resolve',
    {
      config: { scope: 'accounts:resolve' },
      schema: {
        summary: 'The account holder\u2019s name, as the provider resolves it.',
        body: AccountResolveBody,
        response: { 200: ResolvedAccountSchema },
      },
      preHandler: limit,
    },
    async (request) => {
      const { provider, ...input } = request.body;
      return deps.beneficiaries.resolve(contextOf(request).mode, input, provider);
    },
  );

  // Saving resolves the account through the provider, so it shares the look-up budget.
  api.post(
    '/beneficiaries',
    {
      config: { scope: 'beneficiaries:write' },
      schema: {
        summary: 'Save a beneficiary; the account holder name is resolved through the provider first.',
        body: BeneficiaryCreateBody,
        response: { 201: BeneficiaryObjectSchema },
      },
      preHandler: limit,
    },
    async (request, reply) =>
      reply.code(201).send(toBeneficiaryObject(await deps.store.create(contextOf(request), request.body))),
  );

  api.get(
    '/beneficiaries/:id',
    {
      config: { scope: 'beneficiaries:read' },
      schema: { summary: 'Read a beneficiary.', params: IdParams('ben'), response: { 200: BeneficiaryObjectSchema } },
    },
    async (request) => {
      const row = await deps.store.get(contextOf(request).mode, request.params.id);
      if (row === undefined) throw new ApiError('not_found', { message: 'No such beneficiary.' });
      await audited(request, [row.id]);
      return toBeneficiaryObject(row);
    },
  );

  api.get(
    '/beneficiaries',
    {
      config: { scope: 'beneficiaries:read' },
      schema: {
        summary: 'List beneficiaries, newest first.',
        querystring: BeneficiaryListQuery,
        response: { 200: ListOf(BeneficiaryObjectSchema, 'A page of beneficiaries.') },
      },
    },
    async (request) => {
      const { limit = 20, starting_after } = request.query;
      const page = await deps.store.list(contextOf(request).mode, {
        limit,
        ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
      });
      await audited(
        request,
        page.data.map((b) => b.id),
      );
      return { object: 'list' as const, data: page.data.map(toBeneficiaryObject), has_more: page.hasMore };
    },
  );

  api.delete(
    '/beneficiaries/:id',
    {
      config: { scope: 'beneficiaries:write' },
      schema: {
        summary: 'Delete a beneficiary (payouts already made keep pointing at it).',
        params: IdParams('ben'),
        response: { 200: DeletedObjectSchema },
      },
    },
    async (request) => {
      if (!(await deps.store.remove(contextOf(request), request.params.id)))
        throw new ApiError('not_found', { message: 'No such beneficiary.' });
      return { id: request.params.id, object: 'beneficiary', deleted: true };
    },
  );
}
