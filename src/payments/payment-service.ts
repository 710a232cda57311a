// Creating and reading payments. Creation claims the reference in the database first (the
// partial unique index decides races), then asks the provider for a hosted checkout link
// (checkout-creation.ts). A provider that refuses fails the payment, which frees the reference. A
// provider that gives no answer, or a process that dies before it hears one, leaves the payment
// pending without a checkout: the merchant's retry of the same request resumes it (`resume`), and
// one nobody resumes expires (reconciler.ts).
import type { Clock } from '../clock.ts';
import { newestFirstPage } from '../db/pages.ts';
import type { Db, Mode, PaymentRow, Tx } from '../db/schema.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { auditWrite, writeAudit, auditActorOf, type AuditEntry } from '../audit/audit.ts';
import { executeTogether } from '../db/transaction-writes.ts';
import type { PaymentPersonalData, PrivacyService } from '../privacy/privacy-service.ts';
import type { CheckoutRequest, PaymentProvider } from '../providers/types.ts';
import { RetryLater } from '../jobs/worker.ts';
import { verifyPayment } from './verification.ts';
import {
  checkoutRequestFor,
  claimCheckout,
  expireWithoutCheckout,
  failClaimed,
  recordCheckout,
  releaseCheckout,
  CHECKOUT_CLAIM_MS,
} from './checkout-creation.ts';

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
  /** Test seam: runs between the payment's commit and its checkout call. */
  readonly afterPaymentCommit?: (paymentId: string) => Promise<void>;
}

export interface RequestContext {
  readonly mode: Mode;
  readonly apiKeyId: string;
  readonly requestId: string;
  readonly ip: string;
  /** Set when an operator acts from the dashboard; the audit row then names the operator. */
  readonly operatorId?: string;
  /** The request's Idempotency-Key was taken over from a request that died without answering
   * (src/idempotency): whatever that request made, nobody was told of it. */
  readonly retriesLostAnswer?: boolean;
}

/** Another request holds the payment's checkout claim: retry shortly (never kept under the key). */
const inProgress = () => new ApiError('checkout_in_progress', { headers: { 'retry-after': '2' } });

/** The stored payment is the one this request asks for: every field the merchant sent, equal. */
const personalDataOf = (input: CreatePaymentInput): PaymentPersonalData => ({
  email: input.customer.email,
  name: input.customer.name ?? null,
  phone: input.customer.phone ?? null,
  metadata: input.metadata ?? {},
});
const personalDataOfRow = (opened: PaymentRow): PaymentPersonalData => ({
  email: opened.customer_email,
  name: opened.customer_name,
  phone: opened.customer_phone,
  metadata: JSON.parse(opened.metadata_json) as Record<string, string>,
});

function sameRequest(row: PaymentRow, input: CreatePaymentInput, providerName: string): boolean {
  const canonical = (metadata: Record<string, string>) => JSON.stringify(Object.entries(metadata).sort());
  return (
    row.amount_minor === input.amount &&
    row.currency === input.currency &&
    row.provider === providerName &&
    row.redirect_url === input.redirect_url &&
    row.description === (input.description ?? null) &&
    row.customer_email === input.customer.email &&
    row.customer_name === (input.customer.name ?? null) &&
    row.customer_phone === (input.customer.phone ?? null) &&
    canonical(JSON.parse(row.metadata_json) as Record<string, string>) === canonical(input.metadata ?? {})
  );
}

/** The audit entry of what a request did to a payment. */
function requestAudit(
  ctx: RequestContext,
  action: string,
  paymentId: string,
  details: Record<string, unknown>,
): AuditEntry {
  return {
    mode: ctx.mode,
    ...auditActorOf(ctx),
    action,
    objectType: 'payment',
    objectId: paymentId,
    requestId: ctx.requestId,
    ip: ctx.ip,
    details,
  };
}

