// Flutterwave webhook authentication and parsing (§1.8). Two authentication headers exist and an
// account may send either or both:
//   verif-hash: the secret hash itself (the v3 docs: "compare it with your secret hash")
//   flutterwave-signature: base64(HMAC-SHA256(secret hash, raw body)) per the current docs and
//     independent integrations; one docs mirror and several integrations compare it with the
//     plain secret hash instead. The sources disagree, so both forms are accepted.
// Any one proof is enough: a valid verif-hash beside a flutterwave-signature of another form still
// passes (refusing it would refuse every live webhook of an account whose header form we guessed
// wrong, and only reconciliation would find its payments). A webhook is only a hint to verify with
// the API, so a forged body cannot give value. `requireSignature` (FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE)
// accepts only the HMAC, which binds the body: for accounts known to send it.
// The secret hash differs per mode, which is also how a delivery is assigned to test or live.
import {
  acknowledgedEvent,
  eventName,
  header,
  identifier,
  isRecord,
  parseJsonObject,
  type Headers,
} from '../webhook-fields.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretKeyObjectFromText } from '../../crypto/key-object.ts';
import { constantTimeEqual } from '../../crypto/compare.ts';
import type { Secret } from '../../crypto/secret.ts';
import type { Mode } from '../../db/schema.ts';
import type { ProviderWebhookEvent, ProviderWebhookHandler, WebhookCheck } from '../types.ts';

export function flutterwaveSignature(rawBody: Buffer | string, secretHash: string): string {
  return createHmac('sha256', secretKeyObjectFromText(secretHash)).update(rawBody).digest('base64');
}

/** Compares the decoded HMAC bytes in constant time (both are 32 bytes; a malformed header is
 * simply a mismatch). */
function hmacMatches(header: string, rawBody: Buffer, secretHash: string): boolean {
  const expected = createHmac('sha256', secretKeyObjectFromText(secretHash)).update(rawBody).digest();
  const presented = Buffer.from(header.trim(), 'base64');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export interface FlutterwaveWebhookOptions {
  /** Only a flutterwave-signature HMAC counts; the static verif-hash (or a plain hash) is refused. */
  readonly requireSignature?: boolean;
}

export function verifyFlutterwaveSignature(
  rawBody: Buffer,
  headers: Headers,
  secretHashes: ReadonlyArray<{ mode: Mode; secretHash: Secret }>,
  options: FlutterwaveWebhookOptions = {},
): WebhookCheck {
  const signature = header(headers, 'flutterwave-signature');
  const verifHash = header(headers, 'verif-hash');
  if (options.requireSignature === true && signature === undefined)
    return {
      ok: false,
      reason:
        'flutterwave-signature header is missing and FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE is on (verif-hash alone is not accepted)',
    };
  if (signature === undefined && verifHash === undefined)
    return { ok: false, reason: 'neither flutterwave-signature nor verif-hash header is present' };
  for (const { mode, secretHash } of secretHashes) {
    const hash = secretHash.reveal();
    // Every form is compared (constant time each), so timing does not say which one matched.
    const hmac = signature !== undefined && hmacMatches(signature, rawBody, hash);
    const plain = signature !== undefined && constantTimeEqual(signature, hash);
    const legacy = verifHash !== undefined && constantTimeEqual(verifHash, hash);
    if (hmac) return { ok: true, mode, scheme: 'flutterwave-signature' };
    if (options.requireSignature === true) continue;
    if (legacy) return { ok: true, mode, scheme: 'verif-hash' };
    if (plain) return { ok: true, mode, scheme: 'flutterwave-signature-plain' };
  }
  if (options.requireSignature === true)
    return {
      ok: false,
      reason:
        'flutterwave-signature is not the HMAC of the raw body (check the secret hash and that the body is not re-serialised; FLUTTERWAVE_WEBHOOK_REQUIRE_SIGNATURE is on)',
    };
  return {
    ok: false,
    reason:
      'neither verif-hash nor flutterwave-signature matches the configured secret hash (check the secret hash for this mode, and that the body is not re-serialised)',
  };
}

/** `SUCCESSFUL`, `successful ` and `Successful` are one status (the dedupe key must not split them). */
const status = (value: unknown): string => (text(value, 50)?.trim().toLowerCase() || 'unknown').replace(/\s+/g, '-');

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

  if (typeof body.event === 'string') {
    const eventType = eventName(body.event);
    const data = isRecord(body.data) ? body.data : undefined;
    const acted = eventType === 'charge.completed' || eventType === 'transfer.completed';
    // Events we do not act on (subscription.cancelled, bvn.completed, types not yet known) are
    // acknowledged; a refusal only makes Flutterwave retry them.
    if (!acted) return { ok: true, event: acknowledgedEvent('flutterwave', eventType, rawBody, identifier(data?.id)) };
    const id = identifier(data?.id);
    if (data === undefined || id === undefined) return { ok: false, reason: 'data.id is missing' };
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${id}:${eventType}:${status(data.status)}`,
        eventType,
        paymentId: eventType === 'charge.completed' ? text(data.tx_ref, 200) : undefined,
        providerTxId: id,
        ...transferHint(eventType, data, id, status(data.status)),
      },
    };
  }
  if (isRecord(body.transfer)) {
    const id = identifier(body.transfer.id);
    if (id === undefined) return { ok: false, reason: 'transfer.id is missing' };
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${id}:transfer.completed:${status(body.transfer.status)}`,
        eventType: 'transfer.completed',
        paymentId: undefined,
        providerTxId: id,
        ...transferHint('transfer.completed', body.transfer, id, status(body.transfer.status)),
      },
    };
  }
  const flatId = identifier(body.id);
  const flatRef = text(body.txRef, 200);
  if (flatId !== undefined && flatRef !== undefined) {
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:${flatId}:charge.completed:${status(body.status)}`,
        eventType: 'charge.completed',
        paymentId: flatRef,
        providerTxId: flatId,
      },
    };
  }
  // The flat PascalCase refund (§1.4: AmountRefunded, FlwRef, TransactionId, no envelope). A
  // refund says nothing about whether a payment was paid; it is stored and acknowledged.
  if (flatId !== undefined && (body.AmountRefunded !== undefined || body.TransactionId !== undefined)) {
    return {
      ok: true,
      event: {
        dedupeKey: `flutterwave:refund-${flatId}:refund.completed:${status(body.status)}`,
        eventType: 'refund.completed',
        paymentId: undefined,
        providerTxId: undefined,
      },
    };
  }
  // Signed, but a shape not documented anywhere: acknowledged, stored for a human to read.
  return { ok: true, event: acknowledgedEvent('flutterwave', 'unknown', rawBody) };
}

/** transfer.* events name our payout attempt's reference: a hint for the payout core. */
function transferHint(event: string, data: Record<string, unknown>, id: string, status: string) {
  const reference = event.startsWith('transfer.') ? text(data.reference, 100) : undefined;
  return reference === undefined ? {} : { transfer: { reference, providerTransferId: id, providerStatus: status } };
}

function text(value: unknown, maxLength: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : undefined;
}

export function createFlutterwaveWebhookHandler(
  secretHashes: ReadonlyArray<{ mode: Mode; secretHash: Secret }>,
  options: FlutterwaveWebhookOptions = {},
): ProviderWebhookHandler {
  return {
    name: 'flutterwave',
    verifySignature: (rawBody, headers) => verifyFlutterwaveSignature(rawBody, headers, secretHashes, options),
    parse: parseFlutterwaveWebhook,
  };
}
