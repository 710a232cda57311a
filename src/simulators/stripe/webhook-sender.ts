// Sends the simulator's signed events, as Stripe does, and keeps a log tests can read. Each
// delivery is signed when it is sent: a resend repeats the event's bytes with a fresh `t`.
import { createWebhookPoster, type WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { SimulatorState, StoredEvent } from './state.ts';
import { signatureHeader } from './wire.ts';

export function createWebhookSender(state: SimulatorState, webhookSecret: string) {
  const poster = createWebhookPoster(state.webhooks);

  function send(event: StoredEvent, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const secrets = options.badSignature
      ? [`${webhookSecret}-wrong`]
      : [
          webhookSecret,
          ...(state.settings.additionalWebhookSecret === null ? [] : [state.settings.additionalWebhookSecret]),
        ];
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': signatureHeader(event.body, Math.floor(Date.now() / 1000), secrets),
    };
    return poster.deliver(url, event.body, headers, event.id);
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(
    events: readonly StoredEvent[],
    options: { badSignature: boolean; copies: number },
  ): Promise<void> {
    for (const event of events) {
      const first = send(event, options);
      if (first === undefined) return;
      const copies = [first, ...Array.from({ length: options.copies - 1 }, () => poster.repeat(first))];
      await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    }
  }

  return { send, sendSequence, close: () => poster.close() };
}
