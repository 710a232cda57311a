// Sends the simulator's signed webhooks, as Paystack does: `{"event","data"}` with
// `x-paystack-signature` (hex HMAC-SHA512 of the exact bytes, keyed with the secret key).
import { createWebhookPoster, type WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { SimulatorState, Transaction } from './state.ts';
import { paystackSignature, webhookBody } from './wire.ts';

/** The event a transaction's webhook carries. Paystack sends `charge.success` for a payment and
 * nothing for a failed card; `charge.failed` is ours, used only for the out_of_order fault's stale
 * earlier attempt (and for a resend of a failed transaction). */
export const eventFor = (tx: Transaction): string => (tx.status === 'success' ? 'charge.success' : 'charge.failed');

export function createWebhookSender(state: SimulatorState, secretKey: string) {
  const poster = createWebhookPoster(state.webhooks);

  function send(tx: Transaction, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const body = webhookBody(eventFor(tx), tx);
    const key = options.badSignature ? `${secretKey}-wrong` : secretKey;
    return poster.deliver(url, body, {
      'content-type': 'application/json',
      'x-paystack-signature': paystackSignature(body, key),
    });
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(
    transactions: readonly Transaction[],
    options: { badSignature: boolean; copies: number },
  ): Promise<void> {
    for (const tx of transactions) {
      const first = send(tx, options);
      if (first === undefined) return;
      const copies = [first, ...Array.from({ length: options.copies - 1 }, () => poster.repeat(first))];
      await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    }
  }

  return { send, sendSequence, close: () => poster.close() };
}
