// The Flutterwave side of the /_sim/ control API: the shared routes (faults, reset, webhooks,
// config, transactions, headless completion) plus transfers and refunds. Loopback only.
import type { FastifyInstance } from 'fastify';
import { isCurrency } from '../../money/currencies.ts';
import { registerControlApi } from '../shared/control-api.ts';
import type { CompleteCheckout } from './checkouts.ts';
import type { SimulatorSettings, SimulatorState } from './state.ts';
import { settleTransfer } from './transfers.ts';
import { registerTransferControl } from './transfer-ledger.ts';
import type { WebhookSender } from './webhook-sender.ts';
import { refundData, transferData } from './wire.ts';

/** Each setting and the values it takes (webhookUrl: any http(s) URL). */
const CHOICES: {
  readonly [K in Exclude<keyof SimulatorSettings, 'webhookUrl' | 'currencies'>]: readonly SimulatorSettings[K][];
} = {
  signatureHeaders: ['both', 'verif-hash', 'flutterwave-signature'],
  payloadShape: ['v3', 'flat'],
  notFoundHttpStatus: [400, 200],
  unpaidVerify: ['pending', 'not_found'],
  transferCompletion: ['immediate', 'manual'],
};

/** Validates a PUT /_sim/config body completely before changing anything. */
export function readSettings(
  body: Record<string, unknown>,
): { ok: true; changes: Partial<SimulatorSettings> } | { ok: false; error: string } {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'webhookUrl') {
      if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value))
        return { ok: false, error: 'webhookUrl: an http(s) URL' };
    } else if (key === 'currencies') {
      if (value !== null && !(Array.isArray(value) && value.every((c) => typeof c === 'string' && isCurrency(c))))
        return { ok: false, error: 'currencies: null or a list of ISO 4217 codes' };
    } else if (Object.hasOwn(CHOICES, key)) {
      const allowed: readonly unknown[] = CHOICES[key as keyof typeof CHOICES];
      if (!allowed.includes(value)) return { ok: false, error: `${key}: ${allowed.join(' | ')}` };
    } else {
      return {
        ok: false,
        error: `unknown setting ${JSON.stringify(key)}; known: webhookUrl, currencies, ${Object.keys(CHOICES).join(', ')}`,
      };
    }
    changes[key] = value;
  }
  return { ok: true, changes: changes as Partial<SimulatorSettings> };
}

export function registerFlutterwaveControl(
  app: FastifyInstance,
  deps: { state: SimulatorState; sender: WebhookSender; complete: CompleteCheckout; releaseHeld: () => void },
): void {
  const { state, sender } = deps;
  registerControlApi(app, {
    faults: state.faults,
    // A transfer's reference scopes faults the way a payment's tx_ref does.
    scopeFields: ['tx_ref', 'reference'],
    webhooks: () => state.webhooks,
    transactions: () => [...state.transactions.values()],
    checkouts: () => [...state.checkouts.values()].map((c) => ({ reference: c.txRef })),
    configure(body) {
      const read = readSettings(body);
      if (!read.ok) return read;
      Object.assign(state.settings, read.changes);
      return { ok: true, settings: state.settings };
    },
    resend(id) {
      const tx = /^\d{1,15}$/.test(id) ? state.transactions.get(Number(id)) : undefined;
      if (tx === undefined) return { ok: false, status: 404, error: 'no such transaction' };
      const entry = sender.sendCharge(tx, { badSignature: false });
      return entry === undefined ? { ok: false, status: 409, error: 'no webhookUrl configured' } : { ok: true, entry };
    },
    complete(txRef, status = 'successful') {
      if (status !== 'successful' && status !== 'failed')
        return { ok: false, status: 400, error: 'status: successful | failed' };
      const done = deps.complete(txRef, status);
      if (done === undefined)
        return {
          ok: false,
          status: state.checkoutsByRef.has(txRef) ? 409 : 404,
          error: 'no open checkout with this tx_ref',
        };
      return { ok: true, result: { ...done.transaction, redirect_url: done.redirect } };
    },
    reset: () => state.reset(),
    onClear: deps.releaseHeld,
    extraRoutes(control) {
      control.get('/transfers', async () => [...state.transfers.values()].map(transferData));
      registerTransferControl(control, state);
      control.get('/refunds', async () => state.refunds.map(refundData));
      // Settles a transfer (by reference, or by id) as the bank would: what transferCompletion
      // "manual" waits for. Sends transfer.completed, with the webhook faults aimed at it.
      control.post<{
        Params: { reference: string };
        Body: { status?: unknown; complete_message?: unknown } | undefined;
      }>('/transfers/:reference/complete', async (request, reply) => {
        const { reference } = request.params;
        const transfer =
          state.transferByReference(reference) ??
          (/^\d{1,15}$/.test(reference) ? state.transfers.get(Number(reference)) : undefined);
        if (transfer === undefined) return reply.code(404).send({ error: 'no transfer with this reference' });
        const status = request.body?.status ?? 'SUCCESSFUL';
        if (status !== 'SUCCESSFUL' && status !== 'FAILED')
          return reply.code(400).send({ error: 'status: SUCCESSFUL | FAILED' });
        const message =
          typeof request.body?.complete_message === 'string'
            ? request.body.complete_message
            : status === 'SUCCESSFUL'
              ? 'Successful'
              : 'DISBURSE FAILED: Insufficient funds in customer wallet';
        if (!settleTransfer(state, sender, transfer, status, message))
          return reply.code(409).send({ error: `the transfer is already ${transfer.status}` });
        return transferData(transfer);
      });
    },
  });
}
