// Sends the simulator's signed events, as Stripe does, and keeps a log tests can read. Each
// delivery is signed when it is sent: a resend repeats the event's bytes with a fresh `t`.
import type { SimulatorState, StoredEvent, WebhookLogEntry } from './state.ts';
import { signatureHeader } from './wire.ts';

const DELIVERY_TIMEOUT_MS = 60_000;

export function createWebhookSender(state: SimulatorState, webhookSecret: string) {
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();

  async function post(entry: WebhookLogEntry): Promise<void> {
    const controller = new AbortController();
    controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
    try {
      const response = await fetch(entry.url, { method: 'POST', headers: entry.headers, body: entry.body, signal: controller.signal, redirect: 'manual' });
      entry.statusCode = response.status;
      await response.arrayBuffer();
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
      entry.done = true;
    }
  }

  function send(event: StoredEvent, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const secrets = options.badSignature ? [`${webhookSecret}-wrong`] : [webhookSecret, ...(state.settings.additionalWebhookSecret === null ? [] : [state.settings.additionalWebhookSecret])];
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': signatureHeader(event.body, Math.floor(Date.now() / 1000), secrets),
    };
    const entry: WebhookLogEntry = { url, eventId: event.id, body: event.body, headers, statusCode: null, error: null, done: false, sentAt: new Date().toISOString() };
    state.webhooks.push(entry);
    const sending = post(entry).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return entry;
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(events: readonly StoredEvent[], options: { badSignature: boolean; copies: number }): Promise<void> {
    for (const event of events) {
      const copies = Array.from({ length: options.copies }, () => send(event, options));
      await Promise.all(copies.map((entry) => (entry === undefined ? undefined : waitFor(entry))));
    }
  }

  async function waitFor(entry: WebhookLogEntry): Promise<void> {
    while (!entry.done) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  return {
    send,
    sendSequence,
    async close() {
      for (const controller of controllers) controller.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
