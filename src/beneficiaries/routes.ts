import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BankListSchema, ResolvedAccountSchema } from '../api/objects.ts';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { contextOf } from '../api/auth.ts';
import { AccountResolveBody, BanksQuery } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import type { BeneficiaryService } from './beneficiary-service.ts';

export function beneficiaryRoutes(
  app: FastifyInstance,
  deps: { beneficiaries: BeneficiaryService; lookupLimiter: RateLimiterAbstract },
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

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
}
