// The payout pages and the operator actions on one payout. Every action is one handler below
// (the table says what differs): the role check (`manage_payouts`), a password entered within 5
// minutes for those that move money or decide where it went, the CSRF token and same origin
// (plugin.ts), the service call that does the guarded transition and writes its audit row with
// the operator's reason, then back to the payout. A refusal (wrong state, wrong code) is the
// service's error, shown on the usual error page.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static, TSchema } from 'typebox';
import { IdParams } from '../../api/schemas.ts';
import type { Mode, PayoutRow } from '../../db/schema.ts';
import { isId } from '../../ids.ts';
import { can } from '../../operators/permissions.ts';
import type { PayoutService } from '../../payouts/payout-service.ts';
import { canTransitionPayout, PAYOUT_STATUSES } from '../../payouts/state-machine.ts';
import { PROVIDER_SPECS } from '../../providers/catalogue.ts';
import {
  operatorContext,
  permit,
  permitSensitive,
  recordView,
  sendMessage,
  sendPage,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { type MaskedBeneficiary, payoutDetailPage, payoutsPage } from '../pages/payouts.ts';
import { beneficiariesPage } from '../pages/beneficiaries.ts';
import {
  BeneficiariesQuery,
  PayoutFinalizeForm,
  PayoutReasonBody,
  PayoutResolveForm,
  PayoutsQuery,
  RESOLVABLE_OUTCOMES,
} from '../payout-schemas.ts';

const DAY_MS = 86_400_000;
const PAGE_SIZE = 50;

interface PayoutAction<B extends TSchema> {
  readonly body: B;
  /** Moves or decides money: needs a password entered within the last 5 minutes (OPS-8). */
  readonly sensitive: boolean;
  run(payouts: PayoutService, ctx: ReturnType<typeof operatorContext>, id: string, form: Static<B>): Promise<PayoutRow>;
}

const action = <B extends TSchema>(a: PayoutAction<B>) => a;

export const PAYOUT_ACTIONS = {
  cancel: action({
    body: PayoutReasonBody,
    sensitive: false,
    run: (payouts, ctx, id, form) => payouts.cancel(ctx, id, form.reason),
  }),
  finalize: action({
    body: PayoutFinalizeForm,
    sensitive: true,
    run: (payouts, ctx, id, form) => payouts.finalize(ctx, id, form.otp, form.reason),
  }),
  resolve: action({
    body: PayoutResolveForm,
    sensitive: true,
    run: (payouts, ctx, id, form) => payouts.resolveReview(ctx, id, form.outcome, form.reason),
  }),
  'new-attempt': action({
    body: PayoutReasonBody,
    sensitive: true,
    run: (payouts, ctx, id, form) => payouts.newAttempt(ctx, id, form.reason),
  }),
} as const;

/** A `YYYY-MM-DD` day as the UTC instant it starts; undefined when empty, null when not a day. */
function dayStart(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value ? null : ms;
}

async function maskedBeneficiary(deps: DashboardDeps, mode: Mode, id: string): Promise<MaskedBeneficiary | undefined> {
  // Never the sealed account number: only what identifies the account to a person (the holder's
  // name is sealed at rest too, and opened by the query).
  const row = await deps.queries.beneficiary(mode, id);
  return row === undefined
    ? undefined
    : {
        id: row.id,
        type: row.type,
        accountName: row.account_name,
        accountLast4: row.account_last4,
        bankCode: row.bank_code,
        bankName: row.bank_name,
        country: row.country,
        deleted: row.deleted_at !== null,
      };
}

export function payoutRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/payouts', { schema: { querystring: PayoutsQuery } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const { status, provider, from, to, starting_after } = request.query;
    const q = request.query.q?.trim();
    if (q !== undefined && isId('po', q)) return reply.redirect(`/dashboard/payouts/${q}`, 303);
    const fromMs = dayStart(from);
    const toMs = dayStart(to);
    if (fromMs === null || toMs === null)
      return sendMessage(request, reply, 400, 'Not accepted', 'A date filter is not a day of the calendar.');
    const page = await deps.payouts.list(who.mode, {
      limit: PAGE_SIZE,
      ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
      ...(status === undefined || status === '' ? {} : { status }),
      ...(provider === undefined || provider === '' ? {} : { provider }),
      ...(q === undefined || q === '' ? {} : { reference: q }),
      ...(fromMs === undefined ? {} : { createdFrom: fromMs }),
      // The "to" day is included: everything before the next day starts.
      ...(toMs === undefined ? {} : { createdBefore: toMs + DAY_MS }),
    });
    return sendPage(
      request,
      reply,
      { title: 'Payouts', active: 'payouts' },
      payoutsPage({
        rows: page.data,
        hasMore: page.hasMore,
        filters: { status, provider, from, to, q },
        statuses: PAYOUT_STATUSES,
        providers: PROVIDER_SPECS.map((s) => s.name),
      }),
    );
  });

  // Holder names are personal data: opening the list is recorded (LOG-3), as a payout's page is.
  api.get('/beneficiaries', { schema: { querystring: BeneficiariesQuery } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const { starting_after } = request.query;
    const page = await deps.queries.beneficiaries(who.mode, {
      limit: PAGE_SIZE,
      ...(starting_after === undefined ? {} : { startingAfter: starting_after }),
    });
    if (page === undefined)
      return sendMessage(request, reply, 422, 'Not accepted', 'The page to continue from names no beneficiary.');
    await recordView(deps, who, 'beneficiary', 'list');
    return sendPage(
      request,
      reply,
      { title: 'Beneficiaries', active: 'beneficiaries' },
      beneficiariesPage({ rows: page.data, hasMore: page.hasMore }),
    );
  });

  api.get('/payouts/:id', { schema: { params: IdParams('po') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const payout = await deps.payouts.get(who.mode, request.params.id);
    if (payout === undefined)
      return sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode payout with this id.`);
    const [beneficiary, { attempts, checks }, history] = await Promise.all([
      maskedBeneficiary(deps, who.mode, payout.beneficiary_id),
      deps.payouts.timeline(who.mode, payout.id),
      deps.queries.objectHistory(payout.id),
    ]);
    await recordView(deps, who, 'payout', payout.id);
    return sendPage(
      request,
      reply,
      { title: `Payout ${payout.reference}`, active: 'payouts' },
      payoutDetailPage({
        payout,
        beneficiary,
        attempts,
        checks,
        history,
        csrfToken: who.csrfToken,
        actions: actionsFor(who, payout, attempts),
      }),
    );
  });

  for (const [name, spec] of Object.entries(PAYOUT_ACTIONS) as Array<[string, PayoutAction<TSchema>]>) {
    api.post<{ Params: { id: string }; Body: Static<TSchema> }>(
      `/payouts/:id/${name}`,
      { schema: { params: IdParams('po'), body: spec.body } },
      async (request, reply) => {
        const back = `/dashboard/payouts/${request.params.id}`;
        const who = spec.sensitive
          ? await permitSensitive(deps, request, reply, 'manage_payouts', back)
          : await permit(deps, request, reply, 'manage_payouts');
        if (who === undefined) return reply;
        await spec.run(deps.payouts, operatorContext(who, request), request.params.id, request.body);
        return reply.redirect(back, 303);
      },
    );
  }
}

/** What the detail page offers: what the role may do, and what the payout's status and attempts allow now. */
function actionsFor(
  who: SignedInOperator,
  payout: PayoutRow,
  attempts: ReadonlyArray<{ closed_at: number | null; sends: number }>,
) {
  const decideHold = payout.status === 'on_hold' && can(who.operator.role, 'approve_payouts');
  if (!can(who.operator.role, 'manage_payouts'))
    return { cancel: false, finalize: false, newAttempt: false, resolveTo: [], decideHold };
  const open = attempts.find((a) => a.closed_at === null);
  return {
    cancel: canTransitionPayout(payout.status, 'cancelled') && open !== undefined && open.sends === 0,
    finalize: payout.status === 'requires_action',
    newAttempt: payout.status === 'failed' && canTransitionPayout('failed', 'pending'),
    resolveTo: payout.status === 'requires_review' ? RESOLVABLE_OUTCOMES : [],
    decideHold,
  };
}
