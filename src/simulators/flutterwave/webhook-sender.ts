// Sends the simulator's signed webhooks as Flutterwave does: `verif-hash` and
// `flutterwave-signature` both by default (which one a real account sends depends on its dashboard
// settings, §1.8), over the v3 envelope or the legacy flat form. Webhook faults are applied here.
import { createWebhookPoster, type WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { SimulatorState, Transaction, Transfer } from './state.ts';
import { chargeWebhookBody, flutterwaveSignature, transferWebhookBody } from './wire.ts';

export interface SendOptions {
  /** Signed with another secret hash (the bad_signature fault). */
  readonly badSignature: boolean;
  /** Identical deliveries of each body (the duplicate_webhook fault); 1 normally. */
  readonly copies?: number;
}

export function createWebhookSender(state: SimulatorState, secretHash: string, nowMs: () => number) {
  const poster = createWebhookPoster(state.webhooks, nowMs);
  let closed = false;

  function deliver(url: string | undefined, body: string, options: SendOptions): WebhookLogEntry | undefined {
    if (url === undefined || closed) return undefined;
    const hash = options.badSignature ? `${secretHash}-wrong` : secretHash;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (state.settings.signatureHeaders !== 'flutterwave-signature') headers['verif-hash'] = hash;
    if (state.settings.signatureHeaders !== 'verif-hash')
      headers['flutterwave-signature'] = flutterwaveSignature(body, hash);
    return poster.deliver(url, body, headers);
  }

  /** Delivers one body (and its copies) and resolves once every delivery has finished. */
  async function deliverAll(
    url: string | undefined,
    body: string,
    options: SendOptions,
  ): Promise<WebhookLogEntry | undefined> {
    const first = deliver(url, body, options);
    if (first === undefined) return undefined;
    const copies = [
      first,
      ...Array.from({ length: Math.max(0, (options.copies ?? 1) - 1) }, () => poster.repeat(first)),
    ];
    await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    return first;
  }

  return {
    /** One `charge.completed` now (used by resend); answers the log entry. */
    sendCharge: (tx: Transaction, options: SendOptions) =>
      deliver(state.settings.webhookUrl, chargeWebhookBody(tx, state.settings.payloadShape), options),
    /** In order, each after the previous has been answered, so "out of order" arrives in the order given. */
    async sendCharges(transactions: readonly Transaction[], options: SendOptions): Promise<void> {
      for (const tx of transactions)
        await deliverAll(state.settings.webhookUrl, chargeWebhookBody(tx, state.settings.payloadShape), options);
    },
    /** `transfer.completed`, to the transfer's callback_url when it has one (§1.5). */
    sendTransfer: (transfer: Transfer, options: SendOptions) =>
      deliverAll(
        transfer.callbackUrl ?? state.settings.webhookUrl,
        transferWebhookBody(transfer, state.settings.payloadShape),
        options,
      ),
    async close(): Promise<void> {
      closed = true;
      await poster.close();
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;

/** Takes the webhook faults aimed at one payment or transfer (`scope`): none sent, or how. */
export function takeWebhookFaults(
  state: SimulatorState,
  scope: string,
): { send: false } | { send: true; options: SendOptions } {
  if (state.faults.take(['no_webhook'], scope) !== undefined) return { send: false };
  const duplicate = state.faults.take(['duplicate_webhook'], scope);
  const badSignature = state.faults.take(['bad_signature'], scope) !== undefined;
  return {
    send: true,
    options: { badSignature, copies: duplicate === undefined ? 1 : Math.max(1, duplicate.value ?? 5) },
  };
}
