// KwikPaisa payouts in the simulator, registered from simulator.ts with one call: the routes, and
// their side of the /_sim/ control API (ledger, payouts, settle, wallet balance, settings).
import type { FastifyInstance } from 'fastify';
import type { SimulatorGate } from '../shared/api-gate.ts';
import { registerPayoutRoutes } from './payout-routes.ts';
import {
  createPayoutLifecycle,
  createPayoutState,
  type PayoutSettings,
  type PayoutStatus,
  payoutData,
  SIM_WALLET_ID,
} from './payouts.ts';
import type { SimulatorState } from './state.ts';

const CHOICES: { readonly [K in keyof PayoutSettings]: readonly PayoutSettings[K][] } = {
  payoutCompletion: ['immediate', 'manual'],
  payoutDataKey: ['data', 'return_data'],
  payoutStatusCase: ['lower', 'upper'],
};
const SETTLE_TO: readonly PayoutStatus[] = ['success', 'failed', 'reversed'];

export function registerKwikPaisaPayouts(
  app: FastifyInstance,
  deps: { state: SimulatorState; gate: SimulatorGate; secretKey: string; walletId?: string; nowMs: () => number },
) {
  const payouts = createPayoutState();
  const lifecycle = createPayoutLifecycle({ state: deps.state, payouts, secretKey: deps.secretKey, nowMs: deps.nowMs });
  const walletId = deps.walletId ?? SIM_WALLET_ID;
  const routes = registerPayoutRoutes(app, {
    state: deps.state,
    payouts,
    lifecycle,
    gate: deps.gate,
    walletId,
    nowMs: deps.nowMs,
  });

  return {
    payouts,
    walletId,
    /** Checks and applies the payout settings of PUT /_sim/config; an error message or undefined. */
    configure(body: Record<string, unknown>): string | undefined {
      for (const [key, allowed] of Object.entries(CHOICES) as Array<[keyof PayoutSettings, readonly unknown[]]>) {
        if (body[key] !== undefined && !allowed.includes(body[key])) return `${key}: ${allowed.join(' | ')}`;
      }
      for (const key of Object.keys(CHOICES) as Array<keyof PayoutSettings>)
        if (body[key] !== undefined) Object.assign(payouts.settings, { [key]: body[key] });
      return undefined;
    },
    settings: () => payouts.settings,
    reset: () => payouts.reset(),
    releaseAll: () => routes.releaseAll(),
    controlRoutes(control: FastifyInstance) {
      control.get<{ Querystring: { reference?: string } }>('/ledger', async (request) =>
        [...payouts.payouts.values()]
          .filter((p) => request.query.reference === undefined || p.payoutOrderId === request.query.reference)
          .map((p) => ({
            reference: p.payoutOrderId,
            id: p.systemOrderId,
            kind: 'payout',
            amountMinor: p.amountMinor,
            currency: 'INR',
            status: p.status,
          })),
      );
      control.get('/payouts', async () =>
        [...payouts.payouts.values()].map((p) => ({ ...payoutData(p, payouts.settings), history: p.history })),
      );
      control.post<{ Body: { amountMinor?: unknown } | undefined }>('/balance', async (request, reply) => {
        const amount = request.body?.amountMinor;
        if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0)
          return reply.code(400).send({ error: 'amountMinor: a whole number of paise >= 0' });
        payouts.walletMinor = amount;
        return { walletMinor: amount };
      });
      // Settles a payout as the bank would: what payoutCompletion "manual" and stuck_pending wait
      // for; `reversed` after success. Sends its webhook with the payout's webhook faults.
      control.post<{ Params: { id: string }; Body: { status?: unknown; message?: unknown } | undefined }>(
        '/payouts/:id/complete',
        async (request, reply) => {
          const payout = payouts.payouts.get(request.params.id);
          if (payout === undefined) return reply.code(404).send({ error: 'no payout with this payout_order_id' });
          const status = (request.body?.status ?? 'success') as PayoutStatus;
          if (!SETTLE_TO.includes(status))
            return reply.code(400).send({ error: 'status: success | failed | reversed' });
          const message = typeof request.body?.message === 'string' ? request.body.message.slice(0, 200) : undefined;
          if (!(await lifecycle.settle(payout, status, message)))
            return reply.code(409).send({ error: `the payout is ${payout.status}; it cannot become ${status}` });
          return { ...payoutData(payout, payouts.settings), history: payout.history };
        },
      );
    },
  };
}
