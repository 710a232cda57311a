// All wiring in one place: services are factories taking their dependencies; nothing is global.
// Tests build the same graph with their own database, clock and provider URLs.
import { createSharedLimits } from './http/shared-limits.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config/config.ts';
import { createFieldCipher } from './crypto/encryption.ts';
import { createPrivacyService } from './privacy/privacy-service.ts';
import { openKeysAtRest } from './privacy/keys-at-rest.ts';
import { createErasureJournal } from './privacy/erasure-journal.ts';
import { BENEFICIARY_COLUMNS, sealInTheClear } from './privacy/sealed-columns.ts';
import { createSystemKeys } from './privacy/system-keys.ts';
import { createCustomerDataService } from './privacy/customer-data.ts';
import { createKeyRotationJob, KEY_ROTATION_JOB } from './privacy/rotation-batch.ts';
import type { DatabaseHandle } from './db/database.ts';
import { createDeliverJob } from './delivery/deliver-job.ts';
import { createEventService } from './events/event-service.ts';
import { DELIVER_JOB } from './events/outbox.ts';
import { createOutboundHttp } from './http/outbound.ts';
import { createIdempotencyStore } from './idempotency/idempotency.ts';
import { createIngestService, createProcessWebhookJob, PROCESS_WEBHOOK_JOB } from './ingest/ingest-service.ts';
import { createJobQueue } from './jobs/queue.ts';
import { createWorker, type WorkerOptions } from './jobs/worker.ts';
import { createApiKeyService } from './keys/api-keys.ts';
import { createSignatureVerifier } from './keys/request-signing.ts';
import { createClientSecrets } from './payments/client-secret.ts';
import { registerKeyMetrics } from './keys/lifecycle.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import type { ResolveHost } from './delivery/ssrf.ts';
import { registerQueueMetrics } from './jobs/queue-metrics.ts';
import { registerSecurityMetrics } from './monitoring/security-metrics.ts';
import { createPaymentService } from './payments/payment-service.ts';
import { VERIFY_JOB } from './payments/verification.ts';
import { PROVIDER_FACTORIES } from './providers/factories.ts';
import type { PaymentProvider, ProviderWebhookHandler } from './providers/types.ts';
import type { Mode } from './db/schema.ts';
import { createProviderRegistry } from './providers/registry.ts';
import { createReconciler, createVerifyJob } from './reconcile/reconciler.ts';
import { createEndpointService } from './webhook-endpoints/endpoint-service.ts';
import { createBeneficiaryService } from './beneficiaries/beneficiary-service.ts';
import { createOperatorService } from './operators/accounts.ts';
import { createDashboardQueries } from './dashboard/queries.ts';
import { createBeneficiaryStore } from './beneficiaries/beneficiary-store.ts';
import { CHECK_PAYOUT_JOB, createPayoutEngine, SUBMIT_PAYOUT_JOB, type PayoutEngineDeps } from './payouts/engine.ts';
import { createCheckPayoutJob, createSubmitPayoutJob } from './payouts/jobs.ts';
import { createPayoutService } from './payouts/payout-service.ts';
import { createPayoutBatchService } from './payout-batches/batch-service.ts';
import { createPayoutSweep } from './reconcile/payout-sweep.ts';
import { createControlSettings } from './payouts/controls/settings.ts';
import { createHoldService } from './payouts/controls/holds.ts';
import { registerPayoutControlMetrics } from './monitoring/payout-control-metrics.ts';
import { checkpointSigner } from './audit/signing-key.ts';
import type { AuditActor } from './audit/audit.ts';
import { createReceiptKeyStore } from './receipts/receipt-keys.ts';
import { createIncidentService } from './incidents/incident-service.ts';
import { createReceiptService } from './receipts/receipt-service.ts';

