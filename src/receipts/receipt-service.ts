// Issues receipts for succeeded payments (COL-6). The succeeded time is the `payment.succeeded`
// event's, which never changes, so asking twice gives the same receipt (until a key rotation,
// after which the new key signs and the old receipt still verifies).
import type { Db, Mode } from '../db/schema.ts';
import type { ReceiptKeyStore } from './receipt-keys.ts';
import {
  paymentReceiptFields,
  payoutReceiptFields,
  signReceipt,
  verifyReceipt,
  type ReceiptCheck,
  type SignedReceipt,
} from './receipts.ts';

export type PaymentReceipt = SignedReceipt<ReturnType<typeof paymentReceiptFields>>;
export type PayoutReceipt = SignedReceipt<ReturnType<typeof payoutReceiptFields>>;

export type ReceiptOutcome<R = PaymentReceipt> =
  | { ok: true; receipt: R }
  | { ok: false; reason: 'not_found' | 'not_succeeded' };

export interface ReceiptService {
  forPayment(mode: Mode, paymentId: string): Promise<ReceiptOutcome>;
  forPayout(mode: Mode, payoutId: string): Promise<ReceiptOutcome<PayoutReceipt>>;
  /** Checks a receipt against this gateway's keys (what `paywarden receipts verify` runs). */
  verify(input: unknown): Promise<ReceiptCheck>;
  readonly keys: ReceiptKeyStore;
}

export function createReceiptService(deps: { db: Db; keys: ReceiptKeyStore }): ReceiptService {
  const { db, keys } = deps;
  /** When the object's success event was written: fixed, so the receipt is the same each time. */
  const succeededAt = async (objectId: string, eventType: string) =>
    (
      await db
        .selectFrom('events')
        .select('created_at')
        .where('object_id', '=', objectId)
        .where('type', '=', eventType)
        .orderBy('created_at')
        .limit(1)
        .executeTakeFirst()
    )?.created_at;
  return {
    keys,
    async forPayout(mode, payoutId) {
      const payout = await db
        .selectFrom('payouts')
        .selectAll()
        .where('mode', '=', mode)
        .where('id', '=', payoutId)
        .executeTakeFirst();
      if (payout === undefined) return { ok: false, reason: 'not_found' };
      if (payout.status !== 'succeeded') return { ok: false, reason: 'not_succeeded' };
      const at = (await succeededAt(payout.id, 'payout.succeeded')) ?? payout.updated_at;
      return { ok: true, receipt: signReceipt(payoutReceiptFields(payout, at), await keys.signingKey(mode)) };
    },
    async forPayment(mode, paymentId) {
      const payment = await db
        .selectFrom('payments')
        .selectAll()
        .where('mode', '=', mode)
        .where('id', '=', paymentId)
        .executeTakeFirst();
      if (payment === undefined) return { ok: false, reason: 'not_found' };
      if (payment.status !== 'succeeded') return { ok: false, reason: 'not_succeeded' };
      const at = (await succeededAt(payment.id, 'payment.succeeded')) ?? payment.updated_at;
      return { ok: true, receipt: signReceipt(paymentReceiptFields(payment, at), await keys.signingKey(mode)) };
    },
    verify: (input) => verifyReceipt(input, (keyId) => keys.byId(keyId)),
  };
}
