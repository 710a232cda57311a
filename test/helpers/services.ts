// Which real backing services the test suite may use. Outside CI a missing PostgreSQL or Redis
// skips those tests with a clear message; under CI=true their absence fails the run, so a green CI
// always means both dialects and Redis were exercised.
import pg from 'pg';
import { createClient } from 'redis';

export const POSTGRES_URL = process.env.PAYWARDEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PAYWARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

let postgresProbe: Promise<string | undefined> | undefined;
let redisProbe: Promise<string | undefined> | undefined;

/** Resolves to undefined when reachable, or the reason it is not. */
export function postgresUnavailable(): Promise<string | undefined> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${POSTGRES_URL} is not reachable (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresProbe;
}

export function redisUnavailable(): Promise<string | undefined> {
  redisProbe ??= (async () => {
    const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return undefined;
    } catch (error) {
      return `Redis at ${REDIS_URL} is not reachable (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.quit().catch(() => undefined);
    }
  })();
  return redisProbe;
}

/** For node:test's `skip` option: false when usable; a message outside CI; a thrown error in CI. */
export async function skipUnless(probe: () => Promise<string | undefined>): Promise<false | string> {
  const reason = await probe();
  if (reason === undefined) return false;
  if (IN_CI) throw new Error(`${reason}. CI requires it; start the service.`);
  return `${reason}; skipped outside CI`;
}
