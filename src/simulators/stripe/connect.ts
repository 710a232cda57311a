// Stripe Connect in the simulator: transfers to connected accounts, payouts on them, their
// idempotency, events and faults (./README.md, "Connect"). simulator.ts registers it with one
// call and hands it the key check and the API fault gate it already has.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { readConnectSettings, registerConnectControl } from './connect-control.ts';
import { createConnectIdempotency } from './connect-idempotency.ts';
import { createConnectLifecycle } from './connect-lifecycle.ts';
import { createConnectState } from './connect-state.ts';
import { registerPayoutRoutes } from './payout-routes.ts';
import type { SimulatorState } from './state.ts';
import { registerTransferRoutes } from './transfer-routes.ts';
import type { createWebhookSender } from './webhook-sender.ts';

export function registerConnect(
  app: FastifyInstance,
  deps: {
    state: SimulatorState;
    sender: ReturnType<typeof createWebhookSender>;
    apiGate: (request: FastifyRequest, reply: FastifyReply, scope: string | undefined) => Promise<boolean>;
  },
) {
  const connect = createConnectState();
  const answers = createLostAnswerFaults(deps.state.faults);
  const lifecycle = createConnectLifecycle({ state: deps.state, connect, sender: deps.sender });
  const routeDeps = {
    ...deps,
    connect,
    answers,
    idempotency: createConnectIdempotency(connect),
    lifecycle,
  };
  registerTransferRoutes(app, routeDeps);
  registerPayoutRoutes(app, routeDeps);
  return {
    connect,
    controlRoutes: (control: FastifyInstance) => registerConnectControl(control, { connect, lifecycle }),
    /** Checks and applies the Connect settings of PUT /_sim/config; an error message or undefined. */
    configure(body: Record<string, unknown>): string | undefined {
      const read = readConnectSettings(body);
      if (!read.ok) return read.error;
      if (body.payoutCompletion !== undefined)
        connect.settings.payoutCompletion = body.payoutCompletion as 'immediate' | 'manual';
      return undefined;
    },
    reset: () => connect.reset(),
    releaseAll: () => answers.releaseAll(),
  };
}
