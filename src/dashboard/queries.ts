// What the dashboard reads. Read-only queries over both dialects; every page shows one mode at a
// time (test or live), like the API.
import { openBeneficiary } from '../beneficiaries/beneficiary-fields.ts';
import { sql } from 'kysely';
import { newestFirstPage } from '../db/pages.ts';
import type { Db, Mode, PaymentStatus } from '../db/schema.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';
import type { SystemKeys } from '../privacy/system-keys.ts';

export function createDashboardQueries(db: Db, privacy: PrivacyService, systemKeys: SystemKeys) {
  /** What was announced about an object (its events, each with its deliveries) and its audit rows, oldest first. */
  async function objectHistory(id: string) {
    const [events, audit] = await Promise.all([
      db
        .selectFrom('events')
        .selectAll()
        .where('object_id', '=', id)
        .orderBy('created_at')
        .execute()
        .then((rows) => privacy.openEvents(db, rows)),
      db.selectFrom('audit_log').selectAll().where('object_id', '=', id).orderBy('created_at').execute(),
    ]);
    const deliveries =
      events.length === 0
        ? []
        : await db
            .selectFrom('deliveries')
            .selectAll()
            .where(
              'event_id',
              'in',
              events.map((e) => e.id),
            )
            .execute();
    return { events, deliveries, audit };
  }

  return {
    objectHistory,

    async overview(mode: Mode, sinceMs: number) {
      // Per status and currency: amounts in different currencies are never added together.
      const byStatus = await db
        .selectFrom('payments')
        .select([
          'status',
          'currency',
          sql<number>`count(*)`.as('n'),
          sql<number>`coalesce(sum(amount_minor), 0)`.as('amount'),
        ])
        .where('mode', '=', mode)
        .where('created_at', '>=', sinceMs)
        .groupBy(['status', 'currency'])
        .execute();
      const failedDeliveries = await db
        .selectFrom('deliveries')
        .select(sql<number>`count(*)`.as('n'))
        .where('mode', '=', mode)
        .where('status', '=', 'failed')
        .executeTakeFirstOrThrow();
      const deadJobs = await db
        .selectFrom('jobs')
        .select(sql<number>`count(*)`.as('n'))
        .where('status', '=', 'dead')
        .executeTakeFirstOrThrow();
      const review = await db
        .selectFrom('payments')
        .select(sql<number>`count(*)`.as('n'))
        .where('mode', '=', mode)
        .where('status', '=', 'requires_review')
        .executeTakeFirstOrThrow();
      // Payouts waiting for a person: a review to resolve, or a code the provider sent.
      const payoutsWaiting = await db
        .selectFrom('payouts')
        .select(['status', sql<number>`count(*)`.as('n')])
        .where('mode', '=', mode)
        .where('status', 'in', ['requires_review', 'requires_action'])
        .groupBy('status')
        .execute();
      const waiting = (status: string) => Number(payoutsWaiting.find((r) => r.status === status)?.n ?? 0);
      return {
        payoutsInReview: waiting('requires_review'),
        payoutsAwaitingCode: waiting('requires_action'),
        byStatus: byStatus.map((r) => ({
          status: r.status,
          currency: r.currency,
          count: Number(r.n),
          amountMinor: Number(r.amount),
        })),
        failedDeliveries: Number(failedDeliveries.n),
        deadJobs: Number(deadJobs.n),
        requiresReview: Number(review.n),
      };
    },

    /** Search by our id, the merchant's reference or the customer's email (exact matches). */
    async searchPayments(mode: Mode, query: string | undefined, status?: PaymentStatus, limit = 50) {
      let q = db.selectFrom('payments').selectAll().where('mode', '=', mode);
      if (status !== undefined) q = q.where('status', '=', status);
      if (query !== undefined && query !== '')
        q = q.where((eb) =>
          eb.or([
            eb('id', '=', query),
            eb('reference', '=', query),
            // Emails are sealed: found through their blind index, never the plaintext (DAT-1).
            eb('customer_email_index', '=', privacy.emailIndex(query)),
            // Rows written before encryption at rest still hold the plaintext.
            eb.and([eb('customer_id', 'is', null), eb('customer_email', 'in', [query, query.toLowerCase()])]),
          ]),
        );
      return privacy.openPayments(db, await q.orderBy('created_at', 'desc').limit(limit).execute());
    },

    /** A payment and everything that happened to it, oldest first. */
    async paymentTimeline(mode: Mode, id: string) {
      const sealed = await db
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', id)
        .where('mode', '=', mode)
        .executeTakeFirst();
      if (sealed === undefined) return undefined;
      const payment = await privacy.openPaymentRow(db, sealed);
      const [webhooks, verifications, history] = await Promise.all([
        db
          .selectFrom('provider_webhooks')
          .selectAll()
          .where('provider_reference', '=', id)
          .orderBy('received_at')
          .execute(),
        db.selectFrom('verifications').selectAll().where('payment_id', '=', id).orderBy('attempted_at').execute(),
        objectHistory(id),
      ]);
      return { payment, webhooks, verifications, ...history };
    },

    async webhooksIn(mode: Mode, limit = 100) {
      return db
        .selectFrom('provider_webhooks')
        .selectAll()
        .where('mode', '=', mode)
        .orderBy('received_at', 'desc')
        .limit(limit)
        .execute();
    },

    async webhookIn(mode: Mode, id: string) {
      const row = await db
        .selectFrom('provider_webhooks')
        .selectAll()
        .where('mode', '=', mode)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined
        ? undefined
        : { ...row, body: await systemKeys.open(row.body, `provider_webhooks.body:${row.id}`) };
    },
    /** A newest-first page of the mode's beneficiaries (deleted ones too), sealed fields opened. */
    async beneficiaries(mode: Mode, options: { limit: number; startingAfter?: string }) {
      const cursor =
        options.startingAfter === undefined
          ? undefined
          : await db
              .selectFrom('beneficiaries')
              .select(['id', 'created_at'])
              .where('mode', '=', mode)
              .where('id', '=', options.startingAfter)
              .executeTakeFirst();
      if (options.startingAfter !== undefined && cursor === undefined) return undefined;
      const page = await newestFirstPage(
        db.selectFrom('beneficiaries').selectAll().where('mode', '=', mode),
        cursor,
        options.limit,
      );
      return {
        data: await Promise.all(page.data.map((row) => openBeneficiary(systemKeys, row))),
        hasMore: page.hasMore,
      };
    },
    /** A beneficiary (deleted ones too) with its sealed fields opened (beneficiary-fields.ts). */
    async beneficiary(mode: Mode, id: string) {
      return openBeneficiary(
        systemKeys,
        await db
          .selectFrom('beneficiaries')
          .selectAll()
          .where('id', '=', id)
          .where('mode', '=', mode)
          .executeTakeFirst(),
      );
    },
    async deliveryAttempts(deliveryIds: readonly string[]) {
      if (deliveryIds.length === 0) return [];
      return db
        .selectFrom('delivery_attempts')
        .selectAll()
        .where('delivery_id', 'in', deliveryIds)
        .orderBy('attempted_at', 'desc')
        .execute();
    },
    async deliveriesOut(mode: Mode, limit = 100) {
      return db
        .selectFrom('deliveries')
        .innerJoin('events', 'events.id', 'deliveries.event_id')
        .select([
          'deliveries.id',
          'deliveries.status',
          'deliveries.attempts',
          'deliveries.last_status_code',
          'deliveries.last_attempt_at',
          'deliveries.endpoint_id',
          'events.id as event_id',
          'events.type',
        ])
        .where('deliveries.mode', '=', mode)
        .orderBy('deliveries.created_at', 'desc')
        .limit(limit)
        .execute();
    },

    async audit(
      filters: {
        actorId?: string | undefined;
        action?: string | undefined;
        objectId?: string | undefined;
        result?: 'success' | 'failure' | 'denied' | undefined;
        sinceMs?: number;
      },
      limit = 200,
    ) {
      let q = db.selectFrom('audit_log').selectAll();
      if (filters.result !== undefined) q = q.where('result', '=', filters.result);
      if (filters.actorId !== undefined) q = q.where('actor_id', '=', filters.actorId);
      // A prefix match without LIKE, whose wildcards (`_` in `api_key`) would need escaping per dialect.
      if (filters.action !== undefined)
        q = q.where(sql<string>`substr(action, 1, ${filters.action.length})`, '=', filters.action);
      if (filters.objectId !== undefined) q = q.where('object_id', '=', filters.objectId);
      if (filters.sinceMs !== undefined) q = q.where('created_at', '>=', filters.sinceMs);
      return q.orderBy('created_at', 'desc').limit(limit).execute();
    },
  };
}

export type DashboardQueries = ReturnType<typeof createDashboardQueries>;
