// Starting and stopping a whole gateway: database and migrations, the embedded provider simulator
// in test mode, the HTTP server, the job workers and the periodic sweeps. Used by `paywarden
// start`, the end-to-end tests, the crash test and the benchmark, so all of them run the real thing.
import { readFileSync } from 'node:fs';
import { warnExpiringKeys } from './keys/lifecycle.ts';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config/config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, writeCheckpoints } from './audit/checkpoints.ts';
import { createSealerLoop } from './audit/sealer.ts';
import type { WorkerOptions } from './jobs/worker.ts';
import { createScheduler, type Scheduler } from './jobs/scheduler.ts';
import { servesTraffic } from './config/role.ts';
import type { ResolveHost } from './delivery/ssrf.ts';
import type { Logger } from './log.ts';
import { createServices, type ServiceOptions, type Services } from './services.ts';
import { PROVIDER_FACTORIES } from './providers/factories.ts';

export interface Gateway {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly services: Services;
  /** The Flutterwave simulator's URL in test mode (kept for the demo and tests). */
  readonly simulatorUrl: string | undefined;
  readonly simulatorUrls: Readonly<Record<string, string>>;
  /** The periodic work (tests tick it on a manual clock instead of waiting). */
  readonly scheduler: Scheduler;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly worker?: Partial<WorkerOptions>;
  readonly runWorkers?: boolean;
  readonly sweepIntervalMs?: number;
  /** How often each audit chain's head is signed (LOG-4); 5 minutes unless a test says otherwise. */
  readonly auditCheckpointIntervalMs?: number;
  /** How often committed audit rows are sealed into their chain (LOG-4); every second by default. */
  readonly auditSealIntervalMs?: number;
  readonly deliveryTimeoutMs?: number;
  /** Tests play DNS for delivery targets with it. */
  readonly deliveryResolveHost?: ResolveHost;
  readonly apiRateLimitPerMinute?: number;
  readonly providerTimeoutMs?: number;
  /** Test seam (ServiceOptions): between a payment's commit and its checkout call. */
  readonly afterPaymentCommit?: ServiceOptions['afterPaymentCommit'];
  /** Payout engine knobs (src/payouts/engine.ts): tests and crash runs shorten the not-found grace. */
  readonly payouts?: ServiceOptions['payouts'];
  /** A database handle the caller owns (tests share one across restarts); otherwise opened from config. */
  readonly database?: DatabaseHandle;
}

