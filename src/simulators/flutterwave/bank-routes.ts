// Banks and account resolution on the v3 API (§1.6, §1.7), for payouts. Answers are fixed and
// deterministic (banks.ts) so tests can assert names.
import type { FastifyInstance } from 'fastify';
import { resolveAccount, SIMULATED_BANKS } from './banks.ts';
import type { V3Gate } from './v3-gate.ts';
import { errorEnvelope, successEnvelope } from './wire.ts';

export function registerBankRoutes(app: FastifyInstance, gate: V3Gate): void {
  app.get<{ Params: { country: string } }>('/v3/banks/:country', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const banks = SIMULATED_BANKS[request.params.country.toUpperCase()];
    if (banks === undefined) return reply.code(400).send(errorEnvelope('Country not supported'));
    return successEnvelope('Banks fetched successfully', banks);
  });

  app.post('/v3/accounts/resolve', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const answer = resolveAccount((request.body ?? {}) as Record<string, unknown>);
    if (!answer.ok) return reply.code(400).send(errorEnvelope(answer.message));
    return successEnvelope('Account details fetched', {
      account_number: answer.accountNumber,
      account_name: answer.accountName,
    });
  });
}
