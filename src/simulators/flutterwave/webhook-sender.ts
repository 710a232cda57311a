// Sends the simulator's signed webhooks, as Flutterwave does: both `verif-hash` and
// `flutterwave-signature` by default (configurable), over the v3 envelope or the legacy flat form.
import { createWebhookPoster, type WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { SimulatorState, Transaction } from './state.ts';
import { flutterwaveSignature, webhookBody } from './wire.ts';

export function createWebhookSender(state: SimulatorState, secretHash: string) {
  const poster = createWebhookPoster(state.webhooks);

  function send(tx: Transaction, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const body = webhookBody(tx, state.settings.payloadShape);
    const hash = options.badSignature ? `${secretHash}-wrong` : secretHash;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (state.settings.signatureHeaders !== 'flutterwave-signature') headers['verif-hash'] = hash;
    if (state.settings.signatureHeaders !== 'verif-hash') headers['flutterwave-signature'] = flutterwaveSignature(body, hash);
    return poster.deliver(url, body, headers);
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(transactions: readonly Transaction[], options: { badSignature: boolean; copies: number }): Promise<void> {
    for (const tx of transactions) {
      const first = send(tx, options);
      if (first === undefined) return;
      const copies = [first, ...Array.from({ length: options.copies - 1 }, () => poster.repeat(first))];
      await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    }
  }

  return { send, sendSequence, close: () => poster.close() };
}
