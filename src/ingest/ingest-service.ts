// Provider webhooks in (WHI-1..5): signature first, on the raw bytes; then schema; then the raw
// event, its dedupe key and its job row in one transaction (group-committed, through the dialect
// seam's batch writer); then 200. The
// provider is never called on the request path: the job does that.
import { sql } from 'kysely';
import type { SystemKeys } from '../privacy/system-keys.ts';
import type { Clock } from '../clock.ts';
import { createBatcher } from '../db/batcher.ts';
import type { DialectStrategy, IngestRow } from '../db/dialect.ts';
import type { Db, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { buildJobRow, type JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { ProviderWebhookHandler } from '../providers/types.ts';
import { verifyPayment, type VerifyDeps } from '../payments/verification.ts';
import type { Metrics } from '../metrics.ts';
import { createAddressMatcher, type Cidr } from '../net/addresses.ts';

export const PROCESS_WEBHOOK_JOB = 'process_provider_webhook';

export type IngestResult =
  | { kind: 'stored'; webhookId: string }
  | { kind: 'duplicate' }
  | { kind: 'bad_signature'; reason: string; late: boolean }
  | { kind: 'bad_payload'; reason: string }
  | { kind: 'source_not_allowed' };

export function createIngestService(deps: {
  db: Db;
  dialect: DialectStrategy;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Seals the raw payload: providers put the customer's email and name in it (DAT-1). */
  systemKeys: SystemKeys;
  ipAllowlists?: Readonly<Record<string, readonly Cidr[] | undefined>>;
}) {
  const log = deps.logger.child({ component: 'ingest' });
  const sourceAllowed = Object.fromEntries(
    Object.entries(deps.ipAllowlists ?? {}).map(([name, cidrs]) => [
      name,
      cidrs === undefined ? undefined : createAddressMatcher(cidrs),
    ]),
  );
  // Group commit: concurrent webhooks share one transaction (and one fsync).
  const batcher = createBatcher<IngestRow, boolean>((rows) => deps.dialect.writeIngestBatch(deps.db, rows), {
    maxInFlight: 4,
  });

  async function ingest(
    handler: ProviderWebhookHandler,
    rawBody: Buffer,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    sourceIp?: string,
  ): Promise<IngestResult> {
    const check = handler.verifySignature(rawBody, headers);
    if (!check.ok) {
      const late = check.late === true;
      deps.metrics.webhooksReceived.inc({ provider: handler.name, result: late ? 'late' : 'bad_signature' });
      log.warn(
        { provider: handler.name, reason: check.reason },
        late
          ? 'rejected provider webhook: signed, but outside the timestamp window'
          : 'rejected provider webhook: bad signature',
      );
      return { kind: 'bad_signature', reason: check.reason, late };
    }
    // WHI-9: in live mode, a provider that publishes its webhook addresses is believed only from them.
    const allowed = sourceAllowed[handler.name];
    if (check.mode === 'live' && allowed !== undefined && !allowed(sourceIp)) {
      deps.metrics.webhooksReceived.inc({ provider: handler.name, result: 'source_not_allowed' });
      log.warn(
        { alert: 'webhook_source_not_allowed', provider: handler.name, ip: sourceIp },
        'rejected provider webhook: source address not on the allowlist',
      );
      return { kind: 'source_not_allowed' };
    }
    const parsed = handler.parse(rawBody, headers);
    if (!parsed.ok) {
      deps.metrics.webhooksReceived.inc({ provider: handler.name, result: 'bad_payload' });
      log.warn(
        { provider: handler.name, reason: parsed.reason },
        'rejected provider webhook: payload does not match the schema',
      );
      return { kind: 'bad_payload', reason: parsed.reason };
    }
    const { event } = parsed;
    const webhookId = newId('whk');
    const now = deps.clock.nowMs();
    const stored = await batcher.submit({
      webhook: {
        id: webhookId,
        provider: handler.name,
        mode: check.mode,
        dedupe_key: event.dedupeKey,
        event_type: event.eventType,
        provider_reference: event.paymentId ?? null,
        signature_scheme: check.scheme,
        body: deps.systemKeys.seal(rawBody.toString('utf8'), `provider_webhooks.body:${webhookId}`),
        received_at: now,
        status: 'received',
        result: null,
        processed_at: null,
      },
      // The job carries what processing needs, so it does not read the stored body back.
      job: buildJobRow(
        {
          kind: PROCESS_WEBHOOK_JOB,
          payload: {
            webhookId,
            mode: check.mode,
            eventType: event.eventType,
            paymentId: event.paymentId ?? null,
            providerTxId: event.providerTxId ?? null,
            ...(event.transfer === undefined
              ? {}
              : { provider: handler.name, transferReference: event.transfer.reference }),
          },
          maxAttempts: 25,
        },
        now,
      ),
    });
    deps.metrics.webhooksReceived.inc({ provider: handler.name, result: stored ? 'stored' : 'duplicate' });
    if (!stored) return { kind: 'duplicate' };
    deps.queue.notify();
    return { kind: 'stored', webhookId };
  }

  return { ingest };
}

/** The job: a verified webhook is a hint to ask the provider (never a reason to give value). */
interface ProcessEvent {
  readonly mode: Mode;
  readonly eventType: string | null;
  readonly paymentId: string | null;
  readonly providerTxId: string | null;
  readonly provider: string | null;
  readonly transferReference: string | null;
}

function eventFromPayload(payload: Record<string, unknown>): ProcessEvent {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    mode: payload.mode === 'live' ? 'live' : 'test',
    eventType: text(payload.eventType),
    paymentId: text(payload.paymentId),
    providerTxId: text(payload.providerTxId),
    provider: text(payload.provider),
    transferReference: text(payload.transferReference),
  };
}

interface WebhookResult {
  readonly id: string;
  readonly status: 'processed' | 'ignored';
  readonly result: string;
  readonly processedAt: number;
}

/** A transfer webhook is a hint: the payout core asks the provider (src/payouts/engine.ts). */
export type TransferHintHandler = (payoutId: string) => Promise<string>;

export function createProcessWebhookJob(deps: VerifyDeps & { onTransferHint?: TransferHintHandler }) {
  // Results of concurrent jobs are recorded together: one statement, so one commit for many
  // webhooks, and no transaction held open across round trips (on SQLite, the ingest batches
  // would wait behind it).
  const recordResults = createBatcher<WebhookResult, void>(async (items) => {
    const byId = <T>(pick: (item: WebhookResult) => unknown) =>
      sql<T>`case ${sql.ref('id')} ${sql.join(
        items.map((item) => sql`when ${item.id} then ${pick(item)}`),
        sql` `,
      )} end`;
    await deps.db
      .updateTable('provider_webhooks')
      // PostgreSQL types a CASE of bare parameters as text: the bigint column needs its cast.
      .set({
        status: byId<WebhookResult['status']>((item) => item.status),
        result: byId<string>((item) => item.result),
        processed_at: byId<number>((item) => sql`cast(${item.processedAt} as bigint)`),
      })
      .where(
        'id',
        'in',
        items.map((item) => item.id),
      )
      .execute();
    return items.map(() => undefined);
  });
  return async (payload: Record<string, unknown>): Promise<void> => {
    const webhookId = String(payload.webhookId);
    const event = eventFromPayload(payload);
    let status: 'processed' | 'ignored' = 'ignored';
    let result = 'unrecognised payload';
    if (event.transferReference !== null && event.provider !== null && deps.onTransferHint !== undefined) {
      const attempt = await deps.db
        .selectFrom('payout_attempts')
        .innerJoin('payouts', 'payouts.id', 'payout_attempts.payout_id')
        .select(['payouts.id as payoutId', 'payouts.mode as mode'])
        .where('payout_attempts.provider', '=', event.provider)
        .where('payout_attempts.reference', '=', event.transferReference)
        .executeTakeFirst();
      if (attempt === undefined || attempt.mode !== event.mode) {
        result = 'no payout attempt with this reference in this mode';
      } else {
        result = await deps.onTransferHint(attempt.payoutId);
        status = 'processed';
      }
    } else if (event.paymentId !== null) {
      // The whole row: verification starts from it instead of reading it again.
      const payment = await deps.db
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', event.paymentId)
        .executeTakeFirst();
      if (payment === undefined || payment.mode !== event.mode) {
        result = 'no payment with this reference in this mode';
      } else {
        // A re-run after a crash verifies again; verification is idempotent (the state machine
        // refuses a second transition).
        result = await verifyPayment(deps, payment.id, event.providerTxId, payment);
        status = 'processed';
      }
    } else if (event.eventType !== null) {
      result = `event ${event.eventType} is not about a payment`;
    }
    await recordResults.submit({ id: webhookId, status, result, processedAt: deps.clock.nowMs() });
  };
}
