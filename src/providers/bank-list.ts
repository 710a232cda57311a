// Reading the entries of a provider's bank list, the part Flutterwave (§1.6) and Paystack (§2.6)
// share: an entry is an object with a string `code` and `name`. Anything else in the list is
// skipped rather than guessed at: a bank without a code cannot be paid to, one without a name
// cannot be shown to the merchant.
import type { Bank } from './types.ts';
import { isRecord } from './webhook-fields.ts';

/** `include` narrows further on the provider's own fields (Paystack's `active`, `is_deleted`). */
export function readBanks(
  entries: readonly unknown[],
  include: (entry: Record<string, unknown>) => boolean = () => true,
): Bank[] {
  return entries
    .filter(isRecord)
    .filter((entry) => typeof entry.code === 'string' && typeof entry.name === 'string' && include(entry))
    .map((entry) => ({ code: String(entry.code), name: String(entry.name) }));
}