export function createPaymentService(deps: PaymentServiceDeps) {
  /**
   * `issueClientSecret`: issues a client secret (client-secret.ts) bound to the payment id it is
   * given and answers its hash (API-1). Called again when the answer is another payment (a
   * resumed one): the last secret issued belongs to the payment answered.
   */
  async function create(
    ctx: RequestContext,
    input: CreatePaymentInput,
    options: { id?: string; issueClientSecret?: (paymentId: string) => string } = {},
  ): Promise<PaymentRow> {
    const provider = providerFor(ctx, input);
    let id = options.id ?? newId('pay');
    // At most: the reference is taken by an orphan, which is resumed; or its checkout is lost
    // (failed) or it is past its expiry (expired), and the reference is free for a new payment.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const inserted = await insert(ctx, input, provider, id, options.issueClientSecret);
      if (inserted !== undefined) {
        await deps.afterPaymentCommit?.(inserted.row.id);
        const made = await obtainCheckout(inserted.row, inserted.claim, provider, input, personalDataOf(input));
        if (made !== 'replace') return made;
        id = newId('pay');
        continue;
      }
      const resumed = await resume(ctx, input, provider, options.issueClientSecret);
      if (resumed !== 'replace') return resumed;
    }
    throw new ApiError('reference_already_used', { param: 'reference' });
  }

  function providerFor(ctx: RequestContext, input: CreatePaymentInput): PaymentProvider {
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
    return provider;
  }

  /** The new payment, holding its checkout claim; undefined when the reference is taken. */
  async function insert(
    ctx: RequestContext,
    input: CreatePaymentInput,
    provider: PaymentProvider,
    id: string,
    issueClientSecret: ((paymentId: string) => string) | undefined,
  ): Promise<{ row: PaymentRow; claim: number } | undefined> {
    const now = deps.clock.nowMs();
    const expiresAt = now + deps.paymentExpirySeconds * 1000;
    const firstCheckSeconds = deps.reconcileScheduleSeconds[0] ?? 600;
    const claim = now + CHECKOUT_CLAIM_MS;
    try {
      const row = await deps.db.transaction().execute(async (trx) => {
        const customerKey = await deps.privacy.keyForEmail(trx, ctx.mode, input.customer.email);
        // The payment and its audit row go together (one round trip on SQLite).
        const insertPayment = trx
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
            ...deps.privacy.sealPayment(customerKey, id, personalDataOf(input)),
            redirect_url: input.redirect_url,
            description: input.description ?? null,
            created_at: now,
            updated_at: now,
            expires_at: expiresAt,
            next_reconcile_at: now + firstCheckSeconds * 1000,
            reconcile_step: 0,
            version: 1,
            client_secret_hash: issueClientSecret?.(id) ?? null,
            checkout_claimed_until: claim,
            // Our expiry runs on the scheduling clock; the provider's checkout lifetime on the
            // wall clock, so it is fixed here as a duration from now, once for every attempt.
            checkout_expires_at: Date.now() + (expiresAt - now),
          })
          .returningAll()
          .compile();
        const [inserted] = await executeTogether(trx, [
          insertPayment,
          auditWrite(
            trx,
            deps.clock,
            requestAudit(ctx, 'payment.create', id, {
              amount: input.amount,
              currency: input.currency,
              provider: provider.name,
            }),
          ),
        ]);
        const row = inserted?.rows[0] as PaymentRow | undefined;
        if (row === undefined) throw new Error('the payment insert returned no row');
        return row;
      });
      return { row, claim };
    } catch (error) {
      if (deps.dialect.isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  function checkoutRequest(payment: PaymentRow, input: CreatePaymentInput): CheckoutRequest {
    return {
      ...checkoutRequestFor(payment, deps.clock),
      customer: { email: input.customer.email, name: input.customer.name ?? null, phone: input.customer.phone ?? null },
      redirectUrl: input.redirect_url,
      description: input.description ?? null,
    };
  }

  /** The audit row of what this request did to a payment. */
  const auditOfRequest = (
    trx: Tx,
    ctx: RequestContext,
    action: string,
    paymentId: string,
    details: Record<string, unknown>,
  ) => writeAudit(trx, deps.clock, requestAudit(ctx, action, paymentId, details));

  /**
   * The reference is taken. When the payment holding it is pending without a checkout and was
   * made by this same request (every field equal: the merchant's retry, with the same
   * Idempotency-Key or another), this request takes over its creation. 'replace': the payment
   * left the way (expired, or failed with its checkout lost) and a new one is to be made.
   */
  async function resume(
    ctx: RequestContext,
    input: CreatePaymentInput,
    provider: PaymentProvider,
    issueClientSecret: ((paymentId: string) => string) | undefined,
  ): Promise<PaymentRow | 'replace'> {
    const holder = await deps.db
      .selectFrom('payments')
      .selectAll()
      .where('mode', '=', ctx.mode)
      .where('reference', '=', input.reference)
      .where('status', 'in', ['pending', 'succeeded'])
      .executeTakeFirst();
    // It left the active payments since the insert failed: try the insert again.
    if (holder === undefined) return 'replace';
    if (holder.checkout_url !== null && ctx.retriesLostAnswer === true)
      return answerAgain(ctx, holder, input, provider, issueClientSecret);
    if (holder.status !== 'pending' || holder.checkout_url !== null)
      throw new ApiError('reference_already_used', { param: 'reference' });
    const opened = await deps.privacy.openPaymentRow(deps.db, holder);
    if (!sameRequest(opened, input, provider.name))
      throw new ApiError('reference_already_used', { param: 'reference' });
    if (holder.expires_at <= deps.clock.nowMs()) {
      if (await expireWithoutCheckout(deps, holder.id)) return 'replace';
      throw inProgress();
    }
    const claim = await deps.db.transaction().execute(async (trx) => {
      const taken = await claimCheckout(
        trx,
        deps.clock,
        holder.id,
        // Nobody holds the secret of the answer that was lost: the one in this answer replaces it.
        issueClientSecret === undefined ? {} : { client_secret_hash: issueClientSecret(holder.id) },
      );
      if (taken === undefined) return undefined;
      await auditOfRequest(trx, ctx, 'payment.checkout_resume', holder.id, { provider: provider.name });
      return taken;
    });
    if (claim === undefined) throw inProgress();
    deps.logger.info({ paymentId: holder.id, provider: provider.name }, 'resuming a payment without a checkout');
    return obtainCheckout(holder, claim, provider, input, personalDataOfRow(opened));
  }

  /**
   * The retry of a request that died after its payment got a checkout and before anyone was told
   * (its Idempotency-Key's lock lapsed and this request took it over, so its answer was never
   * stored or sent): the payment is answered as it is, with a new client secret, since nobody holds
   * the dead request's. Another Idempotency-Key is still refused: its first answer may have been
   * delivered, and its client secret must keep working.
   */
  async function answerAgain(
    ctx: RequestContext,
    holder: PaymentRow,
    input: CreatePaymentInput,
    provider: PaymentProvider,
    issueClientSecret: ((paymentId: string) => string) | undefined,
  ): Promise<PaymentRow> {
    const opened = await deps.privacy.openPaymentRow(deps.db, holder);
    if (!sameRequest(opened, input, provider.name))
      throw new ApiError('reference_already_used', { param: 'reference' });
    await deps.db.transaction().execute(async (trx) => {
      if (issueClientSecret !== undefined)
        await trx
          .updateTable('payments')
          .set({ client_secret_hash: issueClientSecret(holder.id) })
          .where('id', '=', holder.id)
          .execute();
      await auditOfRequest(trx, ctx, 'payment.answer_resent', holder.id, { provider: provider.name });
    });
    deps.logger.info({ paymentId: holder.id }, 'answering a payment whose first answer was lost');
    return opened;
  }

  /** Asks the provider for the checkout while holding the claim; answers the payment, or 'replace'. */
  async function obtainCheckout(
    payment: PaymentRow,
    claim: number,
    provider: PaymentProvider,
    input: CreatePaymentInput,
    personal: PaymentPersonalData,
  ): Promise<PaymentRow | 'replace'> {
    const id = payment.id;
    const checkout = await provider.createCheckout(checkoutRequest(payment, input));
    if (checkout.kind === 'ok') {
      const recorded = await recordCheckout(deps, id, claim, checkout.value);
      // Its personal data is known here (sealed by this request a moment ago, or opened before
      // resuming), so the answer shows it without loading the customer's key again to open it.
      return recorded === undefined ? asItIsNow(id) : deps.privacy.withPersonalData(recorded, personal);
    }
    if (checkout.kind === 'reference_exists') return lookUp(payment, claim, provider, checkout.reason);
    deps.logger.warn(
      { paymentId: id, provider: provider.name, outcome: checkout.kind, reason: checkout.reason },
      'provider did not create a checkout',
    );
    if (checkout.kind === 'indefinite') {
      // Unknown, not failed: the provider may hold the checkout. The payment stays pending without
      // one, and the merchant's retry (this 502 or 429 is not kept under its Idempotency-Key)
      // resumes it with the same reference, which the provider can recognise.
      await releaseCheckout(deps.db, id, claim);
      const retryAfter =
        checkout.retryAfterMs === undefined
          ? {}
          : { headers: { 'retry-after': String(Math.max(1, Math.ceil(checkout.retryAfterMs / 1000))) } };
      // Our own budget for the provider (COL-3) is a rate limit the merchant can act on.
      if (checkout.notSent === true)
        throw new ApiError('rate_limited', {
          message: `The outbound rate limit for ${provider.name} is reached. Retry after the time in the Retry-After header.`,
          ...retryAfter,
        });
      throw new ApiError('provider_unavailable', retryAfter);
    }
    await failClaimed(deps, id, claim, 'provider_rejected_checkout');
    // A refusal the merchant can fix names the field and why (never the provider's own text).
    if (checkout.problem !== undefined)
      throw new ApiError(checkout.problem.code, { param: checkout.problem.param, message: checkout.problem.message });
    throw new ApiError('provider_rejected');
  }

  /**
   * The provider already holds this payment's reference: an earlier create got through and its
   * answer was lost. Only Stripe answers the same checkout again (by our Idempotency-Key); the
   * others refuse the repeat, and no later answer of theirs carries the link. So the provider's
   * verify says what became of it: paid (the payment as verified), or not: then its link is lost
   * with the answer, nobody can pay it, and the payment fails (`checkout_lost`) to be made again.
   */
  async function lookUp(
    payment: PaymentRow,
    claim: number,
    provider: PaymentProvider,
    reason: string,
  ): Promise<PaymentRow | 'replace'> {
    deps.logger.warn(
      { paymentId: payment.id, provider: provider.name, reason },
      'provider already holds the reference',
    );
    try {
      await verifyPayment(deps, payment.id, null);
    } catch (error) {
      if (!(error instanceof RetryLater)) throw error;
      await releaseCheckout(deps.db, payment.id, claim);
      throw new ApiError('provider_unavailable');
    }
    const now = await readSealed(payment.mode, payment.id);
    if (now?.status === 'succeeded') return deps.privacy.openPaymentRow(deps.db, now);
    if (now?.status !== 'pending') return 'replace';
    if (await failClaimed(deps, payment.id, claim, 'checkout_lost', { providerSays: reason })) return 'replace';
    return asItIsNow(payment.id);
  }

  /** This request no longer holds the claim (another took it over): the payment as it is. */
  async function asItIsNow(id: string): Promise<PaymentRow> {
    const row = await deps.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.status === 'pending' && row.checkout_url !== null) return deps.privacy.openPaymentRow(deps.db, row);
    throw inProgress();
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
