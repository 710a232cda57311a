// Creating and reading payments. Creation claims the reference in the database first (the
// partial unique index decides races), then asks the provider for a hosted checkout link. If the
// provider cannot give one, nobody holds a link, nothing can be paid, and the payment is marked
// failed so the reference is free again.
import type { Clock } from '../clock.ts';
import { newestFirstPage } from '../db/pages.ts';
import type { Db, Mode, PaymentRow } from '../db/schema.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { writeAudit, auditActorOf } from '../audit/audit.ts';
import { transitionPayment } from './transition.ts';
import type { PrivacyService } from '../privacy/privacy-service.ts';

export interface CreatePaymentInput {
  readonly amount: number;
  readonly currency: string;
  readonly reference: string;
  readonly customer: { readonly email: string; readonly name?: string; readonly phone?: string };
  readonly redirect_url: string;
  readonly description?: string;
  readonly metadata?: Record<string, string>;
  readonly provider?: string;
}

export interface PaymentServiceDeps {
  readonly db: Db;
  readonly dialect: DialectStrategy;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly providers: ProviderRegistry;
  readonly paymentExpirySeconds: number;
  readonly reconcileScheduleSeconds: readonly number[];
  readonly privacy: PrivacyService;
}

export interface RequestContext {
  readonly mode: Mode;
  readonly apiKeyId: string;
  readonly requestId: string;
  readonly ip: string;
  /** Set when an operator acts from the dashboard; the audit row then names the operator. */
  readonly operatorId?: string;
}

