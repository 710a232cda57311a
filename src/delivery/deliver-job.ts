// Sends one event to one merchant endpoint (WHO-1..3). Standard Webhooks headers, so merchants
// verify with the official libraries. Any 2xx within 15 s is success; 3xx is failure (redirects
// are never followed); 410 disables the endpoint; a URL or resolved address the SSRF policy refuses
// fails at once; everything else is retried on the schedule below, then the delivery is `failed`
// and stays replayable. Every attempt is recorded.
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../clock.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { Selectable } from 'kysely';
import type { Db, DeliveriesTable, EventsTable, Mode, WebhookEndpointsTable } from '../db/schema.ts';
import { DELIVER_JOB } from '../events/outbox.ts';
import { newId } from '../ids.ts';
import { jitter, parseRetryAfterMs } from '../jobs/backoff.ts';
import { buildJobRow, type JobQueue } from '../jobs/queue.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { buildEventPayload } from '../events/event-object.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import { signPayload } from './signing.ts';
import {
  checkDeliveryUrl,
  createGuardedDispatcher,
  isPublicAddress,
  isSsrfBlocked,
  originKey,
  type DeliveryPolicy,
  type ResolveHost,
} from './ssrf.ts';
import type { Cidr } from '../net/addresses.ts';
import { activeSecrets } from '../webhook-endpoints/endpoint-service.ts';

/** Delays before retry n (after attempt n fails): about a day in all, ±20% jitter. */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
export const DELIVERY_TIMEOUT_MS = 15_000;
const EXCERPT_BYTES = 512;

export interface DeliverDeps {
  readonly db: Db;
  readonly dialect: DialectStrategy;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly cipher: FieldCipher;
  /** Events about a payment are sealed with the customer's key; opened just before sending. */
  readonly privacy: PrivacyService;
  readonly random?: () => number;
  readonly timeoutMs?: number;
  /** How endpoint names are resolved (tests play DNS with it); the system resolver otherwise. */
  readonly resolveHost?: ResolveHost;
  /** Live mode enabled: test-mode targets are then restricted to loopback and `testAllowedNetworks`. */
  readonly liveEnabled?: boolean;
  readonly testAllowedNetworks?: readonly Cidr[];
}

/** The SSRF policy deliveries (and endpoint registration) in a mode follow. */
export function deliveryPolicy(
  mode: Mode,
  deps: { liveEnabled?: boolean; testAllowedNetworks?: readonly Cidr[] },
): DeliveryPolicy {
  return {
    mode,
    testTargets: deps.liveEnabled === true ? 'restricted' : 'open',
    ...(deps.testAllowedNetworks === undefined ? {} : { allowedNetworks: deps.testAllowedNetworks }),
  };
}

/**
 * Which origins have only ever been reached at public addresses. A response excerpt is kept (and
 * shown) only from those: from an internal address it would be a window into the internal network.
 * An origin that once connected to a non-public address stays marked; an unknown one is not public.
 */
function createOriginTracker(maxOrigins = 10_000) {
  const publicOrigins = new Map<string, boolean>();
  return {
    connected(origin: string, remoteAddress: string | undefined) {
      if (publicOrigins.size >= maxOrigins) publicOrigins.clear();
      const isPublic = remoteAddress !== undefined && isPublicAddress(remoteAddress);
      publicOrigins.set(origin, (publicOrigins.get(origin) ?? true) && isPublic);
    },
    isPublic: (url: URL) => publicOrigins.get(originKey(url.protocol, url.hostname, url.port)) === true,
  };
}

