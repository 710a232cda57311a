// Issues receipts for succeeded payments (COL-6). The succeeded time is the `payment.succeeded`
// event's, which never changes, so asking twice gives the same receipt (until a key rotation,
// after which the new key signs and the old receipt still verifies).
import type { Db, Mode } from '../db/schema.ts';
import type { ReceiptKeyStore } from './receipt-keys.ts';
import { paymentReceiptFields, signReceipt, verifyReceipt, type ReceiptCheck, type SignedReceipt } from './receipts.ts';

export type PaymentReceipt = SignedReceipt<ReturnType<typeof paymentReceiptFields>>;

export type ReceiptOutcome =
  | { ok: true; receipt: PaymentReceipt }
  | { ok: false; reason: 'not_found' | 'not_succeeded' };

export interface ReceiptService {
  forPayment(mode: Mode, paymentId: string): Promise<ReceiptOutcome>;
  /** Checks a receipt against this gateway's keys (what `paywarden receipts verify` runs). */
  verify(input: unknown): Promise<ReceiptCheck>;
  readonly keys: ReceiptKeyStore;
}

export function createReceiptService(deps: { db: Db; keys: ReceiptKeyStore }): ReceiptService {
  const { db, keys } = deps;
  return {
    keys,
    async forPayment(mode, paymentId) {
      const payment = await db
        .selectFrom('payments')
        .selectAll()
        .where('mode', '=', mode)
        .where('id', '=', paymentId)
        .executeTakeFirst();
      if (payment === undefined) return { ok: false, reason: 'not_found' };
      if (payment.status !== 'succeeded') return { ok: false, reason: 'not_succeeded' };
      const event = await db
        .selectFrom('events')
        .select('created_at')
        .where('object_id', '=', payment.id)
        .where('type', '=', 'payment.succeeded')
        .orderBy('created_at')
        .limit(1)
        .executeTakeFirst();
      const key = await keys.signingKey(mode);
      return {
        ok: true,
        receipt: signReceipt(paymentReceiptFields(payment, event?.created_at ?? payment.updated_at), key),
      };
    },
    verify: (input) => verifyReceipt(input, (keyId) => keys.byId(keyId)),
  };
}
