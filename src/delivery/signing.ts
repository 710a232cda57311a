// Standard Webhooks signatures for the events we send (WHO-1), so merchants verify them with the
// official libraries in any language (https://www.standardwebhooks.com, spec and JS library).
// - The HMAC key is the base64-DECODED part after `whsec_`. Stripe instead keys with the whole
//   `whsec_...` string; mixing the two is the most common verification bug in peers' trackers.
// - `webhook-timestamp` is integer UNIX SECONDS of this attempt. Rafiki signs milliseconds while
//   documenting seconds; values that look like milliseconds are refused loudly here.
// - During a rotation overlap every active secret signs, space-separated, and a verifier holding
//   either secret accepts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { secretKeyObject } from '../crypto/key-object.ts';

const SECRET_PREFIX = 'whsec_';
const ENDPOINT_SECRET_BYTES = 32;
// The spec asks for 24 to 64 random bytes; shorter keys make the HMAC guessable.
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// 10^11 seconds is the year 5138; anything larger is almost surely Date.now() milliseconds.
const MAX_PLAUSIBLE_SECONDS = 1e11;
// The id travels in a header and is part of the signed content: visible ASCII only (no space a
// proxy could trim, no CR/LF), and no "." which would make the content ambiguous.
const MESSAGE_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;

export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SignInput {
  readonly msgId: string;
  readonly timestampSeconds: number;
  /** The exact bytes that will be sent. */
  readonly body: string | Uint8Array;
  /** Every currently valid secret of the endpoint, `whsec_<base64>`. */
  readonly secrets: readonly string[];
}

// A type alias, not an interface, so it is assignable to the header record `verifySignature` takes.
export type WebhookHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** Incoming headers as Node gives them (lower-cased record) or as fetch gives them (`Headers`). */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

export type VerifyFailure = 'missing_headers' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export interface VerifyInput {
  readonly headers: HeaderSource;
  /** The raw body exactly as received: re-serialised JSON will not verify. */
  readonly body: string | Uint8Array;
  readonly secrets: readonly string[];
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

/** A fresh endpoint secret: `whsec_` + base64 of 32 CSPRNG bytes. */
export function generateEndpointSecret(): string {
  return SECRET_PREFIX + randomBytes(ENDPOINT_SECRET_BYTES).toString('base64');
}

/** `v1,<base64>` per secret, space-separated: the value of `webhook-signature`. */
export function signPayload(input: SignInput): string {
  if (!MESSAGE_ID.test(input.msgId)) throw new Error('webhook id must be 1-256 visible ASCII characters without "."');
  assertSeconds(input.timestampSeconds, 'timestampSeconds');
  if (input.secrets.length === 0)
    throw new Error('no signing secret: an endpoint always has at least one active secret');
  const timestamp = String(input.timestampSeconds);
  return input.secrets
    .map((secret) => `v1,${hmacBase64(decodeSecret(secret), input.msgId, timestamp, input.body)}`)
    .join(' ');
}

/** The three Standard Webhooks headers for one attempt; also what tests use to forge valid requests. */
export function buildWebhookHeaders(input: SignInput): WebhookHeaders {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': signPayload(input),
  };
}

/**
 * The receiving side: for merchants' tests, `paywarden demo`, and our own round-trip tests.
 * `missing_headers` also covers malformed ones (a non-numeric timestamp, an id with ".").
 * A malformed secret is a configuration error and throws, saying what to check.
 */
export function verifySignature(input: VerifyInput): VerifyResult {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0)
    throw new Error(`toleranceSeconds must be a non-negative number of seconds, got ${tolerance}`);
  if (!Number.isFinite(input.nowSeconds) || input.nowSeconds > MAX_PLAUSIBLE_SECONDS)
    throw new Error(`nowSeconds must be UNIX seconds (got ${input.nowSeconds}; milliseconds?)`);
  if (input.secrets.length === 0) throw new Error('no secret to verify with');
  const keys = input.secrets.map(decodeSecret);

  const msgId = header(input.headers, 'webhook-id');
  const timestamp = header(input.headers, 'webhook-timestamp');
  const signatures = header(input.headers, 'webhook-signature');
  if (msgId === undefined || timestamp === undefined || signatures === undefined)
    return { ok: false, reason: 'missing_headers' };
  if (!MESSAGE_ID.test(msgId) || !/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };

  const timestampSeconds = Number(timestamp);
  if (timestampSeconds < input.nowSeconds - tolerance) return { ok: false, reason: 'timestamp_too_old' };
  if (timestampSeconds > input.nowSeconds + tolerance) return { ok: false, reason: 'timestamp_too_new' };

  // Only v1 (HMAC) entries count; v1a (ed25519) and unknown versions are skipped, as the spec says.
  const presented = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'latin1'));
  for (const key of keys) {
    // Sign with the timestamp text as received: that is the content the sender signed.
    const expected = Buffer.from(hmacBase64(key, msgId, timestamp, input.body), 'latin1');
    // timingSafeEqual needs equal lengths; every v1 signature is 44 characters, so the length
    // check reveals nothing an attacker does not already know.
    if (presented.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected)))
      return { ok: true };
  }
  return { ok: false, reason: 'no_matching_signature' };
}

function hmacBase64(key: Buffer, msgId: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac('sha256', secretKeyObject(key)).update(`${msgId}.${timestamp}.`).update(body).digest('base64');
}

function decodeSecret(secret: string): Buffer {
  // Node's base64 decoder skips characters it does not know, so "whsec_abc\n" or a Stripe-style
  // "whsec_test_secret" would quietly become some other key. Check the alphabet first.
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!BASE64.test(encoded)) {
    throw new Error(
      'webhook secret is not "whsec_" followed by standard base64: check for surrounding whitespace or quotes, and that it is not a Stripe-style secret',
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES)
    throw new Error(
      `webhook secret decodes to ${key.length} bytes; Standard Webhooks secrets are ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES}`,
    );
  return key;
}

function assertSeconds(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be whole UNIX seconds, got ${value}`);
  if (value > MAX_PLAUSIBLE_SECONDS)
    throw new Error(`${name} ${value} looks like milliseconds; Standard Webhooks timestamps are seconds`);
}

function header(source: HeaderSource, name: string): string | undefined {
  if (typeof source.get === 'function') return (source as { get(name: string): string | null }).get(name) ?? undefined;
  const record = source as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    // Header names are case-insensitive; a hand-built record may say "Webhook-Id".
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  if (typeof value === 'string') return value;
  // A repeated id or timestamp header is ambiguous: refuse rather than pick one.
  return value !== undefined && value.length === 1 ? value[0] : undefined;
}
