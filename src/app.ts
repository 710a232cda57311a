// buildApp(deps) returns a Fastify instance and never listens; main.ts listens, tests inject.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { computeSecurityHeaders, HSTS_HEADER } from './http/security-headers.ts';
import { TLS_CIPHERS } from './http/tls-ciphers.ts';
import { newId } from './ids.ts';
import { installErrorHandling, sendError } from './http/errors-plugin.ts';
import { validatorCompiler } from './http/validation.ts';
import { v1Plugin, type V1Deps } from './api/v1-plugin.ts';
import { apiReadAuditor } from './audit/audit.ts';
import { webhooksPlugin } from './ingest/webhooks-plugin.ts';
import type { Services } from './services.ts';
import { dashboardPlugin } from './dashboard/plugin.ts';
import { installOpenApi } from './openapi/plugin.ts';
import { createAddressMatcher, formatCidr, isLoopback, type Cidr } from './net/addresses.ts';
import { dashboardHosts } from './net/host-allowlist.ts';
import {
  applyConnectionCap,
  installLoadShedding,
  pressureReport,
  SHED_RETRY_AFTER_SECONDS,
  timeoutOptions,
} from './http/server-limits.ts';

const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'DELETE']);

export interface BuildOptions {
  /** A trusted TLS-terminating proxy's address(es): only from them is X-Forwarded-For believed. */
  readonly trustProxy?: readonly Cidr[];
  readonly https?: { key: Buffer; cert: Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3' };
  /** Worker processes (PAYWARDEN_ROLE=worker) answer only /healthz, /readyz and /metrics. */
  readonly operationsOnly?: boolean;
}

export async function buildApp(services: Services, options: BuildOptions = {}): Promise<FastifyInstance> {
  const limits = services.config.http;
  const { serverOptions, ...timeouts } = timeoutOptions(limits);
  const app = Fastify({
    ...timeouts,
    loggerInstance: services.logger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId('req'),
    requestIdHeader: false,
    // A predicate over our own parser rather than proxy-addr's strings: one address grammar.
    trustProxy: options.trustProxy === undefined ? false : trustedHop(createAddressMatcher(options.trustProxy)),
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    ...(options.https === undefined
      ? { http: serverOptions }
      : {
          https: {
            ...serverOptions,
            key: options.https.key,
            cert: options.https.cert,
            minVersion: options.https.minVersion,
            ciphers: TLS_CIPHERS,
            honorCipherOrder: true,
          },
        }),
  }) as unknown as FastifyInstance;
  applyConnectionCap(app, limits);
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);

