// When and how long to wait before trying a request again. Only what cannot have done harm twice
// is retried: any request after a network failure (POSTs carry an idempotency key the gateway
// replays), 429 after its Retry-After, 409 while the first request with the key is still being
// processed (or another request is creating the same payment's checkout), and 5xx answers: a
// payment whose provider did not answer is resumed by the retry with the same key.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 10_000 };

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** The gateway's 409s that mean "the same request is running; ask again" (docs/errors.md). */
const RETRIED_CONFLICTS = new Set(['idempotency_key_in_flight', 'checkout_in_progress']);

export function shouldRetryStatus(status: number, code: string | undefined): boolean {
  return RETRIED_STATUSES.has(status) || (status === 409 && code !== undefined && RETRIED_CONFLICTS.has(code));
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Exponential backoff with full jitter; the server's Retry-After wins when it asks for longer. */
export function delayBeforeRetryMs(
  policy: RetryPolicy,
  retry: number,
  serverAskedMs: number | undefined,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry) * random();
  return Math.min(policy.maxDelayMs * 3, Math.max(backoff, serverAskedMs ?? 0));
}
