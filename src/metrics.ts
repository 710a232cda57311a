import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// MON-1: counters for what an operator must be alerted on (bad signatures, dead jobs, failed
// deliveries, mismatches) and latency histograms for the request path.
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhooksReceived: new Counter({
      name: 'paywarden_provider_webhooks_total',
      help: 'Provider webhooks received, by result',
      labelNames: ['provider', 'result'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'paywarden_event_deliveries_total',
      help: 'Attempts to deliver events to merchant endpoints, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    paymentTransitions: new Counter({
      name: 'paywarden_payment_transitions_total',
      help: 'Payment status changes',
      labelNames: ['to'],
      registers: [registry],
    }),
    deadJobs: new Counter({
      name: 'paywarden_jobs_dead_total',
      help: 'Jobs that exhausted their attempts or cannot succeed; each needs attention',
      labelNames: ['kind'],
      registers: [registry],
    }),
    loadShed: new Counter({
      name: 'paywarden_http_load_shed_total',
      help: 'Requests refused with 503 because the process was saturated, by the limit exceeded',
      labelNames: ['reason'],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'paywarden_api_auth_failures_total',
      help: 'Requests with a missing or invalid API key',
      registers: [registry],
    }),
    scopeRefusals: new Counter({
      name: 'paywarden_api_scope_refusals_total',
      help: 'Requests refused because the API key lacks the route scope (API-4), by scope',
      labelNames: ['scope'],
      registers: [registry],
    }),
    // MON-2: each key's request rate, for the rule comparing it with its own recent baseline.
    // Bounded: one series per API key, and keys are made by operators, not by clients.
    apiRequests: new Counter({
      name: 'paywarden_api_requests_total',
      help: 'Authenticated API requests, by key id and mode',
      labelNames: ['key_id', 'mode'],
      registers: [registry],
    }),
    jobAttemptFailures: new Counter({
      name: 'paywarden_job_attempt_failures_total',
      help: 'Job attempts that failed and will be retried (webhook processing, verification, delivery), by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    addressRefusals: new Counter({
      name: 'paywarden_api_address_refusals_total',
      help: "Requests refused because they came from outside the API key's address allowlist (API-6), by mode",
      labelNames: ['mode'],
      registers: [registry],
    }),
    signatureRefusals: new Counter({
      name: 'paywarden_api_signature_refusals_total',
      help: 'Signed requests refused (API-5), by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'paywarden_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