  const securityHeaders = computeSecurityHeaders();
  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(securityHeaders);
    if (request.protocol === 'https') void reply.headers(HSTS_HEADER);
    void reply.header('request-id', request.id);
    // Two Host headers make "which host is this for" ambiguous (cache poisoning, routing
    // confusion between a proxy and us): refused outright (RFC 9112 §3.2 says 400).
    if (hostHeaderCount(request.raw.rawHeaders) > 1)
      return sendError(reply, request, 'invalid_request', { message: 'The request has more than one Host header.' });
    // NET-3: TRACE, PUT, PATCH, OPTIONS and the rest are refused everywhere.
    if (!ALLOWED_METHODS.has(request.method)) {
      void reply.header('allow', [...ALLOWED_METHODS].join(', '));
      return sendError(reply, request, 'method_not_allowed');
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.httpDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await installLoadShedding(app, limits, (reason) => services.metrics.loadShed.inc({ reason }));
  // Honest about saturation: 503 while the process sheds load, so a load balancer sends elsewhere.
  app.get('/healthz', async (_request, reply) => {
    const pressure = pressureReport(app, limits);
    if (!pressure.overloaded) return { status: 'ok' };
    return reply
      .code(503)
      .header('retry-after', String(SHED_RETRY_AFTER_SECONDS))
      .send({ status: 'overloaded', reasons: pressure.reasons });
  });
  app.get('/readyz', async (request, reply) => {
    try {
      await services.database.dialect.ping(services.database.db);
      return { status: 'ready' };
    } catch {
      return sendError(reply, request, 'service_unavailable', { message: 'The database is not reachable.' });
    }
  });

  // MON-1: Prometheus metrics, for the monitoring system on this host (or behind the proxy) only.
  app.get('/metrics', async (request, reply) => {
    if (!isLoopback(request.socket.remoteAddress)) return sendError(reply, request, 'not_found');
    return reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });

  if (options.operationsOnly === true) return app;
  // Before the API plugin, so the description sees every /v1 route as registered.
  installOpenApi(app);
  await app.register(v1Plugin, { prefix: '/v1', ...v1Deps(services) });
  await app.register(dashboardPlugin, {
    prefix: '/dashboard',
    db: services.database.db,
    clock: services.clock,
    operators: services.operators,
    queries: services.dashboardQueries,
    keys: services.keys,
    endpoints: services.endpoints,
    events: services.events,
    payoutBatches: services.payoutBatches,
    payoutHolds: services.payoutHolds,
    payoutControls: services.payoutControls,
    incidentsFor: services.incidentsFor,
    customers: services.customers,
    payouts: services.payouts,
    queue: services.queue,
    loginLimiter: services.loginLimiter,
    publicUrl: services.config.publicUrl,
    liveEnabled: services.config.liveEnabled,
    allowedNetworks: services.config.dashboardAllowedNetworks,
    hosts: dashboardHosts(services.config),
    deployment: deploymentFacts(services),
  });
  await app.register(webhooksPlugin, {
    prefix: '/webhooks',
    providers: services.providers,
    ingest: services.ingest,
    badSignatureLimiter: services.badSignatureLimiter,
  });
  return app;
}

/** The /v1 plugin's dependencies (also used by the route-scopes test to walk its routes). */
export function v1Deps(services: Services): V1Deps {
  return {
    keys: services.keys,
    metrics: services.metrics,
    apiLimiter: services.apiLimiter,
    idempotency: services.idempotency,
    payments: services.payments,
    endpoints: services.endpoints,
    events: services.events,
    beneficiaries: services.beneficiaries,
    lookupLimiter: services.lookupLimiter,
    liveEnabled: services.config.liveEnabled,
    beneficiaryStore: services.beneficiaryStore,
    payouts: services.payouts,
    payoutBatches: services.payoutBatches,
    providers: services.providers,
    providerNames: Object.keys(services.config.providers),
    customers: services.customers,
    receipts: services.receipts,
    auditReads: apiReadAuditor(services.database.db, services.clock),
    signatures: services.signatures,
    publishableOrigins: services.config.publishableKeyOrigins,
    clientSecrets: services.clientSecrets,
  };
}

/** What the settings page shows about this deployment: facts an operator checks, never secrets. */
function deploymentFacts(services: Services): ReadonlyArray<readonly [string, string]> {
  const { config } = services;
  return [
    ['Live mode', config.liveEnabled ? 'enabled' : 'off (test mode only)'],
    ['Database', services.database.dialect.name],
    ['Shared rate limits (Redis)', config.redisUrl === undefined ? 'off (in-process)' : 'on'],
    [
      'TLS',
      config.tls !== undefined
        ? `terminated here (${config.tls.minVersion} minimum)`
        : config.trustedProxy !== undefined
          ? `by the trusted proxy ${config.trustedProxy.map(formatCidr).join(', ')}`
          : 'none (loopback test mode)',
    ],
    ['Providers', Object.keys(config.providers).join(', ')],
    ['Dashboard idle timeout', `${config.dashboardIdleTimeoutMinutes} minutes`],
    ['Dashboard session maximum', `${config.dashboardSessionMaxMinutes} minutes`],
    ['Sign-in attempts per address', `${config.dashboardLoginAttemptsPerIp} per 15 minutes`],
    [
      'Dashboard reachable from',
      config.dashboardAllowedNetworks === undefined
        ? 'any network the server listens on'
        : config.dashboardAllowedNetworks.map(formatCidr).join(', '),
    ],
  ];
}

function trustedHop(trusted: (address: string) => boolean): (address: string, hop: number) => boolean {
  return (address) => trusted(address);
}

function hostHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === 'host') count += 1;
  return count;
}
