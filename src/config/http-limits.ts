// Limits on what a client can hold (issue 16 §1). Fastify's own defaults are no request timeout
// and no connection cap, and they replace Node's: 200 connections that sent their headers and one
// byte of a body then went silent stayed open for good. Each limit has a default that suits a
// payments gateway (requests are small and fast; providers retry) and can be tuned.
import { readInt, type Env } from './env.ts';

export interface HttpLimits {
  /** All request headers must arrive within this (slowloris). */
  readonly headersTimeoutSeconds: number;
  /** The whole request, headers and body, must arrive within this. */
  readonly requestTimeoutSeconds: number;
  /** A kept-alive connection with no request in flight is closed after this. */
  readonly keepAliveTimeoutSeconds: number;
  /** A socket with no bytes in either direction is closed after this, whatever it is doing. */
  readonly idleTimeoutSeconds: number;
  /** Connections beyond this are refused (closed at once); the HTTP server's own cap. */
  readonly maxConnections: number;
  /** Load shedding (503 + Retry-After): mean event-loop delay over a sample; 0 turns it off. */
  readonly shedEventLoopDelayMs: number;
  /** Load shedding: V8 heap in use as a percentage of its limit; 0 turns it off. */
  readonly shedHeapUsedPercent: number;
  /** Load shedding: resident memory; 0 (the default) turns it off. */
  readonly shedRssMegabytes: number;
  /** How often the pressure is measured. */
  readonly shedSampleIntervalMs: number;
}

export function readHttpLimits(env: Env, problems: string[]): HttpLimits {
  const headersTimeoutSeconds = readInt(env, 'PAYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS', 10, 1, 600, problems);
  const requestTimeoutSeconds = readInt(env, 'PAYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600, problems);
  // Node refuses a headers timeout longer than the request timeout.
  if (headersTimeoutSeconds > requestTimeoutSeconds)
    problems.push('PAYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS must not exceed PAYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS');
  return {
    headersTimeoutSeconds,
    requestTimeoutSeconds,
    keepAliveTimeoutSeconds: readInt(env, 'PAYWARDEN_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 5, 1, 600, problems),
    idleTimeoutSeconds: readInt(env, 'PAYWARDEN_HTTP_IDLE_TIMEOUT_SECONDS', 60, 1, 3600, problems),
    maxConnections: readInt(env, 'PAYWARDEN_HTTP_MAX_CONNECTIONS', 1024, 1, 1_000_000, problems),
    shedEventLoopDelayMs: readInt(env, 'PAYWARDEN_SHED_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000, problems),
    shedHeapUsedPercent: readInt(env, 'PAYWARDEN_SHED_HEAP_USED_PERCENT', 90, 0, 100, problems),
    shedRssMegabytes: readInt(env, 'PAYWARDEN_SHED_RSS_MB', 0, 0, 1_000_000, problems),
    shedSampleIntervalMs: readInt(env, 'PAYWARDEN_SHED_SAMPLE_INTERVAL_MS', 1000, 10, 60_000, problems),
  };
}
