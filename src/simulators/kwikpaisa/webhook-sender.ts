// Sends the simulator's signed webhooks, as KwikPaisa does (§4.6), and keeps a log tests can read.
// The body is compact JSON (key-sorted by default) and the signature covers exactly those bytes
// plus X-TIMESTAMP.
import type { Order, SimulatorState, WebhookLogEntry } from './state.ts';
import { kwikPaisaSignature, sortedJson, webhookPayload, type WebhookEventName } from './wire.ts';

const DELIVERY_TIMEOUT_MS = 60_000;

export function createWebhookSender(state: SimulatorState, secretKey: string, nowMs: () => number) {
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

  function send(order: Order, event: WebhookEventName, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const body = sortedJson(webhookPayload(order, event), state.settings.webhookBodySort);
    const timestamp = String(Math.floor(nowMs() / 1000) + state.settings.webhookTimestampOffsetSeconds);
    const key = options.badSignature ? `${secretKey}-wrong` : secretKey;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-timestamp': timestamp, 'x-signature': kwikPaisaSignature(body, timestamp, key) };
    const entry: WebhookLogEntry = { url, body, headers, statusCode: null, error: null, done: false, sentAt: new Date(nowMs()).toISOString() };
    state.webhooks.push(entry);
    const sending = post(entry).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return entry;
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(events: ReadonlyArray<{ order: Order; event: WebhookEventName }>, options: { badSignature: boolean; copies: number }): Promise<void> {
    for (const { order, event } of events) {
      // Copies are identical bytes (same timestamp too): a duplicate delivery, not a new event.
      const first = send(order, event, options);
      if (first === undefined) return;
      const copies = [first];
      for (let i = 1; i < options.copies; i += 1) copies.push(resend(first));
      await Promise.all(copies.map(waitFor));
    }
  }

  function resend(original: WebhookLogEntry): WebhookLogEntry {
    const entry: WebhookLogEntry = { url: original.url, body: original.body, headers: { ...original.headers }, statusCode: null, error: null, done: false, sentAt: new Date(nowMs()).toISOString() };
    state.webhooks.push(entry);
    const sending = post(entry).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return entry;
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