export interface ServiceOptions {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where each provider's test-mode calls go when its <PREFIX>_TEST_BASE_URL is not set: its simulator. */
  readonly simulatorUrls: Readonly<Record<string, string>>;
  readonly worker?: Partial<WorkerOptions>;
  readonly deliveryTimeoutMs?: number;
  readonly deliveryResolveHost?: ResolveHost;
  readonly apiRateLimitPerMinute?: number;
  readonly providerTimeoutMs?: number;
  /** Test seam: runs between a payment's commit and its checkout call (a test stops a process there). */
  readonly afterPaymentCommit?: (paymentId: string) => Promise<void>;
  /** Payout engine knobs (tests and crash runs shorten the not-found grace and the schedule). */
  readonly payouts?: Pick<PayoutEngineDeps, 'notFoundGraceMs' | 'checkScheduleMs' | 'maxOpenMs' | 'reversalRecheckMs'>;
}

export async function createServices(options: ServiceOptions) {
  const { config, database, clock, logger } = options;
  const { db, dialect } = database;
  const metrics = createMetrics({ defaultMetrics: true });
  // The master key only wraps: every key it used to derive is a stored key of its own (purpose-keys.ts).
  const atRest = await openKeysAtRest({
    db,
    masterKey: config.masterKey,
    previousMasterKeys: config.previousMasterKeys,
    clock,
  });
  const cipher = createFieldCipher(atRest.purposeKeys);
  const privacy = createPrivacyService({ keys: atRest.purposeKeys, wrapper: atRest.wrapper, clock });
  const systemKeys = createSystemKeys({ db, wrapper: atRest.wrapper, clock });
  await systemKeys.init();
  // A payload key rotated by `paywarden keys-at-rest rotate` (another process) seals here within
  // half a minute; the rotation re-seals what was written under the old key meanwhile.
  const systemKeysRefresh = setInterval(() => {
    systemKeys.refresh().catch((error: unknown) => logger.error({ err: error }, 'payload keys refresh failed'));
  }, 30_000);
  systemKeysRefresh.unref();
  const queue = createJobQueue({ db, dialect, clock });
  registerQueueMetrics({ registry: metrics.registry, db, clock });
  registerSecurityMetrics({ registry: metrics.registry, db, clock });
  // Redis holds only what may be lost (counters); without it, limits are per process (shared-limits.ts).
  const shared = await createSharedLimits({ redisUrl: config.redisUrl, logger, registry: metrics.registry });
  const limiter = shared.limiter;

  // COL-3: a budget for outbound calls per provider and mode, shared across processes in Redis.
  const http = (provider: string, mode: 'test' | 'live') =>
    createOutboundHttp({
      provider,
      limiter: limiter(`out:${provider}:${mode}`, config.providers[provider]!.rateLimitPerMinute[mode], 60),
      clock,
      logger,
      ...(options.providerTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.providerTimeoutMs }),
    });
  const adapters: Record<Mode, PaymentProvider[]> = { test: [], live: [] };
  const webhookHandlers: ProviderWebhookHandler[] = [];
  for (const [name, providerConfig] of Object.entries(config.providers)) {
    const factory = PROVIDER_FACTORIES[name];
    if (factory === undefined) throw new Error(`no factory for provider ${name}`);
    const testBaseUrl = providerConfig.test.baseUrl ?? options.simulatorUrls[name];
    if (testBaseUrl !== undefined)
      adapters.test.push(
        factory.createProvider({
          baseUrl: testBaseUrl,
          credentials: providerConfig.test.credentials,
          http: http(name, 'test'),
          clock,
        }),
      );
    const live = providerConfig.live;
    if (live?.baseUrl !== undefined)
      adapters.live.push(
        factory.createProvider({
          baseUrl: live.baseUrl,
          credentials: live.credentials,
          http: http(name, 'live'),
          clock,
        }),
      );
    webhookHandlers.push(
      factory.createWebhookHandler(
        [
          { mode: 'test', credentials: providerConfig.test.credentials },
          ...(live === undefined ? [] : [{ mode: 'live' as const, credentials: live.credentials }]),
        ],
        clock,
        { requireSignature: providerConfig.webhookRequireSignature },
      ),
    );
  }
  const providers = createProviderRegistry({
    test: adapters.test,
    live: adapters.live,
    webhooks: webhookHandlers,
    routing: config.routing,
  });

  const keys = createApiKeyService({ db, masterKey: atRest.purposeKeys, clock, cipher });
  const signatures = createSignatureVerifier({ db, clock });
  registerKeyMetrics({ registry: metrics.registry, db, clock });
  const payments = createPaymentService({
    db,
    dialect,
    queue,
    clock,
    logger,
    providers,
    paymentExpirySeconds: config.paymentExpirySeconds,
    reconcileScheduleSeconds: config.reconcileScheduleSeconds,
    privacy,
    ...(options.afterPaymentCommit === undefined ? {} : { afterPaymentCommit: options.afterPaymentCommit }),
  });
  // SSRF (WHO-3): once live mode is on, test-mode targets are loopback and this allowlist only.
  const targetPolicy = {
    liveEnabled: config.liveEnabled,
    ...(config.testWebhookAllowedNetworks === undefined
      ? {}
      : { testAllowedNetworks: config.testWebhookAllowedNetworks }),
  };
  const endpoints = createEndpointService({ db, clock, cipher, ...targetPolicy });
  const events = createEventService({ db, queue, clock, privacy });
  const idempotency = createIdempotencyStore({ db, clock, systemKeys });
  const ingest = createIngestService({
    db,
    dialect,
    queue,
    clock,
    logger,
    metrics,
    systemKeys,
    ipAllowlists: Object.fromEntries(Object.entries(config.providers).map(([name, p]) => [name, p.webhookIpAllowlist])),
  });
  const operators = createOperatorService({
    db,
    dialect,
    clock,
    logger,
    masterKey: atRest.purposeKeys,
    sessionOptions: {
      idleTimeoutMs: config.dashboardIdleTimeoutMinutes * 60_000,
      absoluteTimeoutMs: config.dashboardSessionMaxMinutes * 60_000,
    },
  });
  const reconciler = createReconciler({
    db,
    queue,
    clock,
    logger,
    privacy,
    scheduleSeconds: config.reconcileScheduleSeconds,
  });

  const worker = createWorker({
    queue,
    logger,
    onDead: (job) => metrics.deadJobs.inc({ kind: job.kind }),
    onFailedAttempt: (job) => metrics.jobAttemptFailures.inc({ kind: job.kind }),
    options: { concurrency: config.workerConcurrency, leaseMs: config.jobLeaseSeconds * 1000, ...options.worker },
  });
  const beneficiaries = createBeneficiaryService({ providers, clock });
  const customers = createCustomerDataService({
    db,
    clock,
    privacy,
    systemKeys,
    erasureJournal: createErasureJournal(config.erasureJournalPath),
  });
  // Before serving: a restored backup older than an erasure gets it back (DAT-3, erasure-journal.ts).
  const reapplied = await customers.reapplyErasures();
  if (reapplied.length > 0)
    logger.warn({ customers: reapplied.map((e) => e.customer_id) }, 'erasures re-applied from the erasure journal');
  // Beneficiaries saved before their personal fields were sealed are sealed now (batches, compare and set).
  await sealInTheClear(db, systemKeys, BENEFICIARY_COLUMNS);
  const beneficiaryStore = createBeneficiaryStore({
    db,
    clock,
    cipher,
    systemKeys,
    lookups: beneficiaries,
    connectedAccountProvider: (mode) =>
      Object.keys(config.providers).find((name) =>
        providers.payouts(mode, name)?.destinations.includes('connected_account'),
      ),
    lookupConnectedAccount: (mode, name, accountId) =>
      providers.payouts(mode, name)?.lookupConnectedAccount?.(accountId),
    // KwikPaisa has no documented account look-up: its Indian bank accounts are saved unverified.
    unverifiedBankProvider: (mode, country, provider) =>
      country === 'IN' &&
      (provider === undefined || provider === 'kwikpaisa') &&
      providers.payouts(mode, 'kwikpaisa') !== undefined
        ? 'kwikpaisa'
        : undefined,
  });
  const payoutEngine = createPayoutEngine({
    db,
    queue,
    clock,
    logger,
    providers,
    cipher,
    systemKeys,
    ...(config.payoutNotFoundGraceSeconds === undefined
      ? {}
      : { notFoundGraceMs: config.payoutNotFoundGraceSeconds * 1000 }),
    ...(config.payoutCheckScheduleSeconds === undefined
      ? {}
      : { checkScheduleMs: config.payoutCheckScheduleSeconds.map((s) => s * 1000) }),
    ...options.payouts,
  });
  // PAY-5: the rules that hold payouts, their settings, approvals (src/payouts/controls/).
  const payoutControls = createControlSettings({ db, dialect, clock });
  const payoutHolds = createHoldService({
    db,
    dialect,
    queue,
    clock,
    logger,
    settings: payoutControls,
    onHeld: registerPayoutControlMetrics({ registry: metrics.registry, db, clock, logger }),
  });
  const payouts = createPayoutService({
    db,
    dialect,
    queue,
    clock,
    providers,
    beneficiaries: beneficiaryStore,
    engine: payoutEngine,
    settings: payoutControls,
    holds: payoutHolds,
  });
  const payoutSweep = createPayoutSweep({ db, queue, clock });
  worker.register(SUBMIT_PAYOUT_JOB, createSubmitPayoutJob(payoutEngine, logger));
  worker.register(CHECK_PAYOUT_JOB, createCheckPayoutJob(payoutEngine, logger));
  const verifyDeps = {
    db,
    queue,
    clock,
    logger,
    providers,
    privacy,
    onTransferHint: (payoutId: string) => payoutEngine.check(payoutId, 'webhook'),
  };
  worker.register(PROCESS_WEBHOOK_JOB, createProcessWebhookJob(verifyDeps));
  worker.register(VERIFY_JOB, createVerifyJob(verifyDeps));
  // Issue 12 §3: rotations of keys at rest run here, one batch per job (privacy/rotation-batch.ts).
  worker.register(
    KEY_ROTATION_JOB,
    createKeyRotationJob({
      db,
      clock,
      wrapper: atRest.wrapper,
      systemKeys,
      customerKeys: privacy.customerKeys,
      queue,
      actor: { actorType: 'system', actorId: null },
    }),
  );
  worker.register(
    DELIVER_JOB,
    createDeliverJob({
      db,
      dialect,
      queue,
      clock,
      logger,
      metrics,
      cipher,
      privacy,
      ...targetPolicy,
      ...(options.deliveryTimeoutMs === undefined ? {} : { timeoutMs: options.deliveryTimeoutMs }),
      ...(options.deliveryResolveHost === undefined ? {} : { resolveHost: options.deliveryResolveHost }),
    }),
  );

  return {
    config,
    database,
    clock,
    logger,
    metrics,
    queue,
    worker,
    providers,
    keys,
    signatures,
    clientSecrets: createClientSecrets(atRest.purposeKeys),
    payments,
    endpoints,
    events,
    idempotency,
    ingest,
    reconciler,
    operators,
    privacy,
    systemKeys,
    keysAtRest: atRest,
    customers,
    dashboardQueries: createDashboardQueries(db, privacy, systemKeys),
    /** Signs audit checkpoints (LOG-4, src/audit/checkpoints.ts). */
    auditSigner: checkpointSigner(config.auditSigningKey),
    receipts: createReceiptService({ db, keys: createReceiptKeyStore({ db, cipher, clock }) }),
    /** MON-3: the incident service acting for `actor` (the dashboard's operator; the CLI makes its own). */
    incidentsFor: (actor: AuditActor) =>
      createIncidentService({
        db,
        clock,
        queue,
        keys,
        cipher,
        receiptKeys: createReceiptKeyStore({ db, cipher, clock }),
        actor,
      }),
    // OPS-3: per client address, on top of the per-account lockout; every password or code counts.
    loginLimiter: limiter('login', config.dashboardLoginAttemptsPerIp, 15 * 60),
    beneficiaries,
    beneficiaryStore,
    payouts,
    payoutEngine,
    payoutSweep,
    payoutBatches: createPayoutBatchService({
      db,
      dialect,
      clock,
      queue,
      payouts,
      holds: payoutHolds,
      limits: { maxBytes: config.payoutFileMaxBytes, maxRows: config.payoutFileMaxRows },
    }),
    payoutControls,
    payoutHolds,
    lookupLimiter: limiter('lookup', config.lookupRateLimitPerMinute, 60),
    apiLimiter: limiter('api', options.apiRateLimitPerMinute ?? config.apiRateLimitPerMinute, 60),
    badSignatureLimiter: limiter('badsig', 30, 60),
    async close() {
      clearInterval(systemKeysRefresh);
      await worker.stop();
      await shared.close();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
