// Rate limits shared by every gateway process through Redis (PAYWARDEN_REDIS_URL), and what
// happens when Redis goes away: counters are losable by design, payments and webhooks are not, so
// the gateway never waits for Redis. While it is unreachable each limit falls back to a counter in
// this process (so N processes allow up to N times the limit for that while), with one
// alert-level log line per outage, `paywarden_redis_up` 0 and
// `paywarden_rate_limit_fallback_total` counting the decisions taken locally. The client
// reconnects by itself; when Redis is back, limits are shared again.
import { createClient } from 'redis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../log.ts';

export interface SharedLimits {
  limiter(keyPrefix: string, points: number, durationSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}

// How long startup waits for Redis before going on with per-process limits (it keeps trying).
const STARTUP_WAIT_MS = 1_000;

export async function createSharedLimits(deps: {
  redisUrl: string | undefined;
  logger: Logger;
  registry: Registry;
}): Promise<SharedLimits> {
  const fallbacks = new Counter({
    name: 'paywarden_rate_limit_fallback_total',
    help: 'Rate-limit decisions taken in this process because Redis was unreachable',
    labelNames: ['limiter'],
    registers: [deps.registry],
  });
  const memoryLimiter = (keyPrefix: string, points: number, duration: number) => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (deps.redisUrl === undefined) return memory;
    // The insurance limiter is consulted only when Redis is not ready or a command failed.
    const consume = memory.consume.bind(memory);
    memory.consume = (key, pointsToConsume, options) => {
      fallbacks.inc({ limiter: keyPrefix.split(':')[0] ?? keyPrefix });
      return consume(key, pointsToConsume, options);
    };
    return memory;
  };
  if (deps.redisUrl === undefined) return { limiter: memoryLimiter, close: async () => undefined };

  const up = new Gauge({
    name: 'paywarden_redis_up',
    help: '1 while Redis (shared rate limits) is reachable, 0 while limits are per process',
    registers: [deps.registry],
  });
  const client = createClient({
    url: deps.redisUrl,
    // Commands fail at once while disconnected instead of queueing until Redis returns.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 + retries * 200, 2_000) },
  });
  let reachable: boolean | undefined;
  const markDown = (reason: string) => {
    up.set(0);
    if (reachable === false) return;
    reachable = false;
    deps.logger.error(
      { alert: 'redis_unavailable', err: reason },
      'Redis is unreachable; rate limits fall back to per-process counters until it returns',
    );
  };
  client.on('error', (error: Error) => markDown(error.message));
  client.on('end', () => markDown('connection closed'));
  client.on('ready', () => {
    up.set(1);
    if (reachable === false)
      deps.logger.warn({ alert: 'redis_recovered' }, 'Redis is back; rate limits are shared again');
    reachable = true;
  });
  const connecting = client.connect().catch((error: unknown) => markDown(String(error)));
  await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, STARTUP_WAIT_MS).unref())]);
  if (!client.isReady) markDown('not reachable at startup');

  return {
    limiter: (keyPrefix, points, duration) =>
      new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        keyPrefix: `paywarden:${keyPrefix}`,
        points,
        duration,
        insuranceLimiter: memoryLimiter(keyPrefix, points, duration),
      }),
    async close() {
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      // quit() waits for the server; while reconnecting there is none to wait for.
      if (client.isReady) await client.quit().catch(() => undefined);
      else if (client.isOpen) client.destroy();
    },
  };
}
