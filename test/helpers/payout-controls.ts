// Tests of other things than the payout rules run with the rules off; the rules' own tests turn
// them on. Written straight into the settings table, as a deployment's first start would find it
// (the dashboard's Payout rules page is how people change it: audited, behind a fresh password).
import type { Db, Mode } from '../../src/db/schema.ts';
import { CONTROLS_OFF, type PayoutControls } from '../../src/payouts/controls/settings.ts';

export async function setPayoutControls(db: Db, mode: Mode, controls: PayoutControls = CONTROLS_OFF): Promise<void> {
  await db
    .insertInto('payout_control_settings')
    .values({ mode, settings_json: JSON.stringify(controls), version: 1, updated_at: Date.now(), updated_by: null })
    .onConflict((oc) => oc.column('mode').doUpdateSet({ settings_json: JSON.stringify(controls) }))
    .execute();
}

/** One approval above 100.00 NGN, two above 500.00 NGN; everything else off. */
export const THRESHOLDS: PayoutControls = {
  ...CONTROLS_OFF,
  currencies: {
    NGN: {
      approvalAbove: 10_000,
      secondApprovalAbove: 50_000,
      beneficiaryDailyAmount: null,
      modeDailyAmount: null,
      newBeneficiaryCap: null,
    },
  },
};