export function createDeliverJob(deps: DeliverDeps) {
  const origins = createOriginTracker();
  const dispatcherOptions = {
    onConnected: origins.connected,
    ...(deps.resolveHost === undefined ? {} : { resolveHost: deps.resolveHost }),
  };
  const policies: Record<Mode, DeliveryPolicy> = {
    test: deliveryPolicy('test', deps),
    live: deliveryPolicy('live', deps),
  };
  const dispatchers: Record<Mode, Dispatcher> = {
    test: createGuardedDispatcher(policies.test, dispatcherOptions),
    live: createGuardedDispatcher(policies.live, dispatcherOptions),
  };
  const log = deps.logger.child({ component: 'delivery' });

  return async (payload: Record<string, unknown>): Promise<void> => {
    const deliveryId = String(payload.deliveryId);
    const found = await readDelivery(deps.db, deliveryId);
    if (found === undefined || found.delivery.status !== 'pending') return;
    const { delivery, event, endpoint } = found;
    const now = deps.clock.nowMs();
    if (endpoint.deleted_at !== null || endpoint.status !== 'enabled') {
      await finish(deliveryId, 'failed', null, now, {
        error: `endpoint is ${endpoint.deleted_at !== null ? 'deleted' : 'disabled'}`,
        latencyMs: 0,
        statusCode: null,
        excerpt: null,
      });
      return;
    }
    const target = checkDeliveryUrl(endpoint.url, policies[endpoint.mode]);
    if (!target.ok) {
      await finish(deliveryId, 'failed', null, now, {
        error: `endpoint URL refused: ${target.reason}`,
        latencyMs: 0,
        statusCode: null,
        excerpt: null,
      });
      return;
    }
    const secrets = await activeSecrets(deps.db, deps.cipher, endpoint.id, now);
    const [opened] = await deps.privacy.openEvents(deps.db, [event]);
    const body = buildEventPayload(opened ?? event);
    const timestampSeconds = Math.floor(now / 1000);
    const started = performance.now();
    let statusCode: number | null = null;
    let excerpt: string | null = null;
    let error: string | null = null;
    let retryAfterMs: number | undefined;
    let refusedAddress = false;
    try {
      const response = await request(target.url, {
        method: 'POST',
        dispatcher: dispatchers[endpoint.mode],
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Paywarden-Webhooks/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestampSeconds),
          'webhook-signature': signPayload({ msgId: event.id, timestampSeconds, body, secrets }),
        },
        body,
        // One deadline for the whole exchange: 15 s from connect to the last byte we read.
        signal: AbortSignal.timeout(deps.timeoutMs ?? DELIVERY_TIMEOUT_MS),
      });
      statusCode = response.statusCode;
      const read = await readExcerpt(response.body);
      excerpt = origins.isPublic(target.url) ? read : null;
      const retryAfter = response.headers['retry-after'];
      retryAfterMs = parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now, 36_000_000);
    } catch (caught) {
      error =
        caught instanceof Error
          ? ((caught as { code?: string }).code ?? caught.name) + ': ' + caught.message
          : 'unknown error';
      refusedAddress = isSsrfBlocked(caught);
    }
    const latencyMs = Math.round(performance.now() - started);
    const attempt = { error, latencyMs, statusCode, excerpt };

    if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
      deps.metrics.deliveries.inc({ result: 'succeeded' });
      await finish(deliveryId, 'succeeded', null, now, attempt);
      return;
    }
    deps.metrics.deliveries.inc({ result: 'failed_attempt' });
    if (refusedAddress) {
      // The name passed the URL check but resolved to an address we never send to (SSRF, WHO-3):
      // like a refused URL, this fails now instead of knocking on an internal address for a day.
      log.error(
        { alert: 'delivery_target_refused', deliveryId, endpointId: endpoint.id, err: error },
        'endpoint resolved to a refused address; delivery failed',
      );
      await finish(deliveryId, 'failed', null, now, attempt);
      return;
    }
    if (statusCode === 410) {
      // 410 Gone is the receiver saying "stop"; its events stay replayable once re-enabled.
      await deps.db
        .updateTable('webhook_endpoints')
        .set({ status: 'disabled', disabled_reason: 'endpoint answered 410 Gone' })
        .where('id', '=', endpoint.id)
        .execute();
      await finish(deliveryId, 'failed', null, now, attempt);
      return;
    }
    const attemptsSoFar = delivery.attempts + 1;
    const scheduled = RETRY_SCHEDULE_MS[attemptsSoFar - 1];
    if (scheduled === undefined) {
      log.error(
        { alert: 'delivery_failed', deliveryId, eventId: event.id, endpointId: endpoint.id },
        'event delivery failed after every retry',
      );
      await finish(deliveryId, 'failed', null, now, attempt);
      return;
    }
    // Retry-After may ask for more patience, never for less than the schedule.
    const delayMs = Math.max(jitter(scheduled, 0.2, deps.random), Math.min(retryAfterMs ?? 0, 36_000_000));
    await finish(deliveryId, 'pending', now + delayMs, now, attempt);
  };

  async function finish(
    deliveryId: string,
    status: 'pending' | 'succeeded' | 'failed',
    nextAttemptAt: number | null,
    now: number,
    attempt: { error: string | null; latencyMs: number; statusCode: number | null; excerpt: string | null },
  ): Promise<void> {
    // The attempt, the delivery's new state and its retry job commit together. None of them reads
    // anything, so they go as one atomic batch (on SQLite one round trip, no transaction mutex).
    const writes = [
      deps.db
        .insertInto('delivery_attempts')
        .values({
          id: newId('att'),
          delivery_id: deliveryId,
          attempted_at: now,
          status_code: attempt.statusCode,
          latency_ms: attempt.latencyMs,
          response_excerpt: attempt.excerpt,
          error: attempt.error,
        })
        .compile(),
      deps.db
        .updateTable('deliveries')
        .set((eb) => ({
          status,
          attempts: eb('attempts', '+', 1),
          next_attempt_at: nextAttemptAt,
          last_attempt_at: now,
          last_status_code: attempt.statusCode,
          updated_at: now,
        }))
        .where('id', '=', deliveryId)
        .compile(),
    ];
    // The retry is a new job row written with the attempt, so a crash cannot lose it.
    if (nextAttemptAt !== null)
      writes.push(
        deps.db
          .insertInto('jobs')
          .values(
            buildJobRow({ kind: DELIVER_JOB, payload: { deliveryId }, runAtMs: nextAttemptAt, maxAttempts: 50 }, now),
          )
          .compile(),
      );
    await deps.dialect.writeAtomically(deps.db, writes);
  }
}

