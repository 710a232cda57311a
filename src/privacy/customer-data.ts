// Customer data rights (DAT-3): everything stored about one customer as one document, and
// erasure by crypto-shredding. Erasing destroys the customer's data key in one transaction with
// its audit row: every field sealed with it (payments, their events) becomes unreadable at once,
// while the payments keep their amounts, statuses and references for accounting. Raw provider
// payloads about those payments are replaced by an erased marker in the same transaction. Audit
// rows name the customer by id only, never by email.
import type { Clock } from '../clock.ts';
import type { Db, Mode } from '../db/schema.ts';
import { type AuditActor, writeAudit, auditActorOf } from '../audit/audit.ts';
import { toEventObject } from '../events/event-object.ts';
import { toPaymentObject } from '../payments/payment-object.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import type { PrivacyService } from './privacy-service.ts';
import type { SystemKeys } from './system-keys.ts';
import { type ErasureEntry, type ErasureJournal, erasuresToReapply } from './erasure-journal.ts';
import { newId } from '../ids.ts';

/** The request, and who acts: an API key or operator (from the context), or the command line. */
export type DataRightsContext = RequestContext & { readonly actor?: AuditActor };

export type CustomerSelector = { readonly email: string } | { readonly customerId: string };

export interface CustomerDataDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly privacy: PrivacyService;
  readonly systemKeys: SystemKeys;
  /** Outside the database, so erasures survive the restore of an older backup (erasure-journal.ts). */
  readonly erasureJournal: ErasureJournal;
}

export function createCustomerDataService(deps: CustomerDataDeps) {
  const service = createRightsService(deps);
  return {
    ...service,
    /**
     * Re-applies every journalled erasure the database does not hold (after the restore of a
     * backup older than them): run by `paywarden restore` and by every start before serving.
     */
    async reapplyErasures(): Promise<ErasureEntry[]> {
      const missing = await erasuresToReapply(deps.db, deps.erasureJournal);
      for (const entry of missing)
        await service.eraseCustomer(
          {
            mode: entry.mode,
            apiKeyId: 'system',
            requestId: newId('req'),
            ip: 'system',
            actor: { actorType: 'system', actorId: null },
          },
          { customerId: entry.customer_id },
          `re-applied after a restore: erased ${entry.erased_at} (request ${entry.request_id ?? 'unknown'})`,
          { reapplying: true },
        );
      return missing;
    },
  };
}

