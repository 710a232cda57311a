// The Paywarden merchant API client. It does the careful parts for you: an Idempotency-Key on
// every POST (yours, or one it generates) kept across its own retries, so a retry can never create
// a second payment; bounded retries with backoff for network failures, 429 (after Retry-After) and
// 5xx; the error envelope as a typed `PaywardenError` with the request id.
import { PaywardenConnectionError, PaywardenError, isErrorEnvelope } from './errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  delayBeforeRetryMs,
  type RetryPolicy,
  retryAfterMs,
  shouldRetryStatus,
} from './retry.ts';
import type { operations } from './schema.d.ts';

type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The success answer of an operation, from the generated types. */
export type Answer<K extends keyof operations> = JsonOf<
  operations[K]['responses'] extends infer R ? R[Extract<keyof R, 200 | 201 | 202>] : never
>;
/** The JSON body of an operation. */
export type BodyOf<K extends keyof operations> = operations[K] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;
/** The query parameters of an operation. */
export type QueryOf<K extends keyof operations> = operations[K] extends { parameters: { query?: infer Q } }
  ? NonNullable<Q>
  : never;

export type Payment = Answer<'getPaymentsId'>;
export type WebhookEndpoint = Answer<'postWebhookEndpoints'>;
export type Event = Answer<'getEventsId'>;
export type Payout = Answer<'getPayoutsId'>;
export type Beneficiary = Answer<'getBeneficiariesId'>;
export type PayoutBatch = Answer<'getPayoutBatchesId'>;

