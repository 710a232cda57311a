// Stripe Connect events about our payouts (payout.* on the connected account, transfer.* on the
// platform), read into a hint for the core: which reference to query now. Never acted on
// directly: the core asks getTransfer, so a stale, duplicated or forged-but-signed event cannot
// move a payout by itself.
import type { TransferWebhookHint } from '../payout-types.ts';
import { isRecord } from '../webhook-fields.ts';

export const TRANSFER_EVENT_TYPES = [
  'payout.created',
  'payout.updated',
  'payout.paid',
  'payout.failed',
  'payout.canceled',
  'transfer.created',
  'transfer.updated',
  'transfer.reversed',
] as const;

const REFERENCE = /^[A-Za-z0-9_-]{1,100}$/;
const OBJECT_ID = /^(po|tr)_[A-Za-z0-9_]{1,250}$/;

/** The hint an event carries, or undefined when it is not about a payout or transfer of ours. */
export function stripeTransferHint(type: string, object: Record<string, unknown>): TransferWebhookHint | undefined {
  if (!(TRANSFER_EVENT_TYPES as readonly string[]).includes(type)) return undefined;
  const expected = type.startsWith('payout.') ? 'payout' : 'transfer';
  if (object.object !== expected || typeof object.id !== 'string' || !OBJECT_ID.test(object.id)) return undefined;
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const reference = metadata.reference ?? (expected === 'transfer' ? object.transfer_group : undefined);
  if (typeof reference !== 'string' || !REFERENCE.test(reference)) return undefined;
  return {
    reference,
    // The payout's id is what getTransfer looks up by; a transfer's id would mislead it.
    providerTransferId: expected === 'payout' ? object.id : undefined,
    providerStatus:
      expected === 'payout' && typeof object.status === 'string' ? object.status.slice(0, 40) : type.slice(0, 40),
  };
}
