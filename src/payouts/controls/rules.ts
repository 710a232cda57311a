// The rules that hold a payout at creation (PAY-5), evaluated in the creating transaction under
// the lock of the mode's settings row (settings.ts), so concurrent creations are counted one after
// the other and cannot both slip under a limit. A rule never refuses a payout: it holds it, for
// approval or (the cool-down) for time. Thresholds are "above" (strictly): a payout of exactly the
// threshold passes, one minor unit more is held. Windows are rolling (the last 24 h, the last
// hour), counting every payout created in them except those that ended without being sent
// (rejected, expired, cancelled); this payout is included in each count and sum.
//
// New beneficiaries: beneficiaries are immutable (another account means another beneficiary), so
// "first payout, or account details changed" is the first payout to a beneficiary. Its cool-down
// starts at that first payout, and every payout to it until the cool-down ends waits with it
// (a second payout made a minute later must not overtake the first). During the first
// `newBeneficiaryDays` from that first payout, payouts above the cap in total are held for
// approval.
import type { BeneficiaryRow, Mode, Tx } from '../../db/schema.ts';
import type { FiredRule } from './holds.ts';
import type { PayoutControls } from './settings.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Payouts that never left and never will: not counted. */
const ENDED_UNSENT = ['rejected', 'expired', 'cancelled'] as const;

export interface RuleInput {
  readonly mode: Mode;
  readonly amountMinor: number;
  readonly currency: string;
  readonly beneficiary: BeneficiaryRow;
  /** The API key that makes the payout (null: an operator from the dashboard). */
  readonly apiKeyId: string | null;
  readonly nowMs: number;
}

export async function evaluateRules(trx: Tx, controls: PayoutControls, input: RuleInput): Promise<FiredRule[]> {
  const fired: FiredRule[] = [];
  const { amountMinor: amount, currency, nowMs: now } = input;
  const limits = controls.currencies[currency];

  if (limits === undefined) {
    if (controls.unlistedCurrency === 'hold')
      fired.push({ rule: 'currency_unlisted', approvals: 1, detail: { currency } });
  } else {
    const second = limits.secondApprovalAbove;
    const first = limits.approvalAbove;
    if (second !== null && amount > second)
      fired.push({ rule: 'amount', approvals: 2, detail: { above: second, approvers: 2 } });
    else if (first !== null && amount > first)
      fired.push({ rule: 'amount', approvals: 1, detail: { above: first, approvers: 1 } });
  }

  const live = trx.selectFrom('payouts').where('status', 'not in', [...ENDED_UNSENT]);
  const toBeneficiary = await live
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('amount_minor').as('sum')])
    .where('beneficiary_id', '=', input.beneficiary.id)
    .where('created_at', '>', now - DAY_MS)
    .executeTakeFirst();
  const beneficiaryCount = Number(toBeneficiary?.n ?? 0) + 1;
  const beneficiarySum = Number(toBeneficiary?.sum ?? 0) + amount;
  if (controls.beneficiaryDailyCount !== null && beneficiaryCount > controls.beneficiaryDailyCount)
    fired.push({
      rule: 'velocity_beneficiary_count',
      approvals: 1,
      detail: { limit: controls.beneficiaryDailyCount, count: beneficiaryCount, window: '24h' },
    });
  if (limits?.beneficiaryDailyAmount != null && beneficiarySum > limits.beneficiaryDailyAmount)
    fired.push({
      rule: 'velocity_beneficiary_amount',
      approvals: 1,
      detail: { limit: limits.beneficiaryDailyAmount, amount: beneficiarySum, window: '24h' },
    });

  if (limits?.modeDailyAmount != null) {
    const inMode = await live
      .select((eb) => eb.fn.sum<number>('amount_minor').as('sum'))
      .where('mode', '=', input.mode)
      .where('currency', '=', currency)
      .where('created_at', '>', now - DAY_MS)
      .executeTakeFirst();
    const modeSum = Number(inMode?.sum ?? 0) + amount;
    if (modeSum > limits.modeDailyAmount)
      fired.push({
        rule: 'velocity_mode_amount',
        approvals: 1,
        detail: { limit: limits.modeDailyAmount, amount: modeSum, window: '24h' },
      });
  }

  if (input.apiKeyId !== null && controls.apiKeyHourlyCount !== null) {
    const byKey = await live
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('created_by', '=', input.apiKeyId)
      .where('created_at', '>', now - HOUR_MS)
      .executeTakeFirst();
    const keyCount = Number(byKey?.n ?? 0) + 1;
    if (keyCount > controls.apiKeyHourlyCount)
      fired.push({
        rule: 'velocity_api_key_count',
        approvals: 1,
        detail: { limit: controls.apiKeyHourlyCount, count: keyCount, window: '1h' },
      });
  }

  const firstPayout = await live
    .select((eb) => eb.fn.min<number>('created_at').as('at'))
    .where('beneficiary_id', '=', input.beneficiary.id)
    .executeTakeFirst();
  const firstAt = firstPayout?.at == null ? now : Number(firstPayout.at);
  const coolUntil = firstAt + controls.cooldownSeconds * 1000;
  if (controls.cooldownSeconds > 0 && coolUntil > now)
    fired.push({
      rule: 'new_beneficiary_cooldown',
      approvals: 0,
      releaseAt: coolUntil,
      detail: { until: new Date(coolUntil).toISOString() },
    });
  const capUntil = firstAt + controls.newBeneficiaryDays * DAY_MS;
  if (limits?.newBeneficiaryCap != null && now < capUntil) {
    const sinceFirst = await live
      .select((eb) => eb.fn.sum<number>('amount_minor').as('sum'))
      .where('beneficiary_id', '=', input.beneficiary.id)
      .executeTakeFirst();
    const total = Number(sinceFirst?.sum ?? 0) + amount;
    if (total > limits.newBeneficiaryCap)
      fired.push({
        rule: 'new_beneficiary_cap',
        approvals: 1,
        detail: { limit: limits.newBeneficiaryCap, amount: total, days: controls.newBeneficiaryDays },
      });
  }

  if (controls.nameCheck && input.beneficiary.name_check === 'mismatch')
    fired.push({ rule: 'name_mismatch', approvals: 1 });
  if (controls.nameCheck && input.beneficiary.name_check === 'unverified')
    fired.push({ rule: 'name_unverified', approvals: 1 });
  return fired;
}
