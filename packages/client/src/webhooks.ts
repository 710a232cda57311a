// Verifying the events the gateway sends to your endpoint. They are Standard Webhooks, so the
// official `standardwebhooks` library checks them: the signature over id, timestamp and the raw
// body, and the timestamp's 5-minute tolerance. Pass the body exactly as received (not re-encoded
// JSON) and your endpoint's `whsec_` secret.
import { Webhook } from 'standardwebhooks';

export interface PaywardenEvent {
  readonly id: string;
  readonly object: 'event';
  readonly type: string;
  readonly timestamp: string;
  readonly livemode: boolean;
  /** `object` is the payment (or other object) as it was at the change: see `Payment`. */
  readonly data: { readonly object: Record<string, unknown> };
}

export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>> | Headers;

function headerValue(headers: WebhookHeaders, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** Throws `WebhookVerificationError` (from standardwebhooks) unless the request is genuine and fresh. */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string): PaywardenEvent {
  const webhook = new Webhook(secret);
  return webhook.verify(typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody), {
    'webhook-id': headerValue(headers, 'webhook-id'),
    'webhook-timestamp': headerValue(headers, 'webhook-timestamp'),
    'webhook-signature': headerValue(headers, 'webhook-signature'),
  }) as PaywardenEvent;
}

export { WebhookVerificationError } from 'standardwebhooks';
