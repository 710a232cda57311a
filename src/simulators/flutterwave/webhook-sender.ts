// Sends the simulator's signed webhooks, as Flutterwave does, and keeps a log tests can read.
import type { SimulatorState, Transaction, WebhookLogEntry } from './state.ts';
import { flutterwaveSignature, webhookBody } from './wire.ts';

const DELIVERY_TIMEOUT_MS = 60_000;

export function createWebhookSender(state: SimulatorState, secretHash: string) {
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

  function send(tx: Transaction, options: { badSignature: boolean }): WebhookLogEntry | undefined {
    const url = state.settings.webhookUrl;
    if (url === undefined) return undefined;
    const body = webhookBody(tx, state.settings.payloadShape);
    const hash = options.badSignature ? `${secretHash}-wrong` : secretHash;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (state.settings.signatureHeaders !== 'flutterwave-signature') headers['verif-hash'] = hash;
    if (state.settings.signatureHeaders !== 'verif-hash') headers['flutterwave-signature'] = flutterwaveSignature(body, hash);
    const entry: WebhookLogEntry = { url, body, headers, statusCode: null, error: null, done: false, sentAt: new Date().toISOString() };
    state.webhooks.push(entry);
    const sending = post(entry).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return entry;
  }

  /** Sends in order, one after the other, so "out of order" really arrives in the order given. */
  async function sendSequence(transactions: readonly Transaction[], options: { badSignature: boolean; copies: number }): Promise<void> {
    for (const tx of transactions) {
      const copies = Array.from({ length: options.copies }, () => send(tx, options));
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