export function createPaymentService(deps: PaymentServiceDeps) {
  /** `clientSecretHash`: from client-secret.ts (bound to `id`), when the caller issued the payment a client secret (API-1). */
  async function create(
    ctx: RequestContext,
    input: CreatePaymentInput,
    options: { id?: string; clientSecretHash?: string } = {},
  ): Promise<PaymentRow> {
    const provider =
      input.provider === undefined
        ? deps.providers.route(ctx.mode, input.currency)
        : deps.providers.payment(ctx.mode, input.provider);
    if (provider === undefined)
      throw new ApiError(input.provider === undefined ? 'currency_not_supported' : 'parameter_invalid', {
        param: input.provider === undefined ? 'currency' : 'provider',
        ...(input.provider === undefined
          ? {}
          : { message: `Provider "${input.provider}" is not configured in ${ctx.mode} mode.` }),
      });
    if (!provider.currencies.includes(input.currency))
      throw new ApiError('currency_not_supported', {
        param: 'currency',
        message: `${provider.name} does not accept ${input.currency}.`,
      });

    // The provider's published rules, before anything is stored: a 400 that names the rule beats a
    // provider refusal after the reference is taken.
    const problem = provider.checkRequest?.({
      amountMinor: input.amount,
      currency: input.currency,
      customer: { email: input.customer.email, name: input.customer.name ?? null, phone: input.customer.phone ?? null },
    });
    if (problem !== undefined) throw new ApiError(problem.code, { param: problem.param, message: problem.message });

    const now = deps.clock.nowMs();
    const expiresAt = now + deps.paymentExpirySeconds * 1000;
    const id = options.id ?? newId('pay');
    const firstCheckSeconds = deps.reconcileScheduleSeconds[0] ?? 600;
    try {
      await deps.db.transaction().execute(async (trx) => {
        const customerKey = await deps.privacy.keyForEmail(trx, ctx.mode, input.customer.email);
        await trx
          .insertInto('payments')
          .values({
            id,
            mode: ctx.mode,
            reference: input.reference,
            amount_minor: input.amount,
            currency: input.currency,
            status: 'pending',
            status_reason: 'awaiting_customer',
            provider: provider.name,
            provider_tx_id: null,
            checkout_url: null,
            ...deps.privacy.sealPayment(customerKey, id, {
              email: input.customer.email,
              name: input.customer.name ?? null,
              phone: input.customer.phone ?? null,
              metadata: input.metadata ?? {},
            }),
            redirect_url: input.redirect_url,
            description: input.description ?? null,
            created_at: now,
            updated_at: now,
            expires_at: expiresAt,
            next_reconcile_at: now + firstCheckSeconds * 1000,
            reconcile_step: 0,
            version: 1,
            client_secret_hash: options.clientSecretHash ?? null,
          })
          .execute();
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'payment.create',
          objectType: 'payment',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
          details: { amount: input.amount, currency: input.currency, provider: provider.name },
        });
      });
    } catch (error) {
      if (deps.dialect.isUniqueViolation(error)) throw new ApiError('reference_already_used', { param: 'reference' });
      throw error;
    }

    const checkout = await provider.createCheckout({
      paymentId: id,
      amountMinor: input.amount,
      currency: input.currency,
      customer: { email: input.customer.email, name: input.customer.name ?? null, phone: input.customer.phone ?? null },
      redirectUrl: input.redirect_url,
      description: input.description ?? null,
      merchantReference: input.reference,
      // Our expiry runs on the scheduling clock; the provider's checkout lifetime on the wall
      // clock, so it is sent as a duration from now.
      expiresAt: Date.now() + (expiresAt - now),
    });
    if (checkout.kind !== 'ok') {
      deps.logger.warn(
        { paymentId: id, provider: provider.name, outcome: checkout.kind, reason: checkout.reason },
        'provider did not create a checkout',
      );
      await deps.db.transaction().execute((trx) =>
        transitionPayment(trx, deps, {
          paymentId: id,
          to: 'failed',
          reason: checkout.kind === 'rejected' ? 'provider_rejected_checkout' : 'provider_unavailable',
          actor: { type: 'system', id: null },
        }),
      );
      deps.queue.notify();
      const retryAfter =
        checkout.kind === 'indefinite' && checkout.retryAfterMs !== undefined
          ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(checkout.retryAfterMs / 1000))) } }
          : {};
      // Our own budget for the provider (COL-3) is a rate limit the merchant can act on.
      if (checkout.kind === 'indefinite' && checkout.notSent === true)
        throw new ApiError('rate_limited', {
          message: `The outbound rate limit for ${provider.name} is reached. Retry after the time in the Retry-After header.`,
          ...retryAfter,
        });
      // A refusal the merchant can fix names the field and why (never the provider's own text).
      if (checkout.kind === 'rejected' && checkout.problem !== undefined)
        throw new ApiError(checkout.problem.code, { param: checkout.problem.param, message: checkout.problem.message });
      throw new ApiError(checkout.kind === 'rejected' ? 'provider_rejected' : 'provider_unavailable', retryAfter);
    }
    const updated = await deps.db
      .updateTable('payments')
      .set({
        checkout_url: checkout.value.checkoutUrl,
        updated_at: deps.clock.nowMs(),
        ...(checkout.value.providerReference === undefined ? {} : { provider_tx_id: checkout.value.providerReference }),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return deps.privacy.openPaymentRow(deps.db, updated);
  }

  async function readSealed(mode: Mode, id: string): Promise<PaymentRow | undefined> {
    return deps.db.selectFrom('payments').selectAll().where('id', '=', id).where('mode', '=', mode).executeTakeFirst();
  }

  /** The payment with its personal data opened (or shown as erased). */
  async function get(mode: Mode, id: string): Promise<PaymentRow | undefined> {
    const row = await readSealed(mode, id);
    return row === undefined ? undefined : deps.privacy.openPaymentRow(deps.db, row);
  }

  async function list(
    mode: Mode,
    options: { limit: number; startingAfter?: string; reference?: string },
  ): Promise<{ data: PaymentRow[]; hasMore: boolean }> {
    let query = deps.db.selectFrom('payments').selectAll().where('mode', '=', mode);
    if (options.reference !== undefined) query = query.where('reference', '=', options.reference);
    const cursor = options.startingAfter === undefined ? undefined : await readSealed(mode, options.startingAfter);
    if (options.startingAfter !== undefined && cursor === undefined)
      throw new ApiError('parameter_invalid', { param: 'starting_after', message: 'starting_after names no payment.' });
    const page = await newestFirstPage(query, cursor, options.limit);
    return { data: await deps.privacy.openPayments(deps.db, page.data), hasMore: page.hasMore };
  }

  return { create, get, list };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
