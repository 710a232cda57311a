// What the kill-the-gateway runs share (test/crash/crash-test.ts, payout-crash-test.ts and
// test/cluster/cluster-test.ts): the merchant's endpoint that records every webhook-id it is sent,
// a gateway process restarted after each SIGKILL, the database prepared with an API key before
// the first start, and the closing verdict. Processes themselves: test/cluster/processes.ts.
import { createServer } from 'node:http';
import { systemClock } from '../../src/clock.ts';
import type { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createApiKeyService } from '../../src/keys/api-keys.ts';
import type { Scope } from '../../src/keys/scopes.ts';
import { type GatewayProcess, startGatewayProcess } from '../cluster/processes.ts';

export interface MerchantEndpoint {
  readonly url: string;
  /** Every webhook-id received, in arrival order, by the key `keyOf` drew from the event. */
  readonly deliveries: Map<string, string[]>;
  close(): void;
}

/** A merchant that answers 200 to every event and remembers which webhook-ids it saw. */
export async function startMerchantEndpoint(keyOf: (event: any) => string): Promise<MerchantEndpoint> {
  const deliveries = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = keyOf(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const seen = deliveries.get(key) ?? [];
      seen.push(String(req.headers['webhook-id']));
      deliveries.set(key, seen);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    deliveries,
    close: () => server.close(),
  };
}

/** Migrates the gateway's database before its first start and makes the merchant's API key. */
export async function prepareDatabase(
  config: ReturnType<typeof loadConfig>,
  key: { name: string; scopes?: readonly Scope[] },
  seed?: (db: ReturnType<typeof openDatabase>['db']) => Promise<void>,
): Promise<string> {
  const setup = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(setup);
    await seed?.(setup.db);
    return (
      await createApiKeyService({ db: setup.db, masterKey: config.masterKey, clock: systemClock }).create({
        mode: 'test',
        ...key,
      })
    ).key;
  } finally {
    await setup.close();
  }
}

/** One gateway process on a fixed port, killed with SIGKILL and started again; counts its deaths. */
export function restartableGateway(env: Record<string, string | undefined>, port: number) {
  let current: GatewayProcess | undefined;
  let kills = 0;
  const definedEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    url: `http://127.0.0.1:${port}`,
    kills: () => kills,
    async start(): Promise<void> {
      current = await startGatewayProcess(definedEnv, port);
    },
    async kill(): Promise<void> {
      const dying = current;
      current = undefined;
      if (dying === undefined) return;
      await dying.kill('SIGKILL');
      kills += 1;
    },
  };
}

/** Prints the first failures or the summary line; the process's exit code. */
export function verdict(tag: string, failures: readonly string[], summary: () => string): number {
  if (failures.length === 0) {
    console.log(`[${tag}] ${summary()}`);
    return 0;
  }
  for (const failure of failures.slice(0, 20)) console.error(`[${tag}] FAIL ${failure}`);
  console.log(`[${tag}] ${failures.length} failures`);
  return 1;
}

/** Delivered at least once, and every time with the event's own id as its webhook-id. */
export function onlyWebhookId(seen: readonly string[], eventId: string | undefined): boolean {
  return seen.length > 0 && seen.every((id) => id === eventId);
}
