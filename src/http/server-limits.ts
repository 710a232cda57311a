// The HTTP server's limits (issue 16 §1): timeouts so a slow client cannot hold a connection, a
// connection cap, and load shedding (503 + Retry-After) when the process is saturated, with
// /healthz saying so. Values come from src/config/http-limits.ts.
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import underPressure from '@fastify/under-pressure';
import type { HttpLimits } from '../config/http-limits.ts';
import { sendError } from './errors-plugin.ts';

export const SHED_RETRY_AFTER_SECONDS = 10;

/** Options for Fastify's constructor; `serverOptions` go to http(s).createServer. */
export function timeoutOptions(limits: HttpLimits) {
  return {
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
    connectionTimeout: limits.idleTimeoutSeconds * 1000,
    serverOptions: {
      headersTimeout: limits.headersTimeoutSeconds * 1000,
      requestTimeout: limits.requestTimeoutSeconds * 1000,
      // Node checks the headers and request timeouts on this interval (30 s by default), so a
      // 10 s timeout could let a connection live 40 s; a quarter of the timeout, at most 1 s.
      connectionsCheckingInterval: Math.min(1000, Math.max(50, (limits.headersTimeoutSeconds * 1000) / 4)),
    },
  };
}

/** Caps connections (Node closes the ones beyond at once) once the server exists. */
export function applyConnectionCap(app: FastifyInstance, limits: HttpLimits): void {
  app.server.maxConnections = limits.maxConnections;
  app.server.headersTimeout = limits.headersTimeoutSeconds * 1000;
}

interface Thresholds {
  readonly eventLoopDelayMs: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

// The heap's limit is fixed when the process starts (--max-old-space-size); asking V8 for its
// statistics on every request cost 1-2% of the webhook path's CPU.
let heapSizeLimitBytes: number | undefined;
const thresholdsOf = new WeakMap<HttpLimits, Thresholds>();

function thresholds(limits: HttpLimits): Thresholds {
  let known = thresholdsOf.get(limits);
  if (known === undefined) {
    heapSizeLimitBytes ??= getHeapStatistics().heap_size_limit;
    known = {
      eventLoopDelayMs: limits.shedEventLoopDelayMs,
      heapUsedBytes: Math.floor((heapSizeLimitBytes * limits.shedHeapUsedPercent) / 100),
      rssBytes: limits.shedRssMegabytes * 1024 * 1024,
    };
    thresholdsOf.set(limits, known);
  }
  return known;
}

/** Routes that answer even under pressure: the monitoring needs them most then. */
const NOT_SHED = new Set(['/healthz', '/metrics']);

export async function installLoadShedding(
  app: FastifyInstance,
  limits: HttpLimits,
  onShed: (reason: string) => void,
): Promise<void> {
  // Registered without thresholds, under-pressure only samples (event-loop delay, heap, RSS);
  // the decision is ours, so the 503 is in our error format and /healthz reports the same facts.
  await app.register(underPressure, { sampleInterval: limits.shedSampleIntervalMs });
  let loggedAtMs = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (NOT_SHED.has(request.routeOptions.url ?? '')) return;
    const pressure = pressureReport(app, limits);
    if (!pressure.overloaded) return;
    onShed(pressure.reasons[0] ?? 'unknown');
    // Once per sample interval at most: an overloaded process must not also flood its log.
    if (Date.now() - loggedAtMs >= limits.shedSampleIntervalMs) {
      loggedAtMs = Date.now();
      request.log.warn({ alert: 'load_shed', pressure: pressure.reasons }, 'shedding load: the process is saturated');
    }
    return sendError(reply, request, 'service_unavailable', {
      headers: { 'retry-after': String(SHED_RETRY_AFTER_SECONDS) },
    });
  });
}

/** What /healthz reports: which limits are exceeded now, from the last sample. */
export function pressureReport(app: FastifyInstance, limits: HttpLimits): { overloaded: boolean; reasons: string[] } {
  const limit = thresholds(limits);
  const usage = app.memoryUsage();
  const reasons: string[] = [];
  // A sample with no event-loop ticks in it (the first one after a slow start, typically) reads as
  // Infinity: no measurement, not saturation; the delayed tick lands in the next sample.
  if (
    limit.eventLoopDelayMs > 0 &&
    Number.isFinite(usage.eventLoopDelay) &&
    usage.eventLoopDelay > limit.eventLoopDelayMs
  )
    reasons.push('event_loop_delay');
  if (limit.heapUsedBytes > 0 && usage.heapUsed > limit.heapUsedBytes) reasons.push('heap_used');
  if (limit.rssBytes > 0 && usage.rssBytes > limit.rssBytes) reasons.push('rss');
  return { overloaded: reasons.length > 0, reasons };
}
