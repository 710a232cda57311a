/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half is random, so
 * retries spread out (no thundering herd after a provider outage) but never come back at once.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** A scheduled delay with ±fraction jitter (the outgoing webhook schedule uses ±20%). */
export function jitter(delayMs: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (1 - fraction + random() * 2 * fraction));
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from now, bounded. */
export function parseRetryAfterMs(header: string | undefined, nowMs: number, maxMs = 3_600_000): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(maxMs, Number(trimmed) * 1000);
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.min(maxMs, Math.max(0, dateMs - nowMs));
}
