// Signed receipts (COL-6): for a succeeded payment (and, through `signReceipt`, any object that
// reached a final success), the facts a merchant books as canonical JSON with sorted keys, signed
// with HMAC-SHA256 by the mode's receipt key. The key id is inside what is signed, so a rotation
// never makes an old receipt ambiguous. docs/receipts/ has the format, test vectors and a
// dependency-free verifier for merchants.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PaymentRow, PayoutsTable } from '../db/schema.ts';
import { canonicalJson, type CanonicalValue } from './canonical-json.ts';
import type { ReceiptKey } from './receipt-keys.ts';

export const RECEIPT_VERSION = 1;

/** What any receipt says about its object; `object_type` names the kind (payment, payout). */
export interface ReceiptFields {
  readonly [field: string]: CanonicalValue;
  readonly object_type: string;
  readonly object_id: string;
  readonly livemode: boolean;
}

/** What is signed: the object's fields, the format version and the signing key's id. */
export type ReceiptBody<F extends ReceiptFields = ReceiptFields> = F & {
  readonly object: 'receipt';
  readonly version: number;
  readonly key_id: string;
};

export interface SignedReceipt<F extends ReceiptFields = ReceiptFields> {
  readonly receipt: ReceiptBody<F>;
  /** HMAC-SHA256 of the canonical JSON of `receipt`, lower-case hex. */
  readonly signature: string;
}

/** The receipt's fields for a succeeded payment. */
export function paymentReceiptFields(payment: PaymentRow, succeededAtMs: number) {
  return {
    object_type: 'payment' as const,
    object_id: payment.id,
    livemode: payment.mode === 'live',
    status: 'succeeded' as const,
    amount: payment.amount_minor,
    currency: payment.currency,
    reference: payment.reference,
    provider: payment.provider,
    provider_transaction_id: payment.provider_tx_id,
    succeeded_at: new Date(succeededAtMs).toISOString(),
  };
}

/** The receipt's fields for a succeeded payout: what left, to which beneficiary, through whom. */
export function payoutReceiptFields(payout: PayoutsTable, succeededAtMs: number) {
  return {
    object_type: 'payout' as const,
    object_id: payout.id,
    livemode: payout.mode === 'live',
    status: 'succeeded' as const,
    amount: payout.amount_minor,
    currency: payout.currency,
    fee: payout.fee_minor,
    reference: payout.reference,
    beneficiary_id: payout.beneficiary_id,
    provider: payout.provider,
    provider_transfer_id: payout.provider_transfer_id,
    succeeded_at: new Date(succeededAtMs).toISOString(),
  };
}

export function receiptSignature(body: ReceiptBody, key: Pick<ReceiptKey, 'secret'>): string {
  return createHmac('sha256', Buffer.from(key.secret.reveal(), 'base64'))
    .update(canonicalJson(body), 'utf8')
    .digest('hex');
}

export function signReceipt<F extends ReceiptFields>(fields: F, key: ReceiptKey): SignedReceipt<F> {
  const body: ReceiptBody<F> = { ...fields, object: 'receipt', version: RECEIPT_VERSION, key_id: key.id };
  return { receipt: body, signature: receiptSignature(body, key) };
}

export type ReceiptCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' };

/**
 * Verifies a receipt with the key its `key_id` names, in constant time. `keyFor` decides which
 * keys are trusted (the gateway's own store, or the keys a merchant was given), and which mode.
 */
export async function verifyReceipt(
  input: unknown,
  keyFor: (keyId: string) => Promise<Pick<ReceiptKey, 'secret' | 'mode'> | undefined>,
): Promise<ReceiptCheck> {
  if (typeof input !== 'object' || input === null) return { ok: false, reason: 'malformed' };
  const { receipt, signature } = input as { receipt?: unknown; signature?: unknown };
  if (typeof receipt !== 'object' || receipt === null || Array.isArray(receipt))
    return { ok: false, reason: 'malformed' };
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  const body = receipt as ReceiptBody;
  if (typeof body.key_id !== 'string') return { ok: false, reason: 'malformed' };
  const key = await keyFor(body.key_id);
  if (key === undefined || (key.mode === 'live') !== (body.livemode === true))
    return { ok: false, reason: 'unknown_key' };
  let expected: string;
  try {
    expected = receiptSignature(body, key);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))
    ? { ok: true, keyId: body.key_id }
    : { ok: false, reason: 'bad_signature' };
}
