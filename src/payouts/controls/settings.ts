// The payout rules' thresholds (PAY-5), one row per mode in `payout_control_settings`: edited on
// the dashboard (Payout rules, behind a fresh password, audited with the old and new values),
// never only in the environment. A mode with no row yet gets DEFAULT_CONTROLS, written on first
// use. Amounts are integer minor units per currency; null turns a limit off. The defaults are
// documented in docs/payout-controls.md.
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { writeAudit } from '../../audit/audit.ts';
import type { Clock } from '../../clock.ts';
import type { DialectStrategy } from '../../db/dialect.ts';
import type { Db, DbOrTx, Mode, Tx } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import { currencyExponent } from '../../money/currencies.ts';

const MAX_AMOUNT = 999_999_999_999;
const Amount = Type.Union([Type.Integer({ minimum: 0, maximum: MAX_AMOUNT }), Type.Null()]);
const Count = Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()]);

export const CurrencyLimitsSchema = Type.Object(
  {
    /** Above this amount (strictly), one approval. */
    approvalAbove: Amount,
    /** Above this amount (strictly), two distinct approvers. */
    secondApprovalAbove: Amount,
    /** Paid to one beneficiary in 24 h, this payout included. */
    beneficiaryDailyAmount: Amount,
    /** Paid in the mode in 24 h, this payout included. */
    modeDailyAmount: Amount,
    /** Paid to one beneficiary during its first `newBeneficiaryDays`. */
    newBeneficiaryCap: Amount,
  },
  { additionalProperties: false },
);