function createRightsService(deps: CustomerDataDeps) {
  async function customerIds(mode: Mode, who: CustomerSelector): Promise<string[]> {
    if ('customerId' in who) {
      const row = await deps.db
        .selectFrom('customer_keys')
        .select('id')
        .where('mode', '=', mode)
        .where('id', '=', who.customerId)
        .executeTakeFirst();
      return row === undefined ? [] : [row.id];
    }
    return (await deps.privacy.customerKeys.findByEmail(deps.db, mode, who.email)).map((r) => r.id);
  }

  async function paymentsOf(mode: Mode, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return deps.db
      .selectFrom('payments')
      .selectAll()
      .where('mode', '=', mode)
      .where('customer_id', 'in', ids)
      .orderBy('created_at')
      .execute();
  }

  return {
    /** The customers an email or id names in this mode, with how many payments each has: ids only, no personal data. */
    async findCustomers(mode: Mode, who: CustomerSelector) {
      const ids = await customerIds(mode, who);
      if (ids.length === 0) return [];
      const keys = await deps.db
        .selectFrom('customer_keys')
        .select(['id', 'created_at', 'erased_at'])
        .where('id', 'in', ids)
        .orderBy('created_at', 'desc')
        .execute();
      const counts = await deps.db
        .selectFrom('payments')
        .select(['customer_id', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('customer_id', 'in', ids)
        .groupBy('customer_id')
        .execute();
      return keys.map((k) => ({
        ...k,
        payments: Number(counts.find((c) => c.customer_id === k.id)?.n ?? 0),
      }));
    },

    /** One JSON document of everything stored about the customer in this mode (audited). */
    async exportCustomer(ctx: DataRightsContext, who: CustomerSelector, options: { readonly reason?: string } = {}) {
      const ids = await customerIds(ctx.mode, who);
      const keys = await deps.db
        .selectFrom('customer_keys')
        .selectAll()
        .where('id', 'in', ids.length === 0 ? [''] : ids)
        .execute();
      const payments = await deps.privacy.openPayments(deps.db, await paymentsOf(ctx.mode, ids));
      const paymentIds = payments.map((p) => p.id);
      const events =
        ids.length === 0
          ? []
          : await deps.privacy.openEvents(
              deps.db,
              await deps.db
                .selectFrom('events')
                .selectAll()
                .where('customer_id', 'in', ids)
                .orderBy('created_at')
                .execute(),
            );
      const webhooks =
        paymentIds.length === 0
          ? []
          : await deps.db
              .selectFrom('provider_webhooks')
              .selectAll()
              .where('provider_reference', 'in', paymentIds)
              .orderBy('received_at')
              .execute();
      const document = {
        object: 'customer_export' as const,
        livemode: ctx.mode === 'live',
        generated_at: new Date(deps.clock.nowMs()).toISOString(),
        customers: keys.map((k) => ({
          id: k.id,
          created_at: new Date(k.created_at).toISOString(),
          erased_at: k.erased_at === null ? null : new Date(k.erased_at).toISOString(),
        })),
        payments: payments.map(toPaymentObject),
        events: events.map(toEventObject),
        provider_webhooks: await Promise.all(
          webhooks.map(async (w) => ({
            id: w.id,
            provider: w.provider,
            event_type: w.event_type,
            received_at: new Date(w.received_at).toISOString(),
            payload: await deps.systemKeys.open(w.body, `provider_webhooks.body:${w.id}`),
          })),
        ),
      };
      await writeAudit(deps.db, deps.clock, {
        mode: ctx.mode,
        ...(ctx.actor ?? auditActorOf(ctx)),
        action: 'customer.export',
        objectType: 'customer',
        objectId: ids[0] ?? 'none',
        requestId: ctx.requestId,
        ip: ctx.ip,
        details: {
          customers: ids,
          payments: paymentIds.length,
          ...(options.reason === undefined ? {} : { reason: options.reason }),
        },
      });
      return document;
    },

    /** Crypto-shredding: the customer's keys destroyed, their provider payloads replaced (audited, with the reason). */
    async eraseCustomer(
      ctx: DataRightsContext,
      who: CustomerSelector,
      reason: string,
      options: { readonly reapplying?: boolean } = {},
    ) {
      const ids = await customerIds(ctx.mode, who);
      const payments = await paymentsOf(ctx.mode, ids);
      const erased: string[] = [];
      await deps.db.transaction().execute(async (trx) => {
        for (const id of ids) if (await deps.privacy.customerKeys.erase(trx, id, reason)) erased.push(id);
        // Journalled before the commit: a crash in between leaves an erasure the next start applies.
        if (options.reapplying !== true)
          deps.erasureJournal.append(
            erased.map((id) => ({
              customer_id: id,
              mode: ctx.mode,
              erased_at: new Date(deps.clock.nowMs()).toISOString(),
              request_id: ctx.requestId,
            })),
          );
        // The blind index is a pseudonym of the email: it goes too, so the address finds nothing.
        if (ids.length > 0)
          await trx
            .updateTable('payments')
            .set({ customer_email_index: null })
            .where('customer_id', 'in', ids)
            .execute();
        for (const payment of payments) {
          const webhooks = await trx
            .selectFrom('provider_webhooks')
            .select('id')
            .where('provider_reference', '=', payment.id)
            .execute();
          for (const w of webhooks)
            await trx
              .updateTable('provider_webhooks')
              .set({ body: deps.systemKeys.seal('{"erased":true}', `provider_webhooks.body:${w.id}`) })
              .where('id', '=', w.id)
              .execute();
        }
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...(ctx.actor ?? auditActorOf(ctx)),
          action: 'customer.erase',
          objectType: 'customer',
          objectId: ids[0] ?? 'none',
          requestId: ctx.requestId,
          ip: ctx.ip,
          details: { customers: ids, erased, payments: payments.length, reason },
        });
      });
      return {
        object: 'customer_erasure' as const,
        customers: ids,
        erased,
        payments: payments.map((p) => p.id),
      };
    },
  };
}

export type CustomerDataService = ReturnType<typeof createCustomerDataService>;
