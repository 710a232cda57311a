// The approval queue and the payout rules' settings (PAY-5). Approve and reject need
// `approve_payouts` and a password entered within 5 minutes (OPS-8), a reason, and are audited by
// the hold service, which also refuses the maker and counts an approver once. Saving the rules
// needs `change_settings` and the same fresh password; the settings service audits the change.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams } from '../../api/schemas.ts';
import { currencyExponent, isCurrency } from '../../money/currencies.ts';
import { can } from '../../operators/permissions.ts';
import { operatorDb } from '../../operators/schema.ts';
import type { DecideOutcome } from '../../payouts/controls/holds.ts';
import type { CurrencyLimits, PayoutControls } from '../../payouts/controls/settings.ts';
import {
  operatorContext,
  permit,
  permitSensitive,
  safeReturnPath,
  sendMessage,
  sendPage,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { approvalsPage, type ApprovalRow } from '../pages/approvals.ts';
import { LIMIT_FIELDS, payoutRulesPage } from '../pages/payout-rules.ts';
import { ApprovalsQuery, DecisionBody, PayoutRulesBody } from '../schemas.ts';

/** Why a decision was refused, as the approval pages (and a payout file's page) answer it. */
export const DECISION_REFUSALS: Record<Extract<DecideOutcome, { ok: false }>['reason'], [number, string]> = {
  not_found: [404, 'No such payout in this mode.'],
  not_on_hold: [409, 'This payout is not on hold any more (released, rejected, expired or cancelled).'],
  maker_cannot_approve: [403, 'You made this payout (or the API key that made it): someone else must decide it.'],
  operator_required: [403, 'Only an operator can decide a held payout.'],
  not_permitted: [403, 'Your role does not allow approving payouts.'],
};
const DONE: Record<Extract<DecideOutcome, { ok: true }>['outcome'], string> = {
  approved: 'approved',
  released: 'released',
  rejected: 'rejected',
  already_decided: 'already_decided',
};
const NOTICES: Readonly<Record<string, string>> = {
  approved: 'Approval recorded; the payout waits for its other approvals or its cool-down.',
  released: 'Approved: the payout is released and will be sent.',
  rejected: 'Rejected: the payout ends without being sent.',
  already_decided: 'You had already decided this payout; it was counted once.',
};

export function approvalRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  /** Who made each payout, as people read it: an operator's email, an API key's name. */
  async function makersOf(ids: readonly string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    if (ids.length === 0) return names;
    const operators = await operatorDb(deps.db)
      .selectFrom('operators')
      .select(['id', 'email'])
      .where('id', 'in', [...ids])
      .execute();
    for (const o of operators) names.set(o.id, o.email);
    const keys = await deps.db
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where('id', 'in', [...ids])
      .execute();
    for (const k of keys) names.set(k.id, `API key ${k.name} (${k.id})`);
    return names;
  }

  api.get('/approvals', { schema: { querystring: ApprovalsQuery } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const held = await deps.payoutHolds.waiting(who.mode);
    const makers = await makersOf([...new Set(held.flatMap((p) => (p.created_by === null ? [] : [p.created_by])))]);
    const rows: ApprovalRow[] = held.map((payout) => ({
      payout,
      maker: payout.created_by === null ? '—' : (makers.get(payout.created_by) ?? payout.created_by),
    }));
    return sendPage(
      request,
      reply,
      { title: 'Approvals', active: 'approvals' },
      approvalsPage(rows, {
        csrfToken: who.csrfToken,
        canDecide: can(who.operator.role, 'approve_payouts'),
        notice: request.query.done === undefined ? undefined : NOTICES[request.query.done],
      }),
    );
  });

  for (const decision of ['approve', 'reject'] as const) {
    api.post(
      `/payouts/:id/${decision}`,
      { schema: { params: IdParams('po'), body: DecisionBody } },
      async (request, reply) => {
        const returnTo = safeReturnPath(request.body.return_to ?? '/dashboard/approvals');
        const who = await permitSensitive(deps, request, reply, 'approve_payouts', returnTo);
        if (who === undefined) return reply;
        const outcome = await deps.payoutHolds.decide(
          operatorContext(who, request),
          request.params.id,
          decision,
          request.body.reason.trim(),
        );
        if (!outcome.ok) {
          const [status, message] = DECISION_REFUSALS[outcome.reason];
          return sendMessage(request, reply, status, 'Not decided', message);
        }
        return reply.redirect(`${returnTo}?done=${DONE[outcome.outcome]}`, 303);
      },
    );
  }

  async function sendRules(
    request: Parameters<typeof sendPage>[0],
    reply: Parameters<typeof sendPage>[1],
    who: SignedInOperator,
    extra: { error?: string; notice?: string; status?: number } = {},
  ) {
    const current = await deps.payoutControls.get(who.mode);
    return sendPage(
      request,
      reply,
      { title: 'Payout rules', active: 'payout-rules', status: extra.status ?? 200 },
      payoutRulesPage(
        {
          controls: current.controls,
          version: current.version,
          updatedAt: current.updatedAt,
          fresh: deps.operators.sessions.requireFresh(who.session).ok,
          ...(extra.error === undefined ? {} : { error: extra.error }),
          ...(extra.notice === undefined ? {} : { notice: extra.notice }),
        },
        who.csrfToken,
      ),
    );
  }

  api.get('/payout-rules', async (request, reply) => {
    const who = await permit(deps, request, reply, 'change_settings');
    if (who === undefined) return reply;
    return sendRules(request, reply, who, request.url.endsWith('?saved=1') ? { notice: 'Payout rules saved.' } : {});
  });

  api.post('/payout-rules', { schema: { body: PayoutRulesBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'change_settings', '/dashboard/payout-rules');
    if (who === undefined) return reply;
    const parsed = controlsFromForm(request.body);
    if (typeof parsed === 'string') return sendRules(request, reply, who, { error: parsed, status: 400 });
    const saved = await deps.payoutControls.replace(
      { mode: who.mode, operatorId: who.operator.id, requestId: request.id, ip: request.ip },
      parsed.controls,
      parsed.version,
    );
    if (!saved.ok) return sendRules(request, reply, who, { error: saved.problem, status: 409 });
    return reply.redirect('/dashboard/payout-rules?saved=1', 303);
  });
}

