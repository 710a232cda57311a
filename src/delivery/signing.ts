// Standard Webhooks signatures for the events we send (WHO-1), so merchants verify them with the
// official libraries. The key is the base64-decoded part after `whsec_` (unlike Stripe, which
// keys with the whole string: mixing the two is the most common verification bug). Timestamps
// are integer seconds. During a rotation overlap every active secret signs, space-separated.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'whsec_';

export function generateEndpointSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

function sign(key: Buffer, msgId: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
}

export function signPayload(input: { msgId: string; timestampSeconds: number; body: string; secrets: readonly string[] }): string {
  if (input.msgId.includes('.') || !Number.isSafeInteger(input.timestampSeconds)) throw new Error('webhook id must not contain "." and the timestamp must be whole seconds');
  return input.secrets.map((secret) => `v1,${sign(keyOf(secret), input.msgId, input.timestampSeconds, input.body)}`).join(' ');
}

export function buildWebhookHeaders(input: { msgId: string; timestampSeconds: number; body: string; secrets: readonly string[] }): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return { 'webhook-id': input.msgId, 'webhook-timestamp': String(input.timestampSeconds), 'webhook-signature': signPayload(input) };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing_headers' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature' };

/** The receiving side, shipped for merchants' tests and used by `paywarden demo`. */
export function verifySignature(input: { headers: Readonly<Record<string, string | string[] | undefined>>; body: string; secrets: readonly string[]; nowSeconds: number; toleranceSeconds?: number }): VerifyResult {
  const header = (name: string) => {
    const value = input.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const msgId = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (msgId === undefined || timestamp === undefined || signatures === undefined || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };
  const tolerance = input.toleranceSeconds ?? 300;
  const timestampSeconds = Number(timestamp);
  if (timestampSeconds < input.nowSeconds - tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (timestampSeconds > input.nowSeconds + tolerance) return { ok: false, reason: 'timestamp_too_new' };
  const presented = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const secret of input.secrets) {
    const expected = Buffer.from(sign(keyOf(secret), msgId, timestampSeconds, input.body), 'base64');
    // Constant time per comparison; lengths are public (32 bytes) so the length check leaks nothing.
    if (presented.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return { ok: true };
  }
  return { ok: false, reason: 'no_matching_signature' };
}