export interface ClientOptions {
  /** A secret key, `sk_test_...` or `sk_live_...`. Keep it on your server. */
  readonly apiKey: string;
  /** The gateway's URL, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Per attempt. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** For tests: how the client waits between attempts. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /** For a POST: reuse the key of a request whose outcome you do not know, and nothing happens twice. */
  readonly idempotencyKey?: string;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createPaywardenClient(options: ClientOptions) {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? sleepFor;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, request: RequestOptions = {}): Promise<T> {
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const idempotencyKey = method === 'POST' ? (request.idempotencyKey ?? crypto.randomUUID()) : undefined;
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        if (attempt >= policy.maxRetries)
          throw new PaywardenConnectionError(
            `${method} ${path}: no answer from the gateway after ${attempt + 1} attempts`,
            idempotencyKey,
            cause,
          );
        await sleep(delayBeforeRetryMs(policy, attempt, undefined));
        continue;
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (response.ok) return parsed as T;
      const envelope = isErrorEnvelope(parsed) ? parsed : undefined;
      if (attempt < policy.maxRetries && shouldRetryStatus(response.status, envelope?.error.code)) {
        await sleep(delayBeforeRetryMs(policy, attempt, retryAfterMs(response.headers.get('retry-after'), Date.now())));
        continue;
      }
      throw new PaywardenError(response.status, envelope, response.headers.get('request-id') ?? undefined);
    }
  }

  const idParam = (id: string) => encodeURIComponent(id);

  return {
    request,
    payments: {
      create: (body: BodyOf<'postPayments'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayments'>>('POST', '/v1/payments', { body, ...opts }),
      get: (id: string) => request<Answer<'getPaymentsId'>>('GET', `/v1/payments/${idParam(id)}`),
      list: (query: QueryOf<'getPayments'> = {}) => request<Answer<'getPayments'>>('GET', '/v1/payments', { query }),
      /** A succeeded payment's signed receipt; check it with `verifyReceipt`. */
      receipt: (id: string) => request<Answer<'getPaymentsIdReceipt'>>('GET', `/v1/payments/${idParam(id)}/receipt`),
    },
    webhookEndpoints: {
      create: (body: BodyOf<'postWebhookEndpoints'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postWebhookEndpoints'>>('POST', '/v1/webhook_endpoints', { body, ...opts }),
      list: () => request<Answer<'getWebhookEndpoints'>>('GET', '/v1/webhook_endpoints'),
      delete: (id: string) =>
        request<Answer<'deleteWebhookEndpointsId'>>('DELETE', `/v1/webhook_endpoints/${idParam(id)}`),
      rotateSecret: (id: string, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postWebhookEndpointsIdRotateSecret'>>(
          'POST',
          `/v1/webhook_endpoints/${idParam(id)}/rotate_secret`,
          opts,
        ),
    },
    events: {
      list: (query: QueryOf<'getEvents'> = {}) => request<Answer<'getEvents'>>('GET', '/v1/events', { query }),
      get: (id: string) => request<Answer<'getEventsId'>>('GET', `/v1/events/${idParam(id)}`),
      redeliver: (id: string, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postEventsIdRedeliver'>>('POST', `/v1/events/${idParam(id)}/redeliver`, opts),
    },
    banks: {
      list: (query: QueryOf<'getBanks'>) => request<Answer<'getBanks'>>('GET', '/v1/banks', { query }),
    },
    accounts: {
      resolve: (body: BodyOf<'postAccountsResolve'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postAccountsResolve'>>('POST', '/v1/accounts/resolve', { body, ...opts }),
    },
    beneficiaries: {
      create: (body: BodyOf<'postBeneficiaries'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postBeneficiaries'>>('POST', '/v1/beneficiaries', { body, ...opts }),
      get: (id: string) => request<Answer<'getBeneficiariesId'>>('GET', `/v1/beneficiaries/${idParam(id)}`),
      list: (query: QueryOf<'getBeneficiaries'> = {}) =>
        request<Answer<'getBeneficiaries'>>('GET', '/v1/beneficiaries', { query }),
      delete: (id: string) => request<Answer<'deleteBeneficiariesId'>>('DELETE', `/v1/beneficiaries/${idParam(id)}`),
    },
    /** Payouts: give each one your own `reference` (unique forever); a retry never sends twice. */
    payouts: {
      create: (body: BodyOf<'postPayouts'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayouts'>>('POST', '/v1/payouts', { body, ...opts }),
      get: (id: string) => request<Answer<'getPayoutsId'>>('GET', `/v1/payouts/${idParam(id)}`),
      list: (query: QueryOf<'getPayouts'> = {}) => request<Answer<'getPayouts'>>('GET', '/v1/payouts', { query }),
      receipt: (id: string) => request<Answer<'getPayoutsIdReceipt'>>('GET', `/v1/payouts/${idParam(id)}/receipt`),
      cancel: (id: string, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayoutsIdCancel'>>('POST', `/v1/payouts/${idParam(id)}/cancel`, opts),
      refresh: (id: string, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayoutsIdRefresh'>>('POST', `/v1/payouts/${idParam(id)}/refresh`, opts),
      finalize: (id: string, body: BodyOf<'postPayoutsIdFinalize'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayoutsIdFinalize'>>('POST', `/v1/payouts/${idParam(id)}/finalize`, { body, ...opts }),
    },
    /** Payout files: a CSV checked row by row (all or nothing); each payout then waits for an operator's approval. */
    payoutBatches: {
      create: (body: BodyOf<'postPayoutBatches'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postPayoutBatches'>>('POST', '/v1/payout_batches', { body, ...opts }),
      get: (id: string) => request<Answer<'getPayoutBatchesId'>>('GET', `/v1/payout_batches/${idParam(id)}`),
    },
    balances: {
      get: () => request<Answer<'getBalances'>>('GET', '/v1/balances'),
    },
    customers: {
      export: (body: BodyOf<'postCustomersExport'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postCustomersExport'>>('POST', '/v1/customers/export', { body, ...opts }),
      erase: (body: BodyOf<'postCustomersErase'>, opts: { idempotencyKey?: string } = {}) =>
        request<Answer<'postCustomersErase'>>('POST', '/v1/customers/erase', { body, ...opts }),
    },
  };
}

export type PaywardenClient = ReturnType<typeof createPaywardenClient>;
