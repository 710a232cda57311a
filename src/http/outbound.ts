// The one outbound HTTP client for provider calls: timeouts, TLS verification left on (API-11,
// undici's default; minimum TLS 1.2), a per-provider rate limit (COL-3), Retry-After read back,
// and outcomes classified as definite or indefinite. It never retries by itself: retries belong
// to the job queue, which has backoff, attempt counts and durability.
import { Agent, request } from 'undici';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../clock.ts';
import { parseRetryAfterMs } from '../jobs/backoff.ts';
import type { Logger } from '../log.ts';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly latencyMs: number;
}

/** `notSent`: our own per-provider budget held the call back; the provider never saw it.
 * `replayed`: the error is a result the provider saved under our Idempotency-Key and answers again
 * (Stripe's `Idempotent-Replayed: true`): the same call can only ever give the same answer. */
export type HttpOutcome =
  | { kind: 'response'; response: HttpResponse }
  | { kind: 'indefinite'; reason: string; retryAfterMs?: number; notSent?: boolean; replayed?: boolean };

export interface HttpClient {
  send(input: {
    method: 'GET' | 'POST';
    url: string;
    headers: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  }): Promise<HttpOutcome>;
}

const tlsAgent = new Agent({ connect: { minVersion: 'TLSv1.2', rejectUnauthorized: true }, keepAliveTimeout: 10_000 });

export function createOutboundHttp(deps: {
  provider: string;
  limiter: RateLimiterAbstract | undefined;
  clock: Clock;
  logger: Logger;
  defaultTimeoutMs?: number;
}): HttpClient {
  const log = deps.logger.child({ component: 'outbound', provider: deps.provider });
  return {
    async send({ method, url, headers, body, timeoutMs }) {
      if (deps.limiter !== undefined) {
        try {
          await deps.limiter.consume(deps.provider);
        } catch (rejection) {
          const waitMs =
            typeof rejection === 'object' && rejection !== null && 'msBeforeNext' in rejection
              ? Number((rejection as { msBeforeNext: number }).msBeforeNext)
              : 1000;
          return {
            kind: 'indefinite',
            reason: 'outbound rate limit for this provider reached',
            retryAfterMs: waitMs,
            notSent: true,
          };
        }
      }
      const started = performance.now();
      const path = new URL(url).pathname;
      try {
        const response = await request(url, {
          method,
          headers,
          body,
          dispatcher: tlsAgent,
          headersTimeout: timeoutMs ?? deps.defaultTimeoutMs ?? 10_000,
          bodyTimeout: timeoutMs ?? deps.defaultTimeoutMs ?? 10_000,
        });
        const text = await response.body.text();
        const latencyMs = Math.round(performance.now() - started);
        log.debug({ method, path, status: response.statusCode, latencyMs }, 'provider call');
        if (response.statusCode === 429 || response.statusCode >= 500) {
          const retryAfter = response.headers['retry-after'];
          const retryAfterMs = parseRetryAfterMs(
            Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            deps.clock.nowMs(),
          );
          return {
            kind: 'indefinite',
            reason: `provider answered ${response.statusCode}`,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            ...(response.headers['idempotent-replayed'] === 'true' ? { replayed: true } : {}),
          };
        }
        return {
          kind: 'response',
          response: { status: response.statusCode, headers: response.headers, body: text, latencyMs },
        };
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown transport error';
        log.warn(
          { method, path, reason, latencyMs: Math.round(performance.now() - started) },
          'provider call had no definite answer',
        );
        return { kind: 'indefinite', reason };
      }
    },
  };
}