export async function startGateway(config: Config, logger: Logger, options: StartOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const database = options.database ?? openDatabase(config.databaseUrl);
  // SQLite serves one gateway process: a second one stops here with a message saying so.
  const releaseWriter = database.lockSoleWriter?.() ?? (() => undefined);
  await migrateToLatest(database);

  // Test mode without a provider's own test environment: its local simulator, one port each.
  const simulators: Record<string, { url: string; close(): Promise<void> }> = {};
  let index = 0;
  for (const [name, providerConfig] of Object.entries(config.providers)) {
    const port = config.simulatorPort === 0 ? 0 : config.simulatorPort + index;
    index += 1;
    if (providerConfig.test.baseUrl !== undefined) continue;
    const factory = PROVIDER_FACTORIES[name];
    if (factory !== undefined)
      simulators[name] = await factory.startSimulator({
        credentials: providerConfig.test.credentials,
        webhookUrl: `${config.publicUrl}/webhooks/${name}`,
        port,
      });
  }
  const simulator = simulators.flutterwave;

  const services = await createServices({
    config,
    database,
    clock,
    logger,
    simulatorUrls: Object.fromEntries(Object.entries(simulators).map(([name, sim]) => [name, sim.url])),
    ...(options.worker === undefined ? {} : { worker: options.worker }),
    ...(options.deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs: options.deliveryTimeoutMs }),
    ...(options.deliveryResolveHost === undefined ? {} : { deliveryResolveHost: options.deliveryResolveHost }),
    ...(options.apiRateLimitPerMinute === undefined ? {} : { apiRateLimitPerMinute: options.apiRateLimitPerMinute }),
    ...(options.providerTimeoutMs === undefined ? {} : { providerTimeoutMs: options.providerTimeoutMs }),
    ...(options.afterPaymentCommit === undefined ? {} : { afterPaymentCommit: options.afterPaymentCommit }),
    ...(options.payouts === undefined ? {} : { payouts: options.payouts }),
  });
  const app = await buildApp(services, {
    operationsOnly: !servesTraffic(config.role),
    ...(config.trustedProxy === undefined ? {} : { trustProxy: config.trustedProxy }),
    ...(config.tls === undefined
      ? {}
      : {
          https: {
            key: readFileSync(config.tls.keyFile),
            cert: readFileSync(config.tls.certFile),
            minVersion: config.tls.minVersion,
          },
        }),
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `${config.tls === undefined ? 'http' : 'https'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  if (config.port === 0) {
    // The real port is known only now; point the simulators' webhooks at it.
    for (const [name, sim] of Object.entries(simulators)) {
      await fetch(`${sim.url}/_sim/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ webhookUrl: `${url}/webhooks/${name}` }),
      });
    }
  }

  // Periodic work runs once per slot across every process sharing the database (jobs/scheduler.ts).
  const scheduler = createScheduler({
    db: database.db,
    queue: services.queue,
    clock,
    logger,
    worker: services.worker,
    schedules: [
      {
        name: 'reconcile_sweep',
        everyMs: options.sweepIntervalMs ?? config.sweepIntervalSeconds * 1000,
        run: () => services.reconciler.sweep(),
      },
      {
        name: 'payout_sweep',
        everyMs: options.sweepIntervalMs ?? config.sweepIntervalSeconds * 1000,
        run: () => services.payoutSweep.sweep(),
      },
      // PAY-5: held payouts released when their cool-down ends, expired when nobody approved.
      {
        name: 'payout_hold_sweep',
        everyMs: options.sweepIntervalMs ?? 60_000,
        run: () => services.payoutHolds.sweep(),
      },
      { name: 'idempotency_purge', everyMs: 3_600_000, run: () => services.idempotency.purgeExpired() },
      // LOG-4: each audit chain's head signed (after sealing), so rows cut off the end are noticed.
      {
        name: 'audit_checkpoint',
        everyMs: options.auditCheckpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
        run: () => writeCheckpoints({ ...database, clock, signer: services.auditSigner }),
      },
      // API-3: expiry warnings (each threshold logged once per key, also guarded in the table).
      {
        name: 'api_key_expiry_warnings',
        everyMs: 3_600_000,
        run: () => warnExpiringKeys({ db: database.db, clock, logger }),
      },
      // API-5: used request signatures are kept only while their timestamp is in its window.
      { name: 'request_signature_purge', everyMs: 3_600_000, run: () => services.signatures.purgeExpired() },
    ],
  });
  // LOG-4: committed audit rows linked into their mode's chain every second (src/audit/sealer.ts),
  // by the processes that run the schedules; a chain another process is sealing is skipped.
  const auditSealer = createSealerLoop({
    ...database,
    logger,
    ...(options.auditSealIntervalMs === undefined ? {} : { intervalMs: options.auditSealIntervalMs }),
  });
  if (options.runWorkers ?? config.runWorkers) {
    services.worker.start();
    scheduler.start();
    auditSealer.start();
  }

  return {
    url,
    app,
    services,
    simulatorUrl: simulator?.url,
    simulatorUrls: Object.fromEntries(Object.entries(simulators).map(([name, sim]) => [name, sim.url])),
    scheduler,
    async close() {
      scheduler.stop();
      await auditSealer.stop();
      await app.close();
      await services.close();
      for (const sim of Object.values(simulators)) await sim.close();
      if (options.database === undefined) await database.close();
      releaseWriter();
    },
  };
}
