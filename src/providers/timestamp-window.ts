// Freshness of a signed webhook timestamp, for the schemes that sign one (Stripe's `t=`, KwikPaisa's
// X-TIMESTAMP): UNIX seconds written as digits only, within the window. Which directions count is
// each provider's rule, not ours to tighten: Stripe's official library rejects only timestamps
// older than its tolerance (a gateway clock running slow must not refuse every Stripe webhook),
// while KwikPaisa documents no window at all, so ours covers both directions. Each caller words
// the refusal in its own header's terms, which is what the operator has to check.

export type TimestampProblem = 'not_unix_seconds' | 'outside_window';

/** 'past': only too old is refused (stripe-node's rule); 'both': too far ahead is refused too. */
export type WindowDirection = 'past' | 'both';

/** undefined when the timestamp is fresh; otherwise what is wrong with it. */
export function timestampProblem(
  timestamp: string | undefined,
  nowSeconds: number,
  toleranceSeconds: number,
  direction: WindowDirection = 'both',
): TimestampProblem | undefined {
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return 'not_unix_seconds';
  const ageSeconds = nowSeconds - Number(timestamp);
  if (ageSeconds > toleranceSeconds) return 'outside_window';
  return direction === 'both' && -ageSeconds > toleranceSeconds ? 'outside_window' : undefined;
}
