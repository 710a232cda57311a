// Flutterwave webhook authentication and parsing (§1.8). Two authentication headers exist and an
// account may send either or both, so both are accepted:
//   flutterwave-signature: base64(HMAC-SHA256(secret hash, raw body))  (current docs; preferred)
//   verif-hash: the secret hash itself                                   (legacy v3)
// The secret hash differs per mode, which is also how a delivery is assigned to test or live.
import { header, identifier, isRecord, parseJsonObject, type Headers } from '../webhook-fields.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { constantTimeEqual } from '../../crypto/compare.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { Mode } from '../../db/schema.ts';
import type { ProviderWebhookEvent, ProviderWebhookHandler, WebhookCheck } from '../types.ts';

export function flutterwaveSignature(rawBody: Buffer | string, secretHash: string): string {
  return createHmac('sha256', secretHash).update(rawBody).digest('base64');
}

/** Compares the decoded HMAC bytes in constant time (both are 32 bytes; a malformed header is
 * simply a mismatch). */
function signatureMatches(header: string, rawBody: Buffer, secretHash: string): boolean {
  const expected = createHmac('sha256', secretHash).update(rawBody).digest();
  const presented = Buffer.from(header, 'base64');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export function verifyFlutterwaveSignature(
  rawBody: Buffer,
  headers: Headers,
  secretHashes: ReadonlyArray<{ mode: Mode; secretHash: Secret }>,
): WebhookCheck {
  const signature = header(headers, 'flutterwave-signature');
  const verifHash = header(headers, 'verif-hash');
  if (signature === undefined && verifHash === undefined) {
    return { ok: false, reason: 'neither flutterwave-signature nor verif-hash header is present' };
  }
  for (const { mode, secretHash } of secretHashes) {
    // When the HMAC header is present it must match: a valid verif-hash next to a wrong HMAC
    // means the body was changed in transit.
    if (signature !== undefined) {
      if (signatureMatches(signature, rawBody, secretHash.reveal()))
        return { ok: true, mode, scheme: 'flutterwave-signature' };
      continue;
    }
    if (verifHash !== undefined && constantTimeEqual(verifHash, secretHash.reveal()))
      return { ok: true, mode, scheme: 'verif-hash' };
  }
  return {
    ok: false,
    reason:
      signature !== undefined
        ? 'flutterwave-signature does not match the raw body (check the secret hash and that the body is not re-serialised)'
        : 'verif-hash does not equal the configured secret hash',
  };
}

/**
 * Normalises the three payload shapes Flutterwave has sent: the v3 envelope `{event, data}`, the
 * legacy flat camelCase charge (`txRef`, `flwRef`), and the legacy flat transfer `{transfer}`.
 */
export function parseFlutterwaveWebhook(
  rawBody: Buffer,
): { ok: true; event: ProviderWebhookEvent } | { ok: false; reason: string } {
  const json = parseJsonObject(rawBody);
  if (!json.ok) return json;
  const body = json.body;

  if (typeof body.event === 'string' && isRecord(body.data)) {
    const data = body.data;
    const id = identifier(data.id);
    if (id === undefined) return { ok: false, reason: 'data.id is missing' };
    const txRef = text(data.tx_ref, 200);
    const status = text(data.status, 50) ?? 'unknown';
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${id}:${body.event}:${status}`,
        eventType: body.event.slice(0, 100),
        paymentId: txRef,
        providerTxId: id,
      },
    };
  }
  if (isRecord(body.transfer)) {
    const id = identifier(body.transfer.id);
    if (id === undefined) return { ok: false, reason: 'transfer.id is missing' };
    const status = text(body.transfer.status, 50) ?? 'unknown';
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${id}:transfer.completed:${status}`,
        eventType: 'transfer.completed',
        paymentId: undefined,
        providerTxId: id,
      },
    };
  }
  const flatId = identifier(body.id);
  const flatRef = text(body.txRef, 200);
  if (flatId !== undefined && flatRef !== undefined) {
    const status = text(body.status, 50) ?? 'unknown';
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${flatId}:charge.completed:${status}`,
        eventType: 'charge.completed',
        paymentId: flatRef,
        providerTxId: flatId,
      },
    };
  }
  return { ok: false, reason: 'payload matches no known Flutterwave webhook shape' };
}

function text(value: unknown, maxLength: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : undefined;
}

export function createFlutterwaveWebhookHandler(
  secretHashes: ReadonlyArray<{ mode: Mode; secretHash: Secret }>,
): ProviderWebhookHandler {
  return {
    name: 'flutterwave',
    verifySignature: (rawBody, headers) => verifyFlutterwaveSignature(rawBody, headers, secretHashes),
    parse: parseFlutterwaveWebhook,
  };
}