export const PayoutControlsSchema = Type.Object(
  {
    currencies: Type.Record(Type.String({ pattern: '^[A-Z]{3}$' }), CurrencyLimitsSchema, { maxProperties: 200 }),
    /** A payout in a currency with no row: held for one approval, or let through. */
    unlistedCurrency: Type.Union([Type.Literal('hold'), Type.Literal('allow')]),
    /** Payouts to one beneficiary in 24 h, this one included. */
    beneficiaryDailyCount: Count,
    /** Payouts created by one API key in an hour, this one included. */
    apiKeyHourlyCount: Count,
    /** How long the payouts to a new beneficiary wait from its first payout (0: no cool-down). */
    cooldownSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86_400 }),
    /** How long `newBeneficiaryCap` applies from the first payout. */
    newBeneficiaryDays: Type.Integer({ minimum: 0, maximum: 90 }),
    /** Hold for approval when the provider's account name differs from the merchant's, or is unverified. */
    nameCheck: Type.Boolean(),
    /** An unapproved payout expires (never sent) this long after it was held. */
    expirySeconds: Type.Integer({ minimum: 3_600, maximum: 30 * 86_400 }),
    /**
     * PAY-4's optional country restriction: the countries (ISO 3166-1 alpha-2) beneficiaries may be
     * in for a payout to be created at all; absent or null, any. Refused, not held: a merchant
     * that pays only at home says so once, and a stolen key cannot send money abroad.
     */
    beneficiaryCountries: Type.Optional(
      Type.Union([
        Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { maxItems: 250, uniqueItems: true }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);

export type CurrencyLimits = Static<typeof CurrencyLimitsSchema>;
export type PayoutControls = Static<typeof PayoutControlsSchema>;

/** Major units of each default, for a currency worth about one US dollar (scaled by FX_ROUGH). */
const BASE = {
  approvalAbove: 1_000,
  secondApprovalAbove: 10_000,
  beneficiaryDailyAmount: 5_000,
  modeDailyAmount: 50_000,
  newBeneficiaryCap: 2_000,
};
/** Rough units per US dollar, rounded so the defaults are round numbers in each currency. */
const FX_ROUGH: Readonly<Record<string, number>> = {
  USD: 1,
  EUR: 1,
  GBP: 1,
  NGN: 1_500,
  GHS: 15,
  KES: 130,
  ZAR: 18,
  UGX: 3_700,
  TZS: 2_500,
  RWF: 1_400,
  XOF: 600,
  XAF: 600,
  EGP: 50,
  INR: 85,
};

function defaultsFor(currency: string, fx: number): CurrencyLimits {
  const scale = fx * 10 ** currencyExponent(currency);
  return {
    approvalAbove: BASE.approvalAbove * scale,
    secondApprovalAbove: BASE.secondApprovalAbove * scale,
    beneficiaryDailyAmount: BASE.beneficiaryDailyAmount * scale,
    modeDailyAmount: BASE.modeDailyAmount * scale,
    newBeneficiaryCap: BASE.newBeneficiaryCap * scale,
  };
}

export const DEFAULT_CONTROLS: PayoutControls = Object.freeze({
  currencies: Object.fromEntries(Object.entries(FX_ROUGH).map(([c, fx]) => [c, defaultsFor(c, fx)])),
  unlistedCurrency: 'hold',
  beneficiaryDailyCount: 10,
  apiKeyHourlyCount: 1_000,
  cooldownSeconds: 4 * 3_600,
  newBeneficiaryDays: 7,
  nameCheck: true,
  expirySeconds: 7 * 86_400,
});

/** Every rule off (tests of other things; a deployment may choose it too, audited). */
export const CONTROLS_OFF: PayoutControls = Object.freeze({
  currencies: {},
  unlistedCurrency: 'allow',
  beneficiaryDailyCount: null,
  apiKeyHourlyCount: null,
  cooldownSeconds: 0,
  newBeneficiaryDays: 0,
  nameCheck: false,
  expirySeconds: 7 * 86_400,
});

/** What is wrong with a settings object beyond its schema (null: nothing). */
export function controlsProblem(value: unknown): string | null {
  if (!Value.Check(PayoutControlsSchema, value)) {
    const first = [...Value.Errors(PayoutControlsSchema, value)][0];
    return `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`;
  }
  const controls = value as PayoutControls;
  for (const [currency, limits] of Object.entries(controls.currencies)) {
    if (
      limits.approvalAbove !== null &&
      limits.secondApprovalAbove !== null &&
      limits.secondApprovalAbove < limits.approvalAbove
    )
      return `${currency}: the two-approver amount is below the one-approver amount`;
  }
  if (controls.cooldownSeconds >= controls.expirySeconds) return 'the cool-down must end before holds expire';
  return null;
}

/** Refuses a payout to a beneficiary outside the mode's allowed countries (see beneficiaryCountries). */
export function assertCountryAllowed(controls: PayoutControls, country: string | null): void {
  const allowed = controls.beneficiaryCountries;
  if (allowed === undefined || allowed === null) return;
  if (country !== null && allowed.includes(country)) return;
  throw new ApiError('payout_country_not_allowed', {
    param: 'beneficiary',
    message: `Payouts here go only to beneficiaries in ${allowed.join(', ') || 'no country'}; this one is in ${country ?? 'no stated country'}.`,
  });
}

export interface ControlsActor {
  readonly mode: Mode;
  readonly operatorId: string | null;
  readonly requestId?: string;
  readonly ip?: string;
}

export function createControlSettings(deps: { db: Db; dialect: DialectStrategy; clock: Clock }) {
  async function ensureRow(db: DbOrTx, mode: Mode): Promise<void> {
    await db
      .insertInto('payout_control_settings')
      .values({
        mode,
        settings_json: JSON.stringify(DEFAULT_CONTROLS),
        version: 1,
        updated_at: deps.clock.nowMs(),
        updated_by: null,
      })
      .onConflict((oc) => oc.column('mode').doNothing())
      .execute();
  }

  function parse(json: string): PayoutControls {
    const value: unknown = JSON.parse(json);
    const problem = controlsProblem(value);
    // A row that no longer validates (edited by hand) must not switch rules off: fail loudly.
    if (problem !== null) throw new Error(`payout_control_settings is invalid: ${problem}`);
    return value as PayoutControls;
  }

  async function get(
    mode: Mode,
    db: DbOrTx = deps.db,
  ): Promise<{ controls: PayoutControls; version: number; updatedAt: number; updatedBy: string | null }> {
    let row = await db.selectFrom('payout_control_settings').selectAll().where('mode', '=', mode).executeTakeFirst();
    if (row === undefined) {
      await ensureRow(db, mode);
      row = await db
        .selectFrom('payout_control_settings')
        .selectAll()
        .where('mode', '=', mode)
        .executeTakeFirstOrThrow();
    }
    return {
      controls: parse(row.settings_json),
      version: row.version,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  /**
   * In a creating transaction: the mode's settings, with the row locked (PostgreSQL) so velocity
   * counts of concurrent creations in the mode are taken one after the other (SQLite has one writer).
   */
  async function lockForCreation(trx: Tx, mode: Mode): Promise<PayoutControls> {
    await ensureRow(trx, mode);
    const row = await deps.dialect
      .lockForUpdate(trx.selectFrom('payout_control_settings').selectAll().where('mode', '=', mode))
      .executeTakeFirstOrThrow();
    return parse(row.settings_json);
  }

  /** Replaces the mode's settings; refuses what does not validate. Audited with both versions. */
  async function replace(
    actor: ControlsActor,
    controls: PayoutControls,
    /** The version the change was made against (a form): refused if another change came first. */
    expectedVersion?: number,
  ): Promise<{ ok: true } | { ok: false; problem: string }> {
    const problem = controlsProblem(controls);
    if (problem !== null) return { ok: false, problem };
    const before = await get(actor.mode);
    if (expectedVersion !== undefined && expectedVersion !== before.version)
      return { ok: false, problem: 'the settings were changed meanwhile; reload and try again' };
    const done = await deps.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('payout_control_settings')
        .set({
          settings_json: JSON.stringify(controls),
          version: before.version + 1,
          updated_at: deps.clock.nowMs(),
          updated_by: actor.operatorId,
        })
        .where('mode', '=', actor.mode)
        .where('version', '=', before.version)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      await writeAudit(trx, deps.clock, {
        mode: actor.mode,
        actorType: actor.operatorId === null ? 'system' : 'operator',
        actorId: actor.operatorId,
        action: 'payout_controls.update',
        objectType: 'payout_controls',
        objectId: actor.mode,
        ...(actor.requestId === undefined ? {} : { requestId: actor.requestId }),
        ...(actor.ip === undefined ? {} : { ip: actor.ip }),
        details: { version: before.version + 1, before: before.controls, after: controls },
      });
      return true;
    });
    return done ? { ok: true } : { ok: false, problem: 'the settings were changed meanwhile; reload and try again' };
  }

  return { get, lockForCreation, replace };
}

export type ControlSettings = ReturnType<typeof createControlSettings>;
