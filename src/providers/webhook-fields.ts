// Small readers every provider's parsers need: one header value, JSON text and JSON object bodies,
// and identifiers that are safe to put in a dedupe key.
import { createHash } from 'node:crypto';
import type { ProviderWebhookEvent } from './types.ts';
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The first value of a header (Node gives arrays for repeated headers). */
export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The parsed JSON, or undefined when the text is not JSON (no JSON text parses to undefined). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The body as a JSON object, or why it is not one. */
export function parseJsonObject(
  rawBody: Buffer,
): { ok: true; body: Record<string, unknown> } | { ok: false; reason: string } {
  const body = parseJson(rawBody.toString('utf8'));
  if (body === undefined) return { ok: false, reason: 'body is not JSON' };
  return isRecord(body) ? { ok: true, body } : { ok: false, reason: 'body is not a JSON object' };
}

/** A provider id that is safe in a dedupe key: a non-negative safe integer or a short token. */
export function identifier(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value)) return value;
  return undefined;
}

/** A dedupe-key part for an event that carries no id of its own: byte-identical redeliveries share it. */
export function bodyHash(rawBody: Buffer): string {
  return `sha256-${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`;
}

/** An event type as a provider named it, made safe for a dedupe key and the stored row. */
export function eventName(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(value) ? value : 'unknown';
}

/**
 * A correctly signed event we do not act on (a documented type we have no use for, or one not yet
 * known): stored, acknowledged with 200 and marked ignored by the processing job, never refused.
 * A refusal only makes the provider retry it for days (Paystack 72 h) and hides real failures.
 */
export function acknowledgedEvent(provider: string, type: unknown, rawBody: Buffer, id?: string): ProviderWebhookEvent {
  const eventType = eventName(type);
  return {
    dedupeKey: `${provider}:${id ?? bodyHash(rawBody)}:${eventType}`,
    eventType,
    paymentId: undefined,
    providerTxId: undefined,
  };
}
