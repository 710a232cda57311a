// The Flutterwave simulator's money: the balance transfers are paid from (GET /v3/balances, a
// large default per currency, set through /_sim/balances) and the ledger of transfers, the judge
// of "exactly once" (GET /_sim/ledger, the shape all simulators share: ../README.md).
import type { FastifyInstance } from 'fastify';
import type { SimulatorState } from './state.ts';

/** What an account holds until a test says otherwise: 10 billion major units. */
export const DEFAULT_BALANCE_MINOR = 1_000_000_000_000;

export function balanceOf(state: SimulatorState, currency: string): number {
  return state.balances.get(currency) ?? DEFAULT_BALANCE_MINOR;
}

/** Debits amount + fee; false (nothing debited) when the balance does not cover it. */
export function debit(state: SimulatorState, currency: string, amountMinor: number): boolean {
  const balance = balanceOf(state, currency);
  if (balance < amountMinor) return false;
  state.balances.set(currency, balance - amountMinor);
  return true;
}

export function ledgerRows(state: SimulatorState) {
  return [...state.transfers.values()].map((t) => ({
    reference: t.reference,
    id: String(t.id),
    kind: 'transfer' as const,
    amountMinor: t.amountMinor,
    currency: t.currency,
    status: t.status,
  }));
}

export function registerTransferControl(control: FastifyInstance, state: SimulatorState): void {
  control.get<{ Querystring: { reference?: string } }>('/ledger', async (request) =>
    ledgerRows(state).filter((r) => request.query.reference === undefined || r.reference === request.query.reference),
  );
  control.put<{ Body: { currency?: unknown; amountMinor?: unknown } | undefined }>(
    '/balances',
    async (request, reply) => {
      const { currency, amountMinor } = request.body ?? {};
      if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency) || !Number.isSafeInteger(amountMinor))
        return reply.code(400).send({ error: '{currency: "NGN", amountMinor: integer}' });
      state.balances.set(currency, amountMinor as number);
      return { currency, amountMinor };
    },
  );
}
