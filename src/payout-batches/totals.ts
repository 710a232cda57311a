import type { BatchRowView } from './batch-service.ts';

/** The sum of the valid amounts of a file, per currency, in minor units. */
export function totalsOf(
  rows: readonly Pick<BatchRowView, 'amount_minor' | 'currency'>[],
): Array<{ currency: string; amountMinor: number; count: number }> {
  const totals = new Map<string, { amountMinor: number; count: number }>();
  for (const r of rows) {
    if (r.amount_minor === null) continue;
    const t = totals.get(r.currency) ?? { amountMinor: 0, count: 0 };
    totals.set(r.currency, { amountMinor: t.amountMinor + Number(r.amount_minor), count: t.count + 1 });
  }
  return [...totals].map(([currency, t]) => ({ currency, ...t }));
}
