// Sends the simulator's signed webhooks, as KwikPaisa does (§4.6). The body is compact JSON
// (key-sorted by default) and the signature covers exactly those bytes plus X-TIMESTAMP.
import { createWebhookPoster, type WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { Order, SimulatorState } from './state.ts';
import { kwikPaisaSignature, sortedJson, webhookPayload, type WebhookEventName } from './wire.ts';

export function createWebhookSender(state: SimulatorState, secretKey: string, nowMs: () => number) {
  const poster = createWebhookPoster(state.webhooks, nowMs);

  function send(
    order: Order,
    event: WebhookEventName,
    options: { badSignature: boolean },
  ): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const body = sortedJson(webhookPayload(order, event), state.settings.webhookBodySort);
    const timestamp = String(Math.floor(nowMs() / 1000) + state.settings.webhookTimestampOffsetSeconds);
    const key = options.badSignature ? `${secretKey}-wrong` : secretKey;
    return poster.deliver(url, body, {
      'content-type': 'application/json',
      'x-timestamp': timestamp,
      'x-signature': kwikPaisaSignature(body, timestamp, key),
    });
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(
    events: ReadonlyArray<{ order: Order; event: WebhookEventName }>,
    options: { badSignature: boolean; copies: number },
  ): Promise<void> {
    for (const { order, event } of events) {
      // Copies are identical bytes (same timestamp too): a duplicate delivery, not a new event.
      const first = send(order, event, options);
      if (first === undefined) return;
      const copies = [first, ...Array.from({ length: options.copies - 1 }, () => poster.repeat(first))];
      await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    }
  }

  return { send, sendSequence, close: () => poster.close() };
}
