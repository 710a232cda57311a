// The merchant API, /v1. Encapsulated: its key auth, idempotency and JSON error format apply only
// here, never to the provider webhook receiver or the dashboard.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from '../errors.ts';
import type { EventService } from '../events/event-service.ts';
import type { IdempotencyClaim, IdempotencyStore } from '../idempotency/idempotency.ts';
import { requestHash } from '../idempotency/idempotency.ts';
import type { ApiKeyService } from '../keys/api-keys.ts';
import type { Metrics } from '../metrics.ts';
import type { PaymentService } from '../payments/payment-service.ts';
import { paymentRoutes } from '../payments/routes.ts';
import { clientStatusRoute } from '../payments/client-status-route.ts';
import type { ClientSecrets } from '../payments/client-secret.ts';
import type { EndpointService } from '../webhook-endpoints/endpoint-service.ts';
import { endpointRoutes } from '../webhook-endpoints/routes.ts';
import { eventRoutes } from '../events/routes.ts';
import type { BeneficiaryService } from '../beneficiaries/beneficiary-service.ts';
import { beneficiaryRoutes } from '../beneficiaries/routes.ts';
import type { BeneficiaryStore } from '../beneficiaries/beneficiary-store.ts';
import type { PayoutService } from '../payouts/payout-service.ts';
import { payoutRoutes } from '../payouts/routes.ts';
import type { PayoutBatchService } from '../payout-batches/batch-service.ts';
import { payoutBatchRoutes } from '../payout-batches/routes.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { CustomerDataService } from '../privacy/customer-data.ts';
import { customerDataRoutes } from '../privacy/routes.ts';
import type { ReceiptService } from '../receipts/receipt-service.ts';
import type { AuditReads } from '../audit/audit.ts';
import { receiptRoutes } from '../receipts/routes.ts';
import { contextOf, requireApiKey, requireScope, requireSignature } from './auth.ts';
import type { SignatureVerifier } from '../keys/request-signing.ts';

export interface V1Deps {
  readonly keys: ApiKeyService;
  readonly metrics: Metrics;
  readonly apiLimiter: RateLimiterAbstract;
  readonly idempotency: IdempotencyStore;
  readonly payments: PaymentService;
  readonly endpoints: EndpointService;
  readonly events: EventService;
  readonly beneficiaries: BeneficiaryService;
  readonly lookupLimiter: RateLimiterAbstract;
  readonly beneficiaryStore: BeneficiaryStore;
  readonly payouts: PayoutService;
  readonly payoutBatches: PayoutBatchService;
  readonly providers: ProviderRegistry;
  readonly providerNames: readonly string[];
  readonly liveEnabled: boolean;
  readonly customers: CustomerDataService;
  readonly receipts: ReceiptService;
  /** LOG-3: records the API's sensitive reads (src/audit/audit.ts auditRead). */
  readonly auditReads: AuditReads;
  readonly signatures: SignatureVerifier;
  /** Browser origins allowed to use publishable keys (API-1). */
  readonly publishableOrigins: readonly string[];
  readonly clientSecrets: ClientSecrets;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's claim of its Idempotency-Key (src/idempotency), when it is to run. */
    idempotencyClaim?: Extract<IdempotencyClaim, { kind: 'proceed' }>;
  }
}

export async function v1Plugin(app: FastifyInstance, deps: V1Deps): Promise<void> {
  app.addHook('onRequest', async (_request, reply) => {
    // NET-2: API answers carry payment data; no cache may keep them.
    void reply.header('cache-control', 'no-store');
  });
  // The JSON parser keeps the exact bytes received: a request signature covers them (API-5).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    void parseJson(request, body.toString('utf8'), done);
  });
  app.addHook(
    'onRequest',
    requireApiKey({
      keys: deps.keys,
      metrics: deps.metrics,
      limiter: deps.apiLimiter,
      publishableOrigins: deps.publishableOrigins,
    }),
  );
  app.addHook('onRequest', async (request) => {
    if (request.apiKey?.mode === 'live' && !deps.liveEnabled) throw new ApiError('mode_not_enabled');
  });
  app.addHook('onRequest', requireScope({ metrics: deps.metrics }));
  app.addHook('preValidation', requireSignature({ verifier: deps.signatures, metrics: deps.metrics }));

  // API-7: runs after schema validation, so only well-formed requests claim a key.
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const principal = contextOf(request);
    const rawKey = request.headers['idempotency-key'];
    const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
    const claim = await deps.idempotency.claim(
      principal.apiKeyId,
      key,
      requestHash(request.method, request.routeOptions.url ?? request.url, request.body),
    );
    if (claim.kind === 'replay') {
      return reply
        .code(claim.status)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(claim.body);
    }
    request.idempotencyClaim = claim;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (claim !== undefined && request.apiKey !== undefined) {
      await deps.idempotency.complete(
        request.apiKey.id,
        claim.key,
        claim.lockedUntilMs,
        reply.statusCode,
        typeof payload === 'string' ? payload : JSON.stringify(payload ?? null),
        reply.hasHeader('retry-after'),
      );
    }
    return payload;
  });

  paymentRoutes(app, deps.payments, deps.auditReads, deps.clientSecrets);
  clientStatusRoute(app, { payments: deps.payments, clientSecrets: deps.clientSecrets });
  endpointRoutes(app, deps.endpoints);
  eventRoutes(app, deps.events, deps.auditReads);
  beneficiaryRoutes(app, {
    beneficiaries: deps.beneficiaries,
    store: deps.beneficiaryStore,
    lookupLimiter: deps.lookupLimiter,
    auditReads: deps.auditReads,
  });
  payoutRoutes(app, { payouts: deps.payouts, providers: deps.providers, providerNames: deps.providerNames });
  payoutBatchRoutes(app, { batches: deps.payoutBatches });
  customerDataRoutes(app, deps.customers);
  receiptRoutes(app, deps.receipts);
}