/** A major-unit amount typed by a person, exactly in minor units (null: empty, the limit off). */
export function minorFromText(text: string, currency: string): number | null | string {
  const value = text.trim().replaceAll(',', '');
  if (value === '') return null;
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,13})(?:\.(\d+))?$/.exec(value);
  if (match === null) return `${currency}: "${text}" is not an amount`;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) return `${currency}: "${text}" has more decimals than ${currency} has (${exponent})`;
  const minor = Number(`${match[1]}${fraction.padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(minor) || minor > 999_999_999_999) return `${currency}: "${text}" is too large`;
  return minor;
}

function wholeNumber(
  form: Record<string, string>,
  name: string,
  label: string,
  optional: boolean,
): number | null | string {
  const value = (form[name] ?? '').trim();
  if (value === '') return optional ? null : `${label} is required`;
  if (!/^\d{1,9}$/.test(value)) return `${label}: "${value}" is not a whole number`;
  return Number(value);
}

/** The settings form as PayoutControls, or the first problem with it, in words. */
export function controlsFromForm(form: Record<string, string>): { controls: PayoutControls; version: number } | string {
  const currencies: Record<string, CurrencyLimits> = {};
  const codes = new Set<string>();
  for (const key of Object.keys(form)) {
    const m = /^cur_([A-Z]{3})_/.exec(key);
    if (m?.[1] !== undefined) codes.add(m[1]);
  }
  const added = (form.new_currency ?? '').trim().toUpperCase();
  const rows: Array<[string, string]> = [...codes]
    .filter((c) => form[`remove_${c}`] !== '1')
    .map((c) => [c, `cur_${c}_`]);
  if (added !== '') {
    if (!isCurrency(added)) return `${added} is not an ISO 4217 currency`;
    if (codes.has(added)) return `${added} already has a row`;
    rows.push([added, 'new_']);
  }
  for (const [currency, prefix] of rows) {
    const limits: Record<string, number | null> = {};
    for (const [field] of LIMIT_FIELDS) {
      const amount = minorFromText(form[`${prefix}${field}`] ?? '', currency);
      if (typeof amount === 'string') return amount;
      limits[field] = amount;
    }
    currencies[currency] = limits as unknown as CurrencyLimits;
  }
  const fields = {
    beneficiaryDailyCount: wholeNumber(form, 'beneficiary_daily_count', 'Payouts per beneficiary per day', true),
    apiKeyHourlyCount: wholeNumber(form, 'api_key_hourly_count', 'Payouts per API key per hour', true),
    cooldownMinutes: wholeNumber(form, 'cooldown_minutes', 'The cool-down', false),
    newBeneficiaryDays: wholeNumber(form, 'new_beneficiary_days', 'The cap days', false),
    expiryHours: wholeNumber(form, 'expiry_hours', 'The expiry', false),
    version: wholeNumber(form, 'version', 'The version', false),
  };
  for (const value of Object.values(fields)) if (typeof value === 'string') return value;
  const n = fields as Record<keyof typeof fields, number | null>;
  const unlisted = form.unlisted_currency;
  if (unlisted !== 'hold' && unlisted !== 'allow') return 'Choose what happens to a currency with no row';
  const countries = (form.beneficiary_countries ?? '')
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== '');
  const badCountry = countries.find((c) => !/^[A-Z]{2}$/.test(c));
  if (badCountry !== undefined) return `${badCountry.slice(0, 10)} is not a two-letter ISO country code`;
  return {
    version: n.version ?? 0,
    controls: {
      currencies,
      unlistedCurrency: unlisted,
      beneficiaryDailyCount: n.beneficiaryDailyCount,
      apiKeyHourlyCount: n.apiKeyHourlyCount,
      cooldownSeconds: (n.cooldownMinutes ?? 0) * 60,
      newBeneficiaryDays: n.newBeneficiaryDays ?? 0,
      nameCheck: form.name_check === '1',
      expirySeconds: (n.expiryHours ?? 0) * 3600,
      beneficiaryCountries: countries.length === 0 ? null : [...new Set(countries)],
    },
  };
}