// The delivery, its event and its endpoint in one statement (one round trip where there were
// three): every column of the three rows, prefixed so that none shadows another.
const DELIVERY_COLUMNS = [
  'id',
  'mode',
  'event_id',
  'endpoint_id',
  'status',
  'attempts',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof Selectable<DeliveriesTable>>;
const EVENT_COLUMNS = [
  'id',
  'mode',
  'type',
  'object_id',
  'data_json',
  'customer_id',
  'created_at',
] as const satisfies ReadonlyArray<keyof Selectable<EventsTable>>;
const ENDPOINT_COLUMNS = [
  'id',
  'mode',
  'url',
  'events_json',
  'status',
  'disabled_reason',
  'created_at',
  'deleted_at',
] as const satisfies ReadonlyArray<keyof Selectable<WebhookEndpointsTable>>;

// Every column listed, so a column added to a table is a compile error here until it is.
type Missing<T, Listed extends readonly string[]> = Exclude<keyof T, Listed[number]>;
const allListed: [
  Missing<DeliveriesTable, typeof DELIVERY_COLUMNS>,
  Missing<EventsTable, typeof EVENT_COLUMNS>,
  Missing<WebhookEndpointsTable, typeof ENDPOINT_COLUMNS>,
] extends [never, never, never]
  ? true
  : false = true;
void allListed;

async function readDelivery(db: Db, deliveryId: string) {
  const row = (await db
    .selectFrom('deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select([
      ...DELIVERY_COLUMNS.map((c) => `d.${c} as d_${c}` as const),
      ...EVENT_COLUMNS.map((c) => `e.${c} as e_${c}` as const),
      ...ENDPOINT_COLUMNS.map((c) => `w.${c} as w_${c}` as const),
    ])
    .where('d.id', '=', deliveryId)
    .executeTakeFirst()) as Record<string, unknown> | undefined;
  if (row === undefined) return undefined;
  const pick = <R>(prefix: string, columns: readonly string[]) =>
    Object.fromEntries(columns.map((c) => [c, row[`${prefix}${c}`]])) as R;
  return {
    delivery: pick<Selectable<DeliveriesTable>>('d_', DELIVERY_COLUMNS),
    event: pick<Selectable<EventsTable>>('e_', EVENT_COLUMNS),
    endpoint: pick<Selectable<WebhookEndpointsTable>>('w_', ENDPOINT_COLUMNS),
  };
}

async function readExcerpt(
  body: { text(): Promise<string>; destroy?: () => void } & AsyncIterable<Buffer>,
): Promise<string> {
  // Read at most a small prefix: a hostile endpoint must not make us buffer megabytes.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= EXCERPT_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}
