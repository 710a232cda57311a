// Freshness of a signed webhook timestamp, for the schemes that sign one (Stripe's `t=`, KwikPaisa's
// X-TIMESTAMP), so both apply the same rule: UNIX seconds written as digits only, within the window
// in BOTH directions. A timestamp from the future is as suspect as a stale one: a replay dated
// ahead to outlive the window, or this server's clock being off. Each caller words the refusal in
// its own header's terms, which is what the operator has to check.

export type TimestampProblem = 'not_unix_seconds' | 'outside_window';

/** undefined when the timestamp is fresh; otherwise what is wrong with it. */
export function timestampProblem(
  timestamp: string | undefined,
  nowSeconds: number,
  toleranceSeconds: number,
): TimestampProblem | undefined {
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return 'not_unix_seconds';
  return Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds ? 'outside_window' : undefined;
}
